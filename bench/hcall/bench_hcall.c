// SPDX-License-Identifier: MIT
/*
 * bench-hcall: the project's headline number. A 4 GiB pre-registered
 * guest, a dynamic DMA window of 64K pages created through RTAS
 * (ibm,create-pe-dma-window), all guest RAM mapped with
 * H_PUT_TCE_INDIRECT (512 TCEs a call, lists prepared in guest memory)
 * and unmapped with H_STUFF_TCE (512 a call), on 1 and 2 vCPU threads
 * (each its half of RAM). TCEs/s are reported as ratios to the same-run
 * bare atomic-exchange loop and memset 8-byte stores over as many
 * entries as the window has, each the median of paired rounds
 * (bench_common.h). The last figure is issue 17's scaling criterion: the
 * two-vCPU/one-vCPU rate over the bare loop's two-thread/one-thread rate,
 * all four from the same round.
 *
 * HCALL_GUEST_MB (default 4096) changes the guest size.
 */
#include <endian.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <spapr_tce/container.h>
#include <spapr_tce/device.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/topology.h>

#include "../bench_common.h"

#define PAGE_SHIFT	16
#define LIST_TCES	512
#define RW		(STCE_TCE_READ | STCE_TCE_WRITE)

struct bench {
	struct stce_guest *g;
	struct stce_container *c;
	struct stce_platform *plat;
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t entries;	/* TCEs covering all RAM */
	uint64_t lists_gpa;	/* list pages, in guest RAM */
	uint64_t liobn;
	uint64_t win_start;
	unsigned int threads;
	pthread_barrier_t bar;
	double map_time, unmap_time;
	double budget;		/* seconds of map+unmap a run takes */
	unsigned int passes;
	volatile int stop;
	long errors;
};

struct worker {
	struct bench *b;
	unsigned int id;
};

static void die(const char *what, long v)
{
	fprintf(stderr, "bench-hcall: %s failed (%ld)\n", what, v);
	exit(1);
}

/* Anonymous memory aligned to 64K; hugetlb when the system has some. */
static uint8_t *guest_ram(uint64_t size, const char **kind)
{
	uint64_t align = 1ULL << 21, free_huge = 0, huge_kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");
	uintptr_t a;
	void *p;

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %llu", (unsigned long long *)&free_huge);
		sscanf(line, "Hugepagesize: %llu", (unsigned long long *)&huge_kb);
	}
	if (f)
		fclose(f);
	/* hugetlb only when the pool can back all of it (mlock needs it). */
	if (free_huge * huge_kb * 1024 >= size) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p != MAP_FAILED) {
			*kind = "hugetlb";
			return p;
		}
	}
	p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		die("mmap guest RAM", -1);
	a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	madvise((void *)a, size, MADV_HUGEPAGE);
	*kind = "anonymous (THP advised)";
	return (uint8_t *)a;
}

static void setup(struct bench *b)
{
	struct stce_topology *topo;
	uint64_t liobns[2] = { 0x80000000, 0x80000001 };
	uint32_t args[5], rets[5];
	const char *kind;
	long ret;

	if (stce_topology_default(&topo) || stce_platform_create(topo, &b->plat))
		die("platform", -1);
	stce_topology_free(topo);
	if (stce_container_create(STCE_IOMMU_V2, 0, &b->c))
		die("container", -1);
	ret = stce_container_attach(b->c, stce_platform_pe(b->plat, 0));
	if (ret)
		die("attach", ret);
	b->ram = guest_ram(b->ram_size, &kind);
	printf("guest RAM: %llu MiB, %s\n",
	       (unsigned long long)(b->ram_size >> 20), kind);
	ret = stce_container_register(b->c, (uint64_t)(uintptr_t)b->ram,
				      b->ram_size);
	if (ret)
		die("register", ret);
	if (stce_guest_create(&b->g))
		die("guest", -1);
	ret = stce_guest_add_memory(b->g, 0, b->ram_size,
				    (uint64_t)(uintptr_t)b->ram);
	if (ret)
		die("add_memory", ret);
	ret = stce_guest_add_phb(b->g, 0x800000020000000ULL, b->c, liobns);
	if (ret)
		die("add_phb", ret);

	/* What a Linux guest does: query, then create the DDW. */
	args[0] = 0;
	args[1] = 0x8000000;
	args[2] = 0x20000000;
	ret = stce_rtas_query_pe_dma_window(b->g, 3, args, 5, rets);
	if (ret || !rets[1] || !(rets[3] & STCE_RTAS_DDW_PGSIZE_64K))
		die("query-pe-dma-window", ret);
	args[3] = PAGE_SHIFT;
	args[4] = (uint32_t)(64 - __builtin_clzll(b->ram_size - 1));
	ret = stce_rtas_create_pe_dma_window(b->g, 5, args, 4, rets);
	if (ret)
		die("create-pe-dma-window", ret);
	b->liobn = rets[1];
	b->win_start = ((uint64_t)rets[2] << 32) | rets[3];

	/* The guest's TCE lists: in the last pages of its RAM. */
	b->entries = b->ram_size >> PAGE_SHIFT;
	b->lists_gpa = b->ram_size - b->entries * 8;
	for (uint64_t i = 0; i < b->entries; i++) {
		uint64_t *list = (uint64_t *)(b->ram + b->lists_gpa);

		list[i] = htobe64((i << PAGE_SHIFT) | RW);
	}
}

