/* SPDX-License-Identifier: MIT */
/*
 * Force-included (-include) into each conformance client when it is built
 * against spapr-tce instead of the kernel: open, ioctl, close, pread,
 * pwrite and fopen go to the shim, which serves /dev/vfio/... from the process-wide host
 * and /proc/self/status with VmLck showing the emulated locked_vm; every
 * other path and descriptor goes to libc untouched. The clients' source
 * stays exactly what ran on the real kernel.
 */
#ifndef STCE_CONFORMANCE_SHIM_H
#define STCE_CONFORMANCE_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int stce_shim_open(const char *path, int flags, ...);
int stce_shim_ioctl(int fd, unsigned long request, ...);
int stce_shim_close(int fd);
ssize_t stce_shim_pread(int fd, void *buf, size_t count, off_t off);
ssize_t stce_shim_pwrite(int fd, const void *buf, size_t count, off_t off);
FILE *stce_shim_fopen(const char *path, const char *mode);

#define open stce_shim_open
#define ioctl stce_shim_ioctl
#define close stce_shim_close
#define pread stce_shim_pread
#define pwrite stce_shim_pwrite
#define fopen stce_shim_fopen

#endif /* STCE_CONFORMANCE_SHIM_H */
