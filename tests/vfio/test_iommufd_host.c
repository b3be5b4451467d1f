// SPDX-License-Identifier: MIT
/*
 * The host's iommufd wiring through the host API (no preload): /dev/iommu
 * descriptors (open, dup, close, ioctl, refusals), device cdevs
 * (/dev/vfio/devices/vfioN: nothing but BIND before the bind, the bind's
 * checks, attach, DMA through BAR0, detach), the group compat path
 * (VFIO_GROUP_SET_CONTAINER on an iommufd), lifetimes across closes, and
 * that every teardown leaves nothing locked or registered.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include <spapr_tce/account.h>
#include <spapr_tce/device.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/vfio.h>

#include "common/alloc.h"

#define MEM		(1u << 20)
#include "../lib/vfio_region.h"
#define CDEV0		STCE_VFIO_CDEV_PREFIX "0"
#define CDEV1		STCE_VFIO_CDEV_PREFIX "1"

struct fx {
	struct stce_host *h;
	uint8_t *map, *ram;	/* ram: MEM bytes, MEM-aligned */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(stce_host_create(NULL, &f->h), 0);
	f->map = mmap(NULL, 2 * MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->map != MAP_FAILED);
	f->ram = (uint8_t *)(((uintptr_t)f->map + MEM - 1) & ~(uintptr_t)(MEM - 1));
	for (unsigned int i = 0; i < MEM / 2; i++)
		f->ram[i] = (uint8_t)(i * 7 + 1);
	memset(f->ram + MEM / 2, 0, MEM / 2);
	*state = f;
	return 0;
}

/* Whatever was left open goes with the host: nothing may stay charged. */
static int teardown(void **state)
{
	struct fx *f = *state;

	stce_fault_arm(STCE_FAULT_ALLOC, 0);
	stce_host_destroy(f->h);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	munmap(f->map, 2 * MEM);
	free(f);
	return 0;
}

#define assert_fails(call, err) do {				\
	errno = 0;						\
	assert_int_equal((call), -1);				\
	assert_int_equal(errno, (err));				\
} while (0)

static int xopen(struct fx *f, const char *path)
{
	int fd = stce_host_open(f->h, path, O_RDWR);

	assert_true(fd >= 0);
	return fd;
}

static int xioctl(struct fx *f, int fd, unsigned long req, void *arg)
{
	return stce_host_ioctl(f->h, fd, req, arg);
}

static int bind(struct fx *f, int d, int iofd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iofd };
	int ret = xioctl(f, d, VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (!ret && devid)
		*devid = b.out_devid;
	return ret;
}

static int attach(struct fx *f, int d, uint32_t pt_id, uint32_t flags)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a), .flags = flags, .pt_id = pt_id,
	};

	return xioctl(f, d, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
}

static int detach(struct fx *f, int d)
{
	struct vfio_device_detach_iommufd_pt a = { .argsz = sizeof(a) };

	return xioctl(f, d, VFIO_DEVICE_DETACH_IOMMUFD_PT, &a);
}

static uint32_t ioas_alloc(struct fx *f, int iofd)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	assert_int_equal(xioctl(f, iofd, IOMMU_IOAS_ALLOC, &a), 0);
	return a.out_ioas_id;
}

static void ioas_map(struct fx *f, int iofd, uint32_t ioas, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = ioas,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)f->ram, .length = MEM, .iova = iova,
	};

	assert_int_equal(xioctl(f, iofd, IOMMU_IOAS_MAP, &m), 0);
}

static void bar_wr(struct fx *f, int d, uint64_t reg, uint64_t v)
{
	assert_int_equal(stce_host_pwrite(f->h, d, &v, 8, BAR0 + (off_t)reg), 8);
}

static uint64_t bar_rd(struct fx *f, int d, uint64_t reg)
{
	uint64_t v = 0;

	assert_int_equal(stce_host_pread(f->h, d, &v, 8, BAR0 + (off_t)reg), 8);
	return v;
}

/* The device copies the lower half of ram (at @bus) to the upper half;
 * returns its STATUS. */
