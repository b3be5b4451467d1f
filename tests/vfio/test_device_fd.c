// SPDX-License-Identifier: MIT
/*
 * The device file through the host API (no preload): GET_INFO,
 * GET_REGION_INFO, region read/write, IRQ info and eventfd delivery,
 * RESET; and the host additions the preload library uses (dup, fd kind,
 * mmap refusal, /proc/self/status).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include <spapr_tce/account.h>
#include <spapr_tce/device.h>
#include <spapr_tce/vfio.h>

#define MEM		(1u << 20)
#include "../lib/vfio_region.h"

struct fx {
	struct stce_host *h;
	int c, g, d;
	uint8_t *ram, *map;
	uint64_t bus;
};

static int setup(void **state)
{
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof(cr) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(stce_host_create(NULL, &f->h), 0);
	f->c = stce_host_open(f->h, "/dev/vfio/vfio", O_RDWR);
	f->g = stce_host_open(f->h, "/dev/vfio/0", O_RDWR);
	assert_true(f->c >= 0 && f->g >= 0);
	assert_int_equal(stce_host_ioctl(f->h, f->g, VFIO_GROUP_SET_CONTAINER, &f->c), 0);
	assert_int_equal(stce_host_ioctl(f->h, f->c, VFIO_SET_IOMMU,
					 (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	f->map = mmap(NULL, 2 * MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->map != MAP_FAILED);
	f->ram = (uint8_t *)(((uintptr_t)f->map + MEM - 1) & ~(uintptr_t)(MEM - 1));
	memset(f->ram, 0x5a, MEM);
	reg.vaddr = (uintptr_t)f->ram;
	reg.size = MEM;
	assert_int_equal(stce_host_ioctl(f->h, f->c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg), 0);
	cr.page_shift = 16;
	cr.window_size = MEM;
	cr.levels = 1;
	assert_int_equal(stce_host_ioctl(f->h, f->c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), 0);
	f->bus = cr.start_addr;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)f->ram;
	map.iova = f->bus;
	map.size = MEM;
	assert_int_equal(stce_host_ioctl(f->h, f->c, VFIO_IOMMU_MAP_DMA, &map), 0);
	f->d = stce_host_ioctl(f->h, f->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(f->d >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	stce_host_destroy(f->h);
	munmap(f->map, 2 * MEM);
	free(f);
	return 0;
}

static int dioctl(struct fx *f, unsigned long req, void *arg)
{
	errno = 0;
	return stce_host_ioctl(f->h, f->d, req, arg);
}

static uint64_t bar_rd(struct fx *f, uint64_t reg)
{
	uint64_t v = 0;

	assert_int_equal(stce_host_pread(f->h, f->d, &v, 8, BAR0 + (off_t)reg), 8);
	return v;
}

static void bar_wr(struct fx *f, uint64_t reg, uint64_t v)
{
	assert_int_equal(stce_host_pwrite(f->h, f->d, &v, 8, BAR0 + (off_t)reg), 8);
}

static void bus_master(struct fx *f)
{
	uint16_t cmd = STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER;

	assert_int_equal(stce_host_pwrite(f->h, f->d, &cmd, 2, CFG + STCE_PCI_COMMAND), 2);
}

static void run_cmd(struct fx *f, uint64_t cmd, uint64_t dst, uint64_t len)
{
	bar_wr(f, STCE_DMATEST_REG_DST, dst);
	bar_wr(f, STCE_DMATEST_REG_LEN, len);
	bar_wr(f, STCE_DMATEST_REG_PATTERN, 0x77);
	bar_wr(f, STCE_DMATEST_REG_CMD, cmd);
}

/* ---- GET_INFO / GET_REGION_INFO ------------------------------------ */

static void test_get_info(void **state)
{
	struct fx *f = *state;
	struct vfio_device_info i = { .argsz = sizeof(i) };

	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_INFO, &i), 0);
	assert_int_equal(i.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(i.num_regions, VFIO_PCI_NUM_REGIONS);
	assert_int_equal(i.num_irqs, VFIO_PCI_NUM_IRQS);
	i.argsz = offsetof(struct vfio_device_info, num_irqs);
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_INFO, &i), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_INFO, NULL), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(dioctl(f, 0x1234, NULL), -1);
	assert_int_equal(errno, ENOTTY);
}

static void test_region_info(void **state)
{
	struct fx *f = *state;
	struct vfio_region_info r;

	for (unsigned int idx = 0; idx < VFIO_PCI_NUM_REGIONS + 2; idx++) {
		memset(&r, 0xa5, sizeof(r));
		r.argsz = sizeof(r);
		r.index = idx;
		if (idx == VFIO_PCI_VGA_REGION_INDEX || idx >= VFIO_PCI_NUM_REGIONS) {
			assert_int_equal(dioctl(f, VFIO_DEVICE_GET_REGION_INFO, &r), -1);
			assert_int_equal(errno, EINVAL);
			continue;
		}
		assert_int_equal(dioctl(f, VFIO_DEVICE_GET_REGION_INFO, &r), 0);
		assert_int_equal(r.offset, (uint64_t)idx << 40);
		assert_int_equal(r.cap_offset, 0);
		if (idx == VFIO_PCI_CONFIG_REGION_INDEX || idx == VFIO_PCI_BAR0_REGION_INDEX) {
			assert_int_equal(r.size, idx ? STCE_PCI_CONFIG_SIZE : STCE_DMATEST_BAR0_SIZE);
			assert_int_equal(r.flags, VFIO_REGION_INFO_FLAG_READ |
						  VFIO_REGION_INFO_FLAG_WRITE);
		} else {
			assert_int_equal(r.size, 0);
			assert_int_equal(r.flags, 0);
		}
	}
	r.argsz = offsetof(struct vfio_region_info, offset);
	r.index = 0;
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_REGION_INFO, &r), -1);
	assert_int_equal(errno, EINVAL);
}

/* ---- region access ------------------------------------------------- */

static void test_config_rw(void **state)
{
	struct fx *f = *state;
	uint8_t b[16];
	uint32_t id;
	uint16_t cmd;

	assert_int_equal(stce_host_pread(f->h, f->d, &id, 4, CFG), 4);
	assert_int_equal(id, STCE_DMATEST_VENDOR | ((uint32_t)STCE_DMATEST_DEVICE << 16));
	/* Odd sizes and alignments are split: 3 bytes at 1. */
	assert_int_equal(stce_host_pread(f->h, f->d, b, 3, CFG + 1), 3);
	assert_int_equal(b[0], STCE_DMATEST_VENDOR >> 8);
	assert_int_equal(b[1], STCE_DMATEST_DEVICE & 0xff);
	/* As vfio-pci's config space (recorded, conformance client device):
	 * an access must lie inside it, else EFAULT; 0 bytes is 0 anywhere. */
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, b, 16, CFG + 252), -1);
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_int_equal(stce_host_pwrite(f->h, f->d, b, 4, CFG + 254), -1);
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, b, 4, CFG + 256), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(stce_host_pread(f->h, f->d, b, 0, CFG + 256), 0);
	assert_int_equal(stce_host_pread(f->h, f->d, b, 4, CFG + 252), 4);
	cmd = STCE_PCI_COMMAND_MASTER;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &cmd, 2, CFG + STCE_PCI_COMMAND), 2);
	cmd = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, &cmd, 2, CFG + STCE_PCI_COMMAND), 2);
	assert_int_equal(cmd, STCE_PCI_COMMAND_MASTER);
	/* A bad buffer is EFAULT, both ways. */
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, (void *)8, 4, CFG), -1);
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_int_equal(stce_host_pwrite(f->h, f->d, (void *)8, 4, CFG), -1);
	assert_int_equal(errno, EFAULT);
}

