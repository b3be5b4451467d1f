// SPDX-License-Identifier: MIT
/*
 * Grace periods: slot assignment, the slow read side, synchronize. The
 * scheme and why it is correct are in grace.h.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>

#include "common/common.h"
#include "common/grace.h"


__thread unsigned int stce_grace_tls_slot
	__attribute__((tls_model("initial-exec"))) = STCE_GRACE_NO_SLOT;

#define EXCLUSIVE_MASK	((1u << STCE_GRACE_SHARED_SLOT) - 1)
/* From one slot's counter to the next slot's, in counters. */
#define SLOT_STRIDE	(sizeof(struct stce_grace_slot) / sizeof(uint64_t))

static pthread_once_t mode_once = PTHREAD_ONCE_INIT;
static bool asym;		/* fixed by mode_once, before any slot exists */
static pthread_key_t slot_key;
static bool slot_key_ok;		/* fixed by mode_once too */
static _Atomic uint32_t slots_used;	/* exclusive slots taken */

static long membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

/* A thread exits: its exclusive slot (all counters 0) is free again. */
static void slot_release(void *v)
{
	unsigned int s = (unsigned int)(uintptr_t)v - 1;

	stce_grace_tls_slot = STCE_GRACE_NO_SLOT;
	atomic_fetch_and_explicit(&slots_used, ~(1u << s),
				  memory_order_release);
}

static bool membarrier_usable(void)
{
	long cmds;

#ifdef STCE_GRACE_TSAN
	return false;	/* TSan cannot see the barriers membarrier makes */
#endif
	/*
	 * Opt-in: the asymmetric mode makes readers almost free but every
	 * synchronize an IPI to each CPU running one of our threads, which
	 * costs more than it saves once several threads both read and
	 * unpublish (vCPUs doing hypercalls: see docs/pe.md).
	 */
	if (!getenv("STCE_GRACE_ASYMMETRIC") ||
	    strcmp(getenv("STCE_GRACE_ASYMMETRIC"), "1"))
		return false;
	cmds = membarrier(MEMBARRIER_CMD_QUERY);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return false;
	return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

/*
 * fork child: only the forking thread exists. The exclusive slots the
 * parent's other threads held are free (their counters belong to graces
 * the child renews or never touches: a host's starts afresh); this
 * thread keeps its own.
 */
static void atfork_child(void)
{
	/* Without the mode flag: a fenced thread's slot is exclusive too. */
	unsigned int me = stce_grace_tls_slot & ~STCE_GRACE_FENCED;

	atomic_store(&slots_used, me < STCE_GRACE_SHARED_SLOT ? 1u << me : 0);
}

static void mode_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	if (pthread_key_create(&slot_key, slot_release))
		return;		/* no way to give slots back: shared, fenced */
	slot_key_ok = true;
	asym = membarrier_usable();
}

/* See common/grace.h. */
bool stce_grace_asymmetric(void)
{
	pthread_once(&mode_once, mode_init);
	return asym;
}

/*
 * The mode, without pthread_once's call once this thread has a slot: the
 * slot's assignment fixed the mode first (a kill on every UNMAP asks).
 */
static bool mode_asymmetric(void)
{
	if (stce_grace_tls_slot != STCE_GRACE_NO_SLOT)
		return asym;
	return stce_grace_asymmetric();
}

/*
 * An exclusive slot if one is free (both modes: ranged waits need a slot
 * to be one thread's), else the shared one. Fenced mode still counts with
 * atomic adds: the flag sends its sections through the slow path.
 */
static unsigned int slot_assign(void)
{
	unsigned int fenced = stce_grace_asymmetric() ? 0 : STCE_GRACE_FENCED;
	uint32_t used;
	unsigned int s;

	used = atomic_load_explicit(&slots_used, memory_order_relaxed);
	do {
		if ((used & EXCLUSIVE_MASK) == EXCLUSIVE_MASK)
			return stce_grace_tls_slot =
				STCE_GRACE_SHARED_SLOT | STCE_GRACE_FENCED;
		s = (unsigned int)__builtin_ctz(~used);
	} while (!atomic_compare_exchange_weak_explicit(&slots_used, &used,
							used | (1u << s),
							memory_order_seq_cst,
							memory_order_relaxed));
	/*
	 * Pairs with the fence in synchronize: a writer that did not see
	 * this slot taken unpublished before our first section's loads.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (!slot_key_ok ||
	    pthread_setspecific(slot_key, (void *)(uintptr_t)(s + 1))) {
		/* Could not arrange the release: hand it back, share. */
		atomic_fetch_and(&slots_used, ~(1u << s));
		return stce_grace_tls_slot =
			STCE_GRACE_SHARED_SLOT | STCE_GRACE_FENCED;
	}
	return stce_grace_tls_slot = s | fenced;
}

