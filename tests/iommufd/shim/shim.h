/* SPDX-License-Identifier: MIT */
/*
 * Force-included into examples/iommufd.c for the test build: /dev/iommu
 * and /dev/vfio/devices/vfioN go to spapr-tce's iommufd (N: a PE with the
 * default capabilities), everything else to libc. Stands in for the
 * preload library until it serves those paths.
 */
#ifndef STCE_IOMMUFD_SHIM_H
#define STCE_IOMMUFD_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

int stce_iofd_shim_open(const char *path, int flags, ...);
int stce_iofd_shim_ioctl(int fd, unsigned long request, ...);
int stce_iofd_shim_close(int fd);

#define open stce_iofd_shim_open
#define ioctl stce_iofd_shim_ioctl
#define close stce_iofd_shim_close

#endif