static void test_region_errors(void **state)
{
	struct fx *f = *state;
	uint64_t v;

	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, &v, 8, (off_t)1 << 40), -1);
	assert_int_equal(errno, EINVAL);	/* BAR1: empty */
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, &v, 8, (off_t)9 << 40), -1);
	assert_int_equal(errno, EINVAL);	/* no such region */
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, &v, 8, -1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->c, &v, 8, 0), -1);
	assert_int_equal(errno, EINVAL);	/* the container has no regions */
	errno = 0;
	assert_int_equal(stce_host_pwrite(f->h, f->g, &v, 8, 0), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, 0, &v, 8, 0), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, -1, &v, 8, 0), -1);
	assert_int_equal(errno, EBADF);
}

static void test_bar0_rw(void **state)
{
	struct fx *f = *state;
	uint32_t lo = 0, hi = 0;
	uint16_t half = 0;
	uint8_t byte = 1;

	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_ID), STCE_DMATEST_ID);
	assert_int_equal(stce_host_pread(f->h, f->d, &lo, 4, BAR0), 4);
	assert_int_equal(stce_host_pread(f->h, f->d, &hi, 4, BAR0 + 4), 4);
	assert_int_equal(((uint64_t)hi << 32) | lo, STCE_DMATEST_ID);
	assert_int_equal(stce_host_pread(f->h, f->d, &half, 2, BAR0 + 2), 2);
	assert_int_equal(half, (uint16_t)(STCE_DMATEST_ID >> 16));
	errno = 0;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &byte, 1, BAR0 + STCE_DMATEST_REG_SRC), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, &lo, 4, BAR0 + 4096), -1);
	assert_int_equal(errno, EINVAL);
	/* A DMA command through pwrite, reaching the mapped memory. */
	bus_master(f);
	run_cmd(f, STCE_DMATEST_CMD_FILL, f->bus, 4096);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_DONE);
	assert_int_equal(f->ram[4095], 0x77);
	assert_int_equal(f->ram[4096], 0x5a);
}

static void test_frozen_reads_all_ones(void **state)
{
	struct fx *f = *state;
	uint32_t vendor;

	bus_master(f);
	run_cmd(f, STCE_DMATEST_CMD_FILL, f->bus + MEM, 4096);	/* outside */
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_ID), UINT64_MAX);
	/* The ids come from vfio-pci's virtual copy; class/revision is read
	 * from the frozen device. */
	assert_int_equal(stce_host_pread(f->h, f->d, &vendor, 4, CFG), 4);
	assert_int_equal(vendor, STCE_DMATEST_VENDOR | ((uint32_t)STCE_DMATEST_DEVICE << 16));
	assert_int_equal(stce_host_pread(f->h, f->d, &vendor, 4, CFG + 8), 4);
	assert_int_equal(vendor, UINT32_MAX);
}

static long eeh(struct fx *f, uint32_t op)
{
	struct vfio_eeh_pe_op o = { .argsz = sizeof(o), .op = op };

	return stce_host_ioctl(f->h, f->c, VFIO_EEH_PE_OP, &o);
}

/*
 * Between RESET_HOT and RESET_DEACTIVATE the kernel blocks the device's
 * config space (ENODEV), all but what vfio-pci virtualizes (recorded:
 * conformance client eeh_seq).
 */
static void test_config_blocked_in_reset(void **state)
{
	struct fx *f = *state;
	uint32_t v = 0;

	assert_int_equal(eeh(f, VFIO_EEH_PE_RESET_HOT), 0);
	errno = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, &v, 4, CFG + 8), -1);
	assert_int_equal(errno, ENODEV);
	errno = 0;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &v, 2, CFG + STCE_PCI_COMMAND), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(stce_host_pread(f->h, f->d, &v, 2, CFG), 2);
	assert_int_equal(v, STCE_DMATEST_VENDOR);
	/* Writes to the ids are dropped, as vfio-pci's. */
	assert_int_equal(stce_host_pwrite(f->h, f->d, &v, 2, CFG + 2), 2);
	assert_int_equal(eeh(f, VFIO_EEH_PE_RESET_DEACTIVATE), 0);
	assert_int_equal(stce_host_pread(f->h, f->d, &v, 4, CFG), 4);
	assert_int_equal(v, STCE_DMATEST_VENDOR | ((uint32_t)STCE_DMATEST_DEVICE << 16));
	assert_int_equal(stce_host_pread(f->h, f->d, &v, 4, CFG + 8), 4);
	assert_true(v != UINT32_MAX);
}

/* ---- interrupts ---------------------------------------------------- */

static void test_irq_info(void **state)
{
	struct fx *f = *state;
	struct vfio_irq_info i = { .argsz = sizeof(i) };

	i.index = VFIO_PCI_INTX_IRQ_INDEX;
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_IRQ_INFO, &i), 0);
	assert_int_equal(i.count, 1);
	assert_int_equal(i.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
				  VFIO_IRQ_INFO_AUTOMASKED);
	i.index = VFIO_PCI_MSI_IRQ_INDEX;
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_IRQ_INFO, &i), 0);
	assert_int_equal(i.count, 0);
	assert_int_equal(i.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	i.index = VFIO_PCI_REQ_IRQ_INDEX;
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_IRQ_INFO, &i), 0);
	assert_int_equal(i.count, 1);
	i.index = VFIO_PCI_ERR_IRQ_INDEX;
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_IRQ_INFO, &i), -1);
	assert_int_equal(errno, EINVAL);
	i.index = VFIO_PCI_NUM_IRQS;
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_IRQ_INFO, &i), -1);
	assert_int_equal(errno, EINVAL);
	i.argsz = 12;
	i.index = 0;
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_IRQ_INFO, &i), -1);
	assert_int_equal(errno, EINVAL);
}

struct irq_req {
	struct vfio_irq_set s;
	int32_t fd;
};

static int set_irqs(struct fx *f, uint32_t flags, uint32_t index, uint32_t count,
		    int32_t fd)
{
	struct irq_req r = {
		.s = { .argsz = sizeof(r), .flags = flags, .index = index,
		       .start = 0, .count = count },
		.fd = fd,
	};

	return dioctl(f, VFIO_DEVICE_SET_IRQS, &r);
}

#define TRIG_EFD	(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define UNMASK		(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK)

static void test_set_irqs_errors(void **state)
{
	struct fx *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK), pipefd[2];
	struct irq_req r = { .s = { .argsz = 16, .flags = TRIG_EFD, .count = 1 } };

	assert_int_equal(pipe(pipefd), 0);
	static const uint32_t bad_flags[] = {
		VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
		VFIO_IRQ_SET_ACTION_TRIGGER,
		TRIG_EFD | (1u << 6),
	};
	/* The header check is the core's (one data type, known bits); the
	 * action is vfio-pci's, which has none for no action or several
	 * (recorded: TRIGGER|MASK is ENOTTY, conformance client device). */
	static const uint32_t no_action[] = {
		VFIO_IRQ_SET_DATA_NONE,
		VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_ACTION_MASK,
	};
	for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		assert_int_equal(set_irqs(f, bad_flags[i], 0, 1, efd), -1);
		assert_int_equal(errno, EINVAL);
	}
	for (size_t i = 0; i < sizeof(no_action) / sizeof(no_action[0]); i++) {
		assert_int_equal(set_irqs(f, no_action[i], 0, 1, efd), -1);
		assert_int_equal(errno, ENOTTY);
	}
	assert_int_equal(set_irqs(f, TRIG_EFD, VFIO_PCI_MSI_IRQ_INDEX, 1, efd), -1);
	assert_int_equal(errno, EINVAL);	/* no MSI */
	assert_int_equal(set_irqs(f, TRIG_EFD, VFIO_PCI_NUM_IRQS, 1, efd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 2, efd), -1);
	assert_int_equal(errno, EINVAL);	/* one INTx */
	assert_int_equal(dioctl(f, VFIO_DEVICE_SET_IRQS, &r), -1);
	assert_int_equal(errno, EINVAL);	/* argsz without room for the fd */
	r.s.argsz = 8;
	assert_int_equal(dioctl(f, VFIO_DEVICE_SET_IRQS, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dioctl(f, VFIO_DEVICE_SET_IRQS, NULL), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, pipefd[0]), -1);
	assert_int_equal(errno, EINVAL);	/* not an eventfd */
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, 9999), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(set_irqs(f, UNMASK, 0, 1, 0), -1);
	assert_int_equal(errno, EINVAL);	/* INTx not enabled */
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				  0, 1, 0), -1);
	assert_int_equal(errno, EINVAL);	/* loopback without a trigger */
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
				  VFIO_PCI_REQ_IRQ_INDEX, 1, 0), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
				  0, 1, efd), -1);
	assert_int_equal(errno, EINVAL);
	close(efd);
	close(pipefd[0]);
	close(pipefd[1]);
}