static uint64_t dma_copy(struct fx *f, int d, uint64_t bus)
{
	uint16_t cmd = STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER;

	memset(f->ram + MEM / 2, 0, MEM / 2);
	assert_int_equal(stce_host_pwrite(f->h, d, &cmd, 2, CFG + STCE_PCI_COMMAND), 2);
	bar_wr(f, d, STCE_DMATEST_REG_SRC, bus);
	bar_wr(f, d, STCE_DMATEST_REG_DST, bus + MEM / 2);
	bar_wr(f, d, STCE_DMATEST_REG_LEN, MEM / 2);
	bar_wr(f, d, STCE_DMATEST_REG_CMD, STCE_DMATEST_CMD_COPY);
	return bar_rd(f, d, STCE_DMATEST_REG_STATUS);
}

static void assert_copied(struct fx *f)
{
	assert_memory_equal(f->ram, f->ram + MEM / 2, MEM / 2);
}

/* ---- /dev/iommu ---------------------------------------------------- */

static void test_paths(void **state)
{
	struct fx *f = *state;

	assert_true(stce_host_path_ours(f->h, "/dev/iommu"));
	assert_true(stce_host_path_ours(f->h, CDEV0));
	assert_true(stce_host_path_ours(f->h, CDEV1));
	/* The default topology has two devices; N is a plain decimal. */
	assert_false(stce_host_path_ours(f->h, STCE_VFIO_CDEV_PREFIX "2"));
	assert_false(stce_host_path_ours(f->h, STCE_VFIO_CDEV_PREFIX "01"));
	assert_false(stce_host_path_ours(f->h, STCE_VFIO_CDEV_PREFIX "-1"));
	assert_false(stce_host_path_ours(f->h, STCE_VFIO_CDEV_PREFIX));
	assert_false(stce_host_path_ours(f->h, STCE_VFIO_CDEV_PREFIX "0x"));
	assert_false(stce_host_path_ours(f->h, "/dev/iommu0"));
	assert_false(stce_host_path_ours(f->h, "/dev/vfio/devices"));
	assert_fails(stce_host_open(f->h, STCE_VFIO_CDEV_PREFIX "2", O_RDWR), ENOENT);
	assert_fails(stce_host_open(f->h, "/dev/iommu/", O_RDWR), ENOENT);
	assert_int_equal(stce_host_open_fds(f->h), 0);
}

