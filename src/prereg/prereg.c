// SPDX-License-Identifier: MIT
/*
 * Pre-registered regions: the process-level store of mm_iommu_*.
 *
 * Index: two range indexes (src/common/rindex.h): every region by its
 * user address, and the rare regions whose hpa is synthetic by hpa (the
 * others' hpa range is their ua range, so the first index answers for
 * them too). Lookups are lock-free and O(log n); register and unregister
 * change one leaf and the directory under reg_lock, O(n / 64) words
 * copied, and wait for a grace period before they free what readers may
 * hold.
 *
 * Grace periods: two reader counters, as in SRCU (src/common/grace.h).
 * A reader enters, searches, leaves; a writer that unpublished a piece of
 * the index or a region waits until every reader that may have seen it
 * has left. Readers never block and never allocate.
 *
 * Pinning is src/hostmem's: a reference on the pages and their hpa, no
 * mlock (docs/prereg.md). Removing never allocates (the index marks the
 * entry dead in place), so a released region can always be torn down.
 *
 * Region life, in one atomic word (mapped): bit 62 RELEASED, the low bits
 * 1 + live mappings while the region lives, 0 once somebody claimed its
 * teardown. Every transition is one compare-and-swap on that word, so
 * "last mapping goes" and "last user goes" can never both, or neither,
 * tear a region down.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spapr_tce/account.h>
#include <spapr_tce/hostmem.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>

#include "account/hostpage.h"
#include "common/alloc.h"
#include "common/common.h"
#include "common/grace.h"
#include "common/lockdep.h"
#include "common/rindex.h"
#include "prereg/prereg_internal.h"

#define MAPPED_RELEASED	(1ULL << 62)
#define MAPPED_COUNT	(MAPPED_RELEASED - 1)

struct stce_region {
	uint64_t ua;
	uint64_t size;
	uint64_t hpa;			/* of ua: src/hostmem's pin */
	uint64_t npages;		/* charged to the account */
	unsigned int page_shift;	/* largest IOMMU page allowed */
	unsigned int host_shift;	/* host page when registered */
	_Atomic uint64_t mapped;
	_Atomic unsigned long users;	/* written under reg_lock */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Readers (lookups) run inside a grace read-side section: per-thread
 * counters, so concurrent lookups on many threads share no cache line.
 * A writer that unpublished a piece of an index or a region waits out a
 * grace period before it frees it.
 */
static struct stce_grace readers = {
	.sync_lock = PTHREAD_MUTEX_INITIALIZER,
};
static struct stce_rindex by_ua = { .grace = &readers };
static struct stce_rindex by_syn_hpa = { .grace = &readers };

/*
 * Each thread's last hit of each lookup, so that QEMU's one page at a
 * time (every MAP_DMA and UNMAP_DMA looks its region up) skips the
 * search. index_gen moves after every change of the indexes is
 * published (and in a fork child): a hit taken when it read g is still
 * what a search would find while the generation reads g. Starts at 1: a
 * thread's zeroed entries never match.
 */
#define TLS_IE __attribute__((tls_model("initial-exec")))

struct last_hit {
	uint64_t gen;
	struct stce_region *r;
	uint64_t lo, len;	/* the range the hit was found by */
};

static _Atomic uint64_t index_gen = 1;
static __thread struct last_hit last_ua TLS_IE, last_hpa TLS_IE;

/* After a change of by_ua or by_syn_hpa, before the grace period that
 * lets its writer free what it unpublished. */
static void index_changed(void)
{
	atomic_fetch_add_explicit(&index_gen, 1, memory_order_release);
}

static uint64_t index_generation(void)
{
	return atomic_load_explicit(&index_gen, memory_order_acquire);
}

static void hit_set(struct last_hit *h, uint64_t gen, struct stce_region *r,
		    uint64_t lo, uint64_t len)
{
	h->gen = gen;
	h->r = r;
	h->lo = lo;
	h->len = len;
}

