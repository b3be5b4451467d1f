// SPDX-License-Identifier: MIT
/*
 * The preload library's file surface, seen from a program that knows
 * nothing of spapr-tce (libc and <linux/vfio.h> only; run with
 * LD_PRELOAD, the default topology): the stat family, access, readlink,
 * realpath, statfs, open/openat/creat and fopen/freopen of sysfs, the
 * directory calls and getdents64, vectored and fortified I/O on device
 * descriptors, lseek/fsync/ftruncate/epoll_ctl on VFIO descriptors. Each
 * entry point served and not served (the real file system's answer,
 * errno untouched on success).
 *
 * The expected values are the kernel's (tests/preload/sysfs-kernel.txt).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "client.h"

/* glibc's fortified and compatibility entry points (not declared
 * without _FORTIFY_SOURCE, or any more). */
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t count, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t off,
		      size_t buflen);
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int fd, const char *path, char *buf, size_t len,
			 size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int fd, const char *path, int flags);
int __openat64_2(int fd, const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int fd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int fd, const char *path, struct stat64 *st,
		 int flags);

#define DEV0	"/sys/bus/pci/devices/0030:01:00.0"
#define CANON0	"/sys/devices/pci0030:00/0030:00:00.0/0030:01:00.0"
#define PAGE	65536		/* the default topology's host page */
#include "../lib/vfio_region.h"


/* A call that fails with @err. */
#define FAILS(call, err) CHECK((long)(call) == -1 && errno == (err))
#define FAILS_NULL(call, err) CHECK((call) == NULL && errno == (err))

static bool is_dev(const struct stat *st, unsigned int maj, unsigned int min)
{
	return major(st->st_rdev) == maj && minor(st->st_rdev) == min;
}

/* The content of a served file. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* Dies with SIGABRT: a fortified check caught a too-large count. */
static bool aborts(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);	/* glibc's "buffer overflow detected" */
		fn();
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

struct vfio {
	int c, g, d;
};