static uint64_t efd_count(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

#define MASK		(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK)
#define LOOPBACK	(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)
#define TRIG_OFF	LOOPBACK	/* with count 0 */

/* A completion with the IRQ bit: the device asserts INTA until ack(). */
static void raise_intx(struct fx *f)
{
	run_cmd(f, STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ, f->bus, 64);
}

/* The handler's acknowledge at the device: IRQS cleared, INTA deasserted. */
static void ack(struct fx *f)
{
	bar_wr(f, STCE_DMATEST_REG_IRQS, 0);
}

static int unmask(struct fx *f)
{
	return set_irqs(f, UNMASK, 0, 1, 0);
}

static int set_bool(struct fx *f, uint32_t action, uint8_t v)
{
	struct { struct vfio_irq_set s; uint8_t b; } r = {
		.s = { .argsz = sizeof(r), .flags = VFIO_IRQ_SET_DATA_BOOL | action,
		       .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1 },
		.b = v,
	};

	return dioctl(f, VFIO_DEVICE_SET_IRQS, &r);
}

static uint16_t cfg16(struct fx *f, off_t off)
{
	uint16_t v = 0;

	assert_int_equal(stce_host_pread(f->h, f->d, &v, 2, CFG + off), 2);
	return v;
}

static void cfg16_wr(struct fx *f, off_t off, uint16_t v)
{
	assert_int_equal(stce_host_pwrite(f->h, f->d, &v, 2, CFG + off), 2);
}

static bool intx_status(struct fx *f)
{
	return cfg16(f, STCE_PCI_STATUS) & STCE_PCI_STATUS_INTERRUPT;
}

#define CMD_ON	(STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER)
#define CMD_OFF	(CMD_ON | STCE_PCI_COMMAND_INTX_DISABLE)

/* INTx as vfio-pci delivers a level interrupt (the oracle's e1000e). */
static void test_intx_delivery(void **state)
{
	struct fx *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK);

	bus_master(f);
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, efd), 0);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 1);
	assert_true(intx_status(f));
	/* Automasked: a completion while masked is not signalled... */
	raise_intx(f);
	assert_int_equal(efd_count(efd), 0);
	/* ...and UNMASK while the device still asserts re-sends it and
	 * stays masked. */
	assert_int_equal(unmask(f), 0);
	assert_int_equal(efd_count(efd), 1);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 0);
	/* Handled (acknowledged at the device, then UNMASK): nothing
	 * pending, the next completion comes through. */
	ack(f);
	assert_false(intx_status(f));
	assert_int_equal(unmask(f), 0);
	assert_int_equal(efd_count(efd), 0);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);
	/* A command without the IRQ bit raises nothing. */
	run_cmd(f, STCE_DMATEST_CMD_FILL, f->bus, 64);
	assert_int_equal(efd_count(efd), 0);
	assert_false(intx_status(f));

	/* MASK holds it back; BOOL false unmasks nothing, true does. */
	assert_int_equal(set_irqs(f, MASK, 0, 1, 0), 0);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(set_bool(f, VFIO_IRQ_SET_ACTION_UNMASK, 0), 0);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(set_bool(f, VFIO_IRQ_SET_ACTION_UNMASK, 1), 0);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);
	/* MASK BOOL false masks nothing; deasserted while MASKed: nothing. */
	assert_int_equal(set_bool(f, VFIO_IRQ_SET_ACTION_MASK, 0), 0);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);
	assert_int_equal(set_bool(f, VFIO_IRQ_SET_ACTION_MASK, 1), 0);
	raise_intx(f);
	ack(f);
	assert_int_equal(unmask(f), 0);
	assert_int_equal(efd_count(efd), 0);

	/* Loopback: signals, masked or not, and masks nothing. */
	assert_int_equal(set_irqs(f, LOOPBACK, 0, 1, 0), 0);
	assert_int_equal(efd_count(efd), 1);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 1);
	assert_int_equal(set_irqs(f, LOOPBACK, 0, 1, 0), 0);
	assert_int_equal(efd_count(efd), 1);
	assert_int_equal(set_bool(f, VFIO_IRQ_SET_ACTION_TRIGGER, 0), 0);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(set_bool(f, VFIO_IRQ_SET_ACTION_TRIGGER, 1), 0);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);

	/* No irqfd: MASK with an eventfd is ENOTTY (as vfio-pci), UNMASK
	 * with one EINVAL (not offered), with -1 (off) 0. */
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK,
				  0, 1, efd), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
				  0, 1, efd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
				  0, 1, -1), 0);

	/* Disabled: count 0; nothing arrives, MASK and loopback refused. */
	assert_int_equal(set_irqs(f, TRIG_OFF, 0, 0, 0), 0);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(set_irqs(f, MASK, 0, 1, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(set_irqs(f, LOOPBACK, 0, 1, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(set_irqs(f, TRIG_OFF, 0, 0, 0), -1);
	assert_int_equal(errno, EINVAL);	/* off already */
	/* Set while the device asserts: not delivered until the next edge
	 * (what the kernel did on the oracle), or until INTx Disable masks
	 * and unmasks the line, which finds the level. */
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, efd), 0);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(unmask(f), 0);
	assert_int_equal(efd_count(efd), 0);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);

	/* -1 drops the eventfd but stays in INTx mode, as vfio-pci's. */
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, -1), 0);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(set_irqs(f, MASK, 0, 1, 0), 0);
	assert_int_equal(set_irqs(f, LOOPBACK, 0, 1, 0), 0);
	assert_int_equal(efd_count(efd), 0);
	/* The user's eventfd was duplicated: closing ours is harmless. */
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, efd), 0);
	ack(f);
	assert_int_equal(unmask(f), 0);
	assert_int_equal(set_irqs(f, TRIG_OFF, 0, 0, 0), 0);
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, -1), 0);	/* on, no eventfd */
	assert_int_equal(set_irqs(f, MASK, 0, 1, 0), 0);
	close(efd);
}