/* See common/grace.h. */
unsigned int stce_grace_thread_slot(void)
{
	unsigned int s = stce_grace_tls_slot;

	if (s == STCE_GRACE_NO_SLOT)
		s = slot_assign();
	return s & ~STCE_GRACE_FENCED;
}

/* See common/grace.h. */
void stce_grace_read_lock_slow(struct stce_grace *g,
			       struct stce_grace_guard *guard, uint64_t lo,
			       uint64_t hi)
{
	unsigned int s = stce_grace_tls_slot;
	struct stce_grace_slot *r;

	if (s == STCE_GRACE_NO_SLOT)
		s = slot_assign();
	if ((s & ~STCE_GRACE_FENCED) != STCE_GRACE_SHARED_SLOT) {
		stce_grace_read_lock_range(g, guard, lo, hi);
		return;
	}
	/* The shared slot's sections have no range (the writer knows). */
	r = &g->readers[STCE_GRACE_SHARED_SLOT];
	guard->slot = s;
	guard->idx = atomic_load_explicit(&g->epoch, memory_order_relaxed) & 1;
	/* seq_cst: a full barrier before the section's loads. */
	atomic_fetch_add_explicit(&r->cnt[guard->idx], 1, memory_order_seq_cst);
	guard->held = true;
}

/* A grace domain with no reader and no period yet. */
void stce_grace_init(struct stce_grace *g)
{
	atomic_init(&g->epoch, 0);
	atomic_init(&g->periods, 0);
	pthread_mutex_init(&g->sync_lock, NULL);
	for (unsigned int s = 0; s < STCE_GRACE_SLOTS; s++) {
		atomic_init(&g->readers[s].cnt[0], 0);
		atomic_init(&g->readers[s].cnt[1], 0);
		atomic_init(&g->readers[s].lo, 0);
		atomic_init(&g->readers[s].hi, UINT64_MAX);
		atomic_init(&g->readers[s].idle, 0);
		atomic_init(&g->readers[s].ranged, 0);
		atomic_init(&g->spans[s].lo, UINT64_MAX);
		atomic_init(&g->spans[s].hi, 0);
	}
}

/* The domain's lock goes; no reader may be left inside it. */
void stce_grace_destroy(struct stce_grace *g)
{
	pthread_mutex_destroy(&g->sync_lock);
}

/*
 * Run a full barrier on every thread of the process. Registration was
 * done before any exclusive slot existed and survives fork; a failure
 * here would leave readers unordered, which must not pass silently.
 */
static void barrier_all_threads(void)
{
	if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
		return;
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
	    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
		return;
	fprintf(stderr, "spapr-tce: membarrier failed: %s\n", strerror(errno));
	abort();
}

/*
 * One more round of waiting for a reader. A reader running on another CPU
 * leaves within a few hundred ns: spin. One that does not was preempted,
 * maybe on this CPU: sleep, so that the scheduler can give it the CPU
 * (sched_yield would mostly hand it back to us).
 */
static void backoff(unsigned int *spins)
{
	static const struct timespec nap = { 0, 1000 };

	if (++*spins <= 128) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		return;
	}
	nanosleep(&nap, NULL);
}

static void wait_side(struct stce_grace *g, unsigned int idx)
{
	for (unsigned int s = 0; s < STCE_GRACE_SLOTS; s++) {
		unsigned int spins = 0;

		while (atomic_load_explicit(&g->readers[s].cnt[idx],
					    memory_order_acquire))
			backoff(&spins);
	}
}

/*
 * Whether a thread other than this one may count with plain stores. One
 * that takes its first exclusive slot after this check fences after
 * taking it, so its sections already see what we unpublished. Threads
 * without a slot or on the shared slot count with full barriers.
 */
static bool others_hold_slots(void)
{
	uint32_t used = atomic_load_explicit(&slots_used, memory_order_seq_cst);
	unsigned int me = stce_grace_tls_slot & ~STCE_GRACE_FENCED;

	if (me < STCE_GRACE_SHARED_SLOT)
		used &= ~(1u << me);
	return used != 0;
}

/* See common/grace.h. */
void stce_grace_synchronize(struct stce_grace *g)
{
	/* Fix the mode first: a reader may be taking its first slot now. */
	bool barrier_others = stce_grace_asymmetric();

	pthread_mutex_lock(&g->sync_lock);
	/* Order the caller's unpublishing before the counter scans. */
	atomic_thread_fence(memory_order_seq_cst);
	if (barrier_others && others_hold_slots())
		barrier_all_threads();
	for (int round = 0; round < 2; round++) {
		unsigned int e = atomic_load(&g->epoch);

		atomic_store(&g->epoch, e + 1);
		wait_side(g, e & 1);
	}
	atomic_fetch_add(&g->periods, 1);
	pthread_mutex_unlock(&g->sync_lock);
}