static void vfio_open(struct vfio *v)
{
	v->c = open("/dev/vfio/vfio", O_RDWR);
	v->g = open("/dev/vfio/0", O_RDWR);
	CHECK(v->c >= 0 && v->g >= 0);
	CHECK(!ioctl(v->g, VFIO_GROUP_SET_CONTAINER, &v->c));
	CHECK(!ioctl(v->c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	v->d = ioctl(v->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	CHECK(v->d >= 0);
}

static void vfio_close(struct vfio *v)
{
	close(v->d);
	close(v->g);
	close(v->c);
}

/* ---- stat ----------------------------------------------------------- */

static void test_stat(void)
{
	struct stat st;
	struct stat64 st64;
	struct statx x;
	char name[300];
	int dir;

	errno = 1234;
	CHECK(!stat(DEV0, &st) && errno == 1234);
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	CHECK(st.st_nlink == 3 && st.st_uid == 0 && st.st_size == 0);
	CHECK(st.st_dev == makedev(0, 20) && st.st_blksize == PAGE);
	CHECK(!lstat(DEV0, &st) && S_ISLNK(st.st_mode) &&
	      (st.st_mode & 07777) == 0777 && st.st_size == 0);
	CHECK(!stat(DEV0 "/vendor", &st) && S_ISREG(st.st_mode));
	CHECK((st.st_mode & 07777) == 0444 && st.st_size == PAGE && !st.st_blocks);
	CHECK(!stat(DEV0 "/config", &st) && st.st_size == 256 &&
	      (st.st_mode & 07777) == 0644);
	CHECK(!stat(DEV0 "/remove", &st) && (st.st_mode & 07777) == 0220);
	CHECK(!stat64(DEV0 "/iommu_group", &st64) && S_ISDIR(st64.st_mode));
	CHECK(!lstat64(DEV0 "/iommu_group", &st64) && S_ISLNK(st64.st_mode));
	CHECK(!stat("/sys/kernel/iommu_groups", &st) && st.st_nlink == 4);
	/* The devices: the kernel's numbers (the container is misc 10:196). */
	CHECK(!stat("/dev/vfio/vfio", &st) && S_ISCHR(st.st_mode) &&
	      (st.st_mode & 07777) == 0666 && is_dev(&st, 10, 196));
	CHECK(!stat("/dev/vfio/1", &st) && S_ISCHR(st.st_mode) &&
	      (st.st_mode & 07777) == 0600 && is_dev(&st, 246, 1));
	CHECK(st.st_uid == geteuid() && st.st_dev == makedev(0, 6));
	CHECK(!stat("/dev/vfio/devices/vfio1", &st) && is_dev(&st, 245, 1));
	CHECK(!stat("/dev/iommu", &st) && S_ISCHR(st.st_mode) && is_dev(&st, 10, 124));
	CHECK(!stat("/dev/vfio", &st) && S_ISDIR(st.st_mode) && st.st_nlink == 3 &&
	      st.st_size == 20 * (2 + 4));
	/* The *at forms, relative to a served directory. */
	dir = open(DEV0, O_RDONLY | O_DIRECTORY);
	CHECK(dir >= 0);
	CHECK(!fstatat(dir, "vendor", &st, 0) && S_ISREG(st.st_mode));
	CHECK(!fstatat(dir, "iommu_group", &st, AT_SYMLINK_NOFOLLOW) &&
	      S_ISLNK(st.st_mode));
	CHECK(!fstatat64(dir, "iommu_group", &st64, 0) && S_ISDIR(st64.st_mode));
	CHECK(!fstatat(dir, "", &st, AT_EMPTY_PATH) && S_ISDIR(st.st_mode));
	CHECK(!fstatat(AT_FDCWD, DEV0 "/vfio-dev/vfio0/dev", &st, 0));
	FAILS(fstatat(dir, "vendor", &st, 0x4000000), EINVAL);
	CHECK(!statx(dir, "vendor", 0, STATX_ALL, &x));
	CHECK((x.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS &&
	      x.stx_size == PAGE && x.stx_mode == (S_IFREG | 0444));
	CHECK(!statx(AT_FDCWD, "/dev/vfio/0", 0, STATX_ALL, &x) &&
	      x.stx_rdev_major == 246 && x.stx_rdev_minor == 0);
	CHECK(!statx(dir, "", AT_EMPTY_PATH, STATX_ALL, &x) &&
	      S_ISDIR(x.stx_mode));
	/* Binaries built before glibc 2.33 call these. */
	CHECK(!__xstat(1, DEV0 "/vendor", &st) && st.st_size == PAGE);
	CHECK(!__xstat64(1, DEV0, &st64) && S_ISDIR(st64.st_mode));
	CHECK(!__lxstat(1, DEV0, &st) && S_ISLNK(st.st_mode));
	CHECK(!__lxstat64(1, DEV0, &st64) && S_ISLNK(st64.st_mode));
	CHECK(!__fxstatat(1, dir, "driver", &st, AT_SYMLINK_NOFOLLOW) &&
	      S_ISLNK(st.st_mode));
	CHECK(!__fxstatat64(1, dir, "driver", &st64, 0) && S_ISDIR(st64.st_mode));
	/* Spelled otherwise, the same file. */
	CHECK(!stat("//sys/bus/pci/devices/0030:01:00.0/vendor", &st) &&
	      st.st_size == PAGE);
	CHECK(!stat("/./sys/bus//pci/./devices/0030:01:00.0", &st) && S_ISDIR(st.st_mode));
	CHECK(!stat("/sys/kernel/../bus/pci/devices/0030:01:00.0/", &st) &&
	      S_ISDIR(st.st_mode));
	/* Errors: the tree's, never the host's (0000:00:00.0 is the PC's
	 * host bridge: served wholly, /sys/bus/pci has no such device). */
	FAILS(stat(DEV0 "/vendor/", &st), ENOTDIR);
	FAILS(stat(DEV0 "/vendor/x", &st), ENOTDIR);
	FAILS(stat(DEV0 "/nosuch", &st), ENOENT);
	FAILS(stat("/sys/bus/pci/devices/0000:00:00.0", &st), ENOENT);
	FAILS(stat("/dev/vfio/7", &st), ENOENT);
	FAILS(fstatat(open(DEV0 "/vendor", O_RDONLY), "x", &st, 0), ENOTDIR);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	FAILS(fstatat(dir, name, &st, 0), ENAMETOOLONG);
	close(dir);
	/* Not served: libc's answers. */
	errno = 77;
	CHECK(!stat("/proc/self", &st) && S_ISDIR(st.st_mode) && errno == 77);
	CHECK(!lstat("/proc/self", &st) && S_ISLNK(st.st_mode));
	CHECK(!stat("/sys/kernel", &st) && S_ISDIR(st.st_mode));
	FAILS(stat("/sys/module/spapr_tce_nosuch", &st), ENOENT);
	FAILS(stat("/nonexistent/x", &st), ENOENT);
	CHECK(!__xstat(1, "/proc/self/status", &st) && S_ISREG(st.st_mode));
}

static void test_fstat(void)
{
	struct vfio v;
	struct stat st;
	struct stat64 st64;
	struct statfs sf;
	struct statvfs sv;
	int fd, p[2], dup_d;

	vfio_open(&v);
	errno = 9;
	CHECK(!fstat(v.c, &st) && S_ISCHR(st.st_mode) && is_dev(&st, 10, 196) &&
	      errno == 9);
	CHECK(!fstat(v.g, &st) && is_dev(&st, 246, 0) && (st.st_mode & 07777) == 0600);
	/* A device from GET_DEVICE_FD is an anonymous inode: no file type. */
	CHECK(!fstat(v.d, &st) && st.st_mode == 0600 && !st.st_rdev &&
	      st.st_dev == makedev(0, 15));
	CHECK(!fstat64(v.g, &st64) && S_ISCHR(st64.st_mode));
	CHECK(!__fxstat(1, v.c, &st) && is_dev(&st, 10, 196));
	CHECK(!__fxstat64(1, v.d, &st64) && st64.st_mode == 0600);
	dup_d = dup(v.g);
	CHECK(!fstat(dup_d, &st) && is_dev(&st, 246, 0));
	close(dup_d);
	CHECK(!fstatfs(v.g, &sf) && sf.f_type == 0x01021994);	/* devtmpfs */
	CHECK(!fstatfs(v.d, &sf) && sf.f_type == 0x09041934);	/* anon inode */
	CHECK(!fstatfs64(v.c, (struct statfs64 *)&sf) && sf.f_bsize == PAGE);
	CHECK(!fstatvfs(v.c, &sv) && sv.f_bsize == PAGE && sv.f_namemax == 255);
	CHECK(!fstatvfs64(v.d, (struct statvfs64 *)&sv) && sv.f_bsize == PAGE);
	vfio_close(&v);
	fd = open("/dev/vfio/devices/vfio1", O_RDWR);
	CHECK(fd >= 0 && !fstat(fd, &st) && is_dev(&st, 245, 1));
	close(fd);
	fd = open("/dev/iommu", O_RDWR);
	CHECK(fd >= 0 && !fstat(fd, &st) && is_dev(&st, 10, 124));
	close(fd);
	fd = open(DEV0 "/vendor", O_RDONLY);
	CHECK(!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size == PAGE);
	CHECK(!fstatfs(fd, &sf) && sf.f_type == 0x62656572);	/* sysfs */
	/* Closed, its number reused by a real file: the real answer. */
	close(fd);
	CHECK(!pipe(p));
	CHECK(!fstat(p[0], &st) && S_ISFIFO(st.st_mode));
	close(p[0]);
	close(p[1]);
	/* libc closed it internally (fclose of an fdopen): the entry is
	 * stale, the pipe that takes the number is seen as a pipe. */
	fd = open(DEV0 "/device", O_RDONLY);
	CHECK(fd >= 0);
	fclose(fdopen(fd, "r"));
	CHECK(!pipe(p));
	CHECK(!fstat(fd, &st) && S_ISFIFO(st.st_mode));
	close(p[0]);
	close(p[1]);
	/* statfs of paths. */
	CHECK(!statfs(DEV0 "/vendor", &sf) && sf.f_type == 0x62656572 &&
	      sf.f_bsize == PAGE);
	CHECK(!statfs64("/dev/vfio/0", (struct statfs64 *)&sf) &&
	      sf.f_type == 0x01021994);
	CHECK(!statvfs(DEV0, &sv) && sv.f_bsize == PAGE);
	CHECK(!statvfs64(DEV0, (struct statvfs64 *)&sv) && sv.f_frsize == PAGE);
	FAILS(statfs(DEV0 "/nosuch", &sf), ENOENT);
	FAILS(statvfs("/dev/vfio/9", &sv), ENOENT);
	CHECK(!statfs("/proc", &sf) && sf.f_type == 0x9fa0);	/* not served */
	CHECK(!fstatfs(0, &sf) || errno == EBADF);
}

/* ---- extended attributes -------------------------------------------- */

/* What ls -l and libselinux ask: served files have none. */
static void test_xattr(void)
{
	char buf[64];
	int fd = open(DEV0 "/vendor", O_RDONLY);

	FAILS(getxattr(DEV0 "/vendor", "security.selinux", buf, sizeof(buf)), ENODATA);
	FAILS(lgetxattr(DEV0, "security.selinux", buf, sizeof(buf)), ENODATA);
	FAILS(lgetxattr("/dev/vfio/0", "security.selinux", buf, sizeof(buf)), ENODATA);
	FAILS(fgetxattr(fd, "system.posix_acl_access", buf, sizeof(buf)), ENODATA);
	errno = 31;
	CHECK(listxattr(DEV0 "/iommu_group", buf, sizeof(buf)) == 0 && errno == 31);
	CHECK(llistxattr("/dev/vfio", buf, sizeof(buf)) == 0);
	CHECK(flistxattr(fd, buf, sizeof(buf)) == 0);
	FAILS(getxattr(DEV0 "/nosuch", "security.selinux", buf, sizeof(buf)), ENOENT);
	FAILS(llistxattr(DEV0 "/nosuch", buf, sizeof(buf)), ENOENT);
	close(fd);
	/* Not served: libc's. */
	FAILS(getxattr("/nonexistent", "user.x", buf, sizeof(buf)), ENOENT);
	FAILS(lgetxattr("/nonexistent", "user.x", buf, sizeof(buf)), ENOENT);
	FAILS(listxattr("/nonexistent", buf, sizeof(buf)), ENOENT);
	FAILS(llistxattr("/nonexistent", buf, sizeof(buf)), ENOENT);
	FAILS(fgetxattr(-1, "user.x", buf, sizeof(buf)), EBADF);
	FAILS(flistxattr(-1, buf, sizeof(buf)), EBADF);
}

/* ---- access --------------------------------------------------------- */

static void test_access(void)
{
	int dir = open(DEV0, O_RDONLY | O_DIRECTORY);

	errno = 5;
	CHECK(!access(DEV0 "/vendor", F_OK) && errno == 5);
	/* Root: read and write anything, execute what has an x bit. */
	CHECK(!access(DEV0 "/vendor", R_OK | W_OK));
	FAILS(access(DEV0 "/vendor", X_OK), EACCES);
	CHECK(!access(DEV0 "/remove", R_OK));
	CHECK(!access(DEV0, X_OK) && !access(DEV0 "/iommu_group", X_OK));
	CHECK(!access("/dev/vfio/0", R_OK | W_OK));
	FAILS(access(DEV0 "/nosuch", F_OK), ENOENT);
	FAILS(access(DEV0 "/vendor", 8), EINVAL);
	CHECK(!faccessat(dir, "vendor", R_OK, AT_EACCESS));
	CHECK(!faccessat(dir, "iommu_group", F_OK, AT_SYMLINK_NOFOLLOW));
	FAILS(faccessat(dir, "nosuch", F_OK, 0), ENOENT);
	FAILS(faccessat(dir, "vendor", F_OK, 0x100000), EINVAL);
	CHECK(!euidaccess(DEV0 "/class", R_OK));
	CHECK(!eaccess("/sys/module/vfio/parameters", X_OK));
	FAILS(euidaccess(DEV0 "/class", X_OK), EACCES);
	/* Not served. */
	CHECK(!access("/proc/self/status", R_OK));
	FAILS(access("/nonexistent", F_OK), ENOENT);
	CHECK(!faccessat(AT_FDCWD, "/proc", X_OK, 0));
	FAILS(euidaccess("/nonexistent", F_OK), ENOENT);
	close(dir);
}

/* As a user: the permission bits, the caller's devices. */
static void test_access_user(void)
{
	int status;
	pid_t pid;

	if (geteuid()) {
		printf("skip access_user (needs root to become a user)\n");
		return;
	}
	pid = fork();
	if (!pid) {
		int bad = 0;

		if (setgid(65534) || setuid(65534))
			_exit(3);
		bad |= access(DEV0 "/vendor", R_OK) != 0;
		bad |= access(DEV0 "/vendor", W_OK) != -1 || errno != EACCES;
		bad |= access(DEV0 "/driver_override", W_OK) != -1 || errno != EACCES;
		bad |= access(DEV0 "/remove", R_OK) != -1 || errno != EACCES;
		bad |= open(DEV0 "/driver_override", O_WRONLY) != -1 || errno != EACCES;
		bad |= access("/dev/vfio/0", R_OK | W_OK) != 0;	/* the caller's */
		bad |= access("/dev/vfio/vfio", R_OK | W_OK) != 0;
		_exit(bad);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- readlink, realpath --------------------------------------------- */

static void readlink_too_long(void)
{
	char buf[4];
	size_t len = 8;

	__readlink_chk(DEV0 "/driver", buf, len, sizeof(buf));
}

static void readlinkat_too_long(void)
{
	char buf[4];
	size_t len = 8;

	__readlinkat_chk(AT_FDCWD, DEV0 "/driver", buf, len, sizeof(buf));
}

static void realpath_too_short(void)
{
	char buf[64];

	__realpath_chk(DEV0, buf, sizeof(buf));
}

static bool link_is(const char *path, const char *want)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = 0;
	if (strcmp(buf, want))
		printf("  %s -> %s, wanted %s\n", path, buf, want);
	return !strcmp(buf, want);
}

static bool real_is(const char *path, const char *want)
{
	char buf[PATH_MAX];

	if (!realpath(path, buf))
		return false;
	if (strcmp(buf, want))
		printf("  realpath %s = %s, wanted %s\n", path, buf, want);
	return !strcmp(buf, want);
}

static void test_links(void)
{
	char buf[PATH_MAX], *p;
	int dir = open(CANON0, O_RDONLY | O_DIRECTORY);

	errno = 3;
	CHECK(link_is(DEV0, "../../../devices/pci0030:00/0030:00:00.0/0030:01:00.0") &&
	      errno == 3);
	CHECK(link_is("/sys/bus/pci/devices/0030:00:00.0",
		      "../../../devices/pci0030:00/0030:00:00.0"));
	CHECK(link_is(DEV0 "/iommu_group", "../../../../kernel/iommu_groups/0"));
	CHECK(link_is(DEV0 "/driver", "../../../../bus/pci/drivers/vfio-pci"));
	CHECK(link_is(DEV0 "/subsystem", "../../../../bus/pci"));
	CHECK(link_is(DEV0 "/vfio-dev/vfio0/device", "../../../0030:01:00.0"));
	CHECK(link_is(DEV0 "/vfio-dev/vfio0/subsystem",
		      "../../../../../../class/vfio-dev"));
	CHECK(link_is("/sys/kernel/iommu_groups/1/devices/0030:02:00.0",
		      "../../../../devices/pci0030:00/0030:00:00.0/0030:02:00.0"));
	CHECK(link_is("/sys/bus/pci/drivers/vfio-pci/module", "../../../../module/vfio_pci"));
	CHECK(link_is("/sys/module/vfio/holders/vfio_pci", "../../vfio_pci"));
	CHECK(link_is("/sys/module/vfio_pci/drivers/pci:vfio-pci",
		      "../../../bus/pci/drivers/vfio-pci"));
	CHECK(link_is("/sys/class/vfio/1", "../../devices/virtual/vfio/1"));
	CHECK(link_is("/sys/class/vfio-dev/vfio1",
		      "../../devices/pci0030:00/0030:00:00.0/0030:02:00.0/vfio-dev/vfio1"));
	CHECK(link_is("/sys/devices/virtual/vfio/0/subsystem", "../../../../class/vfio"));
	/* Truncated without a NUL, as readlink(2). */
	CHECK(readlink(DEV0 "/iommu_group", buf, 5) == 5 && !memcmp(buf, "../..", 5));
	FAILS(readlink(DEV0 "/vendor", buf, sizeof(buf)), EINVAL);
	FAILS(readlink(DEV0 "/iommu_group/", buf, sizeof(buf)), EINVAL);
	FAILS(readlink(DEV0 "/iommu_group", buf, 0), EINVAL);
	FAILS(readlink(DEV0 "/nosuch", buf, sizeof(buf)), ENOENT);
	CHECK(readlinkat(dir, "driver", buf, sizeof(buf)) == 36);
	FAILS(readlinkat(dir, "class", buf, sizeof(buf)), EINVAL);
	CHECK(__readlink_chk(DEV0 "/driver", buf, 10, sizeof(buf)) == 10);
	CHECK(__readlinkat_chk(dir, "driver", buf, 10, sizeof(buf)) == 10);
	CHECK(aborts(readlink_too_long));
	CHECK(aborts(readlinkat_too_long));
	/* realpath: the kernel's canonical paths, through the links. */
	CHECK(real_is(DEV0, CANON0));
	CHECK(real_is(DEV0 "/", CANON0));
	CHECK(real_is(DEV0 "/subsystem", "/sys/bus/pci"));	/* not mdev */
	CHECK(real_is(DEV0 "/driver/", "/sys/bus/pci/drivers/vfio-pci"));
	CHECK(real_is(DEV0 "/iommu_group/devices", "/sys/kernel/iommu_groups/0/devices"));
	CHECK(real_is(DEV0 "/..", "/sys/devices/pci0030:00/0030:00:00.0"));
	CHECK(real_is(DEV0 "/../..", "/sys/devices/pci0030:00"));
	CHECK(real_is("/sys/bus/pci/devices/./0030:02:00.0//vfio-dev/vfio1/device",
		      "/sys/devices/pci0030:00/0030:00:00.0/0030:02:00.0"));
	CHECK(real_is("/sys/class/vfio/0", "/sys/devices/virtual/vfio/0"));
	CHECK(real_is("/dev/vfio/../vfio/vfio", "/dev/vfio/vfio"));
	/* Out of the tree again: the real file system's, by the walked path. */
	CHECK(real_is(DEV0 "/../../../../kernel", "/sys/kernel"));
	FAILS_NULL(realpath(DEV0 "/vendor/", buf), ENOTDIR);
	FAILS_NULL(realpath(DEV0 "/vendor/..", buf), ENOTDIR);
	FAILS_NULL(realpath(DEV0 "/nosuch", buf), ENOENT);
	p = realpath(DEV0 "/driver", NULL);
	CHECK(p && !strcmp(p, "/sys/bus/pci/drivers/vfio-pci"));
	free(p);
	p = canonicalize_file_name(DEV0 "/iommu_group");
	CHECK(p && !strcmp(p, "/sys/kernel/iommu_groups/0"));
	free(p);
	FAILS_NULL(canonicalize_file_name(DEV0 "/x"), ENOENT);
	CHECK(__realpath_chk(DEV0, buf, sizeof(buf)) == buf && !strcmp(buf, CANON0));
	CHECK(aborts(realpath_too_short));
	/* Not served. */
	CHECK(real_is("/proc/../proc/self/..", "/proc"));
	CHECK(link_is("/proc/self/cwd", getcwd(buf, sizeof(buf))));
	FAILS_NULL(realpath("/nonexistent", buf), ENOENT);
	p = canonicalize_file_name("/proc/../");
	CHECK(p && !strcmp(p, "/"));
	free(p);
	CHECK(__realpath_chk("/proc/.", buf, sizeof(buf)) && !strcmp(buf, "/proc"));
	close(dir);
}

/* ---- open, read ----------------------------------------------------- */

static void test_open(void)
{
	char buf[512];
	struct stat st;
	ssize_t n;
	int fd, dir;

	errno = 21;
	fd = open(DEV0 "/vendor", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && errno == 21 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK(read(fd, buf, 3) == 3 && !memcmp(buf, "0x1", 3));
	CHECK(read(fd, buf, 100) == 4 && !memcmp(buf, "014\n", 4));
	CHECK(read(fd, buf, 100) == 0);
	CHECK(pread(fd, buf, 4, 2) == 4 && !memcmp(buf, "1014", 4));
	CHECK(pread(fd, buf, 4, 5000) == 0);
	CHECK(lseek(fd, 0, SEEK_END) == PAGE);	/* sysfs's size */
	CHECK(lseek64(fd, 1, SEEK_SET) == 1);
	FAILS(write(fd, "1", 1), EBADF);
	close(fd);
	/* The kernel's refusals. */
	FAILS(open(DEV0 "/vendor", O_WRONLY), EACCES);
	FAILS(open(DEV0 "/vendor", O_RDWR), EACCES);
	FAILS(open(DEV0 "/vendor", O_RDONLY | O_DIRECTORY), ENOTDIR);
	FAILS(open(DEV0 "/vendor/", O_RDONLY), ENOTDIR);
	FAILS(open(DEV0 "/remove", O_RDONLY), EACCES);
	FAILS(open(DEV0 "/nosuch", O_RDONLY), ENOENT);
	FAILS(open(DEV0 "/nosuch", O_WRONLY | O_CREAT, 0644), EACCES);
	FAILS(open(DEV0 "/vendor", O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	FAILS(open(DEV0, O_WRONLY), EISDIR);
	FAILS(open(DEV0 "/iommu_group", O_RDONLY | O_NOFOLLOW), ELOOP);
	FAILS(open("/dev/vfio/0", O_RDWR | O_DIRECTORY), ENOTDIR);
	FAILS(open("/dev/vfio/9", O_RDWR), ENOENT);
	/* Writable attributes take writes (and ignore them). */
	fd = open(DEV0 "/remove", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "1", 1) == 1);
	FAILS(read(fd, buf, 1), EBADF);
	close(fd);
	/* A directory: opens, reads are EISDIR. */
	dir = open(DEV0, O_RDONLY);
	CHECK(dir >= 0 && !fstat(dir, &st) && S_ISDIR(st.st_mode));
	FAILS(read(dir, buf, 8), EISDIR);
	FAILS(pread(dir, buf, 8, 0), EISDIR);
	FAILS(pread64(dir, buf, 8, 0), EISDIR);
	FAILS(__read_chk(dir, buf, 8, sizeof(buf)), EISDIR);
	FAILS(write(dir, "x", 1), EBADF);
	/* openat relative to it; the other open entry points. */
	fd = openat(dir, "device", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 16) == 7 && !memcmp(buf, "0xdaa0\n", 7));
	FAILS(openat(fd, "x", O_RDONLY), ENOTDIR);
	close(fd);
	fd = openat64(dir, "vfio-dev/vfio0/dev", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 16) == 6 && !memcmp(buf, "245:0\n", 6));
	close(fd);
	fd = openat(dir, "iommu_group/type", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 16) == 8 && !memcmp(buf, "unknown\n", 8));
	close(fd);
	fd = __openat_2(dir, "class", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 16) == 9 && !memcmp(buf, "0xff0000\n", 9));
	close(fd);
	fd = __openat64_2(dir, "..", O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && !fstat(fd, &st) && S_ISDIR(st.st_mode));
	close(fd);
	close(dir);
	fd = open64(DEV0 "/revision", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 16) == 5 && !memcmp(buf, "0x01\n", 5));
	close(fd);
	fd = __open_2(DEV0 "/irq", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 16) == 3 && !memcmp(buf, "44\n", 3));
	close(fd);
	fd = __open64_2("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 16) == 2 && !memcmp(buf, "N\n", 2));
	close(fd);
	FAILS(creat(DEV0 "/vendor", 0644), EACCES);
	FAILS(creat64(DEV0 "/new", 0644), EACCES);
	/* config is the live config space (256 bytes: conventional PCI). */
	fd = open(DEV0 "/config", O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	CHECK(n == 256 && buf[0] == 0x14 && buf[1] == 0x10 &&
	      (uint8_t)buf[2] == 0xa0 && (uint8_t)buf[3] == 0xda && buf[0x3d] == 1);
	close(fd);
	/* Not served: libc's. */
	errno = 8;
	fd = open("/proc/self/status", O_RDONLY);
	CHECK(fd >= 0 && errno == 8 && read(fd, buf, 5) == 5 && !memcmp(buf, "Name:", 5));
	close(fd);
	FAILS(open("/nonexistent", O_RDONLY), ENOENT);
	fd = creat("/dev/null", 0644);
	CHECK(fd >= 0 && !fstat(fd, &st) && S_ISCHR(st.st_mode) && is_dev(&st, 1, 3));
	close(fd);
	dir = open("/proc/self", O_RDONLY | O_DIRECTORY);
	fd = openat(dir, "status", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 5) == 5);
	close(fd);
	close(dir);
}

/* Each attribute in the kernel's format. */
static void test_formats(void)
{
	char buf[2048], *line, *save;
	unsigned long long s, e, f;
	unsigned int a, b, c, d, n = 0;

	CHECK(slurp(DEV0 "/vendor", buf, sizeof(buf)) == 7 && !strcmp(buf, "0x1014\n"));
	CHECK(slurp(DEV0 "/device", buf, sizeof(buf)) == 7 && !strcmp(buf, "0xdaa0\n"));
	CHECK(slurp(DEV0 "/subsystem_vendor", buf, sizeof(buf)) == 7 &&
	      !strcmp(buf, "0x1014\n"));
	CHECK(slurp(DEV0 "/subsystem_device", buf, sizeof(buf)) == 7 &&
	      !strcmp(buf, "0xdaa0\n"));
	CHECK(slurp(DEV0 "/class", buf, sizeof(buf)) == 9 && !strcmp(buf, "0xff0000\n"));
	CHECK(slurp(DEV0 "/revision", buf, sizeof(buf)) == 5 && !strcmp(buf, "0x01\n"));
	CHECK(slurp(DEV0 "/numa_node", buf, sizeof(buf)) == 2 && !strcmp(buf, "0\n"));
	CHECK(slurp("/sys/bus/pci/devices/0030:02:00.0/irq", buf, sizeof(buf)) == 3 &&
	      !strcmp(buf, "45\n"));
	CHECK(slurp(DEV0 "/devspec", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "/pciex@620c3c0000000/pci@0/pci1014,daa0@0\n"));
	CHECK(slurp(DEV0 "/modalias", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "pci:v00001014d0000DAA0sv00001014sd0000DAA0bcFFsc00i00\n"));
	CHECK(slurp(DEV0 "/driver_override", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "vfio-pci\n"));
	CHECK(slurp(DEV0 "/uevent", buf, sizeof(buf)) > 0 &&
	      strstr(buf, "DRIVER=vfio-pci\n") && strstr(buf, "PCI_ID=1014:DAA0\n") &&
	      strstr(buf, "PCI_SLOT_NAME=0030:01:00.0\n") && strstr(buf, "PCI_CLASS=FF0000\n"));
	/* resource: 13 lines of three 0x%016llx; BAR0 a 4K 64-bit BAR. */
	CHECK(slurp(DEV0 "/resource", buf, sizeof(buf)) == 13 * 57);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		CHECK(strlen(line) == 56 &&
		      sscanf(line, "0x%16llx 0x%16llx 0x%16llx", &s, &e, &f) == 3);
		if (!n)
			CHECK(e - s + 1 == 4096 && f == 0x140200 && !(s & 0xfff));
		else
			CHECK(!s && !e && !f);
	}
	CHECK(n == 13);
	CHECK(slurp("/sys/bus/pci/devices/0030:00:00.0/resource", buf, sizeof(buf)) ==
	      17 * 57);
	CHECK(slurp("/sys/bus/pci/devices/0030:00:00.0/class", buf, sizeof(buf)) == 9 &&
	      !strcmp(buf, "0x060400\n"));
	CHECK(slurp(DEV0 "/vfio-dev/vfio0/uevent", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "MAJOR=245\nMINOR=0\nDEVNAME=vfio/devices/vfio0\n"));
	CHECK(slurp("/sys/devices/virtual/vfio/1/dev", buf, sizeof(buf)) > 0 &&
	      sscanf(buf, "%u:%u", &a, &b) == 2 && a == 246 && b == 1);
	CHECK(slurp("/sys/kernel/iommu_groups/1/name", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "domain48-pe1\n"));
	CHECK(slurp("/sys/kernel/iommu_groups/0/type", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "unknown\n"));
	CHECK(slurp("/sys/kernel/iommu_groups/0/reserved_regions", buf, sizeof(buf)) == 0);
	CHECK(slurp("/sys/module/vfio/version", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "0.3\n"));
	CHECK(slurp("/sys/module/vfio_iommu_spapr_tce/initstate", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "live\n"));
	CHECK(slurp("/sys/module/vfio_pci/parameters/nointxmask", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "N\n"));
	CHECK(slurp("/sys/bus/pci/drivers_autoprobe", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "1\n"));
	(void)c;
	(void)d;
}

/* ---- directories ---------------------------------------------------- */

/* The names of a listing, sorted by readdir order, "." and ".." out. */
static int names(DIR *d, char *out, size_t len)
{
	struct dirent *e;
	size_t at = 0;
	int n = 0;

	out[0] = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		at += (size_t)snprintf(out + at, len - at, "%s%s", n ? " " : "",
				       e->d_name);
		n++;
	}
	return n;
}