/* After this, no reader can hold an array or region unpublished before. */
static void synchronize_readers(void)
{
	stce_grace_synchronize(&readers);
}

static bool hpa_synthetic(const struct stce_region *r)
{
	return r->hpa != r->ua;
}

/*
 * Count one mapping unless the region is being torn down. A released
 * region still has mappings (else it would be gone) and stays usable by
 * user address until the last one goes, as the kernel keeps it
 * registered.
 */
static bool mapped_get_live(struct stce_region *r)
{
	uint64_t v = atomic_load(&r->mapped);

	do {
		if (!(v & MAPPED_COUNT))
			return false;
	} while (!atomic_compare_exchange_weak(&r->mapped, &v, v + 1));
	return true;
}

/*
 * The region holding @ua, inside a read-side section (which keeps the
 * last hit alive: its teardown waits for the section after it moved the
 * generation, so a section that reads the old generation is waited for).
 */
static struct stce_region *find_ua(uint64_t ua)
{
	uint64_t gen = index_generation(), lo, len;
	struct stce_region *r;

	if (gen == last_ua.gen && ua - last_ua.lo < last_ua.len)
		return last_ua.r;
	r = stce_rindex_find(&by_ua, ua, &lo, &len);
	if (r)
		hit_set(&last_ua, gen, r, lo, len);
	return r;
}

/* See <spapr_tce/prereg.h>. */
int stce_prereg_lookup(uint64_t ua, uint64_t size, struct stce_region **out)
{
	struct stce_grace_guard guard;
	struct stce_region *r;
	int ret = -EINVAL;

	if (!size || !stce_range_fits(ua, size))
		return -EINVAL;
	stce_grace_read_lock(&readers, &guard);
	r = find_ua(ua);
	if (r && size <= r->size - (ua - r->ua) && mapped_get_live(r)) {
		*out = r;
		ret = 0;
	}
	stce_grace_read_unlock(&readers, &guard);
	return ret;
}

/*
 * stce_prereg_find_hpa(). The last hit needs no read-side section: the
 * caller's mapping keeps the region it looks for (R) alive, and while the
 * generation has not moved since the hit (r) was found, r is still
 * indexed (its teardown would have moved it, and the map that counted
 * the mapping in R saw every change before R's insert). Indexed regions
 * never overlap, so r holding @hpa is R. Only the thread-local bounds
 * are read, never r's own.
 */
static inline struct stce_region *find_hpa(uint64_t hpa)
{
	uint64_t gen = index_generation();
	struct stce_region *r;
	struct stce_grace_guard guard;

	if (gen == last_hpa.gen && hpa - last_hpa.lo < last_hpa.len)
		return last_hpa.r;
	stce_grace_read_lock(&readers, &guard);
	if (hpa >= STCE_HOSTMEM_SYNTHETIC_BASE) {
		r = stce_rindex_find(&by_syn_hpa, hpa, NULL, NULL);
	} else {
		/* Below the synthetic range an hpa is its region's ua. */
		r = stce_rindex_find(&by_ua, hpa, NULL, NULL);
		if (r && hpa_synthetic(r))
			r = NULL;
	}
	if (r)
		hit_set(&last_hpa, gen, r, r->hpa, r->size);
	stce_grace_read_unlock(&readers, &guard);
	return r;
}

/* See <spapr_tce/prereg.h>. */
struct stce_region *stce_prereg_find_hpa(uint64_t hpa)
{
	return find_hpa(hpa);
}

/* See <spapr_tce/prereg.h>. */
int stce_prereg_ua_to_hpa(const struct stce_region *region, uint64_t ua,
			  unsigned int page_shift, uint64_t *hpa)
{
	uint64_t off;

	if (page_shift > region->page_shift || ua < region->ua)
		return -EINVAL;
	off = ua - region->ua;
	if (off >= region->size || region->size - off < (1ULL << page_shift))
		return -EINVAL;
	*hpa = region->hpa + off;	/* one piece: hpa - ua is constant */
	return 0;
}

