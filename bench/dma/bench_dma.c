// SPDX-License-Identifier: MIT
/*
 * bench-dma: the device DMA data path. stce_pe_dma_write() and
 * stce_pe_dma_read() of 64 KiB chunks through a PE window of 64K IOMMU
 * pages, over 64 MiB of registered memory, as a ratio to memcpy() of the
 * same chunks between the same buffers in the same run (the loops
 * alternate in short slices; each keeps its best slice, the machine may
 * be shared). Then the same with 4 KiB chunks (the DMA test device's
 * engine step) and the test device's COPY of 1 MiB, as bytes/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <spapr_tce/container.h>
#include <spapr_tce/device.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>

#include "../bench_common.h"

#define MEM		(64ULL << 20)
#define PAGE_SHIFT	16
#define SLICES		7

struct setup {
	struct stce_pe *pe;
	struct stce_container *c;
	uint8_t *mem;
	uint64_t bus;
	uint8_t *buf;
	size_t chunk;
	unsigned int dir;	/* 1 read, 2 write */
};

static void dma_pass(void *ctx)
{
	struct setup *s = ctx;

	for (uint64_t off = 0; off < MEM; off += s->chunk) {
		int ret = s->dir == 1 ?
			stce_pe_dma_read(s->pe, s->bus + off, s->buf, s->chunk) :
			stce_pe_dma_write(s->pe, s->bus + off, s->buf, s->chunk);

		if (ret)
			abort();
	}
}

static void memcpy_pass(void *ctx)
{
	struct setup *s = ctx;

	for (uint64_t off = 0; off < MEM; off += s->chunk) {
		if (s->dir == 1)
			memcpy(s->buf, s->mem + off, s->chunk);
		else
			memcpy(s->mem + off, s->buf, s->chunk);
		__asm__ __volatile__("" : : "r"(s->buf), "r"(s->mem) : "memory");
	}
}

/* Best-of-slices bytes/s of @pass. */
static double slice(void (*pass)(void *), struct setup *s)
{
	double t0 = bench_now();

	pass(s);
	return (double)MEM / (bench_now() - t0);
}

static void compare(struct setup *s, const char *name)
{
	double best_dma = 0, best_cpy = 0;
	char label[96];

	dma_pass(s);
	memcpy_pass(s);
	for (int i = 0; i < SLICES; i++) {
		double d = slice(dma_pass, s), c = slice(memcpy_pass, s);

		if (d > best_dma)
			best_dma = d;
		if (c > best_cpy)
			best_cpy = c;
	}
	snprintf(label, sizeof(label), "%s %zu KiB chunks", name,
		 s->chunk >> 10);
	bench_report(label, best_dma / (1 << 30), "GiB", best_cpy / (1 << 30),
		     "memcpy");
}

static void setup(struct setup *s)
{
	struct stce_pe_caps caps;
	uint64_t start;
	void *p;

	stce_pe_caps_default(&caps);
	p = mmap(NULL, MEM + (1 << PAGE_SHIFT), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s->buf = aligned_alloc(4096, 64 << 10);
	if (p == MAP_FAILED || !s->buf ||
	    stce_pe_create(&caps, 0, &s->pe) ||
	    stce_container_create(STCE_IOMMU_V2, 0, &s->c) ||
	    stce_container_attach(s->c, s->pe))
		abort();
	s->mem = (uint8_t *)(((uintptr_t)p + (1 << PAGE_SHIFT) - 1) &
			     ~(uintptr_t)((1 << PAGE_SHIFT) - 1));
	memset(s->mem, 1, MEM);
	memset(s->buf, 2, 64 << 10);
	if (stce_container_register(s->c, (uintptr_t)s->mem, MEM) ||
	    stce_container_create_window(s->c, PAGE_SHIFT, 1ULL << 30, 1,
					 &start) ||
	    stce_container_map(s->c, (uintptr_t)s->mem, start, MEM,
			       STCE_MAP_READ | STCE_MAP_WRITE))
		abort();
	s->bus = start;
}

int main(void)
{
	struct setup s = { 0 };

	printf("bench-dma (ratios: same-run memcpy of the same chunks)\n");
	setup(&s);
	s.chunk = 64 << 10;
	s.dir = 2;
	compare(&s, "dma_write");
	s.dir = 1;
	compare(&s, "dma_read");
	s.chunk = 4 << 10;
	s.dir = 2;
	compare(&s, "dma_write");
	s.dir = 1;
	compare(&s, "dma_read");
	if (stce_container_unmap(s.c, s.bus, MEM))
		abort();
	stce_container_destroy(s.c);
	stce_pe_destroy(s.pe);
	return 0;
}