static int listing(const char *path, char *out, size_t len)
{
	DIR *d = opendir(path);
	int n;

	if (!d)
		return -1;
	n = names(d, out, len);
	closedir(d);
	return n;
}

static int no_dots(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static int no_dots64(const struct dirent64 *e)
{
	return e->d_name[0] != '.';
}

static void test_dirs(void)
{
	struct dirent *e, ent, *res;
	struct dirent64 *e64, ent64, *res64, **list64;
	struct dirent **list;
	char buf[4096], names_[4096];
	struct stat st;
	long pos;
	int n, fd, fd2, found = 0;
	DIR *d, *real;

	/* The emulated bus: its root port and devices, no host device. */
	CHECK(listing("/sys/bus/pci/devices", names_, sizeof(names_)) == 3);
	CHECK(!strcmp(names_, "0030:00:00.0 0030:01:00.0 0030:02:00.0"));
	CHECK(listing("/sys/kernel/iommu_groups", names_, sizeof(names_)) == 2 &&
	      !strcmp(names_, "0 1"));
	CHECK(listing("/sys/kernel/iommu_groups/1/devices/", names_, sizeof(names_)) == 1 &&
	      !strcmp(names_, "0030:02:00.0"));
	CHECK(listing("/dev/vfio", names_, sizeof(names_)) == 4 &&
	      !strcmp(names_, "devices vfio 0 1"));
	CHECK(listing("/dev/vfio/devices", names_, sizeof(names_)) == 2 &&
	      !strcmp(names_, "vfio0 vfio1"));
	CHECK(listing("/sys/bus/pci/drivers", names_, sizeof(names_)) == 1 &&
	      !strcmp(names_, "vfio-pci"));
	CHECK(listing("/sys/bus/pci/drivers/vfio-pci", names_, sizeof(names_)) == 8);
	CHECK(listing("/sys/bus/pci/slots", names_, sizeof(names_)) == 0);
	CHECK(listing(CANON0 "/vfio-dev", names_, sizeof(names_)) == 1 &&
	      !strcmp(names_, "vfio0"));
	/* The device's directory, with d_type. */
	d = opendir(DEV0);
	CHECK(d != NULL);
	e = readdir(d);
	CHECK(e && !strcmp(e->d_name, ".") && e->d_type == DT_DIR);
	e = readdir(d);
	CHECK(e && !strcmp(e->d_name, "..") && e->d_type == DT_DIR);
	pos = telldir(d);
	e = readdir(d);
	CHECK(e && !strcmp(e->d_name, "ari_enabled") && e->d_type == DT_REG);
	seekdir(d, pos);
	e64 = readdir64(d);
	CHECK(e64 && !strcmp(e64->d_name, "ari_enabled"));
	while ((e = readdir(d)))
		if (!strcmp(e->d_name, "iommu_group"))
			found |= (e->d_type == DT_LNK);
		else if (!strcmp(e->d_name, "vfio-dev"))
			found |= (e->d_type == DT_DIR) << 1;
	CHECK(found == 3);
	rewinddir(d);
	CHECK(!readdir_r(d, &ent, &res) && res == &ent && !strcmp(ent.d_name, "."));
	CHECK(!readdir64_r(d, &ent64, &res64) && res64 == &ent64 &&
	      !strcmp(ent64.d_name, ".."));
	/* dirfd: the directory's descriptor, good for the *at calls. */
	fd = dirfd(d);
	CHECK(fd >= 0 && !fstat(fd, &st) && S_ISDIR(st.st_mode));
	CHECK(!fstatat(fd, "vendor", &st, 0) && S_ISREG(st.st_mode));
	errno = 6;
	CHECK(closedir(d) == 0 && errno == 6);
	FAILS(fstat(fd, &st), EBADF);
	/* fdopendir of a served directory descriptor, and not of a file. */
	fd = open("/sys/module/vfio", O_RDONLY | O_DIRECTORY);
	d = fdopendir(fd);
	CHECK(d && dirfd(d) == fd && names(d, names_, sizeof(names_)) == 7);
	CHECK(!strcmp(names_, "holders initstate parameters refcnt taint uevent version"));
	closedir(d);
	fd = open(DEV0 "/vendor", O_RDONLY);
	FAILS_NULL(fdopendir(fd), ENOTDIR);
	close(fd);
	FAILS_NULL(opendir(DEV0 "/vendor"), ENOTDIR);
	FAILS_NULL(opendir(DEV0 "/nosuch"), ENOENT);
	FAILS_NULL(opendir("/sys/kernel/iommu_groups/4242/devices"), ENOENT);
	/* scandir and friends: glibc's would not see our directories. */
	n = scandir("/sys/kernel/iommu_groups/0", &list, no_dots, alphasort);
	CHECK(n == 4 && !strcmp(list[0]->d_name, "devices") &&
	      !strcmp(list[3]->d_name, "type"));
	while (n > 0)
		free(list[--n]);
	free(list);
	n = scandir64("/dev/vfio/devices", &list64, NULL, alphasort64);
	CHECK(n == 4 && !strcmp(list64[3]->d_name, "vfio1"));
	while (n > 0)
		free(list64[--n]);
	free(list64);
	fd = open("/sys/module", O_RDONLY | O_DIRECTORY);	/* real */
	fd2 = open("/sys/class/vfio-dev", O_RDONLY | O_DIRECTORY);	/* ours */
	n = scandirat(fd2, ".", &list, no_dots, alphasort);
	CHECK(n == 2 && !strcmp(list[1]->d_name, "vfio1"));
	while (n > 0)
		free(list[--n]);
	free(list);
	n = scandirat64(AT_FDCWD, "/sys/module/vfio_pci/parameters", &list64,
			no_dots64, alphasort64);
	CHECK(n == 4 && !strcmp(list64[0]->d_name, "disable_denylist"));
	while (n > 0)
		free(list64[--n]);
	free(list64);
	/* getdents64 on a served directory descriptor: from its position. */
	n = (int)getdents64(fd2, buf, sizeof(buf));
	CHECK(n > 0);
	found = 0;
	for (int off = 0; off < n;) {
		struct dirent64 *r = (struct dirent64 *)(buf + off);

		found += !strcmp(r->d_name, "vfio0") && r->d_type == DT_LNK;
		found += !strcmp(r->d_name, "vfio1");
		off += r->d_reclen;
	}
	CHECK(found == 2);
	CHECK(getdents64(fd2, buf, sizeof(buf)) == 0);	/* the end */
	CHECK(lseek(fd2, 0, SEEK_SET) == 0);
	FAILS(getdents64(fd2, buf, 8), EINVAL);		/* no room */
	CHECK(getdents64(fd2, buf, 32) == 24);		/* "." only */
	close(fd2);
	fd2 = open(DEV0 "/class", O_RDONLY);
	FAILS(getdents64(fd2, buf, sizeof(buf)), ENOTDIR);
	close(fd2);
	/* Not served, while ours are open: libc's streams. */
	d = opendir(DEV0);
	real = fdopendir(fd);
	CHECK(real && listing("/proc/self/fd", names_, sizeof(names_)) > 3);
	CHECK(names(real, names_, sizeof(names_)) > 0 && strstr(names_, "kernel"));
	rewinddir(real);
	CHECK(telldir(real) >= 0 && readdir64(real) != NULL);
	CHECK(!readdir_r(real, &ent, &res) && res == &ent);
	CHECK(!readdir64_r(real, &ent64, &res64) && res64 == &ent64);
	seekdir(real, 0);
	CHECK(dirfd(real) == fd);
	closedir(real);
	closedir(d);
	n = scandir("/proc/self/fd", &list, no_dots, alphasort);
	CHECK(n >= 3);
	while (n > 0)
		free(list[--n]);
	free(list);
	fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	CHECK(getdents64(fd, buf, sizeof(buf)) > 0);
	close(fd);
	FAILS_NULL(opendir("/nonexistent"), ENOENT);
}

/* ---- stdio ---------------------------------------------------------- */

static void test_stdio(void)
{
	unsigned long long s, e, f;
	char line[256];
	FILE *fp;
	int v = 0;

	fp = fopen(DEV0 "/vendor", "r");
	CHECK(fp && fgets(line, sizeof(line), fp) && !strcmp(line, "0x1014\n"));
	CHECK(fp && fileno(fp) >= 0);
	fclose(fp);
	fp = fopen64(DEV0 "/resource", "re");
	CHECK(fp && fcntl(fileno(fp), F_GETFD) == FD_CLOEXEC);
	CHECK(fp && fscanf(fp, "%llx %llx %llx", &s, &e, &f) == 3 && f == 0x140200);
	fclose(fp);
	FAILS_NULL(fopen(DEV0 "/vendor", "w"), EACCES);
	FAILS_NULL(fopen(DEV0 "/vendor", "r+"), EACCES);
	FAILS_NULL(fopen(DEV0 "/nosuch", "r"), ENOENT);
	fp = fopen(DEV0 "/remove", "w");
	CHECK(fp && fputs("1\n", fp) >= 0 && fclose(fp) == 0);
	fp = fopen("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "r");
	CHECK(fp && fgetc(fp) == 'N');
	/* freopen keeps the stream. */
	CHECK(fp && freopen(DEV0 "/numa_node", "r", fp) == fp &&
	      fscanf(fp, "%d", &v) == 1 && v == 0);
	CHECK(fp && freopen64(DEV0 "/irq", "r", fp) == fp &&
	      fscanf(fp, "%d", &v) == 1 && v == 44);
	if (fp)
		fclose(fp);
	fp = fopen("/proc/self/stat", "r");
	FAILS_NULL(freopen(DEV0 "/remove", "r", fp), EACCES);
	/* A VFIO device by fopen: its descriptor is the host's. */
	fp = fopen("/dev/vfio/vfio", "r+");
	CHECK(fp && ioctl(fileno(fp), VFIO_GET_API_VERSION) == VFIO_API_VERSION);
	if (fp)
		fclose(fp);
	/* Not served. */
	fp = fopen("/proc/self/stat", "r");
	CHECK(fp && fgets(line, sizeof(line), fp));
	CHECK(fp && freopen("/proc/self/status", "r", fp) == fp &&
	      fgets(line, sizeof(line), fp) && !strncmp(line, "Name:", 5));
	if (fp)
		fclose(fp);
	FAILS_NULL(fopen64("/nonexistent", "r"), ENOENT);
}

/* ---- vectored and fortified I/O on a device ------------------------- */

static void read_chk_too_long(void)
{
	char buf[4];
	size_t n = 8;

	__read_chk(0, buf, n, sizeof(buf));
}

static void pread_chk_too_long(void)
{
	char buf[4];
	size_t n = 8;

	__pread64_chk(0, buf, n, 0, sizeof(buf));
}

static void test_vectored(void)
{
	uint16_t vendor = 0, device = 0, cmd = 6;
	uint64_t id = 0, v;
	uint8_t big[300];
	struct iovec iov[2] = {
		{ &vendor, 2 }, { &device, 2 },
	}, one = { &id, 8 }, wr = { &cmd, 2 }, bigv = { big, sizeof(big) };
	struct iovec many[IOV_MAX + 1];
	volatile int minus_one = -1;
	struct vfio vf;
	int p[2];

	vfio_open(&vf);
	errno = 44;
	CHECK(preadv(vf.d, iov, 2, CFG) == 4 && errno == 44);
	CHECK(vendor == 0x1014 && device == 0xdaa0);
	vendor = device = 0;
	CHECK(preadv64(vf.d, iov, 2, CFG) == 4 && vendor == 0x1014 && device == 0xdaa0);
	CHECK(pwritev(vf.d, &wr, 1, CFG + 4) == 2);
	cmd = 0;
	CHECK(pread(vf.d, &cmd, 2, CFG + 4) == 2 && cmd == 6);
	CHECK(pwritev64(vf.d, &wr, 1, CFG + 4) == 2);
	/* readv/writev at the position, from 0 (BAR0's start). */
	CHECK(readv(vf.d, &one, 1) == 8 && id == DEV_ID);
	v = 0x5000;
	one.iov_base = &v;
	CHECK(writev(vf.d, &one, 1) == 8);		/* SRC, at 8 */
	CHECK(pread(vf.d, &v, 8, BAR0 + 8) == 8 && v == 0x5000);
	one.iov_base = &id;
	/* preadv2/pwritev2: RWF_HIPRI ignored, other flags EOPNOTSUPP, offset
	 * -1 the position (now 16). */
	CHECK(preadv2(vf.d, iov, 2, CFG, RWF_HIPRI) == 4);
	FAILS(preadv2(vf.d, iov, 2, CFG, RWF_NOWAIT), EOPNOTSUPP);
	FAILS(pwritev2(vf.d, &wr, 1, CFG + 4, 0x1000), EOPNOTSUPP);
	CHECK(pwritev2(vf.d, &wr, 1, CFG + 4, 0) == 2);
	CHECK(preadv64v2(vf.d, &one, 1, -1, 0) == 8);
	CHECK(pwritev64v2(vf.d, &wr, 1, CFG + 4, RWF_HIPRI) == 2);
	FAILS(preadv2(vf.d, iov, 2, -2, 0), EINVAL);
	/* The vector's checks; a count cut at a BAR's end (config space
	 * takes only accesses inside it, as vfio-pci: EFAULT). */
	CHECK(preadv(vf.d, iov, 0, CFG) == 0);
	FAILS(preadv(vf.d, iov, minus_one, CFG), EINVAL);
	for (int i = 0; i <= IOV_MAX; i++)
		many[i] = (struct iovec){ &id, 1 };
	FAILS(readv(vf.d, many, IOV_MAX + 1), EINVAL);
	CHECK(preadv(vf.d, &bigv, 1, BAR0 + 4096 - 16) == 16);
	FAILS(preadv(vf.d, &bigv, 1, CFG + 0xf0), EFAULT);
	FAILS(preadv(vf.d, iov, 2, -1), EINVAL);
	FAILS(preadv(vf.d, iov, 2, (off_t)3 << 40), EINVAL);
	FAILS(readv(vf.c, iov, 2), EINVAL);
	FAILS(writev(vf.g, iov, 2), EINVAL);
	/* Fortified reads. */
	CHECK(__pread64_chk(vf.d, &vendor, 2, CFG, 2) == 2 && vendor == 0x1014);
	CHECK(__pread_chk(vf.d, &device, 2, CFG + 2, 2) == 2 && device == 0xdaa0);
	CHECK(__read_chk(vf.d, &id, 8, 8) == 8);
	CHECK(aborts(read_chk_too_long));
	CHECK(aborts(pread_chk_too_long));
	vfio_close(&vf);
	/* Not served: libc's. */
	CHECK(!pipe(p));
	vendor = 0x4142;
	device = 0x4344;
	CHECK(writev(p[1], iov, 2) == 4 && pwritev(p[1], iov, 1, 0) == -1 &&
	      errno == ESPIPE);
	vendor = device = 0;
	CHECK(readv(p[0], iov, 2) == 4 && vendor == 0x4142 && device == 0x4344);
	CHECK(write(p[1], "ab", 2) == 2 && __read_chk(p[0], big, 2, sizeof(big)) == 2);
	FAILS(preadv2(p[0], iov, 2, 0, 0), ESPIPE);
	FAILS(pwritev2(p[1], iov, 2, 0, 0), ESPIPE);
	FAILS(preadv64(p[0], iov, 2, 0), ESPIPE);
	FAILS(pwritev64(p[1], iov, 2, 0), ESPIPE);
	FAILS(preadv64v2(p[0], iov, 2, 0, 0), ESPIPE);
	FAILS(pwritev64v2(p[1], iov, 2, 0, 0), ESPIPE);
	FAILS(__pread_chk(p[0], big, 2, 0, sizeof(big)), ESPIPE);
	close(p[0]);
	close(p[1]);
}

/* ---- lseek, fsync, ftruncate, epoll_ctl ----------------------------- */

static void test_fdops(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(0), efd = eventfd(0, 0), iofd, n, p[2];
	struct vfio v;

	vfio_open(&v);
	iofd = open("/dev/iommu", O_RDWR);
	n = 0;
	for (int fd = 0; fd < 4; fd++) {
		int f = fd == 0 ? v.c : fd == 1 ? v.g : fd == 2 ? v.d : iofd;

		n += lseek(f, 0, SEEK_CUR) == -1 && errno == ESPIPE;
		n += lseek64(f, 8, SEEK_SET) == -1 && errno == ESPIPE;
		n += fsync(f) == -1 && errno == EINVAL;
		n += fdatasync(f) == -1 && errno == EINVAL;
		n += ftruncate(f, 0) == -1 && errno == EINVAL;
		n += ftruncate64(f, 0) == -1 && errno == EINVAL;
		n += epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev) == -1 && errno == EPERM;
	}
	CHECK(n == 28);
	FAILS(epoll_ctl(-1, EPOLL_CTL_ADD, v.g, &ev), EBADF);
	vfio_close(&v);
	close(iofd);
	/* Not served. */
	errno = 3;
	CHECK(!epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) && errno == 3);
	CHECK(!fsync(ep) || errno == EINVAL);
	FAILS(ftruncate(efd, 0), EINVAL);
	CHECK(!pipe(p));
	FAILS(lseek(p[0], 0, SEEK_CUR), ESPIPE);
	close(p[0]);
	close(p[1]);
	n = open("/proc/self/status", O_RDONLY);
	CHECK(lseek(n, 2, SEEK_SET) == 2 && lseek64(n, 0, SEEK_CUR) == 2);
	CHECK(!fdatasync(n) || errno == EINVAL);
	FAILS(ftruncate64(n, 0), EINVAL);
	close(n);
	close(efd);
	close(ep);
}

