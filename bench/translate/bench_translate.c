// SPDX-License-Identifier: MIT
/*
 * DMA translation rate through a PE (stce_pe_dma_map: window lookup, TCE
 * walk, permission check, read-side guard), as a ratio to a plain array
 * lookup doing the same index arithmetic and permission check over the
 * same access pattern, measured in the same run.
 *
 * Tables: 1 and 2 levels, 4K and 64K IOMMU pages. Patterns: one entry a
 * DMA (random entries), and 16 consecutive entries a DMA (random start).
 * Then two translating threads while a third exchanges TCEs of the same
 * table, against two threads doing plain lookups while a third writes the
 * array.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <spapr_tce/pe.h>

#include "../bench_common.h"

#define ENTRIES		16384	/* mapped entries a table */
#define NR_IOVAS	4096	/* access pattern length */
#define BATCH		16	/* entries a DMA in the batched pattern */
#define DDW		(1ULL << 59)

struct setup {
	struct stce_pe *pe;
	struct stce_table *table;
	uint64_t base;
	unsigned int shift;
	uint64_t *plain;		/* the baseline's "table" */
	uint64_t iovas[NR_IOVAS];
	unsigned int per_dma;		/* entries a DMA: 1 or BATCH */
	uint64_t sink;
	_Atomic int stop;
};

static uint8_t *pages;	/* what the TCEs point at (never touched) */

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void fill_pattern(struct setup *s, unsigned int per_dma)
{
	unsigned int seed = 42;

	s->per_dma = per_dma;
	for (unsigned int i = 0; i < NR_IOVAS; i++) {
		uint64_t e = rnd(&seed) % (ENTRIES - per_dma + 1);

		s->iovas[i] = s->base + (e << s->shift);
	}
}

/* The baseline: index, load, permission check, address - over an array. */
__attribute__((noinline))
static void plain_pass(void *ctx)
{
	struct setup *s = ctx;
	uint64_t sum = 0, mask = (1ULL << s->shift) - 1;

	for (unsigned int i = 0; i < NR_IOVAS; i++) {
		uint64_t iova = s->iovas[i];

		for (unsigned int j = 0; j < s->per_dma; j++, iova += mask + 1) {
			uint64_t tce = __atomic_load_n(
				&s->plain[(iova - s->base) >> s->shift],
				__ATOMIC_ACQUIRE);

			if (!(tce & STCE_TCE_READ))
				abort();
			sum += (tce & ~3ULL) + (iova & mask);
		}
	}
	s->sink += sum;
}

static void pe_pass(void *ctx)
{
	struct setup *s = ctx;
	uint64_t len = (uint64_t)s->per_dma << s->shift, sum = 0;
	struct stce_dma_span spans[BATCH];
	struct stce_dma_guard g;
	unsigned int nr;

	for (unsigned int i = 0; i < NR_IOVAS; i++) {
		if (stce_pe_dma_map(s->pe, s->iovas[i], len, STCE_DMA_READ,
				    spans, BATCH, &nr, &g))
			abort();
		sum += (uintptr_t)spans[0].addr + nr;
		stce_pe_dma_unmap(s->pe, &g);
	}
	s->sink += sum;
}

static void build(struct setup *s, unsigned int levels, unsigned int shift)
{
	struct stce_table_params p;
	struct stce_pe_caps caps;

	stce_pe_caps_default(&caps);
	if (stce_pe_create(&caps, 0, &s->pe) || stce_pe_take_ownership(s->pe))
		abort();
	/* 16G at the DDW base: indices need more than one chunk level. */
	if (stce_pe_table_params(s->pe, 1, shift, 1ULL << 34, levels, &p) ||
	    stce_table_create(&p, &s->table) ||
	    stce_pe_set_window(s->pe, 1, s->table))
		abort();
	s->base = DDW;
	s->shift = shift;
	s->plain = calloc((1ULL << 34) >> shift, 8);
	if (!s->plain)
		abort();
	for (uint64_t e = 0; e < ENTRIES; e++) {
		uint64_t tce = stce_tce_make((uintptr_t)pages +
					     ((e % 64) << shift), STCE_TCE_READ);

		s->plain[e] = tce;
		if (stce_table_xchg(s->table, e, &tce, NULL, 0))
			abort();
	}
}

