/* SPDX-License-Identifier: MIT */
/*
 * What every benchmark shares: a monotonic clock, a "run for about this
 * long" loop, and the two same-run baselines rates are compared with:
 *
 *  - memset's 8-byte stores per second over a buffer (the memory limit);
 *  - a bare loop of atomic 8-byte exchanges over a buffer (the cost floor
 *    of one lock-free TCE update).
 *
 * Each benchmark prints "name: rate unit/s  (ratio x baseline)" lines, so a
 * figure is never read without the machine's own limit beside it.
 */
#ifndef STCE_BENCH_COMMON_H
#define STCE_BENCH_COMMON_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long one measurement runs: BENCH_SECONDS (default 0.3). */
static inline double bench_seconds(void)
{
	const char *s = getenv("BENCH_SECONDS");
	double v = s ? atof(s) : 0.0;

	return v > 0 ? v : 0.3;
}

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Run @pass (which does @ops_per_pass operations on @ctx) until the time
 * budget is spent; return operations per second.
 */
static inline double bench_rate(void (*pass)(void *ctx), void *ctx,
				double ops_per_pass)
{
	double budget = bench_seconds(), start, elapsed;
	uint64_t passes = 0;

	pass(ctx);	/* warm caches and fault pages in */
	start = bench_now();
	do {
		pass(ctx);
		passes++;
		elapsed = bench_now() - start;
	} while (elapsed < budget);
	return (double)passes * ops_per_pass / elapsed;
}

struct bench_buffer {
	_Atomic uint64_t *words;
	size_t count;
};

static inline void bench_memset_pass(void *ctx)
{
	struct bench_buffer *b = ctx;

	memset((void *)b->words, (int)(b->count & 0x7f), b->count * 8);
	/* Keep the compiler from dropping stores nobody reads. */
	__asm__ __volatile__("" : : "r"(b->words) : "memory");
}

static inline void bench_xchg_pass(void *ctx)
{
	struct bench_buffer *b = ctx;

	for (size_t i = 0; i < b->count; i++)
		atomic_exchange(&b->words[i], i);
}

/* 8-byte stores per second that memset makes over @count words. */
static inline double bench_memset_rate(size_t count)
{
	struct bench_buffer b = { calloc(count, 8), count };
	double rate;

	if (!b.words)
		abort();
	rate = bench_rate(bench_memset_pass, &b, (double)count);
	free((void *)b.words);
	return rate;
}

/* Sequential atomic 8-byte exchanges per second over @count words. */
static inline double bench_xchg_rate(size_t count)
{
	struct bench_buffer b = { calloc(count, 8), count };
	double rate;

	if (!b.words)
		abort();
	rate = bench_rate(bench_xchg_pass, &b, (double)count);
	free((void *)b.words);
	return rate;
}

static inline void bench_report(const char *name, double rate,
				const char *unit, double baseline,
				const char *baseline_name)
{
	printf("%-48s %12.3e %s/s  %6.3f x %s\n", name, rate, unit,
	       rate / baseline, baseline_name);
}

#endif /* STCE_BENCH_COMMON_H */
