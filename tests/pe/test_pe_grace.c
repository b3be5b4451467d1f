// SPDX-License-Identifier: MIT
/*
 * The grace periods DMA relies on (src/common/grace): a reader never sees
 * an object freed after synchronize, with more reader threads than
 * exclusive slots; slots come back when threads exit and stay taken in a
 * fork child by the thread that forked; nested sections
 * hold synchronize off until the outer one ends; a ranged synchronize
 * waits for the sections whose range meets its own and for no other; the
 * nested form is waited for alone, under a plain section and under a
 * ranged one; a slot's span (what a kill reads first) grows and shrinks
 * without making a wait less or more than exact.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "common/grace.h"

#define LIVE		0x11fe5afeu
#define NR_READERS	(STCE_GRACE_SLOTS + 6)	/* some share the last slot */

struct obj {
	_Atomic unsigned int magic;
};

static struct stce_grace grace;
static struct obj *_Atomic shared;
static atomic_bool stop;
static atomic_ulong reads, bad;

static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct stce_grace_guard g;
		struct obj *o;

		stce_grace_read_lock(&grace, &g);
		o = atomic_load_explicit(&shared, memory_order_acquire);
		if (atomic_load_explicit(&o->magic, memory_order_relaxed) !=
		    LIVE)
			atomic_fetch_add(&bad, 1);
		sched_yield();	/* stretch the section a little */
		if (atomic_load_explicit(&o->magic, memory_order_relaxed) !=
		    LIVE)
			atomic_fetch_add(&bad, 1);
		stce_grace_read_unlock(&grace, &g);
		atomic_fetch_add_explicit(&reads, 1, memory_order_relaxed);
	}
	return NULL;
}

static struct obj *obj_new(void)
{
	struct obj *o = malloc(sizeof(*o));

	assert_non_null(o);
	atomic_init(&o->magic, LIVE);
	return o;
}

static void readers_never_see_a_freed_object(void **state)
{
	pthread_t th[NR_READERS];
	unsigned long swaps = 0;
	struct timespec t0, t;

	(void)state;
	stce_grace_init(&grace);
	atomic_store(&shared, obj_new());
	atomic_store(&stop, false);
	for (int i = 0; i < NR_READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct obj *old = atomic_exchange(&shared, obj_new());

		stce_grace_synchronize(&grace);
		/* Poison, then free: ASan reports a late reader too. */
		atomic_store(&old->magic, 0);
		free(old);
		swaps++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L +
		 (t.tv_nsec - t0.tv_nsec) < 700000000L);
	atomic_store(&stop, true);
	for (int i = 0; i < NR_READERS; i++)
		pthread_join(th[i], NULL);
	free(atomic_load(&shared));
	stce_grace_destroy(&grace);
	assert_int_equal(atomic_load(&bad), 0);
	assert_true(atomic_load(&reads) > 0);
	assert_true(swaps > 10);
	assert_true(stce_grace_periods(&grace) == swaps);
}

static void *slot_of_thread(void *arg)
{
	unsigned int *slot = arg;
	struct stce_grace_guard g;

	stce_grace_read_lock(&grace, &g);
	*slot = stce_grace_thread_slot();
	stce_grace_read_unlock(&grace, &g);
	return NULL;
}

static void slots_come_back_when_threads_exit(void **state)
{
	unsigned int first = 0;

	(void)state;
	stce_grace_init(&grace);
	for (int i = 0; i < 3 * STCE_GRACE_SLOTS; i++) {
		unsigned int slot = 99;
		pthread_t th;

		assert_int_equal(pthread_create(&th, NULL, slot_of_thread,
						&slot), 0);
		pthread_join(th, NULL);
		assert_true(slot < STCE_GRACE_SLOTS);
		if (!i)
			first = slot;
		/* Each thread gets an exclusive slot (both modes), freed
		 * at exit, so sequential threads reuse the same one. */
		assert_true(slot < STCE_GRACE_SHARED_SLOT);
		assert_int_equal(slot, first);
	}
	stce_grace_destroy(&grace);
}

/*
 * A fork child keeps the forking thread's slot: a thread it starts gets
 * another one, or the two would count on one slot with plain stores.
 */
static void fork_child_keeps_the_forking_threads_slot(void **state)
{
	struct stce_grace_guard g;
	unsigned int mine;
	int status;
	pid_t pid;

	(void)state;
	stce_grace_init(&grace);
	stce_grace_read_lock(&grace, &g);
	stce_grace_read_unlock(&grace, &g);
	mine = stce_grace_thread_slot();
	assert_true(mine < STCE_GRACE_SHARED_SLOT);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		unsigned int other = 99;
		pthread_t th;

		stce_grace_init(&grace);
		if (pthread_create(&th, NULL, slot_of_thread, &other))
			_exit(2);
		pthread_join(th, NULL);
		_exit(other == mine || other >= STCE_GRACE_SHARED_SLOT);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	stce_grace_destroy(&grace);
}

static atomic_bool synced;