static void teardown(struct setup *s)
{
	stce_pe_destroy(s->pe);
	stce_table_destroy(s->table);
	free(s->plain);
}

/* ---- two readers and an exchanger ---------------------------------- */

struct worker {
	struct setup *s;
	void (*pass)(void *);
	uint64_t passes;
	pthread_t th;
};

static void *reader_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load_explicit(&w->s->stop, memory_order_relaxed)) {
		w->pass(w->s);
		w->passes++;
	}
	return NULL;
}

/* Re-point entries between two pages (never clearing: no faults). */
static void *xchg_main(void *arg)
{
	struct worker *w = arg;
	struct setup *s = w->s;
	unsigned int seed = 7;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		uint64_t e = rnd(&seed) % ENTRIES;
		uint64_t tce = stce_tce_make((uintptr_t)pages +
					     ((rnd(&seed) % 64) << s->shift),
					     STCE_TCE_READ);

		if (w->pass == plain_pass) {
			__atomic_exchange_n(&s->plain[e], tce, __ATOMIC_SEQ_CST);
		} else {
			if (stce_table_xchg(s->table, e, &tce, NULL, 0))
				abort();
			/* The kill the owner would run before reusing the page. */
			if (!(e & 63))
				stce_pe_tce_kill(s->pe);
		}
		w->passes++;
	}
	return NULL;
}

/* Translations per second by two threads while a third exchanges. */
static double contended_rate(struct setup *s, void (*pass)(void *))
{
	struct setup copy[2];
	struct worker w[3];
	double start, elapsed;
	uint64_t total = 0;

	copy[0] = *s;
	copy[1] = *s;
	atomic_store(&s->stop, 0);
	for (int i = 0; i < 3; i++) {
		w[i].s = i < 2 ? &copy[i] : s;
		w[i].pass = pass;
		w[i].passes = 0;
	}
	atomic_store(&copy[0].stop, 0);
	atomic_store(&copy[1].stop, 0);
	start = bench_now();
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i].th, NULL, reader_main, &w[i]);
	pthread_create(&w[2].th, NULL, xchg_main, &w[2]);
	do {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		elapsed = bench_now() - start;
	} while (elapsed < bench_seconds() * 2);
	atomic_store(&copy[0].stop, 1);
	atomic_store(&copy[1].stop, 1);
	atomic_store(&s->stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i].th, NULL);
	elapsed = bench_now() - start;
	for (int i = 0; i < 2; i++)
		total += w[i].passes;
	return (double)total * NR_IOVAS * s->per_dma / elapsed;
}

int main(void)
{
	static const struct { unsigned int levels, shift; } cfg[] = {
		{ 1, 12 }, { 2, 12 }, { 1, 16 }, { 2, 16 },
	};
	static struct setup s;
	double worst_1level = 1e9;

	pages = aligned_alloc(1 << 16, 64 << 16);
	if (!pages)
		abort();
	printf("DMA translation through a PE vs a plain array lookup "
	       "(same run, same pattern)\n");
	for (unsigned int c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		char name[96];

		build(&s, cfg[c].levels, cfg[c].shift);
		for (unsigned int per = 1; per <= BATCH; per *= BATCH) {
			double plain, pe;

			fill_pattern(&s, per);
			plain = bench_rate(plain_pass, &s, (double)NR_IOVAS * per);
			pe = bench_rate(pe_pass, &s, (double)NR_IOVAS * per);
			snprintf(name, sizeof(name), "%u-level %2uK, %2u entr%s/DMA, 1 thread",
				 cfg[c].levels, (1u << cfg[c].shift) >> 10, per,
				 per == 1 ? "y" : "ies");
			bench_report(name, pe, "tr", plain, "plain lookup");
			if (cfg[c].levels == 1 && pe / plain < worst_1level)
				worst_1level = pe / plain;

			plain = contended_rate(&s, plain_pass);
			pe = contended_rate(&s, pe_pass);
			snprintf(name, sizeof(name), "%u-level %2uK, %2u entr%s/DMA, 2 thr + xchg",
				 cfg[c].levels, (1u << cfg[c].shift) >> 10, per,
				 per == 1 ? "y" : "ies");
			bench_report(name, pe, "tr", plain, "plain lookup");
		}
		teardown(&s);
	}
	printf("worst 1-level single-thread ratio: %.3f (target >= 0.5)\n",
	       worst_1level);
	free(pages);
	return 0;
}
