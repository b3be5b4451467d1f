// SPDX-License-Identifier: MIT
/*
 * TCE-v1 pinning: mlock() plus a reference count per emulated host page,
 * in a small chained hash table under one mutex (v1 pins on every map, as
 * the kernel's get_user_pages per TCE did; this is not the v2 fast path).
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include <spapr_tce/account.h>
#include <spapr_tce/prereg.h>

#include "account/account_internal.h"
#include "common/alloc.h"
#include "common/common.h"
#include "prereg/prereg_internal.h"
#include "prereg/vma.h"

#define PIN_HASH_BITS	12

struct pin_page {
	struct pin_page *next;
	uint64_t addr;		/* host page address */
	uint64_t refs;		/* IOMMU pages pinned in it */
};

static pthread_mutex_t pin_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct pin_page *pin_hash[1u << PIN_HASH_BITS];
static _Atomic uint64_t pinned_pages;	/* written under pin_mutex */
static _Atomic uint64_t dirty_pages;
static bool pin_holds_host_page;	/* one hold while pinned_pages > 0 */

void stce_pin_lock(void)
{
	pthread_mutex_lock(&pin_mutex);
}

void stce_pin_unlock(void)
{
	pthread_mutex_unlock(&pin_mutex);
}

static unsigned int pin_bucket(uint64_t addr, unsigned int shift)
{
	return (unsigned int)(((addr >> shift) * 0x9E3779B97F4A7C15ULL) >>
			      (64 - PIN_HASH_BITS));
}

static struct pin_page **pin_slot(uint64_t addr, unsigned int shift)
{
	struct pin_page **p = &pin_hash[pin_bucket(addr, shift)];

	while (*p && (*p)->addr != addr)
		p = &(*p)->next;
	return p;
}

void stce_munlock_range(uint64_t start, uint64_t size, unsigned int host_shift)
{
	uint64_t hp = 1ULL << host_shift, off;

	if (!stce_sys_munlock(start, size))
		return;
	/* A hole (the user unmapped part): unlock what is still there. */
	for (off = 0; off < size; off += hp)
		stce_sys_munlock(start + off, hp);
}

void stce_pin_munlock_region_locked(uint64_t start, uint64_t size,
				    unsigned int host_shift)
{
	uint64_t hp = 1ULL << host_shift, off, run = 0;

	if (!atomic_load(&pinned_pages)) {
		stce_munlock_range(start, size, host_shift);
		return;
	}
	/* Leave the pages v1 still pins locked; unlock the runs between. */
	for (off = 0; off < size; off += hp) {
		if (!*pin_slot(start + off, host_shift))
			continue;
		if (off > run)
			stce_munlock_range(start + run, off - run, host_shift);
		run = off + hp;
	}
	if (size > run)
		stce_munlock_range(start + run, size - run, host_shift);
}

static bool pin_args_ok(uint64_t ua, uint64_t size, unsigned int page_shift)
{
	return page_shift >= 12 && page_shift <= 30 && size &&
	       stce_is_aligned(ua, 1ULL << page_shift) &&
	       stce_is_aligned(size, 1ULL << page_shift) &&
	       stce_range_fits(ua, size);
}

/* IOMMU-page references [ua, last] puts on the host page at @h. */
static uint64_t refs_in(uint64_t h, uint64_t hp, uint64_t ua, uint64_t last,
			unsigned int page_shift)
{
	uint64_t lo = h > ua ? h : ua;
	uint64_t hi = h + (hp - 1) < last ? h + (hp - 1) : last;
	uint64_t n = (hi - lo + 1) >> page_shift;

	return n ? n : 1;	/* an IOMMU page larger than the host page */
}

/* Drop @n refs on the page at @h; unlock it when nothing else pins it. */
static void page_drop_locked(uint64_t h, uint64_t n, unsigned int shift)
{
	struct pin_page **slot = pin_slot(h, shift), *p = *slot;

	assert(p && p->refs >= n);
	p->refs -= n;
	if (p->refs)
		return;
	*slot = p->next;
	stce_free(p);
	atomic_fetch_sub(&pinned_pages, 1);
	if (!stce_prereg_covers(h))
		stce_munlock_range(h, 1ULL << shift, shift);
}