/* The command register's INTx Disable, virtualized as vfio-pci does. */
static void test_intx_disable(void **state)
{
	struct fx *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK), d2;
	struct stce_pe *pe;
	uint32_t dw = 0;
	uint8_t b = 0;

	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), STCE_PCI_COMMAND_MEMORY);
	/* Read back as written, by any access size. */
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), CMD_OFF);
	assert_int_equal(stce_host_pread(f->h, f->d, &b, 1, CFG + 5), 1);
	assert_int_equal(b, STCE_PCI_COMMAND_INTX_DISABLE >> 8);
	b = 0;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &b, 1, CFG + 5), 1);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), CMD_ON);
	dw = CMD_OFF;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &dw, 4, CFG + STCE_PCI_COMMAND), 4);
	dw = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, &dw, 4, CFG + STCE_PCI_COMMAND), 4);
	assert_int_equal(dw, CMD_OFF);		/* status 0: nothing asserted */
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);

	/* Under INTx Disable the device's interrupt shows in the status
	 * but is not signalled, not even by loopback or UNMASK; clearing
	 * the bit delivers it, as the device still asserts. */
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, efd), 0);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	raise_intx(f);
	assert_true(intx_status(f));
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(set_irqs(f, LOOPBACK, 0, 1, 0), 0);
	assert_int_equal(unmask(f), 0);
	assert_int_equal(efd_count(efd), 0);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);
	/* Asserted and acknowledged under INTx Disable: nothing to deliver. */
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	raise_intx(f);
	ack(f);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);
	assert_int_equal(efd_count(efd), 0);
	/* Set while automasked, acknowledged, cleared: nothing either. */
	raise_intx(f);
	assert_int_equal(efd_count(efd), 1);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	ack(f);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);
	assert_int_equal(efd_count(efd), 0);
	/* Clearing INTx Disable unmasks, even a MASKed line (vfio-pci's). */
	assert_int_equal(set_irqs(f, MASK, 0, 1, 0), 0);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);
	raise_intx(f);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);

	/* Set before the trigger: INTx starts masked. */
	assert_int_equal(set_irqs(f, TRIG_OFF, 0, 0, 0), 0);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	raise_intx(f);
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, efd), 0);
	assert_int_equal(efd_count(efd), 0);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);
	assert_int_equal(efd_count(efd), 1);
	ack(f);
	assert_int_equal(unmask(f), 0);

	/* While frozen the command reads all-ones but for the user's bit. */
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	run_cmd(f, STCE_DMATEST_CMD_FILL, f->bus + MEM, 4096);	/* outside */
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), 0xffff);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), 0xffff & ~STCE_PCI_COMMAND_INTX_DISABLE);
	pe = stce_device_pe(stce_platform_device(stce_host_platform(f->h), 0));
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_DMA), 0);

	/* Kept across RESET; gone when the last descriptor closes. */
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_OFF);
	assert_int_equal(dioctl(f, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), CMD_OFF);
	d2 = stce_host_ioctl(f->h, f->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(d2 >= 0);
	assert_int_equal(stce_host_close(f->h, f->d), 0);
	f->d = d2;
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), CMD_OFF);	/* still open */
	assert_int_equal(stce_host_close(f->h, f->d), 0);
	f->d = stce_host_ioctl(f->h, f->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(f->d >= 0);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), STCE_PCI_COMMAND_MEMORY);
	close(efd);
}

/* The interrupt pin and line as vfio-pci shows them (QEMU reads the pin
 * with a 1-byte pread at 0x3d). */
static void test_intx_pin_line(void **state)
{
	struct fx *f = *state;
	uint8_t b = 0xee;

	assert_int_equal(stce_host_pread(f->h, f->d, &b, 1, CFG + STCE_PCI_INTERRUPT_PIN), 1);
	assert_int_equal(b, 1);
	assert_int_equal(stce_host_pread(f->h, f->d, &b, 1, CFG + STCE_PCI_INTERRUPT_LINE), 1);
	assert_int_equal(b, 0);
	b = 0x5a;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &b, 1, CFG + STCE_PCI_INTERRUPT_LINE), 1);
	b = 0;
	assert_int_equal(stce_host_pread(f->h, f->d, &b, 1, CFG + STCE_PCI_INTERRUPT_LINE), 1);
	assert_int_equal(b, 0x5a);
	b = 0;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &b, 1, CFG + STCE_PCI_INTERRUPT_PIN), 1);
	assert_int_equal(cfg16(f, STCE_PCI_INTERRUPT_LINE), 0x015a);	/* pin read-only */
}

static void test_req_irq(void **state)
{
	struct fx *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK);

	assert_int_equal(set_irqs(f, TRIG_EFD, VFIO_PCI_REQ_IRQ_INDEX, 1, efd), 0);
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				  VFIO_PCI_REQ_IRQ_INDEX, 1, 0), 0);
	assert_int_equal(efd_count(efd), 1);
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				  VFIO_PCI_REQ_IRQ_INDEX, 0, 0), 0);
	assert_int_equal(set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				  VFIO_PCI_REQ_IRQ_INDEX, 1, 0), -1);
	assert_int_equal(errno, EINVAL);
	close(efd);
}

/* Closing the last device file turns interrupts and bus mastering off. */
static void test_last_close_disables(void **state)
{
	struct fx *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK), d2;
	uint16_t cmd = 0xffff;

	bus_master(f);
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, efd), 0);
	d2 = stce_host_ioctl(f->h, f->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(d2 >= 0);
	assert_int_equal(stce_host_close(f->h, f->d), 0);
	/* Another file still open: the set-up stays. */
	f->d = d2;
	run_cmd(f, STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ, f->bus, 64);
	assert_int_equal(efd_count(efd), 1);
	assert_int_equal(stce_host_close(f->h, f->d), 0);
	f->d = stce_host_ioctl(f->h, f->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(f->d >= 0);
	/* Reopened: enabled again (Memory Space), bus mastering still off. */
	assert_int_equal(stce_host_pread(f->h, f->d, &cmd, 2, CFG + STCE_PCI_COMMAND), 2);
	assert_int_equal(cmd, STCE_PCI_COMMAND_MEMORY);
	bus_master(f);
	run_cmd(f, STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ, f->bus, 64);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_DONE);
	assert_int_equal(efd_count(efd), 0);
	close(efd);
}

static void test_reset(void **state)
{
	struct fx *f = *state;
	uint16_t cmd = 0;

	bus_master(f);
	bar_wr(f, STCE_DMATEST_REG_SRC, 0x1234);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_SRC), 0x1234);
	assert_int_equal(dioctl(f, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_SRC), 0);
	assert_int_equal(stce_host_pread(f->h, f->d, &cmd, 2, CFG + STCE_PCI_COMMAND), 2);
	assert_int_equal(cmd, STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER);
}

/* One BAR0 access; its return, errno in *@err. */
static ssize_t bar_io(struct fx *f, bool write, size_t n, off_t at, int *err)
{
	uint64_t v = 0;
	ssize_t r;

	errno = 0;
	r = write ? stce_host_pwrite(f->h, f->d, &v, n, BAR0 + at) :
		    stce_host_pread(f->h, f->d, &v, n, BAR0 + at);
	*err = errno;
	return r;
}

/* Each BAR0 access is -1 EIO, as vfio-pci's with Memory Space off. */
static void assert_bar0_eio(struct fx *f)
{
	int err;

	assert_int_equal(bar_io(f, false, 4, 0, &err), -1);
	assert_int_equal(err, EIO);
	assert_int_equal(bar_io(f, false, 8, 8, &err), -1);
	assert_int_equal(err, EIO);
	assert_int_equal(bar_io(f, false, 1, 1, &err), -1);
	assert_int_equal(err, EIO);
	assert_int_equal(bar_io(f, true, 8, STCE_DMATEST_REG_SRC, &err), -1);
	assert_int_equal(err, EIO);
	/* Memory first, then the device's width rule (1-byte writes). */
	assert_int_equal(bar_io(f, true, 1, STCE_DMATEST_REG_SRC, &err), -1);
	assert_int_equal(err, EIO);
}

/*
 * Memory Space as vfio-pci presents it (recorded on the oracle:
 * tests/device/oracle/ioeventfd.c and conformance client device): on at
 * open (pci_enable_device), BAR access EIO while the user keeps it off -
 * range checks first, 0 bytes succeed, config space unaffected - kept
 * across RESET, on again after the last close; the check uses the value
 * the user wrote, not the device's bit (an EEH reset clears that).
 */
