// SPDX-License-Identifier: MIT
/*
 * bench-unmap: unmaps while the device runs (issue 17 item 2). One thread
 * more than the machine has CPUs: nproc device threads translating DMAs
 * continuously (stce_pe_dma_map of 16 64K pages at random starts, then
 * stce_pe_dma_unmap) and one thread unmapping single IOMMU pages with
 * their invalidation, as QEMU forwards a guest's TCE changes:
 *
 *  - UNMAP_DMA: stce_container_unmap() of one page (after 64
 *    stce_container_map() calls that are not timed);
 *  - H_STUFF_TCE: stce_h_stuff_tce() of one page (after 64
 *    stce_h_put_tce() calls that are not timed).
 *
 * The unmaps hit pages the device is not using (a guest unmaps a buffer
 * once the device is done with it), in the same DMA window and table.
 * Same-run ratios: each unmap rate with the device threads running vs
 * the same loop alone, and the device threads' translation rate with the
 * unmapper vs without it. Each phase runs three times, interleaved; the
 * median is printed. With nproc + 1 threads the unmapper gets about
 * nproc / (nproc + 1) of a CPU at best (a fair scheduler), less on a
 * loaded machine: its rate per second of its own CPU time is printed too,
 * the cost of an unmap apart from its share.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spapr_tce/container.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/topology.h>

#include "../bench_common.h"

#define PAGE_SHIFT	16
#define RAM_SIZE	(256ULL << 20)
#define ENTRIES		(RAM_SIZE >> PAGE_SHIFT)
#define DEV_ENTRIES	(ENTRIES / 2)	/* the device's half of the window */
#define PER_DMA		16
#define BATCH		64		/* unmaps timed together */
#define ROUNDS		3
#define MAX_DEV		64
#define RW		(STCE_TCE_READ | STCE_TCE_WRITE)

enum unmap_kind { UNMAP_DMA, STUFF_TCE, NR_KINDS };

static const char *const kind_name[NR_KINDS] = {
	"UNMAP_DMA", "H_STUFF_TCE",
};

struct bench {
	struct stce_platform *plat;
	struct stce_container *c;
	struct stce_guest *g;
	struct stce_pe *pe;
	uint8_t *ram;
	uint64_t liobn, win_start;
	unsigned int ndev;
	_Atomic int stop;
	_Atomic uint64_t dmas;		/* DMAs the device threads did */
	long errors;
};

struct dev {
	struct bench *b;
	unsigned int seed;
	pthread_t th;
};

static void die(const char *what, long v)
{
	fprintf(stderr, "bench-unmap: %s failed (%ld)\n", what, v);
	exit(1);
}

static void setup(struct bench *b)
{
	uint64_t liobns[2] = { 0x80000000, 0x80000001 };
	struct stce_topology *topo;
	uint32_t args[5], rets[5];
	long ret;

	if (stce_topology_default(&topo) || stce_platform_create(topo, &b->plat))
		die("platform", -1);
	stce_topology_free(topo);
	b->pe = stce_platform_pe(b->plat, 0);
	if (stce_container_create(STCE_IOMMU_V2, 0, &b->c))
		die("container", -1);
	ret = stce_container_attach(b->c, b->pe);
	if (ret)
		die("attach", ret);
	b->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->ram == MAP_FAILED)
		die("mmap", -1);
	ret = stce_container_register(b->c, (uint64_t)(uintptr_t)b->ram,
				      RAM_SIZE);
	if (ret)
		die("register", ret);
	if (stce_guest_create(&b->g))
		die("guest", -1);
	ret = stce_guest_add_memory(b->g, 0, RAM_SIZE,
				    (uint64_t)(uintptr_t)b->ram);
	if (!ret)
		ret = stce_guest_add_phb(b->g, 0x800000020000000ULL, b->c,
					 liobns);
	if (ret)
		die("guest memory/phb", ret);
	/* A 64K-page DDW over all RAM, as a Linux guest creates it. */
	args[0] = 0;
	args[1] = 0x8000000;
	args[2] = 0x20000000;
	ret = stce_rtas_query_pe_dma_window(b->g, 3, args, 5, rets);
	if (ret)
		die("query-pe-dma-window", ret);
	args[3] = PAGE_SHIFT;
	args[4] = 28;	/* log2(RAM_SIZE) */
	ret = stce_rtas_create_pe_dma_window(b->g, 5, args, 4, rets);
	if (ret)
		die("create-pe-dma-window", ret);
	b->liobn = rets[1];
	b->win_start = ((uint64_t)rets[2] << 32) | rets[3];
	/* The device's half: mapped once, translated for ever. */
	for (uint64_t e = 0; e < DEV_ENTRIES; e++) {
		ret = stce_h_put_tce(b->g, b->liobn,
				     b->win_start + (e << PAGE_SHIFT),
				     (e << PAGE_SHIFT) | RW, 0);
		if (ret)
			die("H_PUT_TCE", ret);
	}
}

