// SPDX-License-Identifier: MIT
/*
 * bench-scaling: the v2 MAP+UNMAP TCE rate against the batch size (pages
 * a call maps) and the number of threads mapping at once, each thread on
 * its own slice of one container's window. Every figure is a ratio to a
 * bare loop of atomic exchanges over as many 8-byte words as the window
 * has entries, measured in the same run (the cost floor of a TCE write).
 * scripts/bench-report.py plots these lines (bench/scaling.png).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <spapr_tce/container.h>
#include <spapr_tce/pe.h>

#include "../bench_common.h"

#define PAGE_SHIFT	16
#define MEM_SIZE	(128ULL << 20)	/* 2048 pages of 64K */
#define MEM_PAGES	(MEM_SIZE >> PAGE_SHIFT)
#define MAX_THREADS	4

struct worker {
	pthread_t tid;
	struct stce_container *c;
	uint64_t mem, iova;	/* this thread's slice */
	uint64_t pages, batch;
	pthread_barrier_t *go;
	double rate;		/* TCEs a second */
};

static void die(const char *what, int ret)
{
	fprintf(stderr, "bench-scaling: %s failed (%d)\n", what, ret);
	exit(1);
}

static void slice_pass(struct worker *w)
{
	uint64_t bytes = w->batch << PAGE_SHIFT;

	for (uint64_t p = 0; p + w->batch <= w->pages; p += w->batch) {
		uint64_t off = p << PAGE_SHIFT;
		int ret = stce_container_map(w->c, w->mem + off, w->iova + off,
					     bytes, STCE_MAP_READ | STCE_MAP_WRITE);

		if (ret)
			die("map", ret);
		ret = stce_container_unmap(w->c, w->iova + off, bytes);
		if (ret)
			die("unmap", ret);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	double budget = bench_seconds(), start, elapsed;
	uint64_t passes = 0;

	slice_pass(w);
	pthread_barrier_wait(w->go);
	start = bench_now();
	do {
		slice_pass(w);
		passes++;
		elapsed = bench_now() - start;
	} while (elapsed < budget);
	w->rate = (double)(passes * (w->pages / w->batch * w->batch)) / elapsed;
	return NULL;
}

static double run(struct stce_container *c, uint64_t mem, uint64_t iova,
		  unsigned int threads, uint64_t batch)
{
	struct worker w[MAX_THREADS];
	pthread_barrier_t go;
	uint64_t slice = MEM_PAGES / threads;
	double total = 0;

	pthread_barrier_init(&go, NULL, threads);
	for (unsigned int i = 0; i < threads; i++) {
		w[i] = (struct worker){
			.c = c, .pages = slice, .batch = batch, .go = &go,
			.mem = mem + ((i * slice) << PAGE_SHIFT),
			.iova = iova + ((i * slice) << PAGE_SHIFT),
		};
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			die("pthread_create", -1);
	}
	for (unsigned int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].rate;
	}
	pthread_barrier_destroy(&go);
	return total;
}

int main(void)
{
	static const uint64_t batches[] = { 1, 4, 16, 64, 256, 512 };
	static const unsigned int threads[] = { 1, 2, 4 };
	struct stce_container *c;
	struct stce_pe_caps caps;
	struct stce_pe *pe;
	uint64_t mem, iova;
	double bare;
	void *p;
	int ret;

	p = mmap(NULL, MEM_SIZE + (64 << 10), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		die("mmap", -1);
	mem = ((uint64_t)(uintptr_t)p + 0xffff) & ~0xffffULL;
	stce_pe_caps_default(&caps);
	ret = stce_pe_create(&caps, 0, &pe);
	if (!ret)
		ret = stce_container_create(STCE_IOMMU_V2, 0, &c);
	if (!ret)
		ret = stce_container_attach(c, pe);
	if (!ret)
		ret = stce_container_register(c, mem, MEM_SIZE);
	if (!ret)
		ret = stce_container_create_window(c, PAGE_SHIFT, MEM_SIZE, 1,
						   &iova);
	if (ret)
		die("set-up", ret);

	bare = bench_xchg_rate(MEM_PAGES);
	printf("bench-scaling: v2 map+unmap of %llu MiB in batches, 64K pages, "
	       "%.2fs a figure\n", (unsigned long long)(MEM_SIZE >> 20),
	       bench_seconds());
	bench_report("baseline: bare atomic xchg loop", bare, "xchg", bare,
		     "bare xchg");
	for (unsigned int t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		for (unsigned int b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
			char name[64];

			snprintf(name, sizeof(name), "map+unmap batch %llu, %u thread%s",
				 (unsigned long long)batches[b], threads[t],
				 threads[t] > 1 ? "s" : "");
			bench_report(name, run(c, mem, iova, threads[t], batches[b]),
				     "TCEs", bare, "bare xchg");
		}
	}
	stce_container_destroy(c);
	stce_pe_destroy(pe);
	munmap(p, MEM_SIZE + (64 << 10));
	return 0;
}
