// SPDX-License-Identifier: MIT
/*
 * EEH: provoke a DMA outside the device's window, see its PE frozen (MMIO
 * reads all-ones, DMA refused), and recover it with VFIO_EEH_PE_OP, as a
 * guest's EEH handler does through its hypervisor.
 *
 * Written only against <linux/vfio.h> and libc. On spapr-tce:
 *   LD_PRELOAD=libspapr-tce-preload.so ./eeh
 */
#include "vfio-example.h"

#define MEM	(1u << 20)

static int pe_op(int container, uint32_t op)
{
	struct vfio_eeh_pe_op o = { .argsz = sizeof(o), .op = op };

	return ioctl(container, VFIO_EEH_PE_OP, &o);
}

static const char *state_name(int s)
{
	switch (s) {
	case VFIO_EEH_PE_STATE_NORMAL: return "normal";
	case VFIO_EEH_PE_STATE_RESET: return "reset";
	case VFIO_EEH_PE_STATE_STOPPED: return "stopped (MMIO and DMA frozen)";
	case VFIO_EEH_PE_STATE_STOPPED_DMA: return "DMA stopped";
	case VFIO_EEH_PE_STATE_UNAVAIL: return "unavailable";
	default: return "?";
	}
}

int main(void)
{
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_create create = { .argsz = sizeof(create) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_dev dev;
	int container, group, state;
	uint64_t bus, outside;
	uint32_t vendor;
	uint8_t *ram;

	open_container(VFIO_SPAPR_TCE_v2_IOMMU, &container, &group);
	CHECK(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_EEH) == 1, "no VFIO_EEH");
	ram = alloc_aligned(MEM, 1 << 16);
	reg.vaddr = (uintptr_t)ram;
	reg.size = MEM;
	CHECK(!ioctl(container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg), "REGISTER_MEMORY");
	create.page_shift = 16;
	create.window_size = MEM;
	create.levels = 1;
	CHECK(!ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &create), "TCE_CREATE");
	bus = create.start_addr;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)ram;
	map.iova = bus;
	map.size = MEM;
	CHECK(!ioctl(container, VFIO_IOMMU_MAP_DMA, &map), "MAP_DMA");
	open_device(group, &dev);
	CHECK(!pe_op(container, VFIO_EEH_PE_ENABLE), "EEH ENABLE");
	state = pe_op(container, VFIO_EEH_PE_GET_STATE);
	CHECK(state == VFIO_EEH_PE_STATE_NORMAL, "PE state %d before the fault", state);
	CHECK(dma(&dev, CMD_FILL, 0, bus, MEM, 0x11) == STATUS_DONE, "FILL inside the window");
	step("1 MiB window at bus 0x%llx mapped; DMA inside it works; PE %s",
	     (unsigned long long)bus, state_name(state));

	/* The fault: one page just past the window's end. */
	outside = bus + MEM;
	wr(&dev, REG_DST, outside);
	wr(&dev, REG_LEN, 4096);
	wr(&dev, REG_CMD, CMD_FILL);
	state = pe_op(container, VFIO_EEH_PE_GET_STATE);
	CHECK(state == VFIO_EEH_PE_STATE_STOPPED, "PE state %d after the fault", state);
	CHECK(rd(&dev, REG_ID) == ~0ULL, "MMIO reads not all-ones while frozen");
	/* Class/revision: vfio-pci reads it from the device (the ids it
	 * serves from a virtual copy, so they never read all-ones). */
	CHECK(pread(dev.fd, &vendor, 4, (off_t)dev.cfg_off + 8) == 4 && vendor == ~0u,
	      "config reads not all-ones while frozen");
	step("DMA to bus 0x%llx (outside the window): PE %s, MMIO and config read all-ones",
	     (unsigned long long)outside, state_name(state));

	/* Thaw MMIO only: registers readable again, DMA still stopped. */
	CHECK(!pe_op(container, VFIO_EEH_PE_UNFREEZE_IO), "UNFREEZE_IO");
	state = pe_op(container, VFIO_EEH_PE_GET_STATE);
	CHECK(state == VFIO_EEH_PE_STATE_STOPPED_DMA, "PE state %d after UNFREEZE_IO", state);
	CHECK(rd(&dev, REG_ID) == DEV_ID, "MMIO after UNFREEZE_IO");
	step("UNFREEZE_IO: PE %s, the device's registers read again (STATUS %llu, ERROR %llu)",
	     state_name(state), (unsigned long long)rd(&dev, REG_STATUS),
	     (unsigned long long)rd(&dev, REG_ERROR));

	/* Full recovery, as a guest does it: reset the PE, configure. */
	CHECK(!pe_op(container, VFIO_EEH_PE_RESET_HOT), "RESET_HOT");
	CHECK(!pe_op(container, VFIO_EEH_PE_RESET_DEACTIVATE), "RESET_DEACTIVATE");
	CHECK(!pe_op(container, VFIO_EEH_PE_CONFIGURE), "CONFIGURE");
	state = pe_op(container, VFIO_EEH_PE_GET_STATE);
	CHECK(state == VFIO_EEH_PE_STATE_NORMAL, "PE state %d after the reset", state);
	/* The reset cleared the device: bus mastering back on, then DMA. */
	CHECK(pread(dev.fd, &vendor, 4, (off_t)dev.cfg_off) == 4 && vendor != ~0u, "config");
	{
		uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

		CHECK(pwrite(dev.fd, &cmd, 2, (off_t)(dev.cfg_off + PCI_COMMAND)) == 2,
		      "config write");
	}
	CHECK(dma(&dev, CMD_CHECKSUM, bus, 0, MEM, 0) == STATUS_DONE, "DMA after recovery");
	CHECK(rd(&dev, REG_RESULT) == fnv1a(ram, MEM), "checksum after recovery");
	step("RESET_HOT + RESET_DEACTIVATE + CONFIGURE: PE %s, device DMA works again",
	     state_name(state));

	close(dev.fd);
	close(group);
	close(container);
	step("eeh: OK");
	return 0;
}
