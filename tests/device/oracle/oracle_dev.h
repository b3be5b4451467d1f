/* SPDX-License-Identifier: MIT */
/*
 * What the device oracle clients share: the device descriptor, where its
 * config space and BAR0 are (from GET_REGION_INFO), and 2- and 4-byte
 * access to them that stop the client on a failure. Only <linux/vfio.h>
 * and libc, through conf.h: the clients run on the real kernel too.
 */
#ifndef ORACLE_DEV_H
#define ORACLE_DEV_H

#include "../../lib/conf.h"

#define E1000E_IDS	0x10d38086	/* vendor | device << 16 */

static int dev;
static uint64_t cfg_off, bar0_off, bar0_size;

static inline uint32_t cfg_read(uint32_t off, unsigned int size)
{
	uint32_t v = 0;

	if (pread(dev, &v, size, (off_t)(cfg_off + off)) != (ssize_t)size)
		die("config read");
	return v;
}

static inline void cfg_write(uint32_t off, unsigned int size, uint32_t v)
{
	if (pwrite(dev, &v, size, (off_t)(cfg_off + off)) != (ssize_t)size)
		die("config write");
}

static inline uint32_t bar0_read(uint32_t off)
{
	uint32_t v = 0;

	if (pread(dev, &v, 4, (off_t)(bar0_off + off)) != 4)
		die("BAR0 read");
	return v;
}

static inline void bar0_write(uint32_t off, uint32_t v)
{
	if (pwrite(dev, &v, 4, (off_t)(bar0_off + off)) != 4)
		die("BAR0 write");
}

/* cfg_off, bar0_off and bar0_size of the open device. */
static inline void device_regions(void)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };

	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die("GET_REGION_INFO");
	cfg_off = ri.offset;
	ri = (struct vfio_region_info){ .argsz = sizeof(ri),
					.index = VFIO_PCI_BAR0_REGION_INDEX };
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die("GET_REGION_INFO");
	bar0_off = ri.offset;
	bar0_size = ri.size;
}

#endif /* ORACLE_DEV_H */
