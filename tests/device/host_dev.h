/* SPDX-License-Identifier: MIT */
/*
 * What the device tests on a host share: the default machine's first
 * device opened through its group (a v2 container set), BAR0 writes and
 * INTx SET_IRQS calls on it. Failures abort: the callers are threads.
 */
#ifndef TESTS_HOST_DEV_H
#define TESTS_HOST_DEV_H

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/vfio.h>

#include <spapr_tce/device.h>
#include <spapr_tce/vfio.h>

#define HOST_DEV_CFG	((off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40)
#define HOST_DEV_BAR0	((off_t)VFIO_PCI_BAR0_REGION_INDEX << 40)

/* A new default host and the descriptor of its first device. */
static inline int host_dev_open(struct stce_host **h)
{
	const char *name;
	int c, g, d;

	if (stce_host_create(NULL, h))
		abort();
	c = stce_host_open(*h, "/dev/vfio/vfio", O_RDWR);
	g = stce_host_open(*h, "/dev/vfio/0", O_RDWR);
	if (stce_host_ioctl(*h, g, VFIO_GROUP_SET_CONTAINER, &c) ||
	    stce_host_ioctl(*h, c, VFIO_SET_IOMMU,
			    (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU))
		abort();
	name = stce_device_name(stce_platform_device(stce_host_platform(*h), 0));
	d = stce_host_ioctl(*h, g, VFIO_GROUP_GET_DEVICE_FD, (void *)name);
	if (d < 0)
		abort();
	return d;
}

/* SET_IRQS on INTx with one eventfd (or none) as data. */
static inline int host_dev_intx(struct stce_host *h, int d, uint32_t flags,
				int32_t fd)
{
	struct { struct vfio_irq_set s; int32_t fd; } r = {
		.s = { .argsz = sizeof(r), .flags = flags,
		       .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1 },
		.fd = fd,
	};

	return stce_host_ioctl(h, d, VFIO_DEVICE_SET_IRQS, &r);
}

static inline void host_dev_bar_wr(struct stce_host *h, int d, uint64_t reg,
				   uint64_t v)
{
	if (stce_host_pwrite(h, d, &v, 8, HOST_DEV_BAR0 + (off_t)reg) != 8)
		abort();
}

static inline void host_dev_command(struct stce_host *h, int d, uint16_t cmd)
{
	if (stce_host_pwrite(h, d, &cmd, 2, HOST_DEV_CFG + STCE_PCI_COMMAND) != 2)
		abort();
}

/*
 * The driver's side of one interrupt: wait (5 s at most) for the INTx
 * eventfd @efd, acknowledge at the device (IRQS), UNMASK. False when it
 * did not come.
 */
static inline bool host_dev_take_intx(struct stce_host *h, int d, int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	bool came = poll(&p, 1, 5000) == 1;
	uint64_t n;

	if (came && read(efd, &n, sizeof(n)) != sizeof(n))
		abort();
	host_dev_bar_wr(h, d, STCE_DMATEST_REG_IRQS, 0);
	if (host_dev_intx(h, d, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0))
		abort();
	return came;
}

#endif /* TESTS_HOST_DEV_H */
