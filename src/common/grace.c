// SPDX-License-Identifier: MIT
#include <limits.h>
#include <sched.h>

#include "common/common.h"
#include "common/grace.h"

static atomic_uint next_slot;
static __thread unsigned int my_slot
	__attribute__((tls_model("initial-exec"))) = UINT_MAX;

unsigned int stce_grace_thread_slot(void)
{
	unsigned int s = my_slot;

	if (stce_unlikely(s == UINT_MAX)) {
		s = atomic_fetch_add_explicit(&next_slot, 1,
					      memory_order_relaxed) %
		    STCE_GRACE_SLOTS;
		my_slot = s;
	}
	return s;
}

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

void stce_grace_destroy(struct stce_grace *g)
{
	pthread_mutex_destroy(&g->sync_lock);
}

static void wait_side(struct stce_grace *g, unsigned int idx)
{
	for (unsigned int s = 0; s < STCE_GRACE_SLOTS; s++) {
		unsigned int spins = 0;

		while (atomic_load_explicit(&g->readers[s].cnt[idx],
					    memory_order_acquire)) {
			if (++spins > 64)
				sched_yield();
		}
	}
}

void stce_grace_synchronize(struct stce_grace *g)
{
	pthread_mutex_lock(&g->sync_lock);
	/* Order the caller's unpublishing before the counter scans. */
	atomic_thread_fence(memory_order_seq_cst);
	for (int round = 0; round < 2; round++) {
		unsigned int e = atomic_load(&g->epoch);

		atomic_store(&g->epoch, e + 1);
		wait_side(g, e & 1);
	}
	atomic_fetch_add(&g->periods, 1);
	pthread_mutex_unlock(&g->sync_lock);
}

uint64_t stce_grace_periods(const struct stce_grace *g)
{
	return atomic_load(&g->periods);
}
