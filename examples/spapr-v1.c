// SPDX-License-Identifier: MIT
/*
 * The sPAPR TCE v1 flow, as an old-style userspace driver does it:
 * SET_IOMMU type 2, GET_INFO, ENABLE, map 1 MiB at the start of the
 * 32-bit window, let the device copy data there (and interrupt), check
 * the bytes, unmap, DISABLE.
 *
 * Written only against <linux/vfio.h> and libc. On spapr-tce:
 *   LD_PRELOAD=libspapr-tce-preload.so ./spapr-v1
 */
#include "vfio-example.h"

#define BUF_SIZE	(1u << 20)

int main(void)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct vfio_dev dev;
	int container, group, efd;
	uint64_t bus, half = BUF_SIZE / 2;
	long lck0, lck1, lck_start = vmlck_kb(), lck_map;
	uint8_t *buf;

	open_container(VFIO_SPAPR_TCE_IOMMU, &container, &group);
	CHECK(!ioctl(container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info), "TCE_GET_INFO");
	step("32-bit window: start 0x%x, size 0x%x", info.dma32_window_start,
	     info.dma32_window_size);
	CHECK(info.dma32_window_size >= BUF_SIZE, "window smaller than 1 MiB");

	lck0 = vmlck_kb();
	CHECK(!ioctl(container, VFIO_IOMMU_ENABLE), "IOMMU_ENABLE");
	lck1 = vmlck_kb();
	step("ENABLE: the window is charged to locked memory (VmLck +%ld kB)", lck1 - lck0);
	CHECK(lck1 - lck0 == (long)(info.dma32_window_size / 1024),
	      "ENABLE charged %ld kB, not the window's %u kB", lck1 - lck0,
	      info.dma32_window_size / 1024);

	buf = alloc_aligned(BUF_SIZE, 1 << 16);
	for (unsigned int i = 0; i < half; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	bus = info.dma32_window_start;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)buf;
	map.iova = bus;
	map.size = BUF_SIZE;
	CHECK(!ioctl(container, VFIO_IOMMU_MAP_DMA, &map), "MAP_DMA");
	lck_map = vmlck_kb();
	step("mapped 1 MiB at bus 0x%llx (%u TCEs of 4K; the first MAP allocates "
	     "the window's table: VmLck +%ld kB)", (unsigned long long)bus,
	     BUF_SIZE / 4096, lck_map - lck1);

	open_device(group, &dev);
	CHECK(rd(&dev, REG_ID) == DEV_ID, "device ID");
	efd = irq_setup(&dev);
	CHECK(dma(&dev, CMD_COPY | CMD_IRQ, bus, bus + half, half, 0) == STATUS_DONE,
	      "COPY failed, device error %llu", (unsigned long long)rd(&dev, REG_ERROR));
	irq_wait(&dev, efd);
	CHECK(!memcmp(buf, buf + half, half), "copied bytes differ");
	step("device copied 512 KiB from bus 0x%llx to 0x%llx, interrupt received, bytes verified",
	     (unsigned long long)bus, (unsigned long long)(bus + half));
	CHECK(dma(&dev, CMD_CHECKSUM, bus, 0, BUF_SIZE, 0) == STATUS_DONE, "CHECKSUM");
	CHECK(rd(&dev, REG_RESULT) == fnv1a(buf, BUF_SIZE), "checksum differs");
	step("device checksum of the whole 1 MiB matches the CPU's");

	unmap.iova = bus;
	unmap.size = BUF_SIZE;
	CHECK(!ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap), "UNMAP_DMA");
	CHECK(dma(&dev, CMD_CHECKSUM, bus, 0, 4096, 0) != STATUS_DONE,
	      "the device still reaches unmapped memory");
	step("unmapped: the device can no longer reach the buffer (its PE froze: see eeh.c)");
	CHECK(!ioctl(container, VFIO_IOMMU_DISABLE), "IOMMU_DISABLE");
	CHECK(vmlck_kb() == lck_map - (long)(info.dma32_window_size / 1024),
	      "DISABLE did not return ENABLE's charge (VmLck %ld kB)", vmlck_kb());
	step("DISABLE: ENABLE's charge returned");

	close(efd);
	close(dev.fd);
	close(group);
	close(container);
	CHECK(vmlck_kb() == lck_start, "closing left VmLck at %ld kB, not %ld",
	      vmlck_kb(), lck_start);
	step("closed: locked memory back to %ld kB", lck_start);
	step("spapr-v1: OK");
	return 0;
}
