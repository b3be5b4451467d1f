// SPDX-License-Identifier: MIT
/*
 * Pre-registered regions: the process-level store of mm_iommu_*.
 *
 * Index: an immutable array of region pointers sorted by address, published
 * through one atomic pointer. Writers (register, unregister, teardown) hold
 * reg_lock, build the next array, publish it and wait for a grace period
 * before the old array (or a removed region) may be reused or freed.
 *
 * Grace periods: two reader counters, as in SRCU. A reader increments the
 * counter of the current phase, loads the array, searches, decrements. A
 * writer waits for the *other* counter to drain (stragglers of an earlier
 * phase), flips the phase, and waits for the counter of the old phase to
 * drain. A reader that incremented after a drained wait loads the pointer
 * after the writer published the new array (all operations are seq_cst),
 * so it can never hold what the writer frees. Readers never block and
 * never allocate; a writer's wait lasts as long as the slowest lookup in
 * flight (a binary search).
 *
 * Array memory: two buffers. Removing never allocates (so a released
 * region can always be torn down): the spare buffer always has room for
 * one entry less than the published one holds.
 *
 * Region life, in one atomic word (mapped): bit 62 RELEASED, the low bits
 * 1 + live mappings while the region lives, 0 once somebody claimed its
 * teardown. Every transition is one compare-and-swap on that word, so
 * "last mapping goes" and "last user goes" can never both, or neither,
 * tear a region down.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spapr_tce/account.h>
#include <spapr_tce/prereg.h>

#include "account/account_internal.h"
#include "common/alloc.h"
#include "common/common.h"
#include "common/grace.h"
#include "prereg/prereg_internal.h"
#include "prereg/vma.h"

#define MAPPED_RELEASED	(1ULL << 62)
#define MAPPED_COUNT	(MAPPED_RELEASED - 1)

struct stce_region {
	uint64_t ua;
	uint64_t size;
	uint64_t npages;		/* charged to the account */
	unsigned int page_shift;	/* largest IOMMU page allowed */
	unsigned int host_shift;	/* host page when registered */
	_Atomic uint64_t mapped;
	_Atomic unsigned long users;	/* written under reg_lock */
};

/*
 * The index: regions sorted by address, with each one's range kept beside
 * its pointer, so a binary search reads one contiguous array and touches
 * a region only once it has found it (4096 regions: 96 KiB of keys).
 */
struct region_key {
	uint64_t ua;
	uint64_t size;
	struct stce_region *r;
};

struct region_array {
	size_t nr;
	size_t cap;
	struct region_key e[];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct region_array *) published;
static struct region_array *spare;	/* under reg_lock */

/*
 * Readers (lookups) run inside a grace read-side section: per-thread
 * counters, so concurrent lookups on many threads share no cache line.
 * A writer that unpublished an array or a region waits out a grace
 * period before it reuses or frees it.
 */