/* See <spapr_tce/prereg.h>. */
int stce_prereg_mapped_inc(struct stce_region *region)
{
	uint64_t v = atomic_load(&region->mapped);

	do {
		if (!(v & MAPPED_COUNT))
			return -ENXIO;
	} while (!atomic_compare_exchange_weak(&region->mapped, &v, v + 1));
	return 0;
}

/* ---- writers (reg_lock held) ---- */

/*
 * A region's invariants, reg_lock held: users and RELEASED change only
 * under it, and the count cannot reach 0 while a user is left, so a
 * region with users is live and not released whatever mappings come and
 * go meanwhile. Its bounds are whole host pages and the index finds it by
 * its ua until its teardown.
 */
static inline bool region_ok(const struct stce_region *r)
{
	uint64_t v = atomic_load(&r->mapped);

	if (!r->size || !stce_is_aligned(r->ua | r->size, 1ULL << r->host_shift))
		return false;
	if (r->npages != r->size >> r->host_shift ||
	    r->page_shift > (unsigned int)__builtin_ctzll(r->ua | r->size))
		return false;
	if (atomic_load(&r->users) &&
	    ((v & MAPPED_RELEASED) || !(v & MAPPED_COUNT)))
		return false;
	return stce_rindex_find(&by_ua, r->ua, NULL, NULL) == r;
}

/* Debug builds: after a change of users or of the RELEASED bit. */
#define region_assert(r)	stce_debug_assert(region_ok(r))

static void teardown_locked(struct stce_region *r)
{
	stce_assert_held(&reg_lock);
	stce_rindex_remove(&by_ua, r->ua);
	if (hpa_synthetic(r))
		stce_rindex_remove(&by_syn_hpa, r->hpa);
	index_changed();
	synchronize_readers();
	stce_hostmem_unpin(r->hpa, r->size);
	stce_account_uncharge(r->npages);
	stce_host_page_unhold();
	stce_free(r);
}

static int put_locked(struct stce_region *r)
{
	uint64_t one = 1;
	unsigned long users;

	stce_assert_held(&reg_lock);
	users = atomic_load(&r->users);
	assert(users);
	if (users > 1) {
		atomic_store(&r->users, users - 1);
		region_assert(r);
		return 0;
	}
	if (!atomic_compare_exchange_strong(&r->mapped, &one, 0)) {
		region_assert(r);
		return -EBUSY;
	}
	atomic_store(&r->users, 0);
	teardown_locked(r);
	return 0;
}