static void map_range(struct bench *b, uint64_t first, uint64_t count)
{
	for (uint64_t e = first; e < first + count; e += LIST_TCES) {
		long ret = stce_h_put_tce_indirect(b->g, b->liobn,
				b->win_start + (e << PAGE_SHIFT),
				b->lists_gpa + e * 8, LIST_TCES, 0);

		if (ret)
			__atomic_add_fetch(&b->errors, 1, __ATOMIC_RELAXED);
	}
}

static void unmap_range(struct bench *b, uint64_t first, uint64_t count)
{
	for (uint64_t e = first; e < first + count; e += LIST_TCES) {
		long ret = stce_h_stuff_tce(b->g, b->liobn,
				b->win_start + (e << PAGE_SHIFT), 0, LIST_TCES, 0);

		if (ret)
			__atomic_add_fetch(&b->errors, 1, __ATOMIC_RELAXED);
	}
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	uint64_t per = b->entries / b->threads;
	uint64_t first = per * w->id;

	for (;;) {
		double t0, t1, t2;

		pthread_barrier_wait(&b->bar);
		if (b->stop)
			break;
		t0 = bench_now();
		map_range(b, first, per);
		pthread_barrier_wait(&b->bar);
		t1 = bench_now();
		unmap_range(b, first, per);
		pthread_barrier_wait(&b->bar);
		t2 = bench_now();
		if (w->id == 0) {
			b->map_time += t1 - t0;
			b->unmap_time += t2 - t1;
			b->passes++;
			b->stop = b->map_time + b->unmap_time > b->budget;
		}
	}
	return NULL;
}

static void run(struct bench *b, unsigned int threads)
{
	pthread_t tid[8];
	struct worker w[8];

	b->threads = threads;
	b->map_time = b->unmap_time = 0;
	b->passes = 0;
	b->stop = 0;
	/* Warm: one pass on this thread faults everything in. */
	map_range(b, 0, b->entries);
	unmap_range(b, 0, b->entries);
	pthread_barrier_init(&b->bar, NULL, threads);
	for (unsigned int i = 0; i < threads; i++) {
		w[i].b = b;
		w[i].id = i;
		pthread_create(&tid[i], NULL, worker, &w[i]);
	}
	for (unsigned int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&b->bar);
	if (b->errors)
		die("hypercalls", b->errors);
}

/* ---- the bare exchange loop on 2 threads, each over half ---------- */

static void *xchg2_equal(void *arg)
{
	struct bench_buffer *h = arg;

	for (int i = 0; i < 64; i++)
		bench_xchg_pass(h);
	return NULL;
}