static void test_iommufd_open_dup_close(void **state)
{
	struct fx *f = *state;
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	int fd = stce_host_open(f->h, "/dev/iommu", O_RDWR | O_CLOEXEC), fd2;
	uint64_t v;

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(stce_host_fd_kind(f->h, fd), STCE_HOST_FD_IOMMUFD);
	assert_int_equal(stce_host_open_fds(f->h), 1);
	destroy.id = ioas_alloc(f, fd);
	/* A duplicate names the same context: it sees the IOAS. */
	fd2 = dup(fd);
	assert_int_equal(stce_host_dup(f->h, fd, fd2), fd2);
	assert_int_equal(stce_host_fd_kind(f->h, fd2), STCE_HOST_FD_IOMMUFD);
	assert_int_equal(stce_host_open_fds(f->h), 2);
	assert_int_equal(stce_host_close(f->h, fd), 0);
	assert_int_equal(xioctl(f, fd2, IOMMU_DESTROY, &destroy), 0);
	assert_fails(xioctl(f, fd2, IOMMU_DESTROY, &destroy), ENOENT);
	/* The legacy container ioctls answer on it too. */
	assert_int_equal(xioctl(f, fd2, VFIO_GET_API_VERSION, NULL), VFIO_API_VERSION);
	assert_int_equal(xioctl(f, fd2, VFIO_CHECK_EXTENSION,
				(void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 1);
	/* Refusals: unknown ioctl, a group's ioctl, no read/write/mmap. */
	assert_fails(xioctl(f, fd2, _IO(';', 0x8f), NULL), ENOTTY);
	assert_fails(xioctl(f, fd2, VFIO_GROUP_GET_STATUS, NULL), ENOTTY);
	assert_fails(stce_host_pread(f->h, fd2, &v, 8, 0), EINVAL);
	assert_fails(stce_host_pwrite(f->h, fd2, &v, 8, 0), EINVAL);
	assert_fails(stce_host_mmap_check(f->h, fd2, 0), ENODEV);
	assert_int_equal(stce_host_close(f->h, fd2), 0);
	/* Closed: EBADF everywhere. */
	assert_fails(xioctl(f, fd2, IOMMU_IOAS_ALLOC, NULL), EBADF);
	assert_fails(stce_host_close(f->h, fd2), EBADF);
	assert_int_equal(stce_host_fd_kind(f->h, fd2), STCE_HOST_FD_NONE);
	assert_int_equal(stce_host_open_fds(f->h), 0);
}

/* An allocation failure at open (descriptor object, then the context)
 * fails the open and leaves nothing behind. */
static void test_iommufd_open_enomem(void **state)
{
	struct fx *f = *state;
	int fd;

	for (unsigned long nth = 1; nth <= 2; nth++) {
		stce_fault_arm(STCE_FAULT_ALLOC, nth);
		assert_fails(stce_host_open(f->h, "/dev/iommu", O_RDWR), ENOMEM);
		assert_int_equal(stce_host_open_fds(f->h), 0);
	}
	stce_fault_arm(STCE_FAULT_ALLOC, 0);
	fd = xopen(f, "/dev/iommu");
	assert_int_equal(stce_host_close(f->h, fd), 0);
}

/* ---- the device cdev ----------------------------------------------- */

static void test_cdev_before_bind(void **state)
{
	struct fx *f = *state;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int d = stce_host_open(f->h, CDEV0, O_RDWR);
	uint64_t v = 0;

	assert_true(d >= 0);
	assert_int_equal(fcntl(d, F_GETFD), 0);	/* O_CLOEXEC as asked */
	assert_int_equal(stce_host_fd_kind(f->h, d), STCE_HOST_FD_DEVICE);
	/* Only BIND until bound: every other ioctl and region access EINVAL. */
	assert_fails(xioctl(f, d, VFIO_DEVICE_GET_INFO, &info), EINVAL);
	assert_fails(xioctl(f, d, VFIO_DEVICE_RESET, NULL), EINVAL);
	assert_fails(attach(f, d, 1, 0), EINVAL);
	assert_fails(detach(f, d), EINVAL);
	assert_fails(stce_host_pread(f->h, d, &v, 8, BAR0), EINVAL);
	assert_fails(stce_host_pwrite(f->h, d, &v, 8, BAR0), EINVAL);
	assert_fails(stce_host_mmap_check(f->h, d, BAR0), EINVAL);
	/* Never bound: the group was never blocked. */
	assert_int_equal(stce_host_close(f->h, xopen(f, "/dev/vfio/0")), 0);
	assert_int_equal(stce_host_close(f->h, d), 0);
	assert_int_equal(stce_host_open_fds(f->h), 0);
}

static void test_cdev_bind_errors(void **state)
{
	struct fx *f = *state;
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	int iofd = xopen(f, "/dev/iommu"), d = xopen(f, CDEV0);
	int c = xopen(f, "/dev/vfio/vfio"), g, d2, p[2];
	uint32_t devid;

	assert_fails(xioctl(f, d, VFIO_DEVICE_BIND_IOMMUFD, NULL), EFAULT);
	b.argsz = 8;
	b.iommufd = iofd;
	assert_fails(xioctl(f, d, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL);
	b.argsz = sizeof(b);
	b.flags = 1;
	assert_fails(xioctl(f, d, VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL);
	b.flags = 0;
	assert_fails(bind(f, d, -1, NULL), EINVAL);
	/* Not open: EBADF. Open, not an iommufd: EBADFD (container, pipe). */
	assert_true(fcntl(4000, F_GETFD) < 0);
	assert_fails(bind(f, d, 4000, NULL), EBADF);
	assert_fails(bind(f, d, c, NULL), EBADFD);
	assert_int_equal(pipe(p), 0);
	assert_fails(bind(f, d, p[0], NULL), EBADFD);
	close(p[0]);
	close(p[1]);
	/* The group open blocks the bind, and the bind the group open. */
	g = xopen(f, "/dev/vfio/0");
	assert_fails(bind(f, d, iofd, NULL), EBUSY);
	assert_int_equal(stce_host_close(f->h, g), 0);
	assert_int_equal(bind(f, d, iofd, &devid), 0);
	assert_true(devid > 0);
	assert_fails(stce_host_open(f->h, "/dev/vfio/0", O_RDWR), EBUSY);
	assert_int_equal(stce_host_close(f->h, xopen(f, "/dev/vfio/1")), 0);
	/* Bound already. */
	assert_fails(bind(f, d, iofd, NULL), EINVAL);
	/* The cdev path opens a device once: a second cdev cannot bind. */
	d2 = xopen(f, CDEV0);
	assert_fails(bind(f, d2, iofd, NULL), EINVAL);
	assert_int_equal(stce_host_close(f->h, d2), 0);
	/* Closing the bound cdev unblocks the group. */
	assert_int_equal(stce_host_close(f->h, d), 0);
	g = xopen(f, "/dev/vfio/0");
	assert_int_equal(stce_host_close(f->h, g), 0);
	assert_int_equal(stce_host_close(f->h, c), 0);
	assert_int_equal(stce_host_close(f->h, iofd), 0);
	assert_int_equal(stce_host_open_fds(f->h), 0);
}

/* ENOMEM at the bind (the device's state, then the context's device
 * object) unwinds: the device can be bound afterwards. */
static void test_cdev_bind_enomem(void **state)
{
	struct fx *f = *state;
	int iofd = xopen(f, "/dev/iommu"), d = xopen(f, CDEV0);

	for (unsigned long nth = 1; nth <= 2; nth++) {
		stce_fault_arm(STCE_FAULT_ALLOC, nth);
		assert_fails(bind(f, d, iofd, NULL), ENOMEM);
		stce_fault_arm(STCE_FAULT_ALLOC, 0);
		/* Not bound: the group still opens. */
		assert_int_equal(stce_host_close(f->h, xopen(f, "/dev/vfio/0")), 0);
	}
	assert_int_equal(bind(f, d, iofd, NULL), 0);
	assert_int_equal(stce_host_close(f->h, d), 0);
	assert_int_equal(stce_host_close(f->h, iofd), 0);
}

/* ATTACH and DETACH's struct: a bad pointer, argsz below the struct,
 * unknown flags. Each refused: the device stays as it was. */
static void cdev_struct_checks(struct fx *f, int d)
{
	struct vfio_device_attach_iommufd_pt a = { .argsz = 8 };
	struct vfio_device_detach_iommufd_pt dt = { .argsz = 4 };

	assert_fails(xioctl(f, d, VFIO_DEVICE_ATTACH_IOMMUFD_PT, NULL), EFAULT);
	assert_fails(xioctl(f, d, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), EINVAL);
	assert_fails(xioctl(f, d, VFIO_DEVICE_DETACH_IOMMUFD_PT, NULL), EFAULT);
	assert_fails(xioctl(f, d, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt), EINVAL);
	dt.argsz = sizeof(dt);
	dt.flags = 1;
	assert_fails(xioctl(f, d, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt), EINVAL);
}

static void test_cdev_attach_dma(void **state)
{
	struct fx *f = *state;
	int iofd = xopen(f, "/dev/iommu"), d = xopen(f, CDEV0);
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t devid, ioas;
	int g;

	assert_int_equal(bind(f, d, iofd, &devid), 0);
	/* Bound: the device file works. */
	assert_int_equal(xioctl(f, d, VFIO_DEVICE_GET_INFO, &info), 0);
	assert_int_equal(bar_rd(f, d, STCE_DMATEST_REG_ID), STCE_DMATEST_ID);
	ioas = ioas_alloc(f, iofd);
	assert_fails(attach(f, d, ioas, 1), EINVAL);	/* flags */
	assert_fails(attach(f, d, 999, 0), ENOENT);
	assert_fails(detach(f, d), EINVAL);		/* not attached */
	/* An IOAS without a domain gets the default one. */
	assert_int_equal(attach(f, d, ioas, 0), 0);
	cdev_struct_checks(f, d);	/* attached: a DETACH would succeed */
	ioas_map(f, iofd, ioas, 0);
	assert_true(stce_account_locked_pages() > 0);
	assert_int_equal(dma_copy(f, d, 0), STCE_DMATEST_STATUS_DONE);
	assert_copied(f);
	/* The device's binding holds the context: closing /dev/iommu
	 * leaves the device attached and working. */
	assert_int_equal(stce_host_close(f->h, iofd), 0);
	assert_int_equal(dma_copy(f, d, 0), STCE_DMATEST_STATUS_DONE);
	assert_copied(f);
	assert_int_equal(detach(f, d), 0);
	assert_fails(detach(f, d), EINVAL);
	/* Detached: the PE is the platform's again, the IOVA unreachable. */
	assert_int_not_equal(dma_copy(f, d, 0), STCE_DMATEST_STATUS_DONE);
	assert_int_equal(stce_host_close(f->h, d), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	g = xopen(f, "/dev/vfio/0");
	assert_int_equal(stce_host_close(f->h, g), 0);
	assert_int_equal(stce_host_open_fds(f->h), 0);
}

/* Two devices (two PEs) on one IOAS's domain: both reach the memory. */
static void test_cdev_two_devices(void **state)
{
	struct fx *f = *state;
	int iofd = xopen(f, "/dev/iommu"), d0 = xopen(f, CDEV0), d1 = xopen(f, CDEV1);
	uint32_t ioas;

	assert_int_equal(bind(f, d0, iofd, NULL), 0);
	assert_int_equal(bind(f, d1, iofd, NULL), 0);
	ioas = ioas_alloc(f, iofd);
	assert_int_equal(attach(f, d0, ioas, 0), 0);
	assert_int_equal(attach(f, d1, ioas, 0), 0);
	ioas_map(f, iofd, ioas, 0);
	assert_int_equal(dma_copy(f, d0, 0), STCE_DMATEST_STATUS_DONE);
	assert_copied(f);
	assert_int_equal(dma_copy(f, d1, 0), STCE_DMATEST_STATUS_DONE);
	assert_copied(f);
	/* Close with everything attached and mapped: released in order. */
	assert_int_equal(stce_host_close(f->h, d0), 0);
	assert_int_equal(stce_host_close(f->h, iofd), 0);
	assert_int_equal(stce_host_close(f->h, d1), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
}

/* A device opened through its group is not a cdev: BIND is EINVAL and
 * ATTACH/DETACH go to vfio-pci, which does not know them. */
static void test_group_device_refuses_cdev_ioctls(void **state)
{
	struct fx *f = *state;
	int c = xopen(f, "/dev/vfio/vfio"), g = xopen(f, "/dev/vfio/0");
	int iofd = xopen(f, "/dev/iommu"), d;

	assert_int_equal(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	assert_int_equal(xioctl(f, c, VFIO_SET_IOMMU,
				(void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	d = xioctl(f, g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(d >= 0);
	assert_fails(bind(f, d, iofd, NULL), EINVAL);
	assert_fails(attach(f, d, 1, 0), ENOTTY);
	assert_fails(detach(f, d), ENOTTY);
	/* The group's device is open: its cdev cannot bind (group open). */
	assert_fails(bind(f, xopen(f, CDEV0), iofd, NULL), EBUSY);
}

/* ---- the group compat path ----------------------------------------- */

/* SET_CONTAINER on @iofd, SET_IOMMU(v2), register ram, a 64K-page
 * window over it, ram mapped; returns the window's bus address. */
static uint64_t compat_setup(struct fx *f, int iofd, int g)
{
	struct vfio_iommu_spapr_register_memory reg = {
		.argsz = sizeof(reg), .vaddr = (uintptr_t)f->ram, .size = MEM,
	};
	struct vfio_iommu_spapr_tce_create cr = {
		.argsz = sizeof(cr), .page_shift = 16, .window_size = MEM,
		.levels = 1,
	};
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)f->ram, .size = MEM,
	};

	assert_int_equal(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &iofd), 0);
	assert_int_equal(xioctl(f, iofd, VFIO_SET_IOMMU,
				(void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	assert_int_equal(xioctl(f, iofd, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg), 0);
	assert_int_equal(xioctl(f, iofd, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), 0);
	map.iova = cr.start_addr;
	assert_int_equal(xioctl(f, iofd, VFIO_IOMMU_MAP_DMA, &map), 0);
	return cr.start_addr;
}

static void test_group_compat(void **state)
{
	struct fx *f = *state;
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int iofd = xopen(f, "/dev/iommu"), g = xopen(f, "/dev/vfio/0");
	int c = xopen(f, "/dev/vfio/vfio"), d;
	uint64_t bus;

	/* No group yet: SET_IOMMU has nothing to work on. */
	assert_fails(xioctl(f, iofd, VFIO_SET_IOMMU,
			    (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), EINVAL);
	bus = compat_setup(f, iofd, g);
	assert_int_equal(xioctl(f, g, VFIO_GROUP_GET_STATUS, &st), 0);
	assert_int_equal(st.flags, VFIO_GROUP_FLAGS_VIABLE |
			 VFIO_GROUP_FLAGS_CONTAINER_SET);
	/* Set already: another iommufd or a container is EINVAL. */
	assert_fails(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &iofd), EINVAL);
	assert_fails(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &c), EINVAL);
	d = xioctl(f, g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	assert_true(d >= 0);
	assert_int_equal(dma_copy(f, d, bus), STCE_DMATEST_STATUS_DONE);
	assert_copied(f);
	assert_fails(xioctl(f, g, VFIO_GROUP_UNSET_CONTAINER, NULL), EBUSY);
	/* The group holds the context: /dev/iommu closed, DMA goes on. */
	assert_int_equal(stce_host_close(f->h, iofd), 0);
	assert_int_equal(dma_copy(f, d, bus), STCE_DMATEST_STATUS_DONE);
	assert_copied(f);
	assert_int_equal(stce_host_close(f->h, d), 0);
	assert_int_equal(xioctl(f, g, VFIO_GROUP_UNSET_CONTAINER, NULL), 0);
	assert_fails(xioctl(f, g, VFIO_GROUP_UNSET_CONTAINER, NULL), EINVAL);
	assert_int_equal(xioctl(f, g, VFIO_GROUP_GET_STATUS, &st), 0);
	assert_int_equal(st.flags, VFIO_GROUP_FLAGS_VIABLE);
	/* The last holder gone: the context with its windows and pins. */
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	/* A container still works for the group. */
	assert_int_equal(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	assert_int_equal(stce_host_close(f->h, g), 0);
	assert_int_equal(stce_host_close(f->h, c), 0);
	assert_int_equal(stce_host_open_fds(f->h), 0);
}

/* Closing a group set on an iommufd takes it out of the compat IOAS: it
 * can join again; a group on an iommufd opens its device before
 * SET_IOMMU (the compat IOAS exists from SET_CONTAINER on). */
static void test_group_compat_close(void **state)
{
	struct fx *f = *state;
	int iofd = xopen(f, "/dev/iommu"), g = xopen(f, "/dev/vfio/1"), d;

	assert_int_equal(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &iofd), 0);
	d = xioctl(f, g, VFIO_GROUP_GET_DEVICE_FD, "0030:02:00.0");
	assert_true(d >= 0);
	assert_int_equal(stce_host_close(f->h, d), 0);
	assert_int_equal(stce_host_close(f->h, g), 0);
	g = xopen(f, "/dev/vfio/1");
	assert_int_equal(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &iofd), 0);
	assert_int_equal(stce_host_close(f->h, g), 0);
	/* Bad descriptors: closed EBADF, open but foreign EBADFD. */
	g = xopen(f, "/dev/vfio/1");
	assert_fails(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &(int){ 4000 }), EBADF);
	assert_fails(xioctl(f, g, VFIO_GROUP_SET_CONTAINER, &(int){ 0 }), EBADFD);
	assert_int_equal(stce_host_close(f->h, g), 0);
	assert_int_equal(stce_host_close(f->h, iofd), 0);
	assert_int_equal(stce_host_open_fds(f->h), 0);
}

/* The iommufd compat's PE ownership against the cdev's: a PE in the
 * compat domain cannot be attached by a cdev of another context. */
static void test_compat_and_cdev_exclusive(void **state)
{
	struct fx *f = *state;
	int iofd = xopen(f, "/dev/iommu"), iofd2 = xopen(f, "/dev/iommu");
	int g = xopen(f, "/dev/vfio/0"), d;

	compat_setup(f, iofd, g);
	/* Device 0's group is open: its cdev cannot bind. */
	d = xopen(f, CDEV0);
	assert_fails(bind(f, d, iofd2, NULL), EBUSY);
	assert_int_equal(stce_host_close(f->h, d), 0);
	/* Device 1 is free: bound and attached in the other context. */
	d = xopen(f, CDEV1);
	assert_int_equal(bind(f, d, iofd2, NULL), 0);
	assert_int_equal(attach(f, d, ioas_alloc(f, iofd2), 0), 0);
	/* Left open: the host's teardown releases all of it (teardown()). */
}

/* ---- concurrency --------------------------------------------------- */

struct race {
	struct fx *f;
	int fd;
	int ok, ebadf, other;	/* the worker's until joined */
	atomic_int rounds;
};

static void *iommufd_worker(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 2000; i++) {
		struct iommu_ioas_alloc a = { .size = sizeof(a) };
		struct iommu_destroy d = { .size = sizeof(d) };

		atomic_fetch_add(&r->rounds, 1);
		if (stce_host_ioctl(r->f->h, r->fd, IOMMU_IOAS_ALLOC, &a)) {
			if (errno == EBADF)
				r->ebadf++;
			else
				r->other++;
			continue;
		}
		d.id = a.out_ioas_id;
		/* The descriptor may be gone between the two: EBADF. */
		if (stce_host_ioctl(r->f->h, r->fd, IOMMU_DESTROY, &d) &&
		    errno != EBADF)
			r->other++;
		r->ok++;
	}
	return NULL;
}

/* iommufd ioctls run without the host lock while another thread closes
 * the descriptor: each call either runs on a live context or is EBADF. */
static void test_iommufd_ioctl_vs_close(void **state)
{
	struct fx *f = *state;
	struct race r[2] = { { .f = f }, { .f = f } };
	pthread_t t[2];
	int fd = xopen(f, "/dev/iommu");

	for (int i = 0; i < 2; i++) {
		r[i].fd = fd;
		assert_int_equal(pthread_create(&t[i], NULL, iommufd_worker, &r[i]), 0);
	}
	while (atomic_load(&r[0].rounds) < 10)
		usleep(100);
	assert_int_equal(stce_host_close(f->h, fd), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].other, 0);
	}
	assert_int_equal(r[0].ok + r[0].ebadf, 2000);
	assert_int_equal(stce_host_open_fds(f->h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_paths),
		T(test_iommufd_open_dup_close),
		T(test_iommufd_open_enomem),
		T(test_cdev_before_bind),
		T(test_cdev_bind_errors),
		T(test_cdev_bind_enomem),
		T(test_cdev_attach_dma),
		T(test_cdev_two_devices),
		T(test_group_device_refuses_cdev_ioctls),
		T(test_group_compat),
		T(test_group_compat_close),
		T(test_compat_and_cdev_exclusive),
		T(test_iommufd_ioctl_vs_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