static void *syncer(void *arg)
{
	(void)arg;
	stce_grace_synchronize(&grace);
	atomic_store(&synced, true);
	return NULL;
}

static void nested_sections_hold_off_synchronize(void **state)
{
	struct stce_grace_guard outer, inner;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	pthread_t th;

	(void)state;
	stce_grace_init(&grace);
	atomic_store(&synced, false);
	stce_grace_read_lock(&grace, &outer);
	stce_grace_read_lock(&grace, &inner);
	stce_grace_read_unlock(&grace, &inner);
	assert_false(inner.held);
	stce_grace_read_unlock(&grace, &inner);	/* a second unlock: no-op */
	assert_int_equal(pthread_create(&th, NULL, syncer, NULL), 0);
	nanosleep(&ts, NULL);
	assert_false(atomic_load(&synced));
	stce_grace_read_unlock(&grace, &outer);
	pthread_join(th, NULL);
	assert_true(atomic_load(&synced));
	/* With no reader it returns at once. */
	stce_grace_synchronize(&grace);
	assert_int_equal(stce_grace_periods(&grace), 2);
	stce_grace_destroy(&grace);
}

struct range_sync {
	uint64_t lo, hi;
	atomic_bool done;
};

static void *range_syncer(void *arg)
{
	struct range_sync *r = arg;

	stce_grace_synchronize_range(&grace, r->lo, r->hi);
	atomic_store(&r->done, true);
	return NULL;
}

/* Whether a ranged synchronize over [lo, hi] returns within @ms while
 * this thread's sections stay open; it is joined either way. */