/* See <spapr_tce/prereg.h>. */
int stce_prereg_put(struct stce_region *region)
{
	int ret;

	pthread_mutex_lock(&reg_lock);
	ret = put_locked(region);
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

/* See <spapr_tce/prereg.h>. */
void stce_prereg_put_deferred(struct stce_region *region)
{
	unsigned long users;
	uint64_t v, next;

	pthread_mutex_lock(&reg_lock);
	users = atomic_load(&region->users);
	assert(users);
	atomic_store(&region->users, users - 1);
	if (users == 1) {
		v = atomic_load(&region->mapped);
		do {
			next = (v & MAPPED_COUNT) == 1 ? 0 : v | MAPPED_RELEASED;
		} while (!atomic_compare_exchange_weak(&region->mapped, &v,
						       next));
		if (!next) {
			teardown_locked(region);
			goto unlock;
		}
	}
	region_assert(region);
unlock:
	pthread_mutex_unlock(&reg_lock);
}

/* See <spapr_tce/prereg.h>. */
void stce_prereg_mapped_dec(struct stce_region *region)
{
	stce_prereg_mapped_sub(region, 1);
}

/*
 * Batched forms for owners that map or clear many pages of one region at
 * a time (a hypercall batch): one atomic operation instead of @n. The
 * caller holds a mapping in @region (so it cannot go meanwhile).
 */
void stce_prereg_mapped_add(struct stce_region *region, uint64_t n)
{
	uint64_t v;

	if (!n)
		return;
	v = atomic_fetch_add(&region->mapped, n);
	assert((v & MAPPED_COUNT) >= 2 && (v & MAPPED_COUNT) + n < MAPPED_RELEASED);
	(void)v;
}

/* The last mappings of a released region went: it goes too. */
static void __attribute__((noinline)) mapped_gone(struct stce_region *r)
{
	/* A caller under reg_lock would deadlock here: abort instead. */
	stce_assert_not_held(&reg_lock);
	pthread_mutex_lock(&reg_lock);
	teardown_locked(r);
	pthread_mutex_unlock(&reg_lock);
}

static inline void mapped_sub(struct stce_region *region, uint64_t n)
{
	uint64_t v = atomic_load(&region->mapped), next;

	do {
		assert((v & MAPPED_COUNT) >= n + 1);
		if ((v & MAPPED_RELEASED) && (v & MAPPED_COUNT) == n + 1)
			next = 0;	/* the last mappings of a released region */
		else
			next = v - n;
	} while (!atomic_compare_exchange_weak(&region->mapped, &v, next));
	if (!next)
		mapped_gone(region);
}

/* See <spapr_tce/prereg.h> (batched mapped counts). */
void stce_prereg_mapped_sub(struct stce_region *region, uint64_t n)
{
	if (n)
		mapped_sub(region, n);
}

/*
 * See <spapr_tce/prereg.h>. A run is the TCEs whose hpa lies in the
 * region found last: the mappings not yet subtracted keep it alive while
 * its bounds are read.
 */
void stce_prereg_release_tces(const uint64_t *tces, unsigned int n)
{
	struct stce_region *r = NULL;
	/* The run's bounds in registers: none yet (size 0 holds nothing). */
	uint64_t run = 0, lo = 0, size = 0;

#pragma GCC unroll 4
	for (unsigned int i = 0; i < n; i++) {
		uint64_t hpa;

		if (!stce_tce_live(tces[i]))
			continue;
		hpa = stce_tce_addr(tces[i]);
		if (hpa - lo < size) {
			run++;
			continue;
		}
		if (r)
			stce_prereg_mapped_sub(r, run);
		r = stce_prereg_find_hpa(hpa);
		/* No region (nothing to count it in): the next one looks. */
		lo = r ? r->hpa : 0;
		size = r ? r->size : 0;
		run = 1;
	}
	if (r)
		stce_prereg_mapped_sub(r, run);
}

/* See <spapr_tce/prereg.h>: the run of one, its lookup and count inline. */
void stce_prereg_release_tce(uint64_t tce)
{
	struct stce_region *r;

	if (!stce_tce_live(tce))
		return;
	r = find_hpa(stce_tce_addr(tce));
	if (r)
		mapped_sub(r, 1);
}

/* A released region registered again: live, with one user. */
static bool revive_locked(struct stce_region *r)
{
	uint64_t v = atomic_load(&r->mapped);

	stce_assert_held(&reg_lock);
	do {
		if (!(v & MAPPED_COUNT))
			return false;	/* its teardown is under way */
	} while (!atomic_compare_exchange_weak(&r->mapped, &v,
					       v & ~MAPPED_RELEASED));
	atomic_store(&r->users, 1);
	region_assert(r);
	return true;
}

/*
 * The region at exactly [ua, ua + size), or an overlap (-EINVAL), or
 * -EAGAIN when the range meets a region whose teardown is under way (the
 * caller retries once it is gone). 0 with *@found NULL: the range is free.
 */
static int find_slot_locked(uint64_t ua, uint64_t size,
			    struct stce_region **found)
{
	struct stce_region *hit;

	stce_assert_held(&reg_lock);
	hit = stce_rindex_first(&by_ua, ua, size, NULL, NULL);
	*found = NULL;
	if (!hit)
		return 0;
	if (!(atomic_load(&hit->mapped) & MAPPED_COUNT))
		return -EAGAIN;
	if (hit->ua != ua || hit->size != size)
		return -EINVAL;
	*found = hit;
	return 0;
}

/*
 * What REGISTER answers when only the first @good bytes could be pinned
 * (a hole, a read-only or PROT_NONE page further on). The kernel's
 * mm_iommu_do_alloc returns the page count pin_user_pages() managed, a
 * positive number with nothing registered and nothing charged, and
 * -EFAULT when not even the first page could be pinned (observed on Linux
 * 6.12: hole at page 8 of 16 -> 8; read-only or PROT_NONE page 4 -> 4;
 * first page bad -> -EFAULT). One place to change if that answer changes.
 */
static int partial_answer(uint64_t good, unsigned int shift)
{
	uint64_t pages = good >> shift;

	if (!pages)
		return -EFAULT;
	return pages > INT_MAX ? INT_MAX : (int)pages;
}

/*
 * The kernel allocates its page array (8 bytes a host page) before it
 * looks at any page; a size whose array no memory of this machine could
 * hold is -ENOMEM there (observed: 1 << 48 bytes with 64K and 4K pages),
 * whatever the range holds.
 */
static bool page_array_fits(uint64_t npages)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t ram = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz :
					      UINT64_MAX;

	return npages <= ram / 8;
}