static void *dev_main(void *arg)
{
	struct dev *d = arg;
	struct bench *b = d->b;
	struct stce_dma_span spans[PER_DMA];
	uint64_t n = 0;

	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		struct stce_dma_guard g;
		unsigned int nr;
		uint64_t e;

		d->seed = d->seed * 1103515245u + 12345u;
		e = (d->seed >> 8) % (DEV_ENTRIES - PER_DMA + 1);
		if (stce_pe_dma_map(b->pe, b->win_start + (e << PAGE_SHIFT),
				    (uint64_t)PER_DMA << PAGE_SHIFT,
				    STCE_DMA_READ, spans, PER_DMA, &nr, &g))
			abort();
		stce_pe_dma_unmap(b->pe, &g);
		/* Counted in batches: no shared line written per DMA. */
		if (!(++n & 255))
			atomic_fetch_add_explicit(&b->dmas, 256,
						  memory_order_relaxed);
	}
	return NULL;
}

/* Map BATCH pages of the unmapper's half (untimed). */
static void map_batch(struct bench *b, enum unmap_kind k, uint64_t first)
{
	for (uint64_t e = first; e < first + BATCH; e++) {
		uint64_t iova = b->win_start + (e << PAGE_SHIFT);
		long ret = k == UNMAP_DMA ?
			stce_container_map(b->c, (uint64_t)(uintptr_t)b->ram +
					   (e << PAGE_SHIFT), iova,
					   1ULL << PAGE_SHIFT, RW) :
			stce_h_put_tce(b->g, b->liobn, iova,
				       (e << PAGE_SHIFT) | RW, 0);

		if (ret)
			b->errors++;
	}
}

/* This thread's CPU seconds (a scheduler's share apart from the cost). */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Unmap them one page a call; the seconds it took (*@cpu: on the CPU). */
static double unmap_batch(struct bench *b, enum unmap_kind k, uint64_t first,
			  double *cpu)
{
	double c0 = cpu_now(), t0 = bench_now(), t1;

	for (uint64_t e = first; e < first + BATCH; e++) {
		uint64_t iova = b->win_start + (e << PAGE_SHIFT);
		long ret = k == UNMAP_DMA ?
			stce_container_unmap(b->c, iova, 1ULL << PAGE_SHIFT) :
			stce_h_stuff_tce(b->g, b->liobn, iova, 0, 1, 0);

		if (ret)
			b->errors++;
	}
	t1 = bench_now();
	*cpu += cpu_now() - c0;
	return t1 - t0;
}

/* Unmaps/s of one kind for about bench_seconds(); *@cpu_rate: per second
 * on the CPU. */
static double unmap_rate(struct bench *b, enum unmap_kind k, double *cpu_rate)
{
	double budget = bench_seconds(), spent = 0, cpu = 0, start = bench_now();
	uint64_t first = DEV_ENTRIES, done = 0;

	do {
		map_batch(b, k, first);
		spent += unmap_batch(b, k, first, &cpu);
		done += BATCH;
		first += BATCH;
		if (first + BATCH > ENTRIES)
			first = DEV_ENTRIES;
	} while (bench_now() - start < budget);
	*cpu_rate = (double)done / cpu;
	return (double)done / spent;
}

