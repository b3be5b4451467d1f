// SPDX-License-Identifier: MIT
/*
 * A DPDK program on spapr-tce: only DPDK 22.11's public API (Debian 12's
 * libdpdk-dev) plus the register map of the DMA test device. run.sh runs it
 * under `spapr-tce trace` with a 4K-host-page topology and checks the trace
 * (docs/dpdk.md).
 *
 *   dpdk_spapr BDF [EAL arguments...]
 *
 * 1. rte_eal_init: DPDK finds VFIO, then rte_vfio_setup_device(BDF) makes
 *    it select sPAPR v2, replace the default window by its own and
 *    REGISTER + MAP every memseg of its heap.
 * 2. The device's DMA (FILL, COPY, CHECKSUM) into rte_malloc memory and
 *    into buffers mapped with rte_vfio_container_dma_map, checked on the
 *    CPU side.
 * 3. rte_vfio_container_dma_unmap: what DPDK 22.11 sends for it on sPAPR
 *    and what that does to the device's view (see "Unmap" below).
 * 4. Teardown: rte_vfio_release_device, rte_eal_cleanup, and the default
 *    container (which DPDK never closes) closed; VmLck (the library's
 *    /proc/self/status) reads 0.
 *
 * Prints "ok - ..." or "FAIL - ..." a check, then the figures run.sh
 * reads ("figure NAME VALUE"); exits 0 only when every check passed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_vfio.h>

#include <spapr_tce/device.h>

#include "../../lib/vmlck.h"

#define BUF_LEN		(1u << 20)	/* each DMA buffer */
#define USER_IOVA_LOW	(1u << 20)	/* below DPDK's heap: see main() */
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static unsigned int failures;

static bool check(bool ok, const char *what, ...)
	__attribute__((format(printf, 2, 3)));

static bool check(bool ok, const char *what, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "FAIL");
	va_start(ap, what);
	vprintf(what, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
	return ok;
}

/* ---- the device, through its VFIO regions ---- */

struct dev {
	int fd;
	uint64_t bar0, config;	/* region offsets from GET_REGION_INFO */
};

static int region_offset(int fd, unsigned int index, uint64_t *off)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	*off = info.offset;
	return 0;
}

static uint64_t reg_read(const struct dev *d, unsigned int reg)
{
	uint64_t v = ~0ULL;

	if (pread(d->fd, &v, 8, (off_t)(d->bar0 + reg)) != 8)
		return ~0ULL;
	return v;
}

static void reg_write(const struct dev *d, unsigned int reg, uint64_t v)
{
	if (pwrite(d->fd, &v, 8, (off_t)(d->bar0 + reg)) != 8)
		check(false, "pwrite BAR0+0x%x: %s", reg, strerror(errno));
}

/* Runs @cmd; 0 when the device reports DONE, else its ERROR register
 * (an errno; all-ones while the PE is frozen). */
static uint64_t dma(const struct dev *d, unsigned int cmd, uint64_t src,
		    uint64_t dst, uint64_t len, uint8_t pattern)
{
	reg_write(d, STCE_DMATEST_REG_SRC, src);
	reg_write(d, STCE_DMATEST_REG_DST, dst);
	reg_write(d, STCE_DMATEST_REG_LEN, len);
	reg_write(d, STCE_DMATEST_REG_PATTERN, pattern);
	reg_write(d, STCE_DMATEST_REG_CMD, cmd);
	if (reg_read(d, STCE_DMATEST_REG_STATUS) == STCE_DMATEST_STATUS_DONE)
		return 0;
	return reg_read(d, STCE_DMATEST_REG_ERROR);
}

static int bus_master_on(const struct dev *d)
{
	uint16_t cmd;
	off_t off = (off_t)(d->config + STCE_PCI_COMMAND);

	if (pread(d->fd, &cmd, 2, off) != 2)
		return -errno;
	cmd |= STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER;
	if (pwrite(d->fd, &cmd, 2, off) != 2)
		return -errno;
	return 0;
}

/* ---- the CPU's side ---- */

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

