// SPDX-License-Identifier: MIT
/*
 * Many threads exchanging, clearing and reading one table at once. Every
 * TCE written is a unique token; each must come out exactly once, through
 * an exchange, a clear or the final sweep. Run under TSan by make check.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <spapr_tce/table.h>

#include "common/alloc.h"
#include "common/grace.h"

#define WRITERS		3
#define OPS_PER_WRITER	20000
#define ENTRIES_USED	4096

struct shared {
	struct stce_table *t;
	uint64_t stride;		/* spreads entries over many leaves */
	atomic_uint_least64_t taken_out;	/* xor of tokens taken out */
	atomic_uint_least64_t taken_count;
	atomic_bool stop;
};

struct writer {
	struct shared *s;
	unsigned int id;
	uint64_t put_xor;
	uint64_t put_count;
};

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void took(struct shared *s, uint64_t tce)
{
	if (!tce)
		return;
	atomic_fetch_xor(&s->taken_out, tce);
	atomic_fetch_add(&s->taken_count, 1);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t rnd = 0x9e3779b97f4a7c15ULL * (w->id + 1);

	for (uint64_t n = 1; n <= OPS_PER_WRITER; n++) {
		uint64_t idx = (next_rand(&rnd) % ENTRIES_USED) * w->s->stride;
		/* Unique per writer and op; low bits are the permission. */
		uint64_t token = ((uint64_t)w->id << 40 | n) << 12 | STCE_TCE_READ;
		uint64_t tce = (n % 5 == 0) ? 0 : token, ua = tce;

		/* Both exchange forms race with each other and the clears. */
		if (n % 3 == 0 ? stce_table_xchg_range(w->s->t, idx, 1, &tce, &ua, 0)
			       : stce_table_xchg(w->s->t, idx, &tce, &ua, 0))
			abort();
		if (n % 5) {
			w->put_xor ^= token;
			w->put_count++;
		}
		took(w->s, tce);
	}
	return NULL;
}

static void release_cb(void *ctx, const struct stce_cleared *e)
{
	took(ctx, e->tce);
}

static void *clearer_main(void *arg)
{
	struct shared *s = arg;
	uint64_t rnd = 42;

	while (!atomic_load(&s->stop)) {
		uint64_t first = (next_rand(&rnd) % ENTRIES_USED) * s->stride;
		uint64_t n = 1 + next_rand(&rnd) % (8 * s->stride);

		if (first + n > stce_table_entries(s->t))
			n = stce_table_entries(s->t) - first;
		if (stce_table_clear(s->t, first, n, release_cb, s, NULL))
			abort();
	}
	return NULL;
}

static void *reader_main(void *arg)
{
	struct shared *s = arg;
	uint64_t rnd = 7, seen = 0;

	while (!atomic_load(&s->stop)) {
		uint64_t tce = stce_table_get(s->t, (next_rand(&rnd) % ENTRIES_USED) *
					      s->stride);

		/* Never a torn value: either 0 or a token with its bit. */
		if (tce && !(tce & STCE_TCE_READ))
			abort();
		seen += tce != 0;
	}
	return (void *)(uintptr_t)seen;
}

static void run_race(unsigned int levels, uint64_t window, unsigned int page_shift)
{
	struct stce_table_params p = {
		.window_size = window, .page_shift = page_shift, .levels = levels,
		.flags = STCE_TABLE_USERSPACE_VIEW,
	};
	struct shared s = { 0 };
	struct writer w[WRITERS];
	pthread_t wt[WRITERS], ct, rt;
	uint64_t put_xor = 0, put_count = 0, rest = 0;

	assert_int_equal(stce_table_create(&p, &s.t), 0);
	s.stride = stce_table_entries(s.t) / ENTRIES_USED;
	for (unsigned int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .s = &s, .id = i + 1 };
		assert_int_equal(pthread_create(&wt[i], NULL, writer_main, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&ct, NULL, clearer_main, &s), 0);
	assert_int_equal(pthread_create(&rt, NULL, reader_main, &s), 0);
	for (unsigned int i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(wt[i], NULL), 0);
		put_xor ^= w[i].put_xor;
		put_count += w[i].put_count;
	}
	atomic_store(&s.stop, true);
	assert_int_equal(pthread_join(ct, NULL), 0);
	assert_int_equal(pthread_join(rt, NULL), 0);

	assert_int_equal(stce_table_clear(s.t, 0, stce_table_entries(s.t),
					  release_cb, &s, &rest), 0);
	assert_int_equal(atomic_load(&s.taken_count), put_count);
	assert_int_equal(atomic_load(&s.taken_out), put_xor);
	assert_true(stce_table_allocated_bytes(s.t) <=
		    stce_table_size(page_shift, window, levels));
	stce_table_destroy(s.t);
}