static void test_memory_decoding(void **state)
{
	struct fx *f = *state;
	struct stce_pe *pe;
	uint32_t dw = 0;
	int err;

	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), STCE_PCI_COMMAND_MEMORY);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_ID), STCE_DMATEST_ID);
	cfg16_wr(f, STCE_PCI_COMMAND, STCE_PCI_COMMAND_MASTER);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), STCE_PCI_COMMAND_MASTER);
	assert_bar0_eio(f);
	assert_int_equal(bar_io(f, false, 0, 0, &err), 0);
	assert_int_equal(bar_io(f, false, 4, STCE_DMATEST_BAR0_SIZE, &err), -1);
	assert_int_equal(err, EINVAL);
	assert_int_equal(bar_io(f, false, 4, (off_t)4 << 40, &err), -1);
	assert_int_equal(err, EINVAL);		/* BAR4: empty */
	assert_int_equal(stce_host_pread(f->h, f->d, &dw, 4, CFG), 4);
	/* RESET keeps it off. */
	assert_int_equal(dioctl(f, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), STCE_PCI_COMMAND_MASTER);
	assert_bar0_eio(f);
	/* Only a write starting at the command register sets the copy (a
	 * byte at 0x05 with bit 1 set is not Memory Space). */
	dw = (STCE_PCI_COMMAND_INTX_DISABLE >> 8) | STCE_PCI_COMMAND_MEMORY;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &dw, 1, CFG + 5), 1);
	assert_bar0_eio(f);
	dw = STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER;
	assert_int_equal(stce_host_pwrite(f->h, f->d, &dw, 1, CFG + 4), 1);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_ID), STCE_DMATEST_ID);
	dw = 0xffff0000u | STCE_PCI_COMMAND_MASTER;	/* with STATUS */
	assert_int_equal(stce_host_pwrite(f->h, f->d, &dw, 4, CFG + 4), 4);
	assert_bar0_eio(f);
	cfg16_wr(f, STCE_PCI_COMMAND, STCE_PCI_COMMAND_MEMORY);

	/* An EEH reset clears the device's command register; BAR access
	 * goes on (recorded: eeh_seq), as the user's Memory Space stands. */
	pe = stce_device_pe(stce_platform_device(stce_host_platform(f->h), 0));
	assert_int_equal(eeh(f, VFIO_EEH_PE_RESET_HOT), 0);
	assert_int_equal(eeh(f, VFIO_EEH_PE_RESET_DEACTIVATE), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_DMA), 0);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), 0);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_ID), STCE_DMATEST_ID);

	/* Off at the last close; the next open enables it again. */
	cfg16_wr(f, STCE_PCI_COMMAND, 0);
	assert_int_equal(stce_host_close(f->h, f->d), 0);
	f->d = stce_host_ioctl(f->h, f->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(f->d >= 0);
	assert_int_equal(cfg16(f, STCE_PCI_COMMAND), STCE_PCI_COMMAND_MEMORY);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_ID), STCE_DMATEST_ID);
}

/*
 * The hot-reset pair, as vfio-pci answers (recorded: conformance client
 * device). The default machine has one device a bus: a reset needs its
 * own group.
 */
static void test_hot_reset(void **state)
{
	struct fx *f = *state;
	struct {
		struct vfio_pci_hot_reset_info h;
		struct vfio_pci_dependent_device d[4];
	} info;
	struct {
		struct vfio_pci_hot_reset h;
		int32_t fds[4];
	} rs;
	int efd = eventfd(0, 0), g1;

	memset(&info, 0, sizeof(info));
	info.h.argsz = 11;
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info), -1);
	assert_int_equal(errno, EINVAL);
	info.h.argsz = sizeof(info.h);
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(info.h.count, 1);
	info.h.argsz = sizeof(info);
	assert_int_equal(dioctl(f, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info), 0);
	assert_int_equal(info.h.count, 1);
	assert_int_equal(info.d[0].group_id, 0);
	assert_int_equal(info.d[0].segment, 0x30);	/* 0030:01:00.0 */
	assert_int_equal(info.d[0].bus, 1);
	assert_int_equal(info.d[0].devfn, 0);

	memset(&rs, 0, sizeof(rs));
	rs.h.argsz = sizeof(rs);
	rs.h.count = 1;
	g1 = stce_host_open(f->h, "/dev/vfio/1", O_RDWR);
	assert_true(g1 >= 0);
	rs.fds[0] = g1;
	bar_wr(f, STCE_DMATEST_REG_SRC, 0x1234);
	assert_int_equal(dioctl(f, VFIO_DEVICE_PCI_HOT_RESET, &rs), -1);
	assert_int_equal(errno, EINVAL);	/* another group: not held */
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_SRC), 0x1234);
	rs.fds[0] = -1;
	assert_int_equal(dioctl(f, VFIO_DEVICE_PCI_HOT_RESET, &rs), -1);
	assert_int_equal(errno, EBADF);
	rs.fds[0] = efd;
	assert_int_equal(dioctl(f, VFIO_DEVICE_PCI_HOT_RESET, &rs), -1);
	assert_int_equal(errno, EINVAL);	/* not a group */
	rs.fds[0] = f->g;
	rs.h.count = 0;
	assert_int_equal(dioctl(f, VFIO_DEVICE_PCI_HOT_RESET, &rs), -1);
	assert_int_equal(errno, EINVAL);	/* only a cdev may give none */
	rs.h.count = 2;
	assert_int_equal(dioctl(f, VFIO_DEVICE_PCI_HOT_RESET, &rs), -1);
	assert_int_equal(errno, EINVAL);	/* more than the devices */
	rs.h.count = 1;
	rs.h.flags = 1;
	assert_int_equal(dioctl(f, VFIO_DEVICE_PCI_HOT_RESET, &rs), -1);
	assert_int_equal(errno, EINVAL);
	rs.h.flags = 0;
	/* The fds are read whatever argsz says, as the kernel does. */
	rs.h.argsz = sizeof(rs.h);
	assert_int_equal(dioctl(f, VFIO_DEVICE_PCI_HOT_RESET, &rs), 0);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_SRC), 0);
	assert_int_equal(stce_host_close(f->h, g1), 0);
	close(efd);
}

#define TOPO_BUS "phb 0\npe 0\npe 1\ndevice 0000:00:00.0 pe=0\ndevice 0000:00:01.0 pe=1\n"