static bool slot_busy(const struct stce_grace_slot *r)
{
	return atomic_load_explicit(&r->cnt[0], memory_order_acquire) |
	       atomic_load_explicit(&r->cnt[1], memory_order_acquire);
}

/*
 * Whether exclusive slot @r has a section open that may translate some of
 * [lo, hi]; *@idle: its idle sequence, which moves once that section ends.
 * The sequence is read first and again after the range: if it moved, the
 * section seen open has ended, and any later one began after the caller's
 * barrier (it sees what was unpublished); if not, lo and hi belong to the
 * one section open throughout (or a superset: see stce_grace_set_range).
 */
static bool slot_covers(const struct stce_grace_slot *r, uint64_t lo,
			uint64_t hi, uint64_t *idle)
{
	uint64_t rlo, rhi;

	*idle = atomic_load_explicit(&r->idle, memory_order_acquire);
	if (!slot_busy(r))
		return false;
	rlo = atomic_load_explicit(&r->lo, memory_order_acquire);
	rhi = atomic_load_explicit(&r->hi, memory_order_acquire);
	if (atomic_load_explicit(&r->idle, memory_order_acquire) != *idle)
		return false;
	return rlo <= hi && lo <= rhi;
}

/*
 * Whether exclusive slot @s's span meets [lo, hi]: if not, no section of
 * the slot that may hold an unpublished entry translates there (see
 * "Spans" in grace.h), and its counters' line need not be read.
 */
static bool span_meets(const struct stce_grace *g, unsigned int s,
		       uint64_t lo, uint64_t hi)
{
	uint64_t shi = atomic_load_explicit(&g->spans[s].hi,
					    memory_order_acquire);
	uint64_t slo = atomic_load_explicit(&g->spans[s].lo,
					    memory_order_acquire);

	return slo <= hi && lo <= shi;
}

/* See common/grace.h. */
void stce_grace_count_slow(_Atomic uint64_t *counters, size_t stride)
{
	unsigned int s = stce_grace_thread_slot();

	if (s == STCE_GRACE_SHARED_SLOT)
		atomic_fetch_add_explicit(&counters[s * stride], 1,
					  memory_order_relaxed);
	else
		stce_grace_count(counters, stride);
}

/* See common/grace.h. */
uint64_t stce_grace_count_sum(const _Atomic uint64_t *counters, size_t stride)
{
	uint64_t n = 0;

	for (unsigned int s = 0; s < STCE_GRACE_SLOTS; s++)
		n += atomic_load_explicit(&counters[s * stride],
					  memory_order_relaxed);
	return n;
}

/*
 * One more ranged wait done, counted in this thread's own slot: a kill
 * pays no locked instruction for its count.
 */
static void count_ranged(struct stce_grace *g)
{
	stce_grace_count(&g->readers[0].ranged, SLOT_STRIDE);
}

/* See common/grace.h. */
void stce_grace_synchronize_range(struct stce_grace *g, uint64_t lo,
				  uint64_t hi)
{
	/* Order the caller's unpublishing before the samples. */
	atomic_thread_fence(memory_order_seq_cst);
	stce_grace_synchronize_range_ordered(g, lo, hi);
}

/* See common/grace.h. */
void stce_grace_synchronize_range_ordered(struct stce_grace *g, uint64_t lo,
					  uint64_t hi)
{
	bool barrier_others = mode_asymmetric();
	uint64_t idle[STCE_GRACE_SHARED_SLOT];
	uint32_t used, wait = 0;

	if (barrier_others && others_hold_slots())
		barrier_all_threads();
	if (slot_busy(&g->readers[STCE_GRACE_SHARED_SLOT])) {
		stce_grace_synchronize(g);
		return;
	}
	/*
	 * Only the slots taken now: one taken after this load fenced after
	 * taking it, so its sections see what the caller unpublished.
	 */
	used = atomic_load_explicit(&slots_used, memory_order_seq_cst) &
	       EXCLUSIVE_MASK;
	for (; used; used &= used - 1) {
		unsigned int s = (unsigned int)__builtin_ctz(used);

		if (span_meets(g, s, lo, hi) &&
		    slot_covers(&g->readers[s], lo, hi, &idle[s]))
			wait |= 1u << s;
	}
	while (wait) {
		unsigned int s = (unsigned int)__builtin_ctz(wait);
		const struct stce_grace_slot *r = &g->readers[s];
		unsigned int spins = 0;

		while (atomic_load_explicit(&r->idle, memory_order_acquire) ==
		       idle[s])
			backoff(&spins);
		wait &= wait - 1;
	}
	count_ranged(g);
}

/* See common/grace.h. */
uint64_t stce_grace_periods(const struct stce_grace *g)
{
	return atomic_load(&g->periods) +
	       stce_grace_count_sum(&g->readers[0].ranged, SLOT_STRIDE);
}
