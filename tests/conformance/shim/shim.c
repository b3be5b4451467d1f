// SPDX-License-Identifier: MIT
/*
 * The conformance shim: see shim.h. Built without shim.h, so the libc
 * names below are the real ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <spapr_tce/vfio.h>

int stce_shim_open(const char *path, int flags, ...);
int stce_shim_ioctl(int fd, unsigned long request, ...);
int stce_shim_close(int fd);
ssize_t stce_shim_pread(int fd, void *buf, size_t count, off_t off);
ssize_t stce_shim_pwrite(int fd, const void *buf, size_t count, off_t off);
FILE *stce_shim_fopen(const char *path, const char *mode);

static struct stce_host *host(void)
{
	struct stce_host *h = stce_host_default();

	if (!h) {
		perror("spapr-tce shim: no host");
		exit(3);
	}
	return h;
}

int stce_shim_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	if (stce_host_path_ours(host(), path))
		return stce_host_open(host(), path, flags);
	va_start(ap, flags);
	mode = va_arg(ap, mode_t);
	va_end(ap);
	return open(path, flags, mode);
}

int stce_shim_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (stce_host_fd_ours(host(), fd))
		return stce_host_ioctl(host(), fd, request, arg);
	return ioctl(fd, request, arg);
}

int stce_shim_close(int fd)
{
	if (stce_host_fd_ours(host(), fd))
		return stce_host_close(host(), fd);
	return close(fd);
}

ssize_t stce_shim_pread(int fd, void *buf, size_t count, off_t off)
{
	if (stce_host_fd_ours(host(), fd))
		return stce_host_pread(host(), fd, buf, count, off);
	return pread(fd, buf, count, off);
}

ssize_t stce_shim_pwrite(int fd, const void *buf, size_t count, off_t off)
{
	if (stce_host_fd_ours(host(), fd))
		return stce_host_pwrite(host(), fd, buf, count, off);
	return pwrite(fd, buf, count, off);
}

FILE *stce_shim_fopen(const char *path, const char *mode)
{
	if (path && !strcmp(path, "/proc/self/status"))
		return stce_proc_status_open();
	return fopen(path, mode);
}