/* Two devices on one bus (two groups): a reset of either needs both. */
static void test_hot_reset_shared_bus(void **state)
{
	struct stce_topology *t = NULL;
	struct stce_host *h;
	struct {
		struct vfio_pci_hot_reset_info h;
		struct vfio_pci_dependent_device d[4];
	} info = { .h.argsz = sizeof(info) };
	struct {
		struct vfio_pci_hot_reset h;
		int32_t fds[2];
	} rs = { .h.argsz = sizeof(rs), .h.count = 1 };
	char err[128];
	int c, g0, g1, d;

	(void)state;
	assert_int_equal(stce_topology_parse(TOPO_BUS, &t, err, sizeof(err)), 0);
	assert_int_equal(stce_host_create(t, &h), 0);
	stce_topology_free(t);
	c = stce_host_open(h, "/dev/vfio/vfio", O_RDWR);
	g0 = stce_host_open(h, "/dev/vfio/0", O_RDWR);
	g1 = stce_host_open(h, "/dev/vfio/1", O_RDWR);
	assert_int_equal(stce_host_ioctl(h, g0, VFIO_GROUP_SET_CONTAINER, &c), 0);
	assert_int_equal(stce_host_ioctl(h, c, VFIO_SET_IOMMU,
					 (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	d = stce_host_ioctl(h, g0, VFIO_GROUP_GET_DEVICE_FD, "0000:00:00.0");
	assert_true(d >= 0);
	assert_int_equal(stce_host_ioctl(h, d, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info), 0);
	assert_int_equal(info.h.count, 2);
	assert_int_equal(info.d[1].group_id, 1);
	assert_int_equal(info.d[1].devfn, 1 << 3);	/* 00:01.0 */
	rs.fds[0] = g0;
	assert_int_equal(stce_host_ioctl(h, d, VFIO_DEVICE_PCI_HOT_RESET, &rs), -1);
	assert_int_equal(errno, EINVAL);	/* group 1 is not held */
	rs.h.count = 2;
	rs.fds[1] = g1;
	assert_int_equal(stce_host_ioctl(h, d, VFIO_DEVICE_PCI_HOT_RESET, &rs), 0);
	stce_host_destroy(h);
}

static long feature(struct fx *f, uint32_t argsz, uint32_t flags, const void *data,
		    size_t len)
{
	struct {
		struct vfio_device_feature f;
		uint8_t data[16];
	} b;

	memset(&b, 0, sizeof(b));
	b.f.argsz = argsz;
	b.f.flags = flags;
	if (len)
		memcpy(b.data, data, len);
	return dioctl(f, VFIO_DEVICE_FEATURE, &b);
}

/* VFIO_DEVICE_FEATURE: the core's checks, vfio-pci's power features. */
static void test_feature(void **state)
{
	struct fx *f = *state;
	const uint32_t hdr = sizeof(struct vfio_device_feature);
	struct vfio_device_low_power_entry_with_wakeup w = { .wakeup_eventfd = -1 };
	int efd = eventfd(0, 0);

	assert_int_equal(feature(f, 7, VFIO_DEVICE_FEATURE_PROBE, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_PROBE | (1u << 19), NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT |
				 VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);	/* GET and SET without PROBE */
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_PCI_VF_TOKEN |
				 VFIO_DEVICE_FEATURE_PROBE, NULL, 0), -1);
	assert_int_equal(errno, ENOTTY);	/* no VFs */
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_MIGRATION |
				 VFIO_DEVICE_FEATURE_PROBE, NULL, 0), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY |
				 VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, NULL, 0), 0);
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY |
				 VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);	/* neither GET nor SET */
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY |
				 VFIO_DEVICE_FEATURE_SET, NULL, 0), 0);
	assert_int_equal(feature(f, hdr, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT |
				 VFIO_DEVICE_FEATURE_SET, NULL, 0), 0);
	/* With a wakeup eventfd: room for it, an eventfd, reserved 0. */
	assert_int_equal(feature(f, hdr + 4, VFIO_DEVICE_FEATURE_SET | 4, &w, sizeof(w)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(feature(f, hdr + 8, VFIO_DEVICE_FEATURE_SET | 4, &w, sizeof(w)), -1);
	assert_int_equal(errno, EBADF);
	w.wakeup_eventfd = f->g;
	assert_int_equal(feature(f, hdr + 8, VFIO_DEVICE_FEATURE_SET | 4, &w, sizeof(w)), -1);
	assert_int_equal(errno, EINVAL);
	w.wakeup_eventfd = efd;
	w.reserved = 1;
	assert_int_equal(feature(f, hdr + 8, VFIO_DEVICE_FEATURE_SET | 4, &w, sizeof(w)), -1);
	assert_int_equal(errno, EINVAL);
	w.reserved = 0;
	assert_int_equal(feature(f, hdr + 8, VFIO_DEVICE_FEATURE_SET | 4, &w, sizeof(w)), 0);
	assert_int_equal(dioctl(f, VFIO_DEVICE_FEATURE, NULL), -1);
	assert_int_equal(errno, EFAULT);
	close(efd);
}

/* ---- VFIO_DEVICE_IOEVENTFD ---------------------------------------- */

static long ioe_at(struct fx *f, uint32_t argsz, uint32_t flags, uint64_t off,
		   uint64_t data, int32_t fd)
{
	struct vfio_device_ioeventfd e = {
		.argsz = argsz, .flags = flags, .offset = off, .data = data, .fd = fd,
	};

	return dioctl(f, VFIO_DEVICE_IOEVENTFD, &e);
}

#define IOESZ	((uint32_t)sizeof(struct vfio_device_ioeventfd))

/* A BAR0 ioeventfd of @size bytes at @reg. */
static long ioe(struct fx *f, uint32_t size, uint64_t reg, uint64_t data, int32_t fd)
{
	return ioe_at(f, IOESZ, size, (uint64_t)BAR0 + reg, data, fd);
}

static void signal_efd(int efd)
{
	uint64_t one = 1;

	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
}

static bool efd_holds(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* The ioeventfd thread writes a moment after the signal: wait (5 s at
 * most) until BAR0 register @reg reads @want. */
static bool wait_reg(struct fx *f, uint64_t reg, uint64_t want)
{
	for (int ms = 0; ms < 5000; ms++) {
		struct timespec ts = { 0, 1000 * 1000 };

		if (bar_rd(f, reg) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/*
 * Every input check, in vfio-pci's order (recorded: conformance client
 * device, tests/device/oracle/ioeventfd.c), and the table's rules.
 */
static void test_ioeventfd_checks(void **state)
{
	struct fx *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK), pipefd[2], n = 0;
	const uint64_t end = STCE_DMATEST_BAR0_SIZE;

	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(dioctl(f, VFIO_DEVICE_IOEVENTFD, NULL), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(ioe_at(f, 27, 4, (uint64_t)BAR0, 0, efd), -1);
	assert_int_equal(errno, EINVAL);	/* argsz ends before fd's end */
	assert_int_equal(ioe_at(f, 28, 4, (uint64_t)BAR0, 0, -1), -1);
	assert_int_equal(errno, ENODEV);	/* 28 is enough */
	assert_int_equal(ioe(f, 4 | 0x10, 0, 0, efd), -1);
	assert_int_equal(errno, EINVAL);	/* a flag beyond the sizes */
	assert_int_equal(ioe(f, 0, 0, 0, efd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioe(f, 3, 0, 0, efd), -1);
	assert_int_equal(errno, EINVAL);	/* two sizes */
	assert_int_equal(ioe(f, 4, 0, 0, -2), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioe_at(f, IOESZ, 4, (uint64_t)CFG, 0, efd), -1);
	assert_int_equal(errno, EINVAL);	/* BARs only */
	assert_int_equal(ioe_at(f, IOESZ, 4, (uint64_t)1 << 40, 0, efd), -1);
	assert_int_equal(errno, EINVAL);	/* BAR1: empty */
	assert_int_equal(ioe_at(f, IOESZ, 4, (uint64_t)9 << 40, 0, efd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioe_at(f, IOESZ, 4, 1ULL << 63, 0, efd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioe(f, 4, end - 2, 0, efd), -1);
	assert_int_equal(errno, EINVAL);	/* runs past the end */
	assert_int_equal(ioe(f, 8, end, 0, efd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioe(f, 4, 0, 0, -1), -1);
	assert_int_equal(errno, ENODEV);	/* nothing to remove */
	assert_int_equal(ioe(f, 4, 0, 0, 9999), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(ioe(f, 4, 0, 0, pipefd[0]), -1);
	assert_int_equal(errno, EINVAL);	/* not an eventfd */

	/* (offset, data, size) names one; the rest may repeat. */
	assert_int_equal(ioe(f, 8, end - 8, 0, efd), 0);
	assert_int_equal(errno, 0);
	assert_int_equal(ioe(f, 8, end - 8, 0, efd), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(ioe(f, 8, end - 8, 0, pipefd[0]), -1);
	assert_int_equal(errno, EEXIST);	/* before the fd is looked at */
	assert_int_equal(ioe(f, 4, end - 8, 0, efd), 0);
	assert_int_equal(ioe(f, 8, end - 8, 1, efd), 0);
	assert_int_equal(ioe(f, 2, 3, 0, efd), 0);	/* unaligned: accepted */
	assert_int_equal(ioe(f, 4, end - 8, 0, -1), 0);
	assert_int_equal(ioe(f, 4, end - 8, 0, -1), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(ioe(f, 4, end - 8, 0, -2), -1);
	assert_int_equal(errno, EINVAL);

	/* 1000 a device; the limit comes before the fd, after the table. */
	while (ioe(f, 1, 0, (uint64_t)n, efd) == 0)
		n++;
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(n, 1000 - 3);
	assert_int_equal(ioe(f, 1, 0, 5000, 9999), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(ioe(f, 1, 0, 5000, -1), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(ioe(f, 1, 0, 7, efd), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(ioe(f, 1, 0, 7, -1), 0);
	assert_int_equal(ioe(f, 1, 0, 5000, efd), 0);
	assert_int_equal(ioe(f, 1, 0, 5001, efd), -1);
	assert_int_equal(errno, ENOSPC);
	close(efd);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * A signal does the registered write: CMD runs the command (and its
 * interrupt is delivered); not while Memory Space is off, not after the
 * removal; a count already in the eventfd is written within the
 * registration; the count is taken.
 */
static void test_ioeventfd_runs_cmd(void **state)
{
	struct fx *f = *state;
	const uint64_t cmd = STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ;
	int efd = eventfd(0, EFD_NONBLOCK), fence = eventfd(0, EFD_NONBLOCK);
	int intx = eventfd(0, EFD_NONBLOCK);

	bus_master(f);
	assert_int_equal(set_irqs(f, TRIG_EFD, 0, 1, intx), 0);
	bar_wr(f, STCE_DMATEST_REG_DST, f->bus);
	bar_wr(f, STCE_DMATEST_REG_LEN, 4096);
	bar_wr(f, STCE_DMATEST_REG_PATTERN, 0x77);
	assert_int_equal(ioe(f, 8, STCE_DMATEST_REG_CMD, cmd, efd), 0);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_IDLE);
	signal_efd(efd);
	assert_true(wait_reg(f, STCE_DMATEST_REG_STATUS, STCE_DMATEST_STATUS_DONE));
	assert_int_equal(f->ram[0], 0x77);
	assert_int_equal(f->ram[4095], 0x77);
	assert_int_equal(f->ram[4096], 0x5a);
	assert_int_equal(efd_count(intx), 1);
	assert_int_equal(efd_count(efd), 0);	/* taken */
	bar_wr(f, STCE_DMATEST_REG_IRQS, 0);
	assert_int_equal(set_irqs(f, UNMASK, 0, 1, 0), 0);

	/* Memory Space off: dropped, not replayed when it is back. The
	 * IOEVENTFD call waits for a write in progress. */
	bar_wr(f, STCE_DMATEST_REG_PATTERN, 0x11);
	cfg16_wr(f, STCE_PCI_COMMAND, STCE_PCI_COMMAND_MASTER);
	signal_efd(efd);
	for (int ms = 0; ms < 5000 && efd_holds(efd); ms++) {
		struct timespec ts = { 0, 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	assert_false(efd_holds(efd));
	assert_int_equal(ioe(f, 4, 0, 0, -1), -1);
	cfg16_wr(f, STCE_PCI_COMMAND, CMD_ON);
	assert_int_equal(f->ram[0], 0x77);
	/* Removed: a later signal (fenced by another ioeventfd) runs nothing. */
	assert_int_equal(ioe(f, 8, STCE_DMATEST_REG_CMD, cmd, -1), 0);
	assert_int_equal(ioe(f, 8, STCE_DMATEST_REG_SRC, 0xfe11ce, fence), 0);
	signal_efd(efd);
	signal_efd(fence);
	assert_true(wait_reg(f, STCE_DMATEST_REG_SRC, 0xfe11ce));
	assert_int_equal(f->ram[0], 0x77);
	assert_int_equal(efd_count(efd), 1);	/* nobody took it */

	/* A count already there: written before the registration returns,
	 * and taken (the kernel writes it too, but leaves the count). */
	signal_efd(efd);
	errno = 0;
	assert_int_equal(ioe(f, 8, STCE_DMATEST_REG_CMD, STCE_DMATEST_CMD_FILL, efd), 0);
	assert_int_equal(errno, 0);
	assert_int_equal(bar_rd(f, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_DONE);
	assert_int_equal(f->ram[0], 0x11);
	assert_int_equal(efd_count(efd), 0);
	close(efd);
	close(fence);
	close(intx);
}

static unsigned int count_dir(const char *path)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(path);

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The last close takes the registrations, their thread and descriptors
 * away; one that is not the last keeps them. */
static void test_ioeventfd_teardown(void **state)
{
	struct fx *f = *state;
	unsigned int fds = count_dir("/proc/self/fd");
	unsigned int tasks = count_dir("/proc/self/task");
	int efd = eventfd(0, EFD_NONBLOCK), d2;

	for (int i = 0; i < 8; i++)
		assert_int_equal(ioe(f, 8, STCE_DMATEST_REG_SRC, (uint64_t)i, efd), 0);
	assert_int_equal(count_dir("/proc/self/task"), tasks + 1);
	assert_true(count_dir("/proc/self/fd") > fds + 8);
	d2 = stce_host_ioctl(f->h, f->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(d2 >= 0);
	assert_int_equal(stce_host_close(f->h, f->d), 0);
	f->d = d2;
	assert_int_equal(ioe(f, 8, STCE_DMATEST_REG_SRC, 0, efd), -1);
	assert_int_equal(errno, EEXIST);	/* shared, still there */
	bar_wr(f, STCE_DMATEST_REG_SRC, 0x99);
	signal_efd(efd);
	assert_true(wait_reg(f, STCE_DMATEST_REG_SRC, 0));
	assert_int_equal(stce_host_close(f->h, f->d), 0);
	assert_int_equal(count_dir("/proc/self/task"), tasks);
	/* efd in, the device's descriptor out */
	assert_int_equal(count_dir("/proc/self/fd"), fds);
	f->d = stce_host_ioctl(f->h, f->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(f->d >= 0);
	assert_int_equal(ioe(f, 8, STCE_DMATEST_REG_SRC, 0, -1), -1);
	assert_int_equal(errno, ENODEV);
	close(efd);
}

/* ---- host additions ------------------------------------------------ */

static void test_dup(void **state)
{
	struct fx *f = *state;
	unsigned int open_before = stce_host_open_fds(f->h);
	int g2 = dup(f->g), c2 = fcntl(f->c, F_DUPFD_CLOEXEC, 0), status_ret;
	struct vfio_group_status st = { .argsz = sizeof(st) };

	assert_int_equal(stce_host_dup(f->h, f->g, g2), g2);
	assert_int_equal(stce_host_dup(f->h, f->c, c2), c2);
	assert_int_equal(stce_host_open_fds(f->h), open_before + 2);
	assert_int_equal(stce_host_fd_kind(f->h, g2), STCE_HOST_FD_GROUP);
	/* Closing the original keeps the object: same group, same container. */
	assert_int_equal(stce_host_close(f->h, f->g), 0);
	f->g = g2;
	status_ret = stce_host_ioctl(f->h, g2, VFIO_GROUP_GET_STATUS, &st);
	assert_int_equal(status_ret, 0);
	assert_true(st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
	errno = 0;
	assert_int_equal(stce_host_open(f->h, "/dev/vfio/0", O_RDWR), -1);
	assert_int_equal(errno, EBUSY);		/* still open through g2 */
	assert_int_equal(stce_host_ioctl(f->h, c2, VFIO_CHECK_EXTENSION,
					 (void *)(uintptr_t)VFIO_EEH), 1);
	/* dup2 onto a host descriptor releases what it named. */
	assert_int_equal(stce_host_dup(f->h, f->c, c2), c2);
	assert_int_equal(stce_host_close(f->h, c2), 0);
	/* Errors. */
	errno = 0;
	assert_int_equal(stce_host_dup(f->h, 0, 100), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(stce_host_dup(f->h, f->c, -1), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(stce_host_dup(f->h, -1, 5), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(stce_host_dup(f->h, f->c, f->c), f->c);
	assert_int_equal(stce_host_open_fds(f->h), open_before);
}

static void test_kind_and_mmap(void **state)
{
	struct fx *f = *state;

	assert_int_equal(stce_host_fd_kind(f->h, f->c), STCE_HOST_FD_CONTAINER);
	assert_int_equal(stce_host_fd_kind(f->h, f->g), STCE_HOST_FD_GROUP);
	assert_int_equal(stce_host_fd_kind(f->h, f->d), STCE_HOST_FD_DEVICE);
	assert_int_equal(stce_host_fd_kind(f->h, 0), STCE_HOST_FD_NONE);
	assert_int_equal(stce_host_fd_kind(f->h, -3), STCE_HOST_FD_NONE);
	assert_int_equal(stce_host_mmap_check(f->h, f->c, 0), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(stce_host_mmap_check(f->h, f->d, BAR0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(stce_host_mmap_check(f->h, 0, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(stce_host_mmap_check(f->h, 1 << 20, 0), -1);
	assert_int_equal(errno, EBADF);
}

static void test_proc_status(void **state)
{
	char line[256];
	long kb = -1;
	FILE *s = stce_proc_status_open();

	(void)state;
	assert_non_null(s);
	while (fgets(line, sizeof(line), s))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(s);
	/* The fixture registered 1 MiB and made tables: all of it shows. */
	assert_int_equal(kb, (long)(stce_account_locked_pages() * stce_host_page_size() / 1024));
	assert_true(kb >= (long)(MEM / 1024));
}

/* ---- the topology's host page ------------------------------------- */

struct page_host {
	struct stce_host *h;
	int c;
};

/* A v2 container on a host of @topo_text (NULL: the default, 64K). */
static int page_host_open(struct page_host *p, const char *topo_text)
{
	struct stce_topology *t = NULL;
	char err[128];
	int g, ret;

	if (topo_text)
		assert_int_equal(stce_topology_parse(topo_text, &t, err, sizeof(err)), 0);
	ret = stce_host_create(t, &p->h);
	stce_topology_free(t);
	if (ret)
		return ret;
	p->c = stce_host_open(p->h, "/dev/vfio/vfio", O_RDWR);
	g = stce_host_open(p->h, "/dev/vfio/0", O_RDWR);
	assert_int_equal(stce_host_ioctl(p->h, g, VFIO_GROUP_SET_CONTAINER, &p->c), 0);
	assert_int_equal(stce_host_ioctl(p->h, p->c, VFIO_SET_IOMMU,
					 (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	return 0;
}

static int page_reg(struct page_host *p, unsigned long cmd, void *va, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)va, .size = size,
	};

	errno = 0;
	return stce_host_ioctl(p->h, p->c, cmd, &r);
}

/* TCE_CREATE; returns the bytes it charged (VmLck's growth), or -errno. */
static long page_create(struct page_host *p, uint32_t shift, uint64_t size,
			uint32_t levels, uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create cr = {
		.argsz = sizeof(cr), .page_shift = shift, .window_size = size,
		.levels = levels,
	};
	uint64_t before = stce_account_locked_pages() * stce_host_page_size();

	if (stce_host_ioctl(p->h, p->c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr))
		return -errno;
	*start = cr.start_addr;
	return (long)(stce_account_locked_pages() * stce_host_page_size() - before);
}

static void page_remove(struct page_host *p, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm), .start_addr = start };

	assert_int_equal(stce_host_ioctl(p->h, p->c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm), 0);
}

#define DEF_WIN	(8L << 20)	/* 2G of 4K pages: 4M of TCEs, 4M of view */
#define TOPO_4K	"host_page 4K\nphb 0\npe 0\ndevice 0000:00:00.0 pe=0\n"

/*
 * "host_page 4K": registration, pinning and locked_vm in 4K pages, as the
 * 4K-page kernel (figures from the oracle, tests/device/oracle); one host
 * page per process.
 */
static void test_host_page_4k(void **state)
{
	uint8_t *map = mmap(NULL, 2 * MEM, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *buf;
	struct page_host p, other;
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	uint64_t start;

	(void)state;
	assert_true(map != MAP_FAILED);
	buf = (uint8_t *)(((uintptr_t)map + MEM - 1) & ~(uintptr_t)(MEM - 1));
	memset(buf, 1, MEM);
	assert_int_equal(page_host_open(&p, TOPO_4K), 0);
	assert_int_equal(stce_host_page_shift(), 12);
	/* A 4K-aligned REGISTER: accepted, 4 kB locked. */
	assert_int_equal(page_reg(&p, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, buf + 4096, 4096), 0);
	assert_int_equal(stce_account_locked_pages() * stce_host_page_size(), 4096);
	assert_int_equal(page_reg(&p, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, buf + 8192, 2048), -1);
	assert_int_equal(errno, EINVAL);
	/* Tables are charged in 4K pages: 64M of 64K pages, one level, is
	 * 8K of TCEs and 8K of userspace view; the 64K kernel charges 128K.
	 * (The first CREATE also makes the default window: 8M, both.) */
	assert_int_equal(page_create(&p, 16, 64 << 20, 1, &start), DEF_WIN + 16384);
	/* 4K-backed memory cannot be mapped by 64K IOMMU pages. */
	assert_int_equal(page_reg(&p, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, buf + 65536, 65536), 0);
	m.vaddr = (uintptr_t)buf + 65536;
	m.iova = start;
	m.size = 65536;
	assert_int_equal(stce_host_ioctl(p.h, p.c, VFIO_IOMMU_MAP_DMA, &m), -1);
	assert_int_equal(errno, EINVAL);
	page_remove(&p, start);
	/* A one-level table over 16 MiB (16G of 4K pages): ENOMEM, as the
	 * 4K kernel, with nothing left charged. */
	assert_int_equal(page_create(&p, 12, 16ULL << 30, 1, &start), -ENOMEM);
	/* Another host in this process must share the host page. */
	assert_int_equal(page_host_open(&other, NULL), -EBUSY);
	assert_int_equal(page_host_open(&other, TOPO_4K), 0);
	stce_host_destroy(other.h);
	stce_host_destroy(p.h);
	assert_int_equal(stce_account_locked_pages(), 0);

	/* With every 4K host gone, a 64K host: the same REGISTER is EINVAL,
	 * the same window charges 128K. */
	assert_int_equal(page_host_open(&p, NULL), 0);
	assert_int_equal(stce_host_page_shift(), 16);
	assert_int_equal(page_reg(&p, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, buf + 4096, 4096), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(page_create(&p, 16, 64 << 20, 1, &start), DEF_WIN + 131072);
	stce_host_destroy(p.h);
	munmap(map, 2 * MEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_get_info),
		T(test_region_info),
		T(test_config_rw),
		T(test_region_errors),
		T(test_bar0_rw),
		T(test_frozen_reads_all_ones),
		T(test_config_blocked_in_reset),
		T(test_irq_info),
		T(test_set_irqs_errors),
		T(test_intx_delivery),
		T(test_intx_disable),
		T(test_intx_pin_line),
		T(test_req_irq),
		T(test_last_close_disables),
		T(test_reset),
		T(test_memory_decoding),
		T(test_hot_reset),
		cmocka_unit_test(test_hot_reset_shared_bus),
		T(test_feature),
		T(test_ioeventfd_checks),
		T(test_ioeventfd_runs_cmd),
		T(test_ioeventfd_teardown),
		T(test_dup),
		T(test_kind_and_mmap),
		T(test_proc_status),
		cmocka_unit_test(test_host_page_4k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