/* A new region: charge, pin, publish. reg_lock held; @shift held. */
static int create_locked(uint64_t ua, uint64_t size, unsigned int shift,
			 struct stce_region **out)
{
	struct stce_region *r;
	unsigned int backing;
	uint64_t good = 0;
	int ret;

	stce_assert_held(&reg_lock);
	ret = stce_account_charge(size >> shift);
	if (ret)
		return ret;
	ret = -ENOMEM;
	r = stce_zalloc(sizeof(*r));
	if (!r)
		goto uncharge;
	if (!page_array_fits(size >> shift))
		goto free_region;
	/* Faulted in for writing: registered memory is pinned writable. */
	ret = stce_hostmem_populate(ua, size, true, &good);
	if (ret == -EFAULT)
		ret = partial_answer(good, shift);
	if (ret)
		goto free_region;
	ret = stce_hostmem_backing(ua, size, true, shift, &backing);
	if (ret)
		goto free_region;
	ret = stce_hostmem_ref(ua, size, 0, &r->hpa);
	if (ret)
		goto free_region;
	r->ua = ua;
	r->size = size;
	r->npages = size >> shift;
	r->host_shift = shift;
	r->page_shift = __builtin_ctzll(ua | size);
	if (backing < r->page_shift)
		r->page_shift = backing;
	atomic_init(&r->mapped, 1);
	atomic_init(&r->users, 1);
	ret = stce_rindex_insert(&by_ua, ua, size, r);
	if (ret)
		goto unpin;
	if (hpa_synthetic(r)) {
		ret = stce_rindex_insert(&by_syn_hpa, r->hpa, size, r);
		if (ret) {
			stce_rindex_remove(&by_ua, ua);
			index_changed();
			synchronize_readers();
			goto unpin;
		}
	}
	index_changed();
	region_assert(r);
	*out = r;
	return 0;

unpin:
	stce_hostmem_unpin(r->hpa, size);
free_region:
	stce_free(r);
uncharge:
	stce_account_uncharge(size >> shift);
	return ret;
}

