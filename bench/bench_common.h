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
 * Run @pass (which does @ops_per_pass operations on @ctx) for about
 * @budget seconds; return operations per second.
 */
static inline double bench_rate_for(void (*pass)(void *ctx), void *ctx,
				    double ops_per_pass, double budget)
{
	double start, elapsed;
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

/* bench_rate_for() over the whole budget, BENCH_SECONDS. */
static inline double bench_rate(void (*pass)(void *ctx), void *ctx,
				double ops_per_pass)
{
	return bench_rate_for(pass, ctx, ops_per_pass, bench_seconds());
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

/* 8-byte stores per second that memset makes over @count words, for
 * about @budget seconds. */
static inline double bench_memset_rate_for(size_t count, double budget)
{
	struct bench_buffer b = { calloc(count, 8), count };
	double rate;

	if (!b.words)
		abort();
	rate = bench_rate_for(bench_memset_pass, &b, (double)count, budget);
	free((void *)b.words);
	return rate;
}

static inline double bench_memset_rate(size_t count)
{
	return bench_memset_rate_for(count, bench_seconds());
}

/* Sequential atomic 8-byte exchanges per second over @count words, for
 * about @budget seconds. */
static inline double bench_xchg_rate_for(size_t count, double budget)
{
	struct bench_buffer b = { calloc(count, 8), count };
	double rate;

	if (!b.words)
		abort();
	rate = bench_rate_for(bench_xchg_pass, &b, (double)count, budget);
	free((void *)b.words);
	return rate;
}

static inline double bench_xchg_rate(size_t count)
{
	return bench_xchg_rate_for(count, bench_seconds());
}

static inline void bench_report(const char *name, double rate,
				const char *unit, double baseline,
				const char *baseline_name)
{
	printf("%-48s %12.3e %s/s  %6.3f x %s\n", name, rate, unit,
	       rate / baseline, baseline_name);
}

/*
 * Paired rounds: a figure whose ratio moves with the machine's load (a
 * shared VM drifts by +-20% between runs) is measured as BENCH_ROUNDS
 * short rounds (else the benchmark's default), each timing the baseline
 * and then the subject back to back, so that both see the same load. The
 * figure is the median of the per-round ratios, printed with their range:
 * one disturbed round moves neither the median nor the reader's judgement.
 */
#define BENCH_ROUNDS_MAX	31

struct bench_rounds {
	int n;
	double rate[BENCH_ROUNDS_MAX];
	double ratio[BENCH_ROUNDS_MAX];
};

/* BENCH_ROUNDS, else the benchmark's own default @def. */
static inline int bench_rounds(int def)
{
	const char *s = getenv("BENCH_ROUNDS");
	int v = s ? atoi(s) : 0;

	if (v <= 0)
		v = def;
	return v > BENCH_ROUNDS_MAX ? BENCH_ROUNDS_MAX : v;
}

/* How long each half of one of @rounds paired rounds runs: a figure
 * takes 1.5 x BENCH_SECONDS in all, however many rounds it has. */
static inline double bench_round_seconds(int rounds)
{
	return bench_seconds() * 1.5 / (2 * rounds);
}

static inline void bench_rounds_add(struct bench_rounds *r, double rate,
				    double baseline)
{
	if (r->n < BENCH_ROUNDS_MAX) {
		r->rate[r->n] = rate;
		r->ratio[r->n] = rate / baseline;
		r->n++;
	}
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n values; sorts @v. */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * One figure from paired rounds: the median rate, the median ratio, and
 * in the baseline's column how it was taken and the ratios' range.
 */
static inline void bench_report_rounds(const char *name,
				       struct bench_rounds *r,
				       const char *unit,
				       const char *baseline_name)
{
	double rate, ratio, lo, hi;

	if (!r->n)
		abort();
	rate = bench_median(r->rate, r->n);
	ratio = bench_median(r->ratio, r->n);	/* sorted: ends are the range */
	lo = r->ratio[0];
	hi = r->ratio[r->n - 1];
	printf("%-48s %12.3e %s/s  %6.3f x %s (median of %d paired rounds; "
	       "%.3f-%.3f)\n", name, rate, unit, ratio, baseline_name, r->n,
	       lo, hi);
}

#endif /* STCE_BENCH_COMMON_H */
