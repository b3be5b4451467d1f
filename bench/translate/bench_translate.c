// SPDX-License-Identifier: MIT
/*
 * Device DMA translation rate through a PE, as a ratio to a plain array
 * lookup over the same entries, measured in the same run.
 *
 * A DMA "translation" here is what stce_pe_dma_map() does for each IOMMU
 * page of a transfer: window lookup, TCE read, permission check, address
 * (plus, once a DMA, the frozen check and the read-side guard that holds
 * off stce_pe_tce_kill()). The data itself is not touched. The baseline
 * does, for each of the same entries in the same order, an index
 * computation, an acquire load from a flat array of TCEs, the permission
 * check and the address: the cost floor of any table.
 *
 * Tables: 1 and 2 levels, 4K and 64K IOMMU pages. Transfers of 1, 16 and
 * 256 consecutive entries at random starts. Single thread: the two loops
 * alternate in short slices and each keeps its best slice (the machine
 * may be shared). Then two translating threads while a third exchanges
 * TCEs of the same table (and runs the kill every 64 exchanges, as an
 * owner does before reusing pages), against two plain-lookup threads
 * while a third exchanges array words. Per-entry times and ratios; the
 * exchanger's rate is printed too, since the read side's cost moved to
 * the kill (see docs/pe.md).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <spapr_tce/pe.h>

#include "../bench_common.h"
#include "common/grace.h"

#define ENTRIES		16384	/* mapped entries a table */
#define NR_IOVAS	1024	/* DMAs in one pass */
#define MAX_PER_DMA	256
#define DDW		(1ULL << 59)
#define SLICES		6

struct setup {
	struct stce_pe *pe;
	struct stce_table *table;
	uint64_t base;
	unsigned int shift;
	uint64_t *plain;		/* the baseline's "table" */
	uint64_t iovas[NR_IOVAS];
	unsigned int per_dma;		/* entries a DMA */
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
	struct stce_dma_span spans[MAX_PER_DMA];
	struct stce_dma_guard g;
	unsigned int nr;

	for (unsigned int i = 0; i < NR_IOVAS; i++) {
		if (stce_pe_dma_map(s->pe, s->iovas[i], len, STCE_DMA_READ,
				    spans, MAX_PER_DMA, &nr, &g))
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
	/* 16G at the DDW base: 2 levels really take two loads. */
	if (stce_pe_table_params(s->pe, 1, shift, 1ULL << 34, levels, &p) ||
	    stce_table_create(&p, &s->table) ||
	    stce_pe_set_window(s->pe, 1, s->table))
		abort();
	s->base = DDW;
	s->shift = shift;
	s->plain = calloc(ENTRIES, 8);
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

/* Best rate of each loop over alternating short slices. */
static void single_rates(struct setup *s, double *plain, double *pe)
{
	double ops = (double)NR_IOVAS * s->per_dma;
	char *old = getenv("BENCH_SECONDS");
	double slice = bench_seconds() / SLICES;
	char buf[32];

	snprintf(buf, sizeof(buf), "%g", slice);
	setenv("BENCH_SECONDS", buf, 1);
	*plain = 0;
	*pe = 0;
	for (int i = 0; i < SLICES; i++) {
		double r = bench_rate(plain_pass, s, ops);

		if (r > *plain)
			*plain = r;
		r = bench_rate(pe_pass, s, ops);
		if (r > *pe)
			*pe = r;
	}
	if (old)
		setenv("BENCH_SECONDS", old, 1);
	else
		unsetenv("BENCH_SECONDS");
	(void)buf;
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

/* Re-point entries between pages (never clearing: no faults). */
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
			/* The kill an owner runs before reusing the page. */
			if (!(e & 63))
				stce_pe_tce_kill(s->pe);
		}
		w->passes++;
	}
	return NULL;
}

/* Translations/s by two threads while a third exchanges; *xchg: its rate. */
static double contended_rate(struct setup *s, void (*pass)(void *),
			     double *xchg)
{
	struct setup copy[2];
	struct worker w[3];
	double start, elapsed;
	uint64_t total = 0;

	copy[0] = *s;
	copy[1] = *s;
	atomic_store(&s->stop, 0);
	atomic_store(&copy[0].stop, 0);
	atomic_store(&copy[1].stop, 0);
	for (int i = 0; i < 3; i++) {
		w[i].s = i < 2 ? &copy[i] : s;
		w[i].pass = pass;
		w[i].passes = 0;
	}
	start = bench_now();
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i].th, NULL, reader_main, &w[i]);
	pthread_create(&w[2].th, NULL, xchg_main, &w[2]);
	do {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		elapsed = bench_now() - start;
	} while (elapsed < bench_seconds());
	atomic_store(&copy[0].stop, 1);
	atomic_store(&copy[1].stop, 1);
	atomic_store(&s->stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i].th, NULL);
	elapsed = bench_now() - start;
	for (int i = 0; i < 2; i++)
		total += w[i].passes;
	*xchg = (double)w[2].passes / elapsed;
	return (double)total * NR_IOVAS * s->per_dma / elapsed;
}

static void report(const char *what, unsigned int levels, unsigned int shift,
		   unsigned int per, double pe, double plain)
{
	printf("%u-level %2uK %3u/DMA %-13s %6.2f ns/entry  plain %5.2f ns  "
	       "%5.3f x plain lookup\n", levels, (1u << shift) >> 10, per,
	       what, 1e9 / pe, 1e9 / plain, pe / plain);
}

int main(void)
{
	static const struct { unsigned int levels, shift; } cfg[] = {
		{ 1, 12 }, { 2, 12 }, { 1, 16 }, { 2, 16 },
	};
	static const unsigned int sizes[] = { 1, 16, 256 };
	static struct setup s;
	double worst[3] = { 1e9, 1e9, 1e9 };

	pages = aligned_alloc(1 << 16, 64 << 16);
	if (!pages)
		abort();
	printf("DMA translation (stce_pe_dma_map: window, TCE, permission, "
	       "guard) per IOMMU page\nvs a plain array lookup of the same "
	       "entries, same run; grace read side: %s\n",
	       stce_grace_asymmetric() ? "asymmetric (membarrier)" :
					 "fenced (atomic add)");
	for (unsigned int c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		build(&s, cfg[c].levels, cfg[c].shift);
		for (unsigned int z = 0; z < 3; z++) {
			double plain, pe, xp, xt;

			fill_pattern(&s, sizes[z]);
			single_rates(&s, &plain, &pe);
			report("1 thread", cfg[c].levels, cfg[c].shift,
			       sizes[z], pe, plain);
			if (cfg[c].levels == 1 && pe / plain < worst[z])
				worst[z] = pe / plain;
			plain = contended_rate(&s, plain_pass, &xp);
			pe = contended_rate(&s, pe_pass, &xt);
			report("2 thr + xchg", cfg[c].levels, cfg[c].shift,
			       sizes[z], pe, plain);
			printf("%*s exchanger: %.3e xchg/s with kills vs %.3e "
			       "plain (%.3f x)\n", 22, "", xt, xp, xt / xp);
		}
		teardown(&s);
	}
	printf("worst 1-level single-thread ratio: %.3f (1/DMA), %.3f "
	       "(16/DMA), %.3f (256/DMA); target >= 0.5\n",
	       worst[0], worst[1], worst[2]);
	free(pages);
	return 0;
}
