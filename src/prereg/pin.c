// SPDX-License-Identifier: MIT
/*
 * TCE-v1 pinning: a src/hostmem reference per emulated host page, and an
 * IOMMU-page reference count per host page, in a small chained hash table
 * (keyed by hpa) under one mutex (v1 pins on every map, as the kernel's
 * get_user_pages per TCE did; this is not the v2 fast path).
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include <spapr_tce/account.h>
#include <spapr_tce/hostmem.h>
#include <spapr_tce/prereg.h>

#include "account/hostpage.h"
#include "common/alloc.h"
#include "common/common.h"
#include "common/lockdep.h"
#include "prereg/prereg_internal.h"

#define PIN_HASH_BITS	12

struct pin_page {
	struct pin_page *next;
	uint64_t hpa;		/* host page's hpa (holds one hostmem reference) */
	uint64_t refs;		/* IOMMU pages pinned in it */
};

static pthread_mutex_t pin_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct pin_page *pin_hash[1u << PIN_HASH_BITS];
static _Atomic uint64_t pinned_pages;	/* written under pin_mutex */
static _Atomic uint64_t dirty_pages;
static bool pin_holds_host_page;	/* one hold while pinned_pages > 0 */

static unsigned int pin_bucket(uint64_t hpa, unsigned int shift)
{
	return (unsigned int)(((hpa >> shift) * 0x9E3779B97F4A7C15ULL) >>
			      (64 - PIN_HASH_BITS));
}

static struct pin_page **pin_slot(uint64_t hpa, unsigned int shift)
{
	struct pin_page **p = &pin_hash[pin_bucket(hpa, shift)];