static void devices_start(struct bench *b, struct dev *d)
{
	atomic_store(&b->stop, 0);
	atomic_store(&b->dmas, 0);
	for (unsigned int i = 0; i < b->ndev; i++) {
		d[i].b = b;
		d[i].seed = 42 + i;
		if (pthread_create(&d[i].th, NULL, dev_main, &d[i]))
			die("pthread_create", -1);
	}
}

static void devices_stop(struct bench *b, struct dev *d)
{
	atomic_store(&b->stop, 1);
	for (unsigned int i = 0; i < b->ndev; i++)
		pthread_join(d[i].th, NULL);
}

/* Translated IOMMU pages/s of the device threads over @seconds. */
static double devices_rate(struct bench *b, double t0, double t1)
{
	return (double)atomic_load(&b->dmas) * PER_DMA / (t1 - t0);
}

/* The device threads alone. */
static double devices_solo(struct bench *b, struct dev *d)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	double t0, t1;

	devices_start(b, d);
	t0 = bench_now();
	do
		nanosleep(&ts, NULL);
	while (bench_now() - t0 < bench_seconds());
	t1 = bench_now();
	devices_stop(b, d);
	return devices_rate(b, t0, t1);
}

/* Unmaps with the device threads running; *@dev: their rate meanwhile. */
static double unmap_under_dma(struct bench *b, struct dev *d,
			      enum unmap_kind k, double *dev, double *cpu_rate)
{
	double t0, t1, r;

	devices_start(b, d);
	t0 = bench_now();
	r = unmap_rate(b, k, cpu_rate);
	t1 = bench_now();
	devices_stop(b, d);
	*dev = devices_rate(b, t0, t1);
	return r;
}

int main(void)
{
	static struct dev d[MAX_DEV];
	static struct bench b;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	b.ndev = ncpu < 1 ? 1 : ncpu > MAX_DEV ? MAX_DEV : (unsigned int)ncpu;
	setup(&b);
	printf("unmaps of one 64K IOMMU page (with their kill) while %u device "
	       "threads translate\n%u-page DMAs elsewhere in the window: %u "
	       "threads on %ld CPUs; median of %d rounds\n", b.ndev, PER_DMA,
	       b.ndev + 1, ncpu, ROUNDS);
	for (int k = 0; k < NR_KINDS; k++) {
		double alone[ROUNDS], busy[ROUNDS], solo[ROUNDS], dev[ROUNDS];
		double ca[ROUNDS], cb[ROUNDS];
		double a, u, s, v;

		for (int r = 0; r < ROUNDS; r++) {
			alone[r] = unmap_rate(&b, k, &ca[r]);
			solo[r] = devices_solo(&b, d);
			busy[r] = unmap_under_dma(&b, d, k, &dev[r], &cb[r]);
		}
		a = bench_median(alone, ROUNDS);
		u = bench_median(busy, ROUNDS);
		s = bench_median(solo, ROUNDS);
		v = bench_median(dev, ROUNDS);
		printf("%-11s with DMA: %.3e unmaps/s vs %.3e without "
		       "(%.3f x); target >= 0.5\n", kind_name[k], u, a, u / a);
		a = bench_median(ca, ROUNDS);
		u = bench_median(cb, ROUNDS);
		printf("%-11s  per CPU-second: %.3e vs %.3e (%.3f x: the cost "
		       "apart from the CPU share)\n", kind_name[k], u, a, u / a);
		printf("%-11s devices : %.3e pages/s vs %.3e solo (%.3f x); "
		       "target >= 0.5\n", kind_name[k], v, s, v / s);
	}
	if (b.errors)
		die("some unmap or map call", b.errors);
	stce_guest_destroy(b.g);
	stce_container_destroy(b.c);
	stce_platform_destroy(b.plat);
	munmap(b.ram, RAM_SIZE);
	return 0;
}
