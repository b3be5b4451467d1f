// SPDX-License-Identifier: MIT
/*
 * bench-call: what one call costs a real client of the preload library.
 * The program is an ordinary VFIO client (libc and <linux/vfio.h> only,
 * as QEMU is); it runs itself again under LD_PRELOAD=libspapr-tce-preload
 * and measures, per call, QEMU's hot ones: MAP_DMA and UNMAP_DMA of one
 * 64K IOMMU page on a v2 container (QEMU sends one per guest TCE), the
 * EEH GET_STATE and 4- and 8-byte pread/pwrite of the DMA test device's
 * BAR0 (QEMU's MMIO path). Each rate is given against a bare ioctl(2)
 * syscall (FIONBIO on /dev/null) measured in the same run: 1.0x means a
 * served call costs what entering the kernel for nothing costs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../bench_common.h"

#define PAGE		(64 * 1024ULL)
#define NPAGES		256
#define MEM		(NPAGES * PAGE)
#define BATCH		256

static void die(const char *what)
{
	fprintf(stderr, "bench-call: %s: %s\n", what, strerror(errno));
	exit(1);
}

struct client {
	int container, group, device, null;
	uint64_t bus;		/* the 64K window's start */
	uint64_t bar0;		/* BAR0's region offset */
	uint8_t *mem;
};

static void xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	if (ioctl(fd, req, arg) < 0)
		die(what);
}

/* What QEMU does before its first MAP: a v2 container, its memory
 * registered, a 64K-page DDW window; the device, Memory Space on. */
static void client_open(struct client *c)
{
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof(cr) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	uint16_t cmd;
	void *raw;

	c->container = open("/dev/vfio/vfio", O_RDWR);
	c->group = open("/dev/vfio/0", O_RDWR);
	if (c->container < 0 || c->group < 0)
		die("open /dev/vfio (not under the preload library?)");
	xioctl(c->group, VFIO_GROUP_SET_CONTAINER, &c->container,
	       "SET_CONTAINER");
	if (ioctl(c->container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU) < 0)
		die("SET_IOMMU");
	raw = mmap(NULL, MEM + PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		die("mmap");
	c->mem = (uint8_t *)(((uintptr_t)raw + PAGE - 1) & ~(PAGE - 1));
	memset(c->mem, 0x5a, MEM);
	reg.vaddr = (uintptr_t)c->mem;
	reg.size = MEM;
	xioctl(c->container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg,
	       "REGISTER_MEMORY");
	cr.page_shift = 16;
	cr.window_size = MEM;
	cr.levels = 1;
	xioctl(c->container, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr, "TCE_CREATE");
	c->bus = cr.start_addr;
	c->device = ioctl(c->group, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	if (c->device < 0)
		die("GET_DEVICE_FD");
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	xioctl(c->device, VFIO_DEVICE_GET_REGION_INFO, &ri, "REGION_INFO");
	if (pread(c->device, &cmd, 2, (off_t)ri.offset + 4) != 2)
		die("config read");
	cmd |= 0x6;	/* Memory Space, Bus Master */
	if (pwrite(c->device, &cmd, 2, (off_t)ri.offset + 4) != 2)
		die("config write");
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	xioctl(c->device, VFIO_DEVICE_GET_REGION_INFO, &ri, "REGION_INFO");
	c->bar0 = ri.offset;
	c->null = open("/dev/null", O_RDWR);
	if (c->null < 0)
		die("open /dev/null");
}

/* Calls per second of @call, BATCH a pass, for the time budget. */
static double rate_of(void (*call)(struct client *c, unsigned int i),
		      struct client *c)
{
	double budget = bench_seconds(), start, elapsed;
	uint64_t n = 0;

	for (unsigned int i = 0; i < BATCH; i++)
		call(c, i);
	start = bench_now();
	do {
		for (unsigned int i = 0; i < BATCH; i++)
			call(c, i);
		n += BATCH;
		elapsed = bench_now() - start;
	} while (elapsed < budget);
	return (double)n / elapsed;
}

static void call_fionbio(struct client *c, unsigned int i)
{
	int off = 0;

	(void)i;
	if (ioctl(c->null, FIONBIO, &off) < 0)
		die("FIONBIO");
}

static void map_one(struct client *c, unsigned int i)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)c->mem + (i % NPAGES) * PAGE,
		.iova = c->bus + (i % NPAGES) * PAGE, .size = PAGE,
	};

	if (ioctl(c->container, VFIO_IOMMU_MAP_DMA, &map) < 0)
		die("MAP_DMA");
}