	while (*p && (*p)->hpa != hpa)
		p = &(*p)->next;
	return p;
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

/* Drop @n refs on the page at hpa @h; unpin it when none are left. */
static void page_drop_locked(uint64_t h, uint64_t n, unsigned int shift)
{
	struct pin_page **slot = pin_slot(h, shift), *p = *slot;

	stce_assert_held(&pin_mutex);
	assert(p && p->refs >= n);
	p->refs -= n;
	if (p->refs)
		return;
	*slot = p->next;
	stce_free(p);
	atomic_fetch_sub(&pinned_pages, 1);
	stce_hostmem_unpin(h, 1ULL << shift);
}

/*
 * Undo the references taken for host pages [first, stop) of a range whose
 * first host page has hpa @hfirst.
 */
static void unwind_locked(uint64_t first, uint64_t stop, uint64_t hfirst,
			  uint64_t ua, uint64_t last, unsigned int page_shift,
			  unsigned int shift)
{
	uint64_t hp = 1ULL << shift;

	stce_assert_held(&pin_mutex);
	for (uint64_t h = first; h != stop; h += hp)
		page_drop_locked(hfirst + (h - first),
				 refs_in(h, hp, ua, last, page_shift), shift);
}

/* Keep one host-page hold exactly while something is pinned. */
static void settle_hold_locked(void)
{
	bool want = atomic_load(&pinned_pages) != 0;

	stce_assert_held(&pin_mutex);
	if (want && !pin_holds_host_page) {
		stce_host_page_hold();
		pin_holds_host_page = true;
	} else if (!want && pin_holds_host_page) {
		stce_host_page_unhold();
		pin_holds_host_page = false;
	}
}

/*
 * Count the IOMMU pages of host pages [first, end) (their hpas from
 * @hfirst on, each with a fresh hostmem reference that a page already
 * known gives back). -ENOMEM unwinds what was counted.
 */
static int count_locked(uint64_t first, uint64_t end, uint64_t hfirst,
			uint64_t ua, uint64_t last, unsigned int page_shift,
			unsigned int shift)
{
	uint64_t hp = 1ULL << shift;

	stce_assert_held(&pin_mutex);
	for (uint64_t h = first; h != end; h += hp) {
		uint64_t hpa = hfirst + (h - first);
		struct pin_page **slot = pin_slot(hpa, shift), *p = *slot;

		if (p) {
			stce_hostmem_unpin(hpa, hp);	/* the page has one */
		} else {
			p = stce_zalloc(sizeof(*p));
			if (!p) {
				unwind_locked(first, h, hfirst, ua, last,
					      page_shift, shift);
				/* Pages [h, end) still hold their reference. */
				for (; h != end; h += hp)
					stce_hostmem_unpin(hfirst + (h - first),
							   hp);
				return -ENOMEM;
			}
			p->hpa = hpa;
			*slot = p;
			atomic_fetch_add(&pinned_pages, 1);
		}
		p->refs += refs_in(h, hp, ua, last, page_shift);
	}
	return 0;
}

/* See <spapr_tce/prereg.h>. */
int stce_pin_range(uint64_t ua, uint64_t size, unsigned int page_shift,
		   bool write, uint64_t *hpa)
{
	uint64_t last = ua + (size - 1), hp, first, end, hfirst;
	unsigned int shift, backing;
	int ret;

	if (!pin_args_ok(ua, size, page_shift))
		return -EINVAL;
	shift = stce_host_page_hold();
	hp = 1ULL << shift;
	first = ua & ~(hp - 1);
	end = (last & ~(hp - 1)) + hp;	/* 0 if the range ends at 2^64 */
	/* As get_user_pages per page: a page that cannot be pinned, EFAULT. */
	ret = stce_hostmem_populate(first, end - first, write, NULL);
	if (ret)
		goto unhold;
	ret = stce_hostmem_backing(ua, size, write, shift, &backing);
	if (ret)
		goto unhold;
	if (page_shift > backing) {
		ret = -EPERM;
		goto unhold;
	}
	stce_pin_lock();
	ret = stce_hostmem_ref(first, end - first, hp, &hfirst);
	if (!ret)
		ret = count_locked(first, end, hfirst, ua, last, page_shift,
				   shift);
	settle_hold_locked();
	stce_pin_unlock();
	if (!ret && hpa)
		*hpa = hfirst + (ua - first);
unhold:
	stce_host_page_unhold();
	return ret;
}

/* See <spapr_tce/prereg.h>. */
int stce_unpin_range(uint64_t hpa, uint64_t size, unsigned int page_shift,
		     bool dirty)
{
	uint64_t last = hpa + (size - 1), hp, first, end, h;
	unsigned int shift;
	int ret = 0;

	if (!pin_args_ok(hpa, size, page_shift))
		return -EINVAL;
	stce_pin_lock();
	if (!atomic_load(&pinned_pages)) {
		ret = -ENOENT;
		goto unlock;
	}
	/* Stable: the pins hold the host page size. */
	shift = stce_host_page_shift();
	hp = 1ULL << shift;
	first = hpa & ~(hp - 1);
	end = (last & ~(hp - 1)) + hp;
	for (h = first; h != end; h += hp) {
		struct pin_page *p = *pin_slot(h, shift);

		if (!p || p->refs < refs_in(h, hp, hpa, last, page_shift)) {
			ret = -ENOENT;
			goto unlock;
		}
	}
	unwind_locked(first, end, first, hpa, last, page_shift, shift);
	if (dirty)
		atomic_fetch_add(&dirty_pages, size >> page_shift);
	settle_hold_locked();
unlock:
	stce_pin_unlock();
	return ret;
}

/* Take pin_mutex, the v1 pin table's lock (stce_pin_unlock() lets go). */
void stce_pin_lock(void)
{
	pthread_mutex_lock(&pin_mutex);
}

/* Let go of what stce_pin_lock() took. */
void stce_pin_unlock(void)
{
	pthread_mutex_unlock(&pin_mutex);
}

/* See <spapr_tce/prereg.h>. */
uint64_t stce_pin_pages(void)
{
	return atomic_load(&pinned_pages);
}

/* See <spapr_tce/prereg.h>. */
uint64_t stce_pin_dirty_count(void)
{
	return atomic_load(&dirty_pages);
}

/*
 * fork child: the v1 pins are the parent's (its mm's pages). Start with
 * none; the parent's records are abandoned, still reachable, untouched.
 */
void stce_pin_atfork_child(void)
{
	/* Reachable for leak checkers; never used again. */
	static struct pin_page *_Atomic abandoned[1u << PIN_HASH_BITS];

	pthread_mutex_init(&pin_mutex, NULL);
	for (unsigned int i = 0; i < (1u << PIN_HASH_BITS); i++) {
		atomic_store_explicit(&abandoned[i], pin_hash[i],
				      memory_order_relaxed);
		pin_hash[i] = NULL;
	}
	atomic_store(&pinned_pages, 0);
	pin_holds_host_page = false;
}
