// SPDX-License-Identifier: MIT
/*
 * bench-dma: the device DMA data path, as ratios to the CPU moving the
 * same bytes between the same buffers in the same run (the loops
 * alternate in short slices over the same memory, so caches are warmed
 * alike; each keeps its best of 15 slices, the machine may be shared).
 *
 *  - stce_pe_dma_write() and stce_pe_dma_read() of 64 KiB and 4 KiB
 *    chunks through a window of 64K IOMMU pages over 64 MiB of registered
 *    memory, against memcpy() of the same chunks to/from the same buffer;
 *  - the DMA test device's FILL and COPY commands of 4 KiB and 64 KiB
 *    transfers (SRC, DST, CMD written through its MMIO, LEN once), over
 *    windows of 4K and 64K IOMMU pages with 1- and 2-level tables: FILL
 *    against memset() of the same destination bytes, COPY against
 *    memcpy() from the same source to the same destination.
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
#define HALF		(MEM / 2)	/* COPY: source half, destination half */
#define PAGE_SHIFT	16
#define SLICES		15
#define PATTERN		0x5a

struct setup {
	struct stce_pe *pe;
	struct stce_container *c;
	struct stce_device *dev;
	uint8_t *mem;
	uint64_t bus;
	uint8_t *buf;
	size_t chunk;
	unsigned int dir;	/* 1 read, 2 write */
	uint64_t bytes;		/* moved by one pass */
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

static void mmio(struct setup *s, uint64_t reg, uint64_t val)
{
	if (stce_device_mmio_write(s->dev, 0, reg, 8, val))
		abort();
}

/* The device's COPY (dir 1) or FILL (dir 2) of HALF bytes in transfers
 * of s->chunk bytes, from the low half to the high half. */
static void device_pass(void *ctx)
{
	struct setup *s = ctx;
	uint64_t st;

	mmio(s, STCE_DMATEST_REG_LEN, s->chunk);
	for (uint64_t off = 0; off < HALF; off += s->chunk) {
		if (s->dir == 1)
			mmio(s, STCE_DMATEST_REG_SRC, s->bus + off);
		mmio(s, STCE_DMATEST_REG_DST, s->bus + HALF + off);
		mmio(s, STCE_DMATEST_REG_CMD, s->dir == 1 ?
			STCE_DMATEST_CMD_COPY : STCE_DMATEST_CMD_FILL);
	}
	if (stce_device_mmio_read(s->dev, 0, STCE_DMATEST_REG_STATUS, 8, &st) ||
	    st != STCE_DMATEST_STATUS_DONE)
		abort();
}

/* The CPU doing what device_pass() has the device do, in the same steps. */
static void cpu_pass(void *ctx)
{
	struct setup *s = ctx;

	for (uint64_t off = 0; off < HALF; off += s->chunk) {
		if (s->dir == 1)
			memcpy(s->mem + HALF + off, s->mem + off, s->chunk);
		else
			memset(s->mem + HALF + off, PATTERN, s->chunk);
		__asm__ __volatile__("" : : "r"(s->mem) : "memory");
	}
}

/* Bytes/s of one pass of @pass. */
static double slice(void (*pass)(void *), struct setup *s)
{
	double t0 = bench_now();

	pass(s);
	return (double)s->bytes / (bench_now() - t0);
}

/* @pass against @base, alternating, best slice of each. */
static void compare(struct setup *s, void (*pass)(void *),
		    void (*base)(void *), const char *label,
		    const char *base_name)
{
	double best = 0, best_base = 0;

	pass(s);
	base(s);
	for (int i = 0; i < SLICES; i++) {
		double d = slice(pass, s), c = slice(base, s);

		if (d > best)
			best = d;
		if (c > best_base)
			best_base = c;
	}
	bench_report(label, best / (1 << 30), "GiB", best_base / (1 << 30),
		     base_name);
}

static void chunks(struct setup *s, const char *name)
{
	char label[96];

	snprintf(label, sizeof(label), "%s %zu KiB chunks", name,
		 s->chunk >> 10);
	s->bytes = MEM;
	compare(s, dma_pass, memcpy_pass, label, "memcpy");
}

static void setup(struct setup *s)
{
	struct stce_pe_caps caps;
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
	if (stce_container_register(s->c, (uintptr_t)s->mem, MEM))
		abort();
}

/* A window of @shift pages in @levels levels mapping all of MEM. */
static void window(struct setup *s, unsigned int shift, unsigned int levels)
{
	if (stce_container_create_window(s->c, shift, 1ULL << 30, levels,
					 &s->bus) ||
	    stce_container_map(s->c, (uintptr_t)s->mem, s->bus, MEM,
			       STCE_MAP_READ | STCE_MAP_WRITE))
		abort();
}

static void window_remove(struct setup *s)
{
	if (stce_container_unmap(s->c, s->bus, MEM) ||
	    stce_container_remove_window(s->c, s->bus))
		abort();
}

static void device_setup(struct setup *s)
{
	struct stce_device_desc desc = { .name = "0000:00:00.0",
					 .vendor_id = 0x1af4,
					 .device_id = 0x10f0 };

	if (stce_device_create(&desc, s->pe, &s->dev) ||
	    stce_device_config_write(s->dev, STCE_PCI_COMMAND, 2,
				     STCE_PCI_COMMAND_MEMORY |
				     STCE_PCI_COMMAND_MASTER))
		abort();
	mmio(s, STCE_DMATEST_REG_PATTERN, PATTERN);
}

/* FILL and COPY of 4 KiB and 64 KiB transfers on one window shape. */
static void device_figures(struct setup *s, unsigned int shift,
			   unsigned int levels)
{
	static const size_t sizes[] = { 4 << 10, 64 << 10 };
	char label[96];

	window(s, shift, levels);
	s->bytes = HALF;
	for (unsigned int i = 0; i < 2; i++) {
		s->chunk = sizes[i];
		s->dir = 2;
		snprintf(label, sizeof(label), "device FILL %zu KiB, %uK pages, %u-level",
			 s->chunk >> 10, 1u << (shift - 10), levels);
		compare(s, device_pass, cpu_pass, label, "memset");
		s->dir = 1;
		snprintf(label, sizeof(label), "device COPY %zu KiB, %uK pages, %u-level",
			 s->chunk >> 10, 1u << (shift - 10), levels);
		compare(s, device_pass, cpu_pass, label, "memcpy");
	}
	window_remove(s);
}

int main(void)
{
	struct setup s = { 0 };

	printf("bench-dma (ratios: same-run memcpy/memset of the same bytes "
	       "between the same buffers)\n");
	setup(&s);
	window(&s, PAGE_SHIFT, 1);
	s.chunk = 64 << 10;
	s.dir = 2;
	chunks(&s, "dma_write");
	s.dir = 1;
	chunks(&s, "dma_read");
	s.chunk = 4 << 10;
	s.dir = 2;
	chunks(&s, "dma_write");
	s.dir = 1;
	chunks(&s, "dma_read");
	window_remove(&s);
	device_setup(&s);
	for (unsigned int shift = 12; shift <= 16; shift += 4)
		for (unsigned int levels = 1; levels <= 2; levels++)
			device_figures(&s, shift, levels);
	stce_device_destroy(s.dev);
	stce_container_destroy(s.c);
	stce_pe_destroy(s.pe);
	return 0;
}
