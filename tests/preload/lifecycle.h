/* SPDX-License-Identifier: MIT */
/*
 * The calls of the lifecycle tests, in two builds of one source:
 *  - LIFECYCLE_HOST: the host API, each call dispatched as the preload
 *    library dispatches it (the host's descriptors to the host, the rest
 *    to libc), so the same races run under ThreadSanitizer;
 *  - otherwise libc only, for a program run under the preload library.
 * Every v*() answers as the syscall does (-1 and errno).
 */
#ifndef STCE_TESTS_LIFECYCLE_H
#define STCE_TESTS_LIFECYCLE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "client.h"

/* mmap(2) of @fd by libc: 0 when it mapped (never right here), else its
 * errno. */
static int mmap_err(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

	if (p != MAP_FAILED) {
		munmap(p, 4096);
		return 0;
	}
	return errno;
}

#ifdef LIFECYCLE_HOST
#include <sys/syscall.h>

#include <spapr_tce/account.h>
#include <spapr_tce/vfio.h>

static struct stce_host *H;

/*
 * The calls libc answers, made raw: the races here are deliberate (a
 * descriptor closed while others use it), and ThreadSanitizer, which
 * models descriptors, would report each as one. Its view of the
 * library's own memory is untouched.
 */
#define ioctl(fd, req, arg)	((int)syscall(SYS_ioctl, fd, req, arg))
#define close(fd)		((int)syscall(SYS_close, fd))
#define pread(fd, b, n, o)	((ssize_t)syscall(SYS_pread64, fd, b, n, o))
#define pwrite(fd, b, n, o)	((ssize_t)syscall(SYS_pwrite64, fd, b, n, o))
#define dup(fd)			((int)syscall(SYS_dup, fd))
#define dup2(fd, n)		((int)syscall(SYS_dup2, fd, n))
#define fcntl(fd, ...)		((int)syscall(SYS_fcntl, fd, __VA_ARGS__))

static int vopen(const char *path, int flags)
{
	return stce_host_open(H, path, flags);
}

static int vioctl(int fd, unsigned long req, void *arg)
{
	return stce_host_fd_ours(H, fd) ? stce_host_ioctl(H, fd, req, arg)
					: ioctl(fd, req, arg);
}

static int vclose(int fd)
{
	return stce_host_fd_ours(H, fd) ? stce_host_close(H, fd) : close(fd);
}

static ssize_t vpread(int fd, void *buf, size_t n, off_t off)
{
	return stce_host_fd_ours(H, fd) ? stce_host_pread(H, fd, buf, n, off)
					: pread(fd, buf, n, off);
}

static ssize_t vpwrite(int fd, const void *buf, size_t n, off_t off)
{
	return stce_host_fd_ours(H, fd) ? stce_host_pwrite(H, fd, buf, n, off)
					: pwrite(fd, buf, n, off);
}

struct vdup_req {
	int oldfd, newfd, min;
};

static int vdup_real(void *arg)
{
	struct vdup_req *r = arg;

	if (r->min >= 0)
		return fcntl(r->oldfd, F_DUPFD_CLOEXEC, r->min);
	return r->newfd < 0 ? dup(r->oldfd) : dup2(r->oldfd, r->newfd);
}

static int vdup(int fd)
{
	struct vdup_req r = { fd, -1, -1 };

	return stce_host_dup_call(H, fd, -1, vdup_real, &r);
}

static int vdup2(int oldfd, int newfd)
{
	struct vdup_req r = { oldfd, newfd, -1 };

	if (oldfd == newfd)
		return dup2(oldfd, newfd);
	return stce_host_dup_call(H, oldfd, newfd, vdup_real, &r);
}

static int vdupfd(int fd, int min)
{
	struct vdup_req r = { fd, -1, min };

	return stce_host_dup_call(H, fd, -1, vdup_real, &r);
}

/* As the preload library: an O_PATH answer may be one of ours made at
 * that number since the first question. */
static int vgetfl(int fd)
{
	uint64_t gen = stce_host_fd_generation(H);
	int fl;

	if (stce_host_fd_ours(H, fd))
		return stce_host_fcntl(H, fd, F_GETFL, 0);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || !(fl & O_PATH))
		return fl;
	if (stce_host_fd_ours(H, fd))
		return stce_host_fcntl(H, fd, F_GETFL, 0);
	if (stce_host_fd_generation(H) != gen) {
		errno = EBADF;
		return -1;
	}
	return fl;
}

/* What fstat(2) would say of @fd: 'C' a container, 'D' a device, 'G' a
 * group, 0 not open (EBADF), '?' anything else. */
static int vkind(int fd)
{
	static const char kinds[] = { [STCE_HOST_FD_CONTAINER] = 'C',
		[STCE_HOST_FD_GROUP] = 'G', [STCE_HOST_FD_DEVICE] = 'D',
		[STCE_HOST_FD_IOMMUFD] = 'I' };
	uint64_t gen = stce_host_fd_generation(H);
	enum stce_host_fd_kind k;

	for (int again = 0; again < 2; again++) {
		if (stce_host_fd_ours(H, fd)) {
			k = stce_host_fd_kind(H, fd);
			return k == STCE_HOST_FD_NONE ? 0 : kinds[k];
		}
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			return 0;
	}
	return stce_host_fd_generation(H) != gen ? 0 : '?';
}

static int vmmap_err(int fd)
{
	if (stce_host_fd_ours(H, fd)) {
		stce_host_mmap_check(H, fd, 0);
		return errno;
	}
	return mmap_err(fd);
}

static void vclose_all(void)
{
	stce_host_close_range(H, 0, ~0u);
}

/* locked_vm in kB. */
static long vlocked_kb(void)
{
	return (long)(stce_account_locked_pages() * stce_host_page_size() / 1024);
}

static unsigned int vopen_fds(void)
{
	return stce_host_open_fds(H);
}

#undef ioctl
#undef close
#undef pread
#undef pwrite
#undef dup
#undef dup2
#undef fcntl

#else	/* under the preload library: libc */

#include <dirent.h>

#define vopen		open
#define vioctl		ioctl
#define vclose		close
#define vpread		pread
#define vpwrite		pwrite
#define vdup		dup
#define vdup2		dup2
#define vdupfd(fd, min)	fcntl(fd, F_DUPFD_CLOEXEC, min)
#define vgetfl(fd)	fcntl(fd, F_GETFL)

static int vkind(int fd)
{
	struct stat st;

	if (fstat(fd, &st)) {
		if (errno != EBADF) fprintf(stderr, "DBG kind errno %d\n", errno);
		return errno == EBADF ? 0 : '?';
	}
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(10, 196))
		return 'C';
	if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 246)
		return 'G';
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(10, 124))
		return 'I';
	if (!(st.st_mode & S_IFMT) && st.st_dev == makedev(0, 15))
		return 'D';	/* an anonymous inode */
	fprintf(stderr, "DBG kind mode %o rdev %lx dev %lx ino %lu\n", st.st_mode, (unsigned long)st.st_rdev, (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	return '?';
}

#define vmmap_err	mmap_err

static void vclose_all(void)
{
	close_range(3, ~0u, 0);
}

static long vlocked_kb(void)
{
	return vmlck_kb();
}

/* Descriptors open now (those of ours among them), from /proc. */
static unsigned int vopen_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

#endif /* LIFECYCLE_HOST */

#endif /* STCE_TESTS_LIFECYCLE_H */