static void scribble(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ---- DPDK's memory, as its public walkers show it ---- */

struct heap {
	uint64_t top;		/* highest memseg-list end VA */
	uint64_t page;		/* that list's page size */
	uint64_t dma_bytes;	/* memsegs DPDK maps for DMA */
	unsigned int segs;
};

static int heap_list(const struct rte_memseg_list *msl, void *arg)
{
	struct heap *h = arg;
	uint64_t end = msl->addr_64 + msl->len;

	if (msl->external && !msl->heap)
		return 0;
	if (end > h->top) {
		h->top = end;
		h->page = msl->page_sz;
	}
	return 0;
}

static int heap_seg(const struct rte_memseg_list *msl,
		    const struct rte_memseg *ms, void *arg)
{
	struct heap *h = arg;

	if ((msl->external && !msl->heap) || ms->iova == RTE_BAD_IOVA)
		return 0;
	h->dma_bytes += ms->len;
	h->segs++;
	return 0;
}

static uint64_t pow2_ceil(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* ---- the steps ---- */

/* FILL, COPY and CHECKSUM inside one buffer of BUF_LEN at @va/@iova. */
static void dma_one_buffer(const struct dev *d, const char *name,
			   uint8_t *va, uint64_t iova)
{
	size_t half = BUF_LEN / 2;
	uint64_t err, sum;

	memset(va, 0, BUF_LEN);
	err = dma(d, STCE_DMATEST_CMD_FILL, 0, iova, BUF_LEN, 0x5a);
	check(!err && all_bytes(va, BUF_LEN, 0x5a),
	      "%s: FILL 0x5a of %u bytes at iova 0x%" PRIx64 " (error %" PRIu64 ")",
	      name, BUF_LEN, iova, err);

	scribble(va, half, 7);
	err = dma(d, STCE_DMATEST_CMD_COPY, iova, iova + half, half, 0);
	check(!err && !memcmp(va, va + half, half),
	      "%s: COPY of %zu bytes inside the buffer (error %" PRIu64 ")",
	      name, half, err);

	err = dma(d, STCE_DMATEST_CMD_CHECKSUM, iova, 0, half, 0);
	sum = reg_read(d, STCE_DMATEST_REG_RESULT);
	check(!err && sum == fnv1a(va, half),
	      "%s: CHECKSUM 0x%016" PRIx64 " = the CPU's FNV-1a (error %" PRIu64 ")",
	      name, sum, err);
}

/* COPY between two buffers, both ways. */
static void dma_across(const struct dev *d, uint8_t *a, uint64_t a_iova,
		       uint8_t *b, uint64_t b_iova)
{
	uint64_t err;

	scribble(a, BUF_LEN, 11);
	memset(b, 0, BUF_LEN);
	err = dma(d, STCE_DMATEST_CMD_COPY, a_iova, b_iova, BUF_LEN, 0);
	check(!err && !memcmp(a, b, BUF_LEN),
	      "COPY rte_malloc -> dma_map buffer, %u bytes (error %" PRIu64 ")",
	      BUF_LEN, err);
	scribble(b, BUF_LEN, 13);
	err = dma(d, STCE_DMATEST_CMD_COPY, b_iova, a_iova, BUF_LEN, 0);
	check(!err && !memcmp(a, b, BUF_LEN),
	      "COPY dma_map buffer -> rte_malloc, %u bytes (error %" PRIu64 ")",
	      BUF_LEN, err);
}

static uint8_t *user_buffer(void)
{
	void *p = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct heap heap = { 0 };
	struct dev d = { .fd = -1 };
	uint8_t *mbuf = NULL, *low = NULL, *high = NULL;
	uint64_t mbuf_iova, window, high_iova, err;
	long kb_init, kb_maps, kb_release, kb_end;
	const char *bdf;
	int ret, container = -1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s BDF [EAL arguments...]\n", argv[0]);
		return 2;
	}
	bdf = argv[1];
	argv[1] = argv[0];	/* EAL parses from argv[1] on: drop the BDF */
	ret = rte_eal_init(argc - 1, argv + 1);
	if (!check(ret >= 0, "rte_eal_init: %s", ret < 0 ? rte_strerror(rte_errno) : "done"))
		return 1;
	check(rte_vfio_is_enabled("vfio"), "DPDK found VFIO (rte_vfio_is_enabled)");
	rte_memseg_list_walk(heap_list, &heap);
	rte_memseg_walk(heap_seg, &heap);
	window = pow2_ceil(heap.top);
	printf("figure heap_top 0x%" PRIx64 "\nfigure heap_page %" PRIu64
	       "\nfigure heap_segs %u\nfigure heap_bytes %" PRIu64
	       "\nfigure window 0x%" PRIx64 "\n",
	       heap.top, heap.page, heap.segs, heap.dma_bytes, window);

	/* 1. DPDK sets up the container on the first device. */
	ret = rte_vfio_setup_device("/sys/bus/pci/devices", bdf, &d.fd, &info);
	if (!check(ret == 0, "rte_vfio_setup_device(%s) = %d", bdf, ret))
		goto out;
	container = rte_vfio_get_container_fd();
	check(info.num_regions > VFIO_PCI_CONFIG_REGION_INDEX &&
	      !region_offset(d.fd, VFIO_PCI_BAR0_REGION_INDEX, &d.bar0) &&
	      !region_offset(d.fd, VFIO_PCI_CONFIG_REGION_INDEX, &d.config),
	      "device regions: %u, BAR0 at 0x%" PRIx64 ", config at 0x%" PRIx64,
	      info.num_regions, d.bar0, d.config);
	check(!bus_master_on(&d), "bus mastering on (config command register)");
	check(reg_read(&d, STCE_DMATEST_REG_ID) == STCE_DMATEST_ID,
	      "BAR0 ID register reads the DMA test device's id");
	kb_init = vmlck_kb();
	printf("figure vmlck_after_setup_kb %ld\n", kb_init);
	check(kb_init >= (long)(heap.dma_bytes >> 10),
	      "VmLck %ld kB after setup covers DPDK's %" PRIu64 " kB heap",
	      kb_init, heap.dma_bytes >> 10);

	/* 2a. rte_malloc memory: DPDK mapped it at IOVA = VA. */
	mbuf = rte_malloc(NULL, BUF_LEN, 4096);
	if (!check(mbuf != NULL, "rte_malloc of %u bytes", BUF_LEN))
		goto release;
	mbuf_iova = rte_malloc_virt2iova(mbuf);
	check(mbuf_iova == (uint64_t)(uintptr_t)mbuf && mbuf_iova + BUF_LEN <= window,
	      "rte_malloc buffer iova 0x%" PRIx64 " (IOVA as VA, inside the window)",
	      mbuf_iova);
	dma_one_buffer(&d, "rte_malloc", mbuf, mbuf_iova);

	/*
	 * 2b. A buffer of the program's own, mapped with
	 * rte_vfio_container_dma_map at an IOVA below DPDK's heap, and a
	 * second one at the top of DPDK's window.
	 */
	low = user_buffer();
	high = user_buffer();
	high_iova = window - BUF_LEN;
	if (!check(low && high, "two anonymous buffers of %u bytes", BUF_LEN))
		goto free;
	ret = rte_vfio_container_dma_map(RTE_VFIO_DEFAULT_CONTAINER_FD,
					 (uint64_t)(uintptr_t)low, USER_IOVA_LOW, BUF_LEN);
	check(ret == 0, "rte_vfio_container_dma_map(low buffer, iova 0x%x) = %d",
	      USER_IOVA_LOW, ret);
	ret = rte_vfio_container_dma_map(RTE_VFIO_DEFAULT_CONTAINER_FD,
					 (uint64_t)(uintptr_t)high, high_iova, BUF_LEN);
	check(ret == 0, "rte_vfio_container_dma_map(high buffer, iova 0x%" PRIx64 ") = %d",
	      high_iova, ret);
	dma_one_buffer(&d, "dma_map low", low, USER_IOVA_LOW);
	dma_one_buffer(&d, "dma_map high", high, high_iova);
	dma_across(&d, mbuf, mbuf_iova, low, USER_IOVA_LOW);
	kb_maps = vmlck_kb();
	printf("figure vmlck_after_dma_map_kb %ld\n", kb_maps);
	check(kb_maps == kb_init + 2 * (BUF_LEN >> 10),
	      "VmLck %ld kB: the two buffers added %u kB", kb_maps, 2 * (BUF_LEN >> 10));

	/*
	 * 3. Unmap. DPDK 22.11's sPAPR unmap fills a type1 *map* struct and
	 * hands it to VFIO_IOMMU_UNMAP_DMA, whose struct has iova and size 8
	 * bytes earlier: the kernel reads iova = 0 (the zeroed vaddr) and
	 * size = the buffer's iova, and unmaps [0, iova) - not the buffer.
	 * The UNREGISTER that follows returns 0 although the buffer is still
	 * mapped (docs/quirks.md 2). docs/dpdk.md has the trace.
	 */
	ret = rte_vfio_container_dma_unmap(RTE_VFIO_DEFAULT_CONTAINER_FD,
					   (uint64_t)(uintptr_t)low, USER_IOVA_LOW, BUF_LEN);
	check(ret == 0, "rte_vfio_container_dma_unmap(low buffer) = %d", ret);
	err = dma(&d, STCE_DMATEST_CMD_FILL, 0, USER_IOVA_LOW, BUF_LEN, 0x33);
	check(!err && all_bytes(low, BUF_LEN, 0x33),
	      "the device still reaches the low buffer after its unmap (error %" PRIu64 ")",
	      err);
	check(vmlck_kb() == kb_maps, "and it stays pinned: VmLck %ld kB", vmlck_kb());
	err = dma(&d, STCE_DMATEST_CMD_FILL, 0, mbuf_iova, BUF_LEN, 0x44);
	check(!err && all_bytes(mbuf, BUF_LEN, 0x44),
	      "rte_malloc memory, above it, is still mapped (error %" PRIu64 ")", err);

	ret = rte_vfio_container_dma_unmap(RTE_VFIO_DEFAULT_CONTAINER_FD,
					   (uint64_t)(uintptr_t)high, high_iova, BUF_LEN);
	check(ret == 0, "rte_vfio_container_dma_unmap(high buffer) = %d", ret);
	err = dma(&d, STCE_DMATEST_CMD_FILL, 0, high_iova, BUF_LEN, 0x55);
	check(!err && all_bytes(high, BUF_LEN, 0x55),
	      "the device still reaches the high buffer after its unmap (error %" PRIu64 ")",
	      err);
	/* The low buffer's last TCE went with [0, high_iova): spapr-tce lets
	 * the orphaned region go (the kernel keeps it pinned, quirks.md 14). */
	check(vmlck_kb() == kb_maps - (long)(BUF_LEN >> 10),
	      "the low buffer is unpinned with its last TCE: VmLck %ld kB", vmlck_kb());
	memset(mbuf, 0, BUF_LEN);
	err = dma(&d, STCE_DMATEST_CMD_FILL, 0, mbuf_iova, BUF_LEN, 0x66);
	check(err == ~0ULL && all_bytes(mbuf, BUF_LEN, 0),
	      "that unmap took DPDK's heap below the buffer away: a FILL of "
	      "rte_malloc memory faults and freezes the PE (registers read all-ones)");
	check(reg_read(&d, STCE_DMATEST_REG_ID) == ~0ULL,
	      "the PE stays frozen: BAR0 ID reads all-ones");

free:
	rte_free(mbuf);
release:
	/* 4. Teardown. Closing the last group ends the container's IOMMU
	 * state, pins included, as the kernel's VFIO core does. */
	ret = rte_vfio_release_device("/sys/bus/pci/devices", bdf, d.fd);
	check(ret == 0, "rte_vfio_release_device = %d", ret);
	kb_release = vmlck_kb();
	printf("figure vmlck_after_release_kb %ld\n", kb_release);
	check(kb_release == 0, "VmLck %ld kB after the group's close", kb_release);
	check(rte_eal_cleanup() == 0, "rte_eal_cleanup");
	check(close(container) == 0, "close(rte_vfio_get_container_fd())");
	kb_end = vmlck_kb();
	printf("figure vmlck_end_kb %ld\n", kb_end);
	check(kb_end == 0, "VmLck %ld kB at the end", kb_end);
	if (low)
		munmap(low, BUF_LEN);
	if (high)
		munmap(high, BUF_LEN);
out:
	printf("%u checks failed\n", failures);
	return failures ? 1 : 0;
}