/* In a fork child the inherited VFIO descriptors are still VFIO files. */
static void test_fork(void)
{
	struct vfio v;
	int status;
	pid_t pid;

	vfio_open(&v);
	pid = fork();
	if (!pid) {
		struct iovec iov = { &status, 4 };
		struct stat st;
		int bad = 0;

		bad |= lseek(v.d, 0, SEEK_CUR) != -1 || errno != ESPIPE;
		bad |= fsync(v.c) != -1 || errno != EINVAL;
		bad |= readv(v.d, &iov, 1) != -1 || errno != EPERM;
		bad |= preadv(v.d, &iov, 1, 0) != -1 || errno != EPERM;
		bad |= fstat(v.g, &st) || !is_dev(&st, 246, 0);
		bad |= stat(DEV0 "/vendor", &st) || st.st_size != PAGE;
		_exit(bad);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	vfio_close(&v);
}

/* Threads listing and opening served files at once (the DIR registry,
 * the descriptor table). */
static void *lister(void *arg)
{
	char buf[1024];
	long bad = 0;

	for (int i = 0; i < 200; i++) {
		bad += listing(DEV0, buf, sizeof(buf)) != 28;
		bad += slurp(DEV0 "/vendor", buf, sizeof(buf)) != 7;
	}
	return (void *)bad;
}

static void test_threads(void)
{
	pthread_t t[4];
	void *bad;

	for (int i = 0; i < 4; i++)
		CHECK(!pthread_create(&t[i], NULL, lister, NULL));
	for (int i = 0; i < 4; i++) {
		CHECK(!pthread_join(t[i], &bad));
		CHECK(bad == NULL);
	}
}

int main(void)
{
	static const struct client_test tests[] = {
		{ "stat", test_stat }, { "fstat", test_fstat },
		{ "xattr", test_xattr },
		{ "access", test_access }, { "access_user", test_access_user },
		{ "links", test_links }, { "open", test_open },
		{ "formats", test_formats }, { "dirs", test_dirs },
		{ "stdio", test_stdio }, { "vectored", test_vectored },
		{ "fdops", test_fdops }, { "fork", test_fork },
		{ "threads", test_threads },
	};

	return client_run(tests, sizeof(tests) / sizeof(tests[0]));
}