static struct stce_grace readers = {
	.sync_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* After this, no reader can hold an array or region unpublished before. */
static void synchronize_readers(void)
{
	stce_grace_synchronize(&readers);
}

static uint64_t region_last(const struct stce_region *r)
{
	return r->ua + (r->size - 1);
}

/* Index of the first region starting at or above @addr. */
static size_t array_lower_bound(const struct region_array *a, uint64_t addr)
{
	size_t lo = 0, hi = a ? a->nr : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->e[mid].ua < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The region whose range holds @addr, or NULL. */
static struct stce_region *array_find(const struct region_array *a,
				      uint64_t addr)
{
	size_t i;

	if (!a || !a->nr)
		return NULL;
	i = array_lower_bound(a, addr);
	if (i < a->nr && a->e[i].ua == addr)
		return a->e[i].r;
	if (!i)
		return NULL;
	if (addr - a->e[i - 1].ua < a->e[i - 1].size)
		return a->e[i - 1].r;
	return NULL;
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

int stce_prereg_lookup(uint64_t ua, uint64_t size, struct stce_region **out)
{
	struct stce_grace_guard guard;
	struct stce_region *r;
	int ret = -EINVAL;

	if (!size || !stce_range_fits(ua, size))
		return -EINVAL;
	stce_grace_read_lock(&readers, &guard);
	r = array_find(atomic_load(&published), ua);
	if (r && size <= r->size - (ua - r->ua) && mapped_get_live(r)) {
		*out = r;
		ret = 0;
	}
	stce_grace_read_unlock(&readers, &guard);
	return ret;
}

struct stce_region *stce_prereg_find_hpa(uint64_t hpa)
{
	struct stce_region *r;
	struct stce_grace_guard guard;

	stce_grace_read_lock(&readers, &guard);

	r = array_find(atomic_load(&published), hpa);
	stce_grace_read_unlock(&readers, &guard);
	return r;
}

bool stce_prereg_covers(uint64_t addr)
{
	return stce_prereg_find_hpa(addr) != NULL;
}

int stce_prereg_ua_to_hpa(const struct stce_region *region, uint64_t ua,
			  unsigned int page_shift, uint64_t *hpa)
{
	uint64_t off;

	if (page_shift > region->page_shift || ua < region->ua)
		return -EINVAL;
	off = ua - region->ua;
	if (off >= region->size || region->size - off < (1ULL << page_shift))
		return -EINVAL;
	*hpa = ua;	/* the process address is the "real" address */
	return 0;
}

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

/* Publish @next, wait out readers, keep the old array as the spare. */
static void publish_locked(struct region_array *next)
{
	struct region_array *old = atomic_load(&published);

	atomic_store(&published, next);
	synchronize_readers();
	if (spare != next)
		stce_free(spare);
	spare = old;
	if (!next) {
		/* Nothing registered: give all index memory back. */
		stce_free(spare);
		spare = NULL;
	}
}

static void remove_locked(struct stce_region *r)
{
	struct region_array *cur = atomic_load(&published), *next = NULL;
	size_t i, j = 0;

	assert(cur && cur->nr);
	if (cur->nr > 1) {
		next = spare;
		/* The spare always has room for one region less. */
		assert(next && next->cap >= cur->nr - 1);
		for (i = 0; i < cur->nr; i++)
			if (cur->e[i].r != r)
				next->e[j++] = cur->e[i];
		next->nr = j;
	}
	publish_locked(next);
}

static void teardown_locked(struct stce_region *r)
{
	remove_locked(r);
	stce_pin_lock();
	stce_pin_munlock_region_locked(r->ua, r->size, r->host_shift);
	stce_pin_unlock();
	stce_account_uncharge(r->npages);
	stce_host_page_unhold();
	stce_free(r);
}

static int put_locked(struct stce_region *r)
{
	uint64_t one = 1;
	unsigned long users = atomic_load(&r->users);

	assert(users);
	if (users > 1) {
		atomic_store(&r->users, users - 1);
		return 0;
	}
	if (!atomic_compare_exchange_strong(&r->mapped, &one, 0))
		return -EBUSY;
	atomic_store(&r->users, 0);
	teardown_locked(r);
	return 0;
}

int stce_prereg_put(struct stce_region *region)
{
	int ret;

	pthread_mutex_lock(&reg_lock);
	ret = put_locked(region);
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

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
		if (!next)
			teardown_locked(region);
	}
	pthread_mutex_unlock(&reg_lock);
}

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

void stce_prereg_mapped_sub(struct stce_region *region, uint64_t n)
{
	uint64_t v = atomic_load(&region->mapped), next;

	if (!n)
		return;
	do {
		assert((v & MAPPED_COUNT) >= n + 1);
		if ((v & MAPPED_RELEASED) && (v & MAPPED_COUNT) == n + 1)
			next = 0;	/* the last mappings of a released region */
		else
			next = v - n;
	} while (!atomic_compare_exchange_weak(&region->mapped, &v, next));
	if (next)
		return;
	pthread_mutex_lock(&reg_lock);
	teardown_locked(region);
	pthread_mutex_unlock(&reg_lock);
}

/* A released region registered again: live, with one user. */
static bool revive_locked(struct stce_region *r)
{
	uint64_t v = atomic_load(&r->mapped);

	do {
		if (!(v & MAPPED_COUNT))
			return false;	/* its teardown is under way */
	} while (!atomic_compare_exchange_weak(&r->mapped, &v,
					       v & ~MAPPED_RELEASED));
	atomic_store(&r->users, 1);
	return true;
}

/*
 * The region at exactly [ua, ua + size), or an overlap (-EINVAL), or
 * -EAGAIN when the range meets a region whose teardown is under way (the
 * caller retries once it is gone). 0 with *@found NULL: the range is free,
 * and *@pos is where it goes.
 */
static int find_slot_locked(uint64_t ua, uint64_t size,
			    struct stce_region **found, size_t *pos)
{
	struct region_array *a = atomic_load(&published);
	uint64_t last = ua + (size - 1);
	struct stce_region *hit = NULL;
	size_t i = array_lower_bound(a, ua);

	if (i < (a ? a->nr : 0) && a->e[i].ua <= last)
		hit = a->e[i].r;
	else if (i > 0 && region_last(a->e[i - 1].r) >= ua)
		hit = a->e[i - 1].r;
	*found = NULL;
	*pos = i;
	if (!hit)
		return 0;
	if (!(atomic_load(&hit->mapped) & MAPPED_COUNT))
		return -EAGAIN;
	if (hit->ua != ua || hit->size != size)
		return -EINVAL;
	*found = hit;
	return 0;
}

/* An array with room for one more region (the spare when it has room). */
static struct region_array *array_for_insert(size_t nr)
{
	struct region_array *a;
	size_t cap;

	if (spare && spare->cap >= nr + 1)
		return spare;
	cap = nr < 4 ? 8 : 2 * nr;
	a = stce_zalloc(sizeof(*a) + cap * sizeof(a->e[0]));
	if (a)
		a->cap = cap;
	return a;
}

static void insert_locked(struct region_array *next, struct stce_region *r,
			  size_t pos)
{
	struct region_array *cur = atomic_load(&published);
	size_t nr = cur ? cur->nr : 0;

	if (pos)
		memcpy(next->e, cur->e, pos * sizeof(next->e[0]));
	next->e[pos] = (struct region_key){ r->ua, r->size, r };
	if (nr > pos)
		memcpy(&next->e[pos + 1], &cur->e[pos],
		       (nr - pos) * sizeof(next->e[0]));
	next->nr = nr + 1;
	atomic_store(&published, next);
}

static int mlock_region(uint64_t ua, uint64_t size)
{
	if (stce_fault_should_fail(STCE_FAULT_PIN))
		return -ENOMEM;
	if (stce_sys_mlock(ua, size))
		return -ENOMEM;
	return 0;
}

/* A new region: charge, pin, publish. reg_lock held; @shift held. */
static int create_locked(uint64_t ua, uint64_t size, unsigned int shift,
			 size_t pos, struct stce_region **out)
{
	struct region_array *cur = atomic_load(&published), *next;
	struct stce_region *r;
	unsigned int backing;
	int ret;

	ret = stce_account_charge(size >> shift);
	if (ret)
		return ret;
	ret = -ENOMEM;
	r = stce_zalloc(sizeof(*r));
	if (!r)
		goto uncharge;
	next = array_for_insert(cur ? cur->nr : 0);
	if (!next)
		goto free_region;
	ret = stce_vma_scan(ua, size, true, shift, &backing);
	if (ret)
		goto free_array;
	r->ua = ua;
	r->size = size;
	r->npages = size >> shift;
	r->host_shift = shift;
	r->page_shift = __builtin_ctzll(ua | size);
	if (backing < r->page_shift)
		r->page_shift = backing;
	atomic_init(&r->mapped, 1);
	atomic_init(&r->users, 1);

	stce_pin_lock();
	ret = mlock_region(ua, size);
	if (ret) {
		/* mlock may have locked part of the range before failing. */
		stce_pin_munlock_region_locked(ua, size, shift);
		stce_pin_unlock();
		goto free_array;
	}
	insert_locked(next, r, pos);
	stce_pin_unlock();
	/* insert_locked() published; retire the old array. */
	synchronize_readers();
	if (spare != next)
		stce_free(spare);
	spare = cur;
	*out = r;
	return 0;

free_array:
	if (next != spare)
		stce_free(next);
free_region:
	stce_free(r);
uncharge:
	stce_account_uncharge(size >> shift);
	return ret;
}

int stce_prereg_register(uint64_t ua, uint64_t size, struct stce_region **out)
{
	struct stce_region *r;
	unsigned int shift;
	size_t pos;
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
		ret = find_slot_locked(ua, size, &r, &pos);
		if (ret && ret != -EAGAIN)
			break;
		if (!ret && !r)
			break;
		if (!ret && atomic_load(&r->users)) {
			/* Shared by another container of this process. */
			atomic_fetch_add(&r->users, 1);
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
		ret = create_locked(ua, size, shift, pos, &r);
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

int stce_prereg_unregister(uint64_t ua, uint64_t size)
{
	struct stce_region *r;
	size_t pos;
	int ret;

	if (!size || !stce_range_fits(ua, size))
		return -ENOENT;
	pthread_mutex_lock(&reg_lock);
	ret = find_slot_locked(ua, size, &r, &pos);
	if (ret || !r || !atomic_load(&r->users))
		ret = -ENOENT;
	else
		ret = put_locked(r);
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

uint64_t stce_region_ua(const struct stce_region *region)
{
	return region->ua;
}

uint64_t stce_region_size(const struct stce_region *region)
{
	return region->size;
}

unsigned int stce_region_page_shift(const struct stce_region *region)
{
	return region->page_shift;
}

uint64_t stce_region_mapped(const struct stce_region *region)
{
	uint64_t count = atomic_load(&region->mapped) & MAPPED_COUNT;

	return count ? count - 1 : 0;
}

unsigned long stce_region_users(const struct stce_region *region)
{
	return atomic_load(&region->users);
}

bool stce_region_released(const struct stce_region *region)
{
	return atomic_load(&region->mapped) & MAPPED_RELEASED;
}

size_t stce_prereg_count(void)
{
	struct region_array *a;
	size_t nr;

	pthread_mutex_lock(&reg_lock);
	a = atomic_load(&published);
	nr = a ? a->nr : 0;
	pthread_mutex_unlock(&reg_lock);
	return nr;
}

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
