/* SPDX-License-Identifier: MIT */
/*
 * Grace periods for lock-free readers (a small sleepable-RCU).
 *
 * Readers bracket a read-side section with stce_grace_read_lock() and
 * stce_grace_read_unlock(): one atomic add on a per-thread slot each way,
 * no lock, no shared cache line between threads on different slots. A
 * writer that has unpublished something (cleared a TCE, unset a window)
 * calls stce_grace_synchronize(), which returns once every read-side
 * section that may have seen the old state has ended; only then may it
 * free or release what it unpublished.
 *
 * How: a reader adds one to cnt[epoch & 1] of its slot (seq_cst: a full
 * barrier, so its loads cannot be satisfied before the increment is
 * visible) and subtracts it on exit (release: its accesses happen before).
 * synchronize flips the epoch and waits for every slot's old side to
 * drain, twice, so both sides are covered and new readers cannot starve
 * it. A reader whose increment the scan missed started after the writer's
 * unpublish (which the full fence orders before the scan) and cannot see
 * the old state.
 */
#ifndef STCE_GRACE_H
#define STCE_GRACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define STCE_GRACE_SLOTS	32

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
	unsigned int slot;
	unsigned int idx;
	bool held;
};

void stce_grace_init(struct stce_grace *g);
void stce_grace_destroy(struct stce_grace *g);

/* This thread's slot, assigned round-robin on first use. */
unsigned int stce_grace_thread_slot(void);

static inline void stce_grace_read_lock(struct stce_grace *g,
					struct stce_grace_guard *guard)
{
	guard->slot = stce_grace_thread_slot();
	guard->idx = atomic_load_explicit(&g->epoch, memory_order_relaxed) & 1;
	atomic_fetch_add_explicit(&g->readers[guard->slot].cnt[guard->idx], 1,
				  memory_order_seq_cst);
	guard->held = true;
}

static inline void stce_grace_read_unlock(struct stce_grace *g,
					  struct stce_grace_guard *guard)
{
	if (!guard->held)
		return;
	atomic_fetch_sub_explicit(&g->readers[guard->slot].cnt[guard->idx], 1,
				  memory_order_release);
	guard->held = false;
}

/* Wait for every read-side section that began before this call. Never
 * call it from inside a read-side section of the same @g. */
void stce_grace_synchronize(struct stce_grace *g);

/* Grace periods completed so far. */
uint64_t stce_grace_periods(const struct stce_grace *g);

#endif /* STCE_GRACE_H */