static bool range_sync_returns(uint64_t lo, uint64_t hi, long ms,
			       pthread_t *th, struct range_sync *r)
{
	r->lo = lo;
	r->hi = hi;
	atomic_store(&r->done, false);
	assert_int_equal(pthread_create(th, NULL, range_syncer, r), 0);
	for (long i = 0; i < ms && !atomic_load(&r->done); i++) {
		struct timespec ts = { 0, 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return atomic_load(&r->done);
}

static void ranged_synchronize_waits_for_its_range_only(void **state)
{
	struct stce_grace_guard outer, inner;
	struct range_sync r;
	pthread_t th;

	(void)state;
	stce_grace_init(&grace);
	stce_grace_read_lock_range(&grace, &outer, 0x1000, 0x1fff);
	/* Disjoint on either side: no wait, however long we stay inside. */
	assert_true(range_sync_returns(0x2000, 0x2fff, 5000, &th, &r));
	pthread_join(th, NULL);
	assert_true(range_sync_returns(0, 0xfff, 5000, &th, &r));
	pthread_join(th, NULL);
	/* Meeting it (one byte at either end): waits until the section ends. */
	assert_false(range_sync_returns(0x1fff, 0x5000, 50, &th, &r));
	stce_grace_read_unlock(&grace, &outer);
	pthread_join(th, NULL);
	assert_true(atomic_load(&r.done));
	stce_grace_read_lock_range(&grace, &outer, 0x1000, 0x1fff);
	assert_false(range_sync_returns(0, 0x1000, 50, &th, &r));
	stce_grace_read_unlock(&grace, &outer);
	pthread_join(th, NULL);
	/* Nested: the slot's range becomes everything until both end. */
	stce_grace_read_lock_range(&grace, &outer, 0x1000, 0x1fff);
	stce_grace_read_lock_range(&grace, &inner, 0x1000, 0x1fff);
	stce_grace_read_unlock(&grace, &inner);
	assert_false(range_sync_returns(0x8000, 0x8fff, 50, &th, &r));
	stce_grace_read_unlock(&grace, &outer);
	pthread_join(th, NULL);
	/* A plain section covers everything; a plain synchronize waits for
	 * a ranged section whatever its range. */
	stce_grace_read_lock(&grace, &outer);
	assert_false(range_sync_returns(~0ULL, ~0ULL, 50, &th, &r));
	stce_grace_read_unlock(&grace, &outer);
	pthread_join(th, NULL);
	atomic_store(&synced, false);
	stce_grace_read_lock_range(&grace, &outer, 0x1000, 0x1fff);
	assert_int_equal(pthread_create(&th, NULL, syncer, NULL), 0);
	{
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	assert_false(atomic_load(&synced));
	stce_grace_read_unlock(&grace, &outer);
	pthread_join(th, NULL);
	/* Every ranged call counted, waiting or not: 2 + 1 + 1 + 1 + 1. */
	assert_int_equal(stce_grace_periods(&grace), 7);
	stce_grace_destroy(&grace);
}

/*
 * The nested form (stce_grace_read_lock_nested): alone, a full section
 * that synchronize waits for; inside a plain section, covered by it (the
 * writer waits for the outer one, which ends last); inside a ranged one,
 * it widens the slot's range to everything, as a nested plain section
 * does.
 */
static void nested_form_is_waited_for(void **state)
{
	struct stce_grace_guard outer, inner;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct range_sync r;
	pthread_t th;

	(void)state;
	stce_grace_init(&grace);
	atomic_store(&synced, false);
	stce_grace_read_lock_nested(&grace, &inner);
	assert_true(inner.held);
	assert_int_equal(pthread_create(&th, NULL, syncer, NULL), 0);
	nanosleep(&ts, NULL);
	assert_false(atomic_load(&synced));
	stce_grace_read_unlock(&grace, &inner);
	pthread_join(th, NULL);
	assert_true(atomic_load(&synced));

	atomic_store(&synced, false);
	stce_grace_read_lock(&grace, &outer);
	stce_grace_read_lock_nested(&grace, &inner);
	assert_int_equal(pthread_create(&th, NULL, syncer, NULL), 0);
	nanosleep(&ts, NULL);
	assert_false(atomic_load(&synced));
	stce_grace_read_unlock(&grace, &inner);
	nanosleep(&ts, NULL);
	assert_false(atomic_load(&synced));
	stce_grace_read_unlock(&grace, &outer);
	pthread_join(th, NULL);
	assert_true(atomic_load(&synced));

	stce_grace_read_lock_range(&grace, &outer, 0x1000, 0x1fff);
	stce_grace_read_lock_nested(&grace, &inner);
	assert_false(range_sync_returns(0x8000, 0x8fff, 50, &th, &r));
	stce_grace_read_unlock(&grace, &inner);
	stce_grace_read_unlock(&grace, &outer);
	pthread_join(th, NULL);
	assert_true(atomic_load(&r.done));
	stce_grace_destroy(&grace);
}

/*
 * Spans (grace.h): a kill reads a slot's counters only where the slot's
 * span meets its range. The span grows with each section that leaves it
 * (a kill of a page outside every earlier range still waits for the open
 * section there), the wait stays exact (a page the thread translated
 * before but not now does not wait), and the span shrinks back to one
 * section's range after STCE_GRACE_SPAN_RESET sections.
 */
static void spans_grow_shrink_and_keep_waits_exact(void **state)
{
	struct stce_grace_guard guard;
	struct range_sync r;
	unsigned int s;
	pthread_t th;

	(void)state;
	stce_grace_init(&grace);
	stce_grace_read_lock_range(&grace, &guard, 0x1000, 0x1fff);
	stce_grace_read_unlock(&grace, &guard);
	stce_grace_read_lock_range(&grace, &guard, 0x5000, 0x5fff);
	assert_false(range_sync_returns(0x5800, 0x5800, 50, &th, &r));
	stce_grace_read_unlock(&grace, &guard);
	pthread_join(th, NULL);
	/* In the span, not in the open section: no wait. */
	stce_grace_read_lock_range(&grace, &guard, 0x5000, 0x5fff);
	assert_true(range_sync_returns(0x1000, 0x1fff, 5000, &th, &r));
	pthread_join(th, NULL);
	stce_grace_read_unlock(&grace, &guard);
	s = stce_grace_thread_slot();
	assert_int_equal(atomic_load(&grace.spans[s].lo), 0x1000);
	assert_int_equal(atomic_load(&grace.spans[s].hi), 0x5fff);
	for (unsigned int i = 0; i < STCE_GRACE_SPAN_RESET; i++) {
		stce_grace_read_lock_range(&grace, &guard, 0x5000, 0x5fff);
		stce_grace_read_unlock(&grace, &guard);
	}
	assert_int_equal(atomic_load(&grace.spans[s].lo), 0x5000);
	assert_int_equal(atomic_load(&grace.spans[s].hi), 0x5fff);
	/* Shrunk: an open section beyond it widens it again, and waits. */
	stce_grace_read_lock_range(&grace, &guard, 0x1000, 0x1fff);
	assert_false(range_sync_returns(0x1fff, 0x1fff, 50, &th, &r));
	stce_grace_read_unlock(&grace, &guard);
	pthread_join(th, NULL);
	assert_true(atomic_load(&r.done));
	stce_grace_destroy(&grace);
}

int main(void)
{
	const char *asym = getenv("STCE_GRACE_ASYMMETRIC");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(readers_never_see_a_freed_object),
		cmocka_unit_test(slots_come_back_when_threads_exit),
		cmocka_unit_test(fork_child_keeps_the_forking_threads_slot),
		cmocka_unit_test(nested_sections_hold_off_synchronize),
		cmocka_unit_test(ranged_synchronize_waits_for_its_range_only),
		cmocka_unit_test(nested_form_is_waited_for),
		cmocka_unit_test(spans_grow_shrink_and_keep_waits_exact),
	};
	/* Asked for the asymmetric mode outside TSan: it must be running
	 * (this machine has membarrier), or the run tests the wrong path. */
#ifndef __SANITIZE_THREAD__
	if (asym && !strcmp(asym, "1") && !stce_grace_asymmetric()) {
		printf("asymmetric mode requested but not active\n");
		return 1;
	}
#endif
	(void)asym;	/* unread under TSan */
	printf("# grace mode: %s\n", stce_grace_asymmetric() ? "asymmetric" : "fenced");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