/* See <spapr_tce/prereg.h>. */
int stce_prereg_register(uint64_t ua, uint64_t size, struct stce_region **out)
{
	struct stce_region *r;
	unsigned int shift;
	int ret;

	if (!size || !stce_range_fits(ua, size))
		return -EINVAL;
	shift = stce_host_page_hold();
	if (!stce_is_aligned(ua, 1ULL << shift) ||
	    !stce_is_aligned(size, 1ULL << shift)) {
		stce_host_page_unhold();
		return -EINVAL;
	}
	pthread_mutex_lock(&reg_lock);
	for (;;) {
		ret = find_slot_locked(ua, size, &r);
		if (ret && ret != -EAGAIN)
			break;
		if (!ret && !r)
			break;
		if (!ret && atomic_load(&r->users)) {
			/* Shared by another container of this process. */
			atomic_fetch_add(&r->users, 1);
			region_assert(r);
			break;
		}
		if (!ret && revive_locked(r))
			break;	/* a released region, live again */
		/*
		 * The range meets a region whose teardown was claimed (by a
		 * mapped_dec() waiting for this lock): wait until it is gone.
		 */
		pthread_mutex_unlock(&reg_lock);
		sched_yield();
		pthread_mutex_lock(&reg_lock);
	}
	if (ret)
		goto unlock;
	if (!r) {
		ret = create_locked(ua, size, shift, &r);
		if (!ret) {
			/* The region keeps the hold on the host page. */
			pthread_mutex_unlock(&reg_lock);
			*out = r;
			return 0;
		}
		goto unlock;
	}
	*out = r;
unlock:
	pthread_mutex_unlock(&reg_lock);
	stce_host_page_unhold();
	return ret;
}

/* See <spapr_tce/prereg.h>. */
int stce_prereg_unregister(uint64_t ua, uint64_t size)
{
	struct stce_region *r;
	int ret;

	if (!size || !stce_range_fits(ua, size))
		return -ENOENT;
	pthread_mutex_lock(&reg_lock);
	ret = find_slot_locked(ua, size, &r);
	if (ret || !r || !atomic_load(&r->users))
		ret = -ENOENT;
	else
		ret = put_locked(r);
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

/* See <spapr_tce/prereg.h>. */
uint64_t stce_region_ua(const struct stce_region *region)
{
	return region->ua;
}

/* See <spapr_tce/prereg.h> (read-only accessors). */
uint64_t stce_region_size(const struct stce_region *region)
{
	return region->size;
}

/* See <spapr_tce/prereg.h> (read-only accessors). */
unsigned int stce_region_page_shift(const struct stce_region *region)
{
	return region->page_shift;
}

/* See <spapr_tce/prereg.h> (read-only accessors): live mappings. */
uint64_t stce_region_mapped(const struct stce_region *region)
{
	uint64_t count = atomic_load(&region->mapped) & MAPPED_COUNT;

	return count ? count - 1 : 0;
}

/* See <spapr_tce/prereg.h> (read-only accessors). */
unsigned long stce_region_users(const struct stce_region *region)
{
	return atomic_load(&region->users);
}

/* See <spapr_tce/prereg.h> (read-only accessors). */
bool stce_region_released(const struct stce_region *region)
{
	return atomic_load(&region->mapped) & MAPPED_RELEASED;
}

/* See <spapr_tce/prereg.h>. */
size_t stce_prereg_count(void)
{
	size_t nr;

	pthread_mutex_lock(&reg_lock);
	nr = stce_rindex_count(&by_ua);
	pthread_mutex_unlock(&reg_lock);
	return nr;
}

/*
 * fork child: registrations belong to the parent's mm (the kernel's
 * mm_iommu list is per mm), so the child starts with none, whatever the
 * parent's threads were doing: the lock and the grace counters are new,
 * the parent's regions abandoned (never touched again).
 */
void stce_prereg_atfork_child(void)
{
	pthread_mutex_init(&reg_lock, NULL);
	stce_grace_init(&readers);
	stce_rindex_abandon(&by_ua);
	stce_rindex_abandon(&by_syn_hpa);
	index_changed();	/* the forking thread's hits are the parent's */
}

static void atfork_child(void)
{
	stce_prereg_atfork_child();
	stce_pin_atfork_child();
}

/* At load, so that programs of the C API get it as well as the preload. */
__attribute__((constructor)) static void prereg_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

/* See <spapr_tce/prereg.h>. */
bool stce_prereg_range_mapped(uint64_t ua, uint64_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start;

	if (!size || !stce_range_fits(ua, size) || page <= 0)
		return false;
	start = ua & ~((uint64_t)page - 1);
	/* MS_ASYNC is a no-op on current kernels; ENOMEM marks a hole. */
	return msync((void *)(uintptr_t)start, size + (ua - start),
		     MS_ASYNC) == 0;
}