/* Undo the references taken for host pages [first, stop). */
static void unwind_locked(uint64_t first, uint64_t stop, uint64_t ua,
			  uint64_t last, unsigned int page_shift,
			  unsigned int shift)
{
	uint64_t hp = 1ULL << shift, h;

	for (h = first; h != stop; h += hp)
		page_drop_locked(h, refs_in(h, hp, ua, last, page_shift), shift);
}

/* Keep one host-page hold exactly while something is pinned. */
static void settle_hold_locked(void)
{
	bool want = atomic_load(&pinned_pages) != 0;

	if (want && !pin_holds_host_page) {
		stce_host_page_hold();
		pin_holds_host_page = true;
	} else if (!want && pin_holds_host_page) {
		stce_host_page_unhold();
		pin_holds_host_page = false;
	}
}

int stce_pin_range(uint64_t ua, uint64_t size, unsigned int page_shift,
		   bool write)
{
	uint64_t last = ua + (size - 1), hp, first, end, h;
	unsigned int shift, backing;
	int ret;

	if (!pin_args_ok(ua, size, page_shift))
		return -EINVAL;
	shift = stce_host_page_hold();
	hp = 1ULL << shift;
	ret = stce_vma_scan(ua, size, write, shift, &backing);
	if (ret)
		goto unhold;
	if (page_shift > backing) {
		ret = -EPERM;
		goto unhold;
	}
	first = ua & ~(hp - 1);
	end = (last & ~(hp - 1)) + hp;	/* 0 if the range ends at 2^64 */

	stce_pin_lock();
	for (h = first; h != end; h += hp) {
		struct pin_page **slot = pin_slot(h, shift), *p = *slot;

		if (!p) {
			p = stce_zalloc(sizeof(*p));
			if (!p) {
				ret = -ENOMEM;
				unwind_locked(first, h, ua, last, page_shift,
					      shift);
				goto unlock;
			}
			p->addr = h;
			*slot = p;
			atomic_fetch_add(&pinned_pages, 1);
		}
		p->refs += refs_in(h, hp, ua, last, page_shift);
	}
	if (stce_fault_should_fail(STCE_FAULT_PIN) ||
	    stce_sys_mlock(first, end - first)) {
		ret = -ENOMEM;
		unwind_locked(first, end, ua, last, page_shift, shift);
	}
unlock:
	settle_hold_locked();
	stce_pin_unlock();
unhold:
	stce_host_page_unhold();
	return ret;
}

int stce_unpin_range(uint64_t ua, uint64_t size, unsigned int page_shift,
		     bool dirty)
{
	uint64_t last = ua + (size - 1), hp, first, end, h;
	unsigned int shift;
	int ret = 0;

	if (!pin_args_ok(ua, size, page_shift))
		return -EINVAL;
	stce_pin_lock();
	if (!atomic_load(&pinned_pages)) {
		ret = -ENOENT;
		goto unlock;
	}
	/* Stable: the pins hold the host page size. */
	shift = stce_host_page_shift();
	hp = 1ULL << shift;
	first = ua & ~(hp - 1);
	end = (last & ~(hp - 1)) + hp;
	for (h = first; h != end; h += hp) {
		struct pin_page *p = *pin_slot(h, shift);

		if (!p || p->refs < refs_in(h, hp, ua, last, page_shift)) {
			ret = -ENOENT;
			goto unlock;
		}
	}
	unwind_locked(first, end, ua, last, page_shift, shift);
	if (dirty)
		atomic_fetch_add(&dirty_pages, size >> page_shift);
	settle_hold_locked();
unlock:
	stce_pin_unlock();
	return ret;
}

uint64_t stce_pin_pages(void)
{
	return atomic_load(&pinned_pages);
}

uint64_t stce_pin_dirty_count(void)
{
	return atomic_load(&dirty_pages);
}
