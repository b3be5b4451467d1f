// SPDX-License-Identifier: MIT
/*
 * The iommufd shim: real descriptors (memfds) standing for /dev/iommu
 * contexts and device cdevs. At exit it checks that everything was given
 * back: no PE owned, nothing charged, nothing pinned.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spapr_tce/account.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>

#include "shim.h"

#undef open
#undef ioctl
#undef close

#define MAX_FDS		1024
#define NR_PES		2
#define CDEV_PREFIX	"/dev/vfio/devices/vfio"

static struct stce_pe *pes[NR_PES];
static struct stce_iommufd *ctxs[MAX_FDS];
static struct stce_iommufd_vdev *vdevs[MAX_FDS];

static void check_at_exit(void)
{
	int bad = 0;

	for (unsigned int i = 0; i < NR_PES; i++) {
		bad |= stce_pe_user_owned(pes[i]);
		stce_pe_destroy(pes[i]);
	}
	bad |= stce_account_locked_pages() != 0 || stce_prereg_count() != 0;
	if (bad) {
		fprintf(stderr, "shim: resources left behind\n");
		_exit(3);
	}
}

static int init(void)
{
	struct stce_pe_caps caps;

	if (pes[0])
		return 0;
	stce_pe_caps_default(&caps);
	for (unsigned int i = 0; i < NR_PES; i++)
		if (stce_pe_create(&caps, i, &pes[i]))
			return -ENOMEM;
	atexit(check_at_exit);
	return 0;
}

static int new_fd(void)
{
	int fd = memfd_create("stce-iommufd", MFD_CLOEXEC);

	if (fd >= MAX_FDS) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	return fd;
}

int stce_iofd_shim_open(const char *path, int flags, ...)
{
	va_list ap;
	int fd, mode;

	if (!strcmp(path, STCE_IOMMUFD_PATH) ||
	    !strncmp(path, CDEV_PREFIX, strlen(CDEV_PREFIX))) {
		if (init())
			return -1;
		fd = new_fd();
		if (fd < 0)
			return -1;
		if (path[5] == 'i') {
			if (stce_iommufd_create(&ctxs[fd])) {
				close(fd);
				errno = ENOMEM;
				return -1;
			}
			return fd;
		}
		unsigned long n = strtoul(path + strlen(CDEV_PREFIX), NULL, 10);

		if (n >= NR_PES) {
			close(fd);
			errno = ENOENT;
			return -1;
		}
		vdevs[fd] = calloc(1, sizeof(*vdevs[fd]));
		vdevs[fd]->pe = pes[n];
		return fd;
	}
	va_start(ap, flags);
	mode = va_arg(ap, int);
	va_end(ap);
	return open(path, flags, mode);
}

static struct stce_iommufd *lookup(void *ctx, int fd)
{
	(void)ctx;
	return fd >= 0 && fd < MAX_FDS ? ctxs[fd] : NULL;
}

int stce_iofd_shim_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	long ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd >= 0 && fd < MAX_FDS && ctxs[fd])
		ret = stce_iommufd_ioctl(ctxs[fd], request, arg);
	else if (fd >= 0 && fd < MAX_FDS && vdevs[fd])
		ret = stce_iommufd_vdev_ioctl(vdevs[fd], request, arg, lookup,
					      NULL);
	else
		return ioctl(fd, request, arg);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}

int stce_iofd_shim_close(int fd)
{
	if (fd >= 0 && fd < MAX_FDS && ctxs[fd]) {
		stce_iommufd_put(ctxs[fd]);
		ctxs[fd] = NULL;
	} else if (fd >= 0 && fd < MAX_FDS && vdevs[fd]) {
		stce_iommufd_vdev_release(vdevs[fd]);
		free(vdevs[fd]);
		vdevs[fd] = NULL;
	}
	return close(fd);
}
