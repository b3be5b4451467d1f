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
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>

#include "common/common.h"
#include "common/grace.h"

#if defined(__SANITIZE_THREAD__)
#define GRACE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GRACE_TSAN 1
#endif
#endif

__thread unsigned int stce_grace_tls_slot
	__attribute__((tls_model("initial-exec"))) = STCE_GRACE_NO_SLOT;

#define EXCLUSIVE_MASK	((1u << STCE_GRACE_SHARED_SLOT) - 1)

static pthread_once_t mode_once = PTHREAD_ONCE_INIT;
static bool asym;		/* fixed by mode_once, before any slot exists */
static pthread_key_t slot_key;
static _Atomic uint32_t slots_used;	/* exclusive slots taken */
static atomic_uint next_slot;		/* fenced mode: round-robin */
/*
 * One past the highest slot any thread of the process has taken: the
 * slots a synchronize must scan (a process of 3 threads scans 3 lines,
 * not 32). Only grows.
 */
static atomic_uint slots_seen;

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

#ifdef GRACE_TSAN
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
	unsigned int me = stce_grace_tls_slot;

	atomic_store(&slots_used, me < STCE_GRACE_SHARED_SLOT ? 1u << me : 0);
}

static void mode_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	if (pthread_key_create(&slot_key, slot_release))
		return;		/* no way to give slots back: stay fenced */
	asym = membarrier_usable();
}

/* See common/grace.h. */
bool stce_grace_asymmetric(void)
{
	pthread_once(&mode_once, mode_init);
	return asym;
}

/*
 * Slot @s is about to count sections: make synchronize scan it. The fence
 * pairs with synchronize's between its unpublish and its load of
 * slots_seen: a writer that loaded it without @s unpublished before this
 * thread's first section loads anything.
 */
static void slot_seen(unsigned int s)
{
	unsigned int seen = atomic_load_explicit(&slots_seen,
						 memory_order_relaxed);

	while (seen <= s &&
	       !atomic_compare_exchange_weak_explicit(&slots_seen, &seen, s + 1,
						      memory_order_seq_cst,
						      memory_order_relaxed))
		;
	atomic_thread_fence(memory_order_seq_cst);
}

static unsigned int slot_assign(void)
{
	uint32_t used;
	unsigned int s;

	if (!stce_grace_asymmetric()) {
		s = atomic_fetch_add_explicit(&next_slot, 1,
					      memory_order_relaxed) %
		    STCE_GRACE_SLOTS;
		slot_seen(s);
		return stce_grace_tls_slot = s | STCE_GRACE_FENCED;
	}
	used = atomic_load_explicit(&slots_used, memory_order_relaxed);
	do {
		if ((used & EXCLUSIVE_MASK) == EXCLUSIVE_MASK) {
			slot_seen(STCE_GRACE_SHARED_SLOT);
			return stce_grace_tls_slot =
				STCE_GRACE_SHARED_SLOT | STCE_GRACE_FENCED;
		}
		s = (unsigned int)__builtin_ctz(~used);
	} while (!atomic_compare_exchange_weak_explicit(&slots_used, &used,
							used | (1u << s),
							memory_order_seq_cst,
							memory_order_relaxed));
	/*
	 * Pairs with the fence in synchronize: a writer that did not see
	 * this slot taken unpublished before our first section's loads.
	 */
	slot_seen(s);
	if (pthread_setspecific(slot_key, (void *)(uintptr_t)(s + 1))) {
		/* Could not arrange the release: hand it back, share. */
		atomic_fetch_and(&slots_used, ~(1u << s));
		slot_seen(STCE_GRACE_SHARED_SLOT);
		return stce_grace_tls_slot =
			STCE_GRACE_SHARED_SLOT | STCE_GRACE_FENCED;
	}
	return stce_grace_tls_slot = s;
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
			       struct stce_grace_guard *guard)
{
	unsigned int s = stce_grace_tls_slot;

	if (s == STCE_GRACE_NO_SLOT)
		s = slot_assign();
	if (!(s & STCE_GRACE_FENCED)) {
		stce_grace_read_lock(g, guard);
		return;
	}
	guard->slot = s;
	guard->idx = atomic_load_explicit(&g->epoch, memory_order_relaxed) & 1;
	/* seq_cst: a full barrier before the section's loads. */
	atomic_fetch_add_explicit(
		&g->readers[s & ~STCE_GRACE_FENCED].cnt[guard->idx], 1,
		memory_order_seq_cst);
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

/* Slots no thread ever took count nothing: scan the first @n only. */
static void wait_side(struct stce_grace *g, unsigned int idx, unsigned int n)
{
	for (unsigned int s = 0; s < n; s++) {
		unsigned int spins = 0;

		while (atomic_load_explicit(&g->readers[s].cnt[idx],
					    memory_order_acquire)) {
			if (++spins > 64)
				sched_yield();
		}
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
	unsigned int me = stce_grace_tls_slot;

	if (me < STCE_GRACE_SHARED_SLOT)
		used &= ~(1u << me);
	return used != 0;
}

/* See common/grace.h. */
void stce_grace_synchronize(struct stce_grace *g)
{
	/* Fix the mode first: a reader may be taking its first slot now. */
	bool barrier_others = stce_grace_asymmetric();
	unsigned int n;

	pthread_mutex_lock(&g->sync_lock);
	/* Order the caller's unpublishing before the counter scans. */
	atomic_thread_fence(memory_order_seq_cst);
	if (barrier_others && others_hold_slots())
		barrier_all_threads();
	n = atomic_load_explicit(&slots_seen, memory_order_seq_cst);
	for (int round = 0; round < 2; round++) {
		unsigned int e = atomic_load(&g->epoch);

		atomic_store(&g->epoch, e + 1);
		wait_side(g, e & 1, n);
	}
	atomic_fetch_add(&g->periods, 1);
	pthread_mutex_unlock(&g->sync_lock);
}

/* See common/grace.h. */
uint64_t stce_grace_periods(const struct stce_grace *g)
{
	return atomic_load(&g->periods);
}
