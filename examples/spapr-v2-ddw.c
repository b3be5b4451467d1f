// SPDX-License-Identifier: MIT
/*
 * The sPAPR TCE v2 flow with a dynamic DMA window, as QEMU and DPDK do
 * it: register guest-sized memory (pinned and charged once), create a
 * 64-bit window of 64K pages in 2 levels, map all the memory, let the
 * device DMA through it, remove the window, unregister.
 *
 * Written only against <linux/vfio.h> and libc. On spapr-tce:
 *   LD_PRELOAD=libspapr-tce-preload.so ./spapr-v2-ddw [MEMORY_MIB]
 */
#include "vfio-example.h"

#define PAGE_SHIFT	16	/* 64K IOMMU pages */
#define LEVELS		2

int main(int argc, char **argv)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_create create = { .argsz = sizeof(create) };
	struct vfio_iommu_spapr_tce_remove remove = { .argsz = sizeof(remove) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	uint64_t mem = (argc > 1 ? strtoull(argv[1], NULL, 0) : 64) << 20;
	uint64_t window = 1, half, bus;
	struct vfio_dev dev;
	int container, group;
	long lck0, lck_reg, lck_win;
	uint8_t *ram;

	CHECK(mem >= (1 << 20) && !(mem & 0xffff), "memory: whole MiB, at least 1");
	open_container(VFIO_SPAPR_TCE_v2_IOMMU, &container, &group);
	CHECK(!ioctl(container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info), "TCE_GET_INFO");
	CHECK(info.flags & VFIO_IOMMU_SPAPR_INFO_DDW, "no dynamic DMA windows");
	CHECK(info.ddw.pgsizes & (1ULL << PAGE_SHIFT), "no 64K IOMMU pages");
	CHECK(info.ddw.levels >= LEVELS, "fewer than %d levels", LEVELS);
	step("DDW: page sizes 0x%llx, %u windows, up to %u levels",
	     (unsigned long long)info.ddw.pgsizes,
	     info.ddw.max_dynamic_windows_supported, info.ddw.levels);

	lck0 = vmlck_kb();
	ram = alloc_aligned(mem, 1 << 16);
	reg.vaddr = (uintptr_t)ram;
	reg.size = mem;
	CHECK(!ioctl(container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg), "REGISTER_MEMORY");
	lck_reg = vmlck_kb();
	step("registered %llu MiB of guest memory (VmLck +%ld kB)",
	     (unsigned long long)(mem >> 20), lck_reg - lck0);
	CHECK(lck_reg - lck0 == (long)(mem >> 10), "REGISTER charged %ld kB", lck_reg - lck0);

	while (window < mem)
		window <<= 1;
	create.page_shift = PAGE_SHIFT;
	create.window_size = window;
	create.levels = LEVELS;
	CHECK(!ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &create), "TCE_CREATE");
	lck_win = vmlck_kb();
	bus = create.start_addr;
	step("created a %llu MiB window of 64K pages in %d levels at bus 0x%llx "
	     "(tables: VmLck +%ld kB)", (unsigned long long)(window >> 20), LEVELS,
	     (unsigned long long)bus, lck_win - lck_reg);
	CHECK(bus == 1ULL << 59, "the 64-bit window is not at 1 << 59");

	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)ram;
	map.iova = bus;
	map.size = mem;
	CHECK(!ioctl(container, VFIO_IOMMU_MAP_DMA, &map), "MAP_DMA");
	CHECK(vmlck_kb() == lck_win, "MAP changed VmLck: v2 charges at REGISTER only");
	step("mapped all of it: %llu TCEs, no extra locked memory",
	     (unsigned long long)(mem >> PAGE_SHIFT));

	open_device(group, &dev);
	half = mem / 2;
	if (half > (32u << 20))
		half = 32u << 20;
	CHECK(dma(&dev, CMD_FILL, 0, bus, half, 0xa5) == STATUS_DONE, "FILL");
	for (uint64_t i = 0; i < half; i += 4096)
		CHECK(ram[i] == 0xa5, "FILL did not reach byte %llu", (unsigned long long)i);
	for (uint64_t i = 0; i < half; i++)
		ram[i] = (uint8_t)(i ^ (i >> 9));
	CHECK(dma(&dev, CMD_COPY, bus, bus + half, half, 0) == STATUS_DONE, "COPY");
	CHECK(!memcmp(ram, ram + half, half), "copied bytes differ");
	CHECK(dma(&dev, CMD_CHECKSUM, bus + half, 0, half, 0) == STATUS_DONE, "CHECKSUM");
	CHECK(rd(&dev, REG_RESULT) == fnv1a(ram, half), "checksum differs");
	step("device DMA: fill, copy and checksum of %llu MiB through the window, verified",
	     (unsigned long long)(half >> 20));

	unmap.iova = bus;
	unmap.size = mem;
	CHECK(!ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap), "UNMAP_DMA");
	remove.start_addr = bus;
	CHECK(!ioctl(container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &remove), "TCE_REMOVE");
	CHECK(vmlck_kb() < lck_win, "REMOVE returned nothing of the table charge");
	step("window removed (VmLck -%ld kB; the default 32-bit window, created "
	     "with it, stays until the container goes)", lck_win - vmlck_kb());
	lck_win = vmlck_kb();
	CHECK(!ioctl(container, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &reg), "UNREGISTER_MEMORY");
	CHECK(lck_win - vmlck_kb() == (long)(mem >> 10),
	      "UNREGISTER returned %ld kB", lck_win - vmlck_kb());
	step("memory unregistered (VmLck -%llu kB)", (unsigned long long)(mem >> 10));

	close(dev.fd);
	close(group);
	close(container);
	CHECK(vmlck_kb() == lck0, "closing left VmLck at %ld kB, not %ld", vmlck_kb(), lck0);
	step("closed: VmLck back to %ld kB", lck0);
	munmap(ram, mem);
	step("spapr-v2-ddw: OK");
	return 0;
}