/* Equal work on two threads: 64 passes over each half, for @budget s. */
static double xchg2_equal_rate(size_t count, double budget)
{
	_Atomic uint64_t *words = calloc(count, 8);
	struct bench_buffer h[2] = { { words, count / 2 },
				     { words + count / 2, count / 2 } };
	double start, elapsed, total = 0;
	uint64_t rounds = 0;

	if (!words)
		abort();
	xchg2_equal(&h[0]);
	start = bench_now();
	do {
		pthread_t t[2];

		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, xchg2_equal, &h[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		rounds++;
		elapsed = bench_now() - start;
	} while (elapsed < budget);
	total = (double)rounds * 64 * 2 * (count / 2);
	free((void *)words);
	return total / elapsed;
}

enum {
	F_XCHG, F_MEMSET, F_XCHG2,
	F_MAP1, F_UNMAP1, F_CYC1, F_MAP1_MEMSET,
	F_MAP2, F_UNMAP2, F_CYC2, F_MAP2_X2, F_CYC2_X2, F_SCALING,
	NR_FIGURES
};

static const struct {
	const char *name, *unit, *base;
} figures[NR_FIGURES] = {
	[F_XCHG] = { "bare atomic exchange loop", "xchg", "xchg" },
	[F_MEMSET] = { "memset 8-byte stores", "store", "xchg" },
	[F_XCHG2] = { "bare exchange loop, 2 threads", "xchg",
		      "xchg (the machine's 2-thread scaling)" },
	[F_MAP1] = { "1 thread:  H_PUT_TCE_INDIRECT map", "TCE", "xchg" },
	[F_UNMAP1] = { "1 thread:  H_STUFF_TCE unmap", "TCE", "xchg" },
	[F_CYC1] = { "1 thread:  map+unmap (all TCEs)", "TCE", "xchg" },
	[F_MAP1_MEMSET] = { "1 thread:  map, vs memset", "TCE", "memset" },
	[F_MAP2] = { "2 threads: H_PUT_TCE_INDIRECT map", "TCE", "1-thread" },
	[F_UNMAP2] = { "2 threads: H_STUFF_TCE unmap", "TCE", "1-thread" },
	[F_CYC2] = { "2 threads: map+unmap (all TCEs)", "TCE", "1-thread" },
	[F_MAP2_X2] = { "2 threads: map", "TCE", "2-thread xchg" },
	[F_CYC2_X2] = { "2 threads: map+unmap", "TCE", "2-thread xchg" },
	[F_SCALING] = { "2 threads: map+unmap scaling (2 thr / 1 thr)", "TCE",
			"the machine's scaling (bare loop 2 thr / 1 thr)" },
};

/* TCEs/s of the last run(): map, unmap, and both over their time. */
static void run_rates(const struct bench *b, double *map, double *unmap,
		      double *cyc)
{
	*map = (double)b->entries * b->passes / b->map_time;
	*unmap = (double)b->entries * b->passes / b->unmap_time;
	*cyc = 2.0 * b->entries * b->passes / (b->map_time + b->unmap_time);
}

/*
 * One paired round: the baselines and the hypercalls back to back, each
 * ratio against the baseline of its own round.
 */
static void round_once(struct bench *b, struct bench_rounds *f, double t)
{
	double xchg, mset, xchg2, map1, unmap1, cyc1, map2, unmap2, cyc2;

	xchg = bench_xchg_rate_for(b->entries, t);
	mset = bench_memset_rate_for(b->entries, t);
	xchg2 = xchg2_equal_rate(b->entries, t);
	b->budget = 2 * t;
	run(b, 1);
	run_rates(b, &map1, &unmap1, &cyc1);
	run(b, 2);
	run_rates(b, &map2, &unmap2, &cyc2);
	bench_rounds_add(&f[F_XCHG], xchg, xchg);
	bench_rounds_add(&f[F_MEMSET], mset, xchg);
	bench_rounds_add(&f[F_XCHG2], xchg2, xchg);
	bench_rounds_add(&f[F_MAP1], map1, xchg);
	bench_rounds_add(&f[F_UNMAP1], unmap1, xchg);
	bench_rounds_add(&f[F_CYC1], cyc1, xchg);
	bench_rounds_add(&f[F_MAP1_MEMSET], map1, mset);
	bench_rounds_add(&f[F_MAP2], map2, map1);
	bench_rounds_add(&f[F_UNMAP2], unmap2, unmap1);
	bench_rounds_add(&f[F_CYC2], cyc2, cyc1);
	bench_rounds_add(&f[F_MAP2_X2], map2, xchg2);
	bench_rounds_add(&f[F_CYC2_X2], cyc2, xchg2);
	/* rate / baseline = (cyc2 / cyc1) / (xchg2 / xchg) */
	bench_rounds_add(&f[F_SCALING], cyc2, cyc1 * xchg2 / xchg);
}

int main(void)
{
	struct bench b = { 0 };
	const char *mb = getenv("HCALL_GUEST_MB");
	struct bench_rounds f[NR_FIGURES] = { 0 };
	double t = bench_seconds() / 3;
	uint64_t tce = 0;

	b.ram_size = (mb ? strtoull(mb, NULL, 0) : 4096) << 20;
	setup(&b);

	/*
	 * The machine may be shared: every figure is the median of paired
	 * rounds, each measuring its baselines and the hypercalls together
	 * (bench_common.h).
	 */
	for (int round = bench_rounds(9); round > 0; round--)
		round_once(&b, f, t);
	printf("window: %llu entries of 64K; baselines over as many words:\n",
	       (unsigned long long)b.entries);
	for (int i = 0; i < NR_FIGURES; i++)
		bench_report_rounds(figures[i].name, &f[i], figures[i].unit,
				    figures[i].base);

	/* Check the end state: everything unmapped, nothing held. */
	if (stce_h_get_tce(b.g, b.liobn, b.win_start, &tce) || tce)
		die("final H_GET_TCE", (long)tce);
	stce_guest_destroy(b.g);
	stce_container_destroy(b.c);
	stce_platform_destroy(b.plat);
	return 0;
}
