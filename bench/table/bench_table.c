// SPDX-License-Identifier: MIT
/*
 * bench-table: TCE exchange and clear rates of the table engine, each as a
 * ratio to two limits measured in the same run over the same number of
 * 8-byte words: a bare loop of atomic exchanges (the cost floor of one
 * lock-free TCE update) and memset's 8-byte stores (the memory limit).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <spapr_tce/table.h>

#include "../bench_common.h"

/* 2^20 entries: 8 MiB of TCEs, past the caches as a real window is. */
#define ENTRIES_SHIFT	20
#define ENTRIES		(1ULL << ENTRIES_SHIFT)

/* Marks a run that uses stce_table_xchg_range() on sequential entries. */
#define BATCHED ((uint64_t *)1)

struct table_run {
	struct stce_table *t;
	uint64_t *order;	/* entry indices, sequential or shuffled */
	uint64_t first, count;	/* the slice this thread owns */
	double rate;
};

static struct stce_table *make_table(unsigned int levels, unsigned int flags)
{
	struct stce_table_params p = {
		.bus_offset = 1ULL << 59,
		.window_size = ENTRIES << 16,
		.page_shift = 16,
		.levels = levels,
		.flags = flags,
	};
	struct stce_table *t;

	if (stce_table_create(&p, &t)) {
		fprintf(stderr, "bench-table: cannot create a %u-level table\n", levels);
		exit(1);
	}
	return t;
}

static uint64_t *make_order(int shuffled)
{
	uint64_t *order = malloc(ENTRIES * sizeof(*order));
	uint64_t x = 88172645463325252ULL;

	if (!order)
		abort();
	for (uint64_t i = 0; i < ENTRIES; i++)
		order[i] = i;
	for (uint64_t i = ENTRIES - 1; shuffled && i > 0; i--) {
		uint64_t j, tmp;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	return order;
}

static void xchg_pass(void *ctx)
{
	struct table_run *r = ctx;

	for (uint64_t i = r->first; i < r->first + r->count; i++) {
		/* Sequential runs read no index array: neither does the
		 * bare loop they are compared with. */
		uint64_t idx = r->order ? r->order[i] : i;


		uint64_t tce = (idx << 16) | STCE_TCE_READ, ua = idx << 16;

		stce_table_xchg(r->t, idx, &tce, &ua, 0);
	}
}

/* The batch form, 512 entries a call as H_PUT_TCE_INDIRECT brings them. */
static void xchg_range_pass(void *ctx)
{
	struct table_run *r = ctx;
	uint64_t tces[512], uas[512];

	for (uint64_t i = r->first; i < r->first + r->count; i += 512) {
		for (unsigned int k = 0; k < 512; k++) {
			tces[k] = ((i + k) << 16) | STCE_TCE_READ;
			uas[k] = (i + k) << 16;
		}
		stce_table_xchg_range(r->t, i, 512, tces, uas, 0);
	}
}

static void *xchg_thread(void *arg)
{
	struct table_run *r = arg;

	r->rate = bench_rate(r->order == BATCHED ? xchg_range_pass : xchg_pass,
			     r, (double)r->count);
	return NULL;
}

/* Exchanges/s with @threads threads, each on its own slice of @order. */
static double xchg_rate(struct stce_table *t, uint64_t *order, int threads)
{
	struct table_run runs[2];
	pthread_t tid[2];
	double total = 0;

	for (int i = 0; i < threads; i++) {
		runs[i] = (struct table_run){ .t = t, .order = order,
			.first = ENTRIES / threads * i, .count = ENTRIES / threads };
		if (pthread_create(&tid[i], NULL, xchg_thread, &runs[i]))
			abort();
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		total += runs[i].rate;
	}
	return total;
}

typedef int (*clear_fn)(struct stce_table *, uint64_t, uint64_t,
			stce_table_release_fn, void *, uint64_t *);

/* Clearing needs a full table each time: fill untimed, clear timed. */
static double clear_rate(struct stce_table *t, uint64_t *order, clear_fn clear)
{
	struct table_run fill = { .t = t, .order = order, .count = ENTRIES };
	double budget = bench_seconds(), spent = 0;
	uint64_t cleared = 0, n;

	while (spent < budget) {
		double start;

		xchg_pass(&fill);
		start = bench_now();
		if (clear(t, 0, ENTRIES, NULL, NULL, &n))
			abort();
		spent += bench_now() - start;
		cleared += n;
	}
	return (double)cleared / spent;
}

int main(void)
{
	uint64_t *seq = NULL, *rnd = make_order(1);
	double memset_rate = bench_memset_rate(ENTRIES);
	double bare_xchg = bench_xchg_rate(ENTRIES);

	printf("bench-table: %llu entries (64K IOMMU pages), %.2fs a figure\n",
	       (unsigned long long)ENTRIES, bench_seconds());
	bench_report("baseline: memset 8-byte stores", memset_rate, "stores",
		     memset_rate, "memset");
	bench_report("baseline: bare atomic xchg loop", bare_xchg, "xchg",
		     memset_rate, "memset");
	/* Without the userspace view: one 8-byte word an entry, as the bare
	 * loop touches; then with it, as a VFIO container uses tables. */
	for (unsigned int run = 0; run < 3; run++) {
		unsigned int levels = run == 2 ? 2 : 1;
		unsigned int flags = run ? STCE_TABLE_USERSPACE_VIEW : 0;
		const char *kind = run ? "+view" : "no view";
		struct stce_table *t = make_table(levels, flags);
		char name[80];

		for (int threads = 1; threads <= 2; threads++) {
			snprintf(name, sizeof(name), "xchg sequential, %u level %s, %d thread%s",
				 levels, kind, threads, threads > 1 ? "s" : "");
			bench_report(name, xchg_rate(t, seq, threads), "xchg",
				     bare_xchg, "bare xchg");
			snprintf(name, sizeof(name), "xchg_range x512, %u level %s, %d thread%s",
				 levels, kind, threads, threads > 1 ? "s" : "");
			bench_report(name, xchg_rate(t, BATCHED, threads), "xchg",
				     bare_xchg, "bare xchg");
			snprintf(name, sizeof(name), "xchg random, %u level %s, %d thread%s",
				 levels, kind, threads, threads > 1 ? "s" : "");
			bench_report(name, xchg_rate(t, rnd, threads), "xchg",
				     bare_xchg, "bare xchg");
		}
		snprintf(name, sizeof(name), "clear (full), %u level %s", levels, kind);
		bench_report(name, clear_rate(t, seq, stce_table_clear), "entries",
			     memset_rate, "memset");
		snprintf(name, sizeof(name), "clear exclusive (full), %u level %s", levels, kind);
		bench_report(name, clear_rate(t, seq, stce_table_clear_exclusive),
			     "entries", memset_rate, "memset");
		stce_table_clear(t, 0, ENTRIES, NULL, NULL, NULL);
		snprintf(name, sizeof(name), "clear (empty), %u level %s", levels, kind);
		{
			double start = bench_now();
			uint64_t rounds = 0;

			while (bench_now() - start < bench_seconds()) {
				stce_table_clear(t, 0, ENTRIES, NULL, NULL, NULL);
				rounds++;
			}
			bench_report(name, (double)rounds * ENTRIES /
				     (bench_now() - start), "entries",
				     memset_rate, "memset");
		}
		stce_table_destroy(t);
	}
	free(rnd);
	return 0;
}
