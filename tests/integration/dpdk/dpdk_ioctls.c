// SPDX-License-Identifier: MIT
/*
 * DPDK 22.11's sPAPR ioctl sequence in miniature, written only against
 * <linux/vfio.h>, so that the real kernel's answers can be recorded
 * (../shared/oracle/run-client.sh, FLAVOR=k612-4k) and compared with
 * spapr-tce's (run.sh runs it under the preload library). The sequence is
 * the one `spapr-tce trace` shows for dpdk_spapr (docs/dpdk.md):
 *
 *   CHECK_EXTENSION(type1, spapr v2, noiommu); SET_CONTAINER;
 *   SET_IOMMU(type1) then SET_IOMMU(spapr v2);
 *   TCE_GET_INFO; TCE_REMOVE(dma32 start); TCE_CREATE(4K pages, 8G,
 *   levels 1, 2, ... until one works);
 *   per 4K page of the "heap" (256 pages at 4G, IOVA = VA):
 *     REGISTER_MEMORY, MAP_DMA;
 *   rte_vfio_container_dma_map of two 1M buffers (iova 1M and 8G-1M):
 *     REGISTER_MEMORY, MAP_DMA;
 *   rte_vfio_container_dma_unmap of each: UNMAP_DMA given a type1 *map*
 *     struct (argsz 24, the unmap struct's size), then UNREGISTER_MEMORY;
 *   then (not DPDK's) TCE_REMOVE and a 16G 1-level CREATE: the largest
 *   level the kernel allocates;
 *   close(group); close(container).
 *
 *   dpdk_ioctls [/dev/vfio/N]     (default $VFIO_GROUP0, else /dev/vfio/0)
 *
 * One line a step: the label, the return value and errno name, and
 * VmLck in kB.
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

#include "../../lib/vmlck.h"

#define PAGE		4096UL
#define HEAP_VA		0x100000000UL	/* where DPDK's memory starts */
#define HEAP_PAGES	256
#define BUF_LEN		(1UL << 20)
#define WINDOW		(8UL << 30)	/* pow2 above the heap, as DPDK sizes it */

static const char *errname(int e)
{
	switch (e) {
	case 0: return "-";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENXIO: return "ENXIO";
	case ENOTTY: return "ENOTTY";
	default: return "E?";
	}
}

static int step(const char *label, int ret)
{
	int err = ret < 0 ? errno : 0;

	printf("%-44s = %d %s vmlck=%ld\n", label, ret, errname(err), vmlck_kb());
	fflush(stdout);
	return ret;
}

static int reg(int c, unsigned long req, void *va, unsigned long len)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)va, .size = len,
	};

	return ioctl(c, req, &r);
}

static int map(int c, void *va, unsigned long iova, unsigned long len)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .vaddr = (uintptr_t)va, .iova = iova,
		.size = len,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};

	return ioctl(c, VFIO_IOMMU_MAP_DMA, &m);
}

/* What DPDK 22.11's vfio_spapr_dma_do_map sends to unmap: the map struct
 * with the unmap struct's argsz. */
static int dpdk_unmap(int c, unsigned long iova, unsigned long len)
{
	struct vfio_iommu_type1_dma_map u;

	memset(&u, 0, sizeof(u));
	u.argsz = sizeof(struct vfio_iommu_type1_dma_unmap);
	u.size = len;
	u.iova = iova;
	return ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
}

static void *buffer(void *at, unsigned long len)
{
	void *p = mmap(at, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED_NOREPLACE : 0),
		       -1, 0);

	if (p == MAP_FAILED || (at && p != at)) {
		printf("mmap %p: %s\n", at, strerror(errno));
		exit(1);
	}
	memset(p, 1, len);	/* populated, as DPDK's heap is */
	return p;
}

static void window(int c)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm) };
	struct vfio_iommu_spapr_tce_create cr = {
		.argsz = sizeof(cr), .page_shift = 12, .window_size = WINDOW,
	};
	char label[64];
	int ret = -1;

	step("TCE_GET_INFO", ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	rm.start_addr = info.dma32_window_start;
	step("TCE_REMOVE dma32 window", ioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm));
	for (cr.levels = 1; ret && cr.levels <= info.ddw.levels; cr.levels++) {
		snprintf(label, sizeof(label), "TCE_CREATE shift=12 size=8G levels=%u",
			 cr.levels);
		ret = step(label, ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
	}
	printf("start_addr 0x%llx\n", (unsigned long long)cr.start_addr);
}

static void window_again(int c)
{
	struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm) };
	struct vfio_iommu_spapr_tce_create cr = {
		.argsz = sizeof(cr), .page_shift = 12, .window_size = 2 * WINDOW,
		.levels = 1,
	};

	step("TCE_REMOVE the 8G window", ioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm));
	step("TCE_CREATE shift=12 size=16G levels=1",
	     ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
}

static void heap(int c)
{
	char *h = buffer((void *)HEAP_VA, HEAP_PAGES * PAGE);
	int reg_fail = 0, map_fail = 0, first_err = 0;

	for (int i = 0; i < HEAP_PAGES; i++) {
		char *p = h + i * PAGE;

		if (reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, p, PAGE)) {
			first_err = first_err ? first_err : errno;
			reg_fail++;
			continue;
		}
		if (map(c, p, (uintptr_t)p, PAGE)) {
			first_err = first_err ? first_err : errno;
			map_fail++;
		}
	}
	printf("%-44s = %d/%d failed %s vmlck=%ld\n", "heap: REGISTER+MAP per 4K page",
	       reg_fail, map_fail, errname(first_err), vmlck_kb());
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : getenv("VFIO_GROUP0");
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char *low, *high;
	int c, g;

	if (!group)
		group = "/dev/vfio/0";
	c = step("open /dev/vfio/vfio", open("/dev/vfio/vfio", O_RDWR));
	g = step("open group", open(group, O_RDWR));
	if (c < 0 || g < 0)
		return 1;
	step("GET_API_VERSION", ioctl(c, VFIO_GET_API_VERSION));
	step("CHECK_EXTENSION type1", ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	step("CHECK_EXTENSION spapr v2", ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU));
	step("CHECK_EXTENSION noiommu", ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU));
	step("GROUP_GET_STATUS", ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	printf("group flags 0x%x\n", st.flags);
	step("GROUP_SET_CONTAINER", ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	step("SET_IOMMU type1", ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	step("SET_IOMMU spapr v2", ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	window(c);
	heap(c);

	low = buffer(NULL, BUF_LEN);
	high = buffer(NULL, BUF_LEN);
	step("REGISTER low 1M", reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, low, BUF_LEN));
	step("MAP low iova=1M", map(c, low, BUF_LEN, BUF_LEN));
	step("REGISTER high 1M", reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, high, BUF_LEN));
	step("MAP high iova=8G-1M", map(c, high, WINDOW - BUF_LEN, BUF_LEN));

	step("dpdk UNMAP low (kernel reads iova=0 size=1M)", dpdk_unmap(c, BUF_LEN, BUF_LEN));
	step("UNREGISTER low (still mapped)",
	     reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, low, BUF_LEN));
	step("dpdk UNMAP high (iova=0 size=8G-1M)", dpdk_unmap(c, WINDOW - BUF_LEN, BUF_LEN));
	step("UNREGISTER high (still mapped)",
	     reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, high, BUF_LEN));
	step("UNREGISTER heap page 0 (its TCE cleared)",
	     reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, (void *)HEAP_VA, PAGE));

	/* Not DPDK's: the largest level a 4K host builds (16 MiB is 8G). */
	window_again(c);

	step("close group", close(g));
	step("close container", close(c));
	return 0;
}