static void race_one_level(void **state)
{
	(void)state;
	run_race(1, 1ULL << 30, 16);
}

static void race_two_levels_allocating(void **state)
{
	/* 2^24 entries, 4096 used, one per 4096: racing leaf allocations. */
	(void)state;
	run_race(2, 1ULL << 40, 16);
}

static void race_three_levels_allocating(void **state)
{
	(void)state;
	run_race(3, 1ULL << 36, 12);
}

/*
 * Flushes are counted per thread (the thread's grace slot), the threads
 * past the exclusive slots on one shared counter: every flush of every
 * thread counts, whichever kind of slot it has. Holders take every
 * exclusive slot and keep it; then the flushers, all on the shared slot,
 * race on its counter.
 */
#define HOLDERS			STCE_GRACE_SLOTS
#define FLUSHERS		4
#define FLUSHES_PER_THREAD	400000

struct flushers {
	struct stce_table *t;
	pthread_barrier_t held;		/* every holder has its slot */
	pthread_barrier_t done;		/* the flushers are done */
};

static void *holder_main(void *arg)
{
	struct flushers *f = arg;

	stce_table_flush_range(f->t, 0, 1);
	pthread_barrier_wait(&f->held);
	pthread_barrier_wait(&f->done);
	return NULL;
}

static void *flusher_main(void *arg)
{
	struct flushers *f = arg;

	for (unsigned int i = 0; i < FLUSHES_PER_THREAD; i++)
		stce_table_flush_range(f->t, i % 64, 1);
	return NULL;
}

static void flushes_all_counted(void **state)
{
	struct stce_table_params p = {
		.window_size = 1ULL << 30, .page_shift = 16, .levels = 1,
	};
	pthread_t holders[HOLDERS], flushers[FLUSHERS];
	struct flushers f;

	(void)state;
	assert_int_equal(stce_table_create(&p, &f.t), 0);
	assert_int_equal(pthread_barrier_init(&f.held, NULL, HOLDERS + 1), 0);
	assert_int_equal(pthread_barrier_init(&f.done, NULL, HOLDERS + 1), 0);
	for (unsigned int i = 0; i < HOLDERS; i++)
		assert_int_equal(pthread_create(&holders[i], NULL, holder_main,
						&f), 0);
	pthread_barrier_wait(&f.held);
	for (unsigned int i = 0; i < FLUSHERS; i++)
		assert_int_equal(pthread_create(&flushers[i], NULL,
						flusher_main, &f), 0);
	for (unsigned int i = 0; i < FLUSHERS; i++)
		assert_int_equal(pthread_join(flushers[i], NULL), 0);
	pthread_barrier_wait(&f.done);
	for (unsigned int i = 0; i < HOLDERS; i++)
		assert_int_equal(pthread_join(holders[i], NULL), 0);
	assert_int_equal(stce_table_flush_count(f.t),
			 HOLDERS + FLUSHERS * FLUSHES_PER_THREAD);
	pthread_barrier_destroy(&f.held);
	pthread_barrier_destroy(&f.done);
	stce_table_destroy(f.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flushes_all_counted),
		cmocka_unit_test(race_one_level),
		cmocka_unit_test(race_two_levels_allocating),
		cmocka_unit_test(race_three_levels_allocating),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