static void unmap_one(struct client *c, unsigned int i)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = c->bus + (i % NPAGES) * PAGE,
		.size = PAGE,
	};

	if (ioctl(c->container, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0)
		die("UNMAP_DMA");
}

/*
 * MAP and UNMAP timed apart: each pass maps the window's pages one call
 * a page, then unmaps them; the two halves' times are summed separately.
 */
static void map_unmap_rates(struct client *c, double *map_rate,
			    double *unmap_rate)
{
	double budget = bench_seconds(), tmap = 0, tunmap = 0, t0, t1, t2;
	uint64_t n = 0;

	do {
		t0 = bench_now();
		for (unsigned int i = 0; i < NPAGES; i++)
			map_one(c, i);
		t1 = bench_now();
		for (unsigned int i = 0; i < NPAGES; i++)
			unmap_one(c, i);
		t2 = bench_now();
		if (n) {	/* the first pass warms up */
			tmap += t1 - t0;
			tunmap += t2 - t1;
		}
		n += NPAGES;
	} while (tmap + tunmap < budget);
	n -= NPAGES;
	*map_rate = (double)n / tmap;
	*unmap_rate = (double)n / tunmap;
}

static void call_eeh(struct client *c, unsigned int i)
{
	struct vfio_eeh_pe_op op = { .argsz = sizeof(op),
				     .op = VFIO_EEH_PE_GET_STATE };

	(void)i;
	if (ioctl(c->container, VFIO_EEH_PE_OP, &op) < 0)
		die("EEH_PE_OP");
}

#define REG_ID		0x00
#define REG_PATTERN	0x20

static void call_pread4(struct client *c, unsigned int i)
{
	uint32_t v;

	(void)i;
	if (pread(c->device, &v, 4, (off_t)(c->bar0 + REG_ID)) != 4)
		die("pread 4");
}

static void call_pread8(struct client *c, unsigned int i)
{
	uint64_t v;

	(void)i;
	if (pread(c->device, &v, 8, (off_t)(c->bar0 + REG_ID)) != 8)
		die("pread 8");
}

static void call_pwrite4(struct client *c, unsigned int i)
{
	uint32_t v = i;

	if (pwrite(c->device, &v, 4, (off_t)(c->bar0 + REG_PATTERN)) != 4)
		die("pwrite 4");
}

static void call_pwrite8(struct client *c, unsigned int i)
{
	uint64_t v = i;

	if (pwrite(c->device, &v, 8, (off_t)(c->bar0 + REG_PATTERN)) != 8)
		die("pwrite 8");
}

/* Run again under the preload library (the build's), unless already. */
static void preload_self(char **argv)
{
	const char *have = getenv("LD_PRELOAD");

	if (have && strstr(have, "libspapr-tce-preload"))
		return;
	setenv("LD_PRELOAD", STCE_PRELOAD_PATH, 1);
	execv("/proc/self/exe", argv);
	die("exec under LD_PRELOAD");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*call)(struct client *c, unsigned int i);
	} calls[] = {
		{ "EEH_PE_OP GET_STATE", call_eeh },
		{ "pread BAR0 4 bytes", call_pread4 },
		{ "pread BAR0 8 bytes", call_pread8 },
		{ "pwrite BAR0 4 bytes", call_pwrite4 },
		{ "pwrite BAR0 8 bytes", call_pwrite8 },
	};
	struct client c;
	double base, map, unmap;

	(void)argc;
	preload_self(argv);
	client_open(&c);
	printf("one call through the preload library against a bare "
	       "ioctl(2) (FIONBIO on /dev/null), same run\n");
	base = rate_of(call_fionbio, &c);
	bench_report("bare ioctl(2) FIONBIO", base, "calls", base,
		     "FIONBIO ioctl");
	map_unmap_rates(&c, &map, &unmap);
	bench_report("MAP_DMA one 64K page (v2)", map, "calls", base,
		     "FIONBIO ioctl");
	bench_report("UNMAP_DMA one 64K page (v2)", unmap, "calls", base,
		     "FIONBIO ioctl");
	for (unsigned int i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		bench_report(calls[i].name, rate_of(calls[i].call, &c),
			     "calls", base, "FIONBIO ioctl");
	return 0;
}
