/* SPDX-License-Identifier: MIT */
/*
 * Grace periods for lock-free readers (a small sleepable-RCU).
 *
 * Readers bracket a read-side section with stce_grace_read_lock() and
 * stce_grace_read_unlock() on the same thread; sections nest. A writer
 * that has unpublished something (cleared a TCE, unset a window) calls
 * stce_grace_synchronize(), which returns once every read-side section
 * that may have seen the old state has ended; only then may it free or
 * release what it unpublished.
 *
 * How: each grace has per-slot counters cnt[2]; a reader adds one to
 * cnt[epoch & 1] of its slot on entry and subtracts it on exit (release:
 * its accesses happen before). synchronize flips the epoch and waits for
 * every slot's old side to drain, twice, so both sides are covered and
 * new readers cannot starve it. It scans only the slots some thread of
 * the process has taken (a count that only grows, raised with a full
 * barrier before a thread's first section).
 *
 * The entry needs a full barrier between the counter increment and the
 * reader's first load of shared state, paired with one on the writer
 * between its unpublish and the counter scan (a store-buffering pattern).
 * Two ways to provide it, chosen once per process:
 *
 *  - asymmetric (opt-in: STCE_GRACE_ASYMMETRIC=1 in the environment;
 *    docs/pe.md says when it pays): a thread owns its slot exclusively, so it
 *    increments with a plain load and store followed by a compiler
 *    barrier only; the writer's synchronize runs
 *    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which executes a full
 *    barrier on every CPU running a thread of this process. A reader's
 *    program order is cut by that barrier: if its increment came before
 *    it, the scan (after the membarrier) sees the increment; if after,
 *    its loads also come after and see the unpublished state. Readers
 *    cost ~1 ns; a synchronize costs a system call (plus an IPI to each
 *    CPU running one of our threads: microseconds under a VM).
 *  - fenced (the default; also without a usable membarrier, and in a
 *    ThreadSanitizer build, which does not model membarrier): readers take
 *    an atomic seq_cst add on their slot and a writer a full fence.
 *
 * There are STCE_GRACE_SLOTS - 1 exclusive slots, taken by a thread on
 * its first section and given back when it exits; threads beyond that
 * share the last slot with atomic adds (fenced mode, always correct).
 *
 * fork: the child has only the forking thread, whose slot it keeps; the
 * other threads' slots are free again. A grace's counters may still
 * count sections of threads the child does not have: a grace the child
 * uses must be initialised again there (stce_grace_init), which is
 * correct only while no section of it is open (the forking thread was
 * not inside one: fork from a signal handler that interrupted a section
 * is not supported).
 */
#ifndef STCE_GRACE_H
#define STCE_GRACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define STCE_GRACE_SLOTS	32
#define STCE_GRACE_SHARED_SLOT	(STCE_GRACE_SLOTS - 1)
/* In a thread's slot number: count with atomic adds (fenced mode). */
#define STCE_GRACE_FENCED	0x80000000u
#define STCE_GRACE_NO_SLOT	0xffffffffu

struct stce_grace_slot {
	_Atomic uint64_t cnt[2];
	char pad[64 - 2 * sizeof(uint64_t)];
} __attribute__((aligned(64)));

struct stce_grace {
	_Atomic unsigned int epoch;
	_Atomic uint64_t periods;
	pthread_mutex_t sync_lock;	/* one grace period at a time */
	struct stce_grace_slot readers[STCE_GRACE_SLOTS];
};

/* What a reader holds between lock and unlock. */
struct stce_grace_guard {
	unsigned int slot;	/* with STCE_GRACE_FENCED when counted so */
	unsigned int idx;
	bool held;
};

void stce_grace_init(struct stce_grace *g);
void stce_grace_destroy(struct stce_grace *g);

/* This thread's slot (0..STCE_GRACE_SLOTS - 1), assigned on first use. */
unsigned int stce_grace_thread_slot(void);

/* This thread's slot and mode; STCE_GRACE_NO_SLOT until first use. */
extern __thread unsigned int stce_grace_tls_slot
	__attribute__((tls_model("initial-exec")));

/* First section of a thread, or fenced mode. */
void stce_grace_read_lock_slow(struct stce_grace *g,
			       struct stce_grace_guard *guard);

static inline void stce_grace_read_lock(struct stce_grace *g,
					struct stce_grace_guard *guard)
{
	unsigned int s = stce_grace_tls_slot;
	_Atomic uint64_t *cnt;
	unsigned int idx;

	if (__builtin_expect(s >= STCE_GRACE_SLOTS, 0)) {
		stce_grace_read_lock_slow(g, guard);
		return;
	}
	/* Only this thread writes its slot: no atomic add needed. */
	idx = atomic_load_explicit(&g->epoch, memory_order_relaxed) & 1;
	cnt = &g->readers[s].cnt[idx];
	atomic_store_explicit(cnt, atomic_load_explicit(cnt,
							memory_order_relaxed) + 1,
			      memory_order_relaxed);
	/* The writer's membarrier makes this a full barrier (see above). */
	atomic_signal_fence(memory_order_seq_cst);
	guard->slot = s;
	guard->idx = idx;
	guard->held = true;
}

static inline void stce_grace_read_unlock(struct stce_grace *g,
					  struct stce_grace_guard *guard)
{
	_Atomic uint64_t *cnt;

	if (!guard->held)
		return;
	guard->held = false;
	if (__builtin_expect(guard->slot & STCE_GRACE_FENCED, 0)) {
		cnt = &g->readers[guard->slot & ~STCE_GRACE_FENCED]
			       .cnt[guard->idx];
		atomic_fetch_sub_explicit(cnt, 1, memory_order_release);
		return;
	}
	cnt = &g->readers[guard->slot].cnt[guard->idx];
	atomic_store_explicit(cnt, atomic_load_explicit(cnt,
							memory_order_relaxed) - 1,
			      memory_order_release);
}

/* Wait for every read-side section that began before this call. Never
 * call it from inside a read-side section of the same @g. */
void stce_grace_synchronize(struct stce_grace *g);

/* Grace periods completed so far. */
uint64_t stce_grace_periods(const struct stce_grace *g);

/* Whether this process runs the asymmetric (membarrier) mode. */
bool stce_grace_asymmetric(void);

#endif /* STCE_GRACE_H */
