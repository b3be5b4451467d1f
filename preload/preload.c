// SPDX-License-Identifier: MIT
/*
 * libspapr-tce-preload.so: LD_PRELOAD it and a program's /dev/vfio/vfio,
 * /dev/vfio/<group>, /dev/vfio/devices/vfioN and /dev/iommu are
 * spapr-tce's, and so is the sysfs a VFIO program reads (docs/preload.md).
 * This file: the host, and the entry points that take a descriptor (the
 * open family hands the path to fs.c first).
 *
 * Each interposed entry point asks one question first - is this path or
 * descriptor the host's? - and hands everything else to the next
 * definition (libc, or a sanitizer's interceptor) untouched. Host
 * descriptors are real memfds, so the kernel keeps numbering, CLOEXEC,
 * poll and exec semantics; the host keeps what they mean.
 *
 * errno: a call we serve sets errno only when it fails, as the syscall
 * does (the library's internals may touch errno on success; we put it
 * back).
 *
 * fork: the child gets copies of every descriptor but not the parent's
 * VFIO state (the kernel binds a container to the mm that uses it and
 * answers other processes EPERM). Here the child's inherited VFIO
 * descriptors answer every ioctl and region access with EPERM and can
 * only be closed (or duplicated); what the child opens afterwards lives
 * on a fresh host of its own.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/vfio.h>

#include <spapr_tce/topology.h>
#include <spapr_tce/vfio.h>

#include "preload_internal.h"
#include "vfs.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_FDS 65536	/* the host's descriptor table */

/* glibc's fortified entry points (declared by bits/fcntl2.h only under
 * _FORTIFY_SOURCE). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int fcntl64(int fd, int cmd, ...);
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t count, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t off,
		      size_t buflen);
void __chk_fail(void) __attribute__((noreturn));

void *preload_real(void *_Atomic *slot, const char *name)
{
	void *fn = atomic_load_explicit(slot, memory_order_acquire);

	if (fn)
		return fn;
	fn = dlsym(RTLD_NEXT, name);
	if (!fn) {
		/* Nothing sane to fall back to: say so and stop. */
		static const char msg[] = "spapr-tce preload: a libc function is missing\n";

		if (write(2, msg, sizeof(msg) - 1) < 0)
			abort();
		abort();
	}
	atomic_store_explicit(slot, fn, memory_order_release);
	return fn;
}

/* ---- The host ------------------------------------------------------ */

static pthread_mutex_t host_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct stce_host *_Atomic host_now;
static int host_error;		/* why creating it failed (host_mutex) */

/*
 * fork: the descriptors a child inherited (one bit each) and the hosts
 * they belonged to, kept reachable and never touched again (their locks
 * and grace periods may be mid-use by parent threads that do not exist
 * in the child).
 */
static _Atomic uint8_t inherited[MAX_FDS / 8];
static _Atomic unsigned int nr_inherited;
#define MAX_ABANDONED 16
static struct stce_host *abandoned[MAX_ABANDONED];
static unsigned int nr_abandoned;

struct stce_host *preload_host_peek(void)
{
	return atomic_load_explicit(&host_now, memory_order_acquire);
}

struct stce_host *preload_host(void)
{
	struct stce_host *h = preload_host_peek();
	struct stce_topology *topo = NULL;
	char err[256] = "";
	int ret;

	if (h)
		return h;
	pthread_mutex_lock(&host_mutex);
	h = atomic_load(&host_now);
	if (h || host_error)
		goto out;
	ret = stce_topology_from_env(&topo, err, sizeof(err));
	if (!ret)
		ret = stce_host_create(topo, &h);
	stce_topology_free(topo);
	if (ret) {
		fprintf(stderr, "spapr-tce preload: %s\n",
			err[0] ? err : strerror(-ret));
		host_error = -ret;
		h = NULL;
		goto out;
	}
	atomic_store_explicit(&host_now, h, memory_order_release);
out:
	if (!h)
		errno = host_error;
	pthread_mutex_unlock(&host_mutex);
	return h;
}

static bool fd_inherited(int fd)
{
	if (fd < 0 || fd >= MAX_FDS || !atomic_load(&nr_inherited))
		return false;
	return atomic_load(&inherited[fd / 8]) & (1u << (fd % 8));
}

static void set_inherited(int fd, bool on)
{
	uint8_t bit = (uint8_t)(1u << (fd % 8));

	if (fd < 0 || fd >= MAX_FDS)
		return;
	if (on && !(atomic_fetch_or(&inherited[fd / 8], bit) & bit))
		atomic_fetch_add(&nr_inherited, 1);
	else if (!on && (atomic_fetch_and(&inherited[fd / 8], (uint8_t)~bit) & bit))
		atomic_fetch_sub(&nr_inherited, 1);
}

/* The host @fd belongs to, or NULL (the common case: one atomic load). */
static struct stce_host *host_of(int fd)
{
	struct stce_host *h = preload_host_peek();

	return h && stce_host_fd_ours(h, fd) ? h : NULL;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&host_mutex);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&host_mutex);
}

static void atfork_child(void)
{
	struct stce_host *h = atomic_load(&host_now);

	pthread_mutex_init(&host_mutex, NULL);
	if (!h)
		return;
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (stce_host_fd_ours(h, fd))
			set_inherited(fd, true);
	if (nr_abandoned < MAX_ABANDONED)
		abandoned[nr_abandoned++] = h;
	atomic_store(&host_now, NULL);
	host_error = 0;
}

__attribute__((constructor)) static void preload_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- open ---------------------------------------------------------- */

int preload_host_open(const char *path, int flags)
{
	struct stce_host *h = preload_host();

	/* errno: why the host could not be made, or the host's answer. */
	return h ? stce_host_open(h, path, flags) : -1;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
	       va_arg(ap, mode_t) : 0;
}

/* Served paths (fs.c: the tree's files and directories, the host's
 * devices) are answered there; the rest goes to libc, by a normalised
 * path when the caller's left the tree again. */
#define DEFINE_OPEN(fn)							\
EXPORT int fn(const char *path, int flags, ...)				\
{									\
	struct fs_ref r;						\
	va_list ap;							\
	mode_t mode;							\
	int ret;							\
									\
	if (fs_open(AT_FDCWD, path, flags, &ret, &r))			\
		return ret;						\
	va_start(ap, flags);						\
	mode = open_mode(flags, ap);					\
	va_end(ap);							\
	return REAL(fn)(r.path, flags, mode);				\
}
DEFINE_OPEN(open)
DEFINE_OPEN(open64)

#define DEFINE_OPENAT(fn)						\
EXPORT int fn(int atfd, const char *path, int flags, ...)		\
{									\
	struct fs_ref r;						\
	va_list ap;							\
	mode_t mode;							\
	int ret;							\
									\
	if (fs_open(atfd, path, flags, &ret, &r))			\
		return ret;						\
	va_start(ap, flags);						\
	mode = open_mode(flags, ap);					\
	va_end(ap);							\
	return REAL(fn)(atfd, r.path, flags, mode);			\
}
DEFINE_OPENAT(openat)
DEFINE_OPENAT(openat64)

#define DEFINE_OPEN_2(fn)						\
EXPORT int fn(const char *path, int flags)				\
{									\
	struct fs_ref r;						\
	int ret;							\
									\
	if (fs_open(AT_FDCWD, path, flags, &ret, &r))			\
		return ret;						\
	return REAL(fn)(r.path, flags);					\
}
DEFINE_OPEN_2(__open_2)
DEFINE_OPEN_2(__open64_2)

#define DEFINE_OPENAT_2(fn)						\
EXPORT int fn(int atfd, const char *path, int flags)			\
{									\
	struct fs_ref r;						\
	int ret;							\
									\
	if (fs_open(atfd, path, flags, &ret, &r))			\
		return ret;						\
	return REAL(fn)(atfd, r.path, flags);				\
}
DEFINE_OPENAT_2(__openat_2)
DEFINE_OPENAT_2(__openat64_2)

#define DEFINE_CREAT(fn)						\
EXPORT int fn(const char *path, mode_t mode)				\
{									\
	struct fs_ref r;						\
	int ret;							\
									\
	if (fs_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, &ret, &r)) \
		return ret;						\
	return REAL(fn)(r.path, mode);					\
}
DEFINE_CREAT(creat)
DEFINE_CREAT(creat64)

/* ---- close, dup ---------------------------------------------------- */

EXPORT int close(int fd)
{
	struct stce_host *h = host_of(fd);
	int saved = errno, ret;

	vfs_fd_forget(fd);
	if (fd_inherited(fd)) {
		set_inherited(fd, false);
		return REAL(close)(fd);
	}
	if (!h)
		return REAL(close)(fd);
	ret = stce_host_close(h, fd);
	if (!ret)
		errno = saved;
	trace_close(fd, ret, ret ? errno : 0);
	return ret;
}

/*
 * fclose(3) of a stream on a host descriptor (fopen of /dev/vfio/..., or
 * fdopen): glibc closes the descriptor with an internal call we would not
 * see, so the host would keep its object and think a later file with the
 * same number its own. The stream is closed without its descriptor
 * (glibc skips the close of a FILE whose _fileno is -1), then the
 * descriptor through close().
 */
EXPORT int fclose(FILE *f)
{
	int fd = f ? fileno(f) : -1, ret;

	if (fd < 0 || (!host_of(fd) && !fd_inherited(fd)))
		return REAL(fclose)(f);
	ret = fflush(f);
	f->_fileno = -1;
	REAL(fclose)(f);
	return close(fd) || ret ? EOF : 0;
}

/*
 * @newfd became a real duplicate of @oldfd (ret of the libc call): make
 * it the same host object too.
 */
static int dup_done(const char *call, int oldfd, int newfd)
{
	struct stce_host *h;
	int saved = errno;

	if (newfd < 0 || newfd == oldfd)
		return newfd;
	vfs_fd_dup(oldfd, newfd);
	if (fd_inherited(oldfd)) {
		set_inherited(newfd, true);
		return newfd;
	}
	set_inherited(newfd, false);
	h = host_of(oldfd);
	if (!h)
		return newfd;
	stce_host_dup(h, oldfd, newfd);
	errno = saved;
	trace_dup(call, oldfd, newfd, 0);
	return newfd;
}

/* dup2/dup3 onto a host descriptor from a foreign one closes it first:
 * its object must be released (atomicity with the libc call is lost). */
static void dup_target_release(int oldfd, int newfd)
{
	struct stce_host *h = host_of(newfd);

	if (oldfd == newfd)
		return;
	if (fd_inherited(newfd) && !fd_inherited(oldfd))
		set_inherited(newfd, false);
	if (h && !host_of(oldfd))
		stce_host_close(h, newfd);
}

EXPORT int dup(int oldfd)
{
	return dup_done("dup", oldfd, REAL(dup)(oldfd));
}

EXPORT int dup2(int oldfd, int newfd)
{
	int saved = errno;

	if (fcntl(oldfd, F_GETFD) >= 0) {
		errno = saved;
		dup_target_release(oldfd, newfd);
	}
	errno = saved;
	return dup_done("dup2", oldfd, REAL(dup2)(oldfd, newfd));
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int saved = errno;

	if (oldfd != newfd && fcntl(oldfd, F_GETFD) >= 0)
		dup_target_release(oldfd, newfd);
	errno = saved;
	return dup_done("dup3", oldfd, REAL(dup3)(oldfd, newfd, flags));
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd,
			void *arg)
{
	int ret = real(fd, cmd, arg);

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return dup_done("fcntl(F_DUPFD)", fd, ret);
	return ret;
}

/* glibc reads the third argument as a pointer whatever the command. */
EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(REAL(fcntl), fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(REAL(fcntl64), fd, cmd, arg);
}

/* close_range(2) would close host descriptors behind the host's back. */
EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	struct stce_host *h = preload_host_peek();

	/* CLOSE_RANGE_CLOEXEC (4) only marks them; UNSHARE (2) is fine. */
	if (!(flags & 4)) {
		for (unsigned int fd = first; fd <= last && fd < MAX_FDS; fd++) {
			vfs_fd_forget((int)fd);
			if (fd_inherited((int)fd))
				set_inherited((int)fd, false);
			if (h && stce_host_fd_ours(h, (int)fd))
				stce_host_close(h, (int)fd);
		}
	}
	return REAL(close_range)(first, last, flags);
}

/* ---- ioctl --------------------------------------------------------- */

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	enum stce_host_fd_kind kind;
	struct stce_host *h;
	va_list ap;
	void *arg;
	int saved = errno, ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd_inherited(fd)) {
		errno = EPERM;
		trace_ioctl(STCE_HOST_FD_NONE, fd, request, arg, -1, EPERM);
		return -1;
	}
	h = host_of(fd);
	if (!h)
		return REAL(ioctl)(fd, request, arg);
	kind = trace_enabled() ? stce_host_fd_kind(h, fd) : STCE_HOST_FD_NONE;
	ret = stce_host_ioctl(h, fd, request, arg);
	if (ret >= 0 && request == VFIO_GROUP_GET_DEVICE_FD)
		vfs_fd_set(ret, VNODE_ANON_DEVICE);
	if (ret >= 0)
		errno = saved;
	trace_ioctl(kind, fd, request, arg, ret, ret < 0 ? errno : 0);
	return ret;
}

/* ---- read, write, pread, pwrite ------------------------------------ */

static ssize_t host_prw(const char *call, struct stce_host *h, int fd,
			void *buf, size_t count, off_t off, bool write)
{
	int saved = errno;
	ssize_t ret;

	ret = write ? stce_host_pwrite(h, fd, buf, count, off)
		    : stce_host_pread(h, fd, buf, count, off);
	if (ret >= 0)
		errno = saved;
	trace_rw(call, fd, count, off, ret, ret < 0 ? errno : 0);
	return ret;
}

/* read/write at the file position, which the memfd keeps for us (and
 * shares between duplicates, as a file's position is). */
static ssize_t host_rw(const char *call, struct stce_host *h, int fd,
		       void *buf, size_t count, bool write)
{
	off_t pos = REAL(lseek)(fd, 0, SEEK_CUR);
	ssize_t ret;

	if (pos < 0)
		return -1;
	ret = host_prw(call, h, fd, buf, count, pos, write);
	if (ret > 0)
		REAL(lseek)(fd, pos + ret, SEEK_SET);
	return ret;
}

/*
 * The read and write family's first question: an inherited VFIO
 * descriptor is EPERM, a served directory EISDIR to read (true, with
 * *ret). Else *h is the host of a host descriptor, NULL for libc's.
 */
static bool refused(int fd, bool reading, struct stce_host **h, ssize_t *ret)
{
	*h = NULL;
	*ret = -1;
	if (fd_inherited(fd)) {
		errno = EPERM;
		return true;
	}
	*h = host_of(fd);
	if (!*h && reading && vfs_fd_is_dir(fd)) {
		errno = EISDIR;
		return true;
	}
	return false;
}

EXPORT ssize_t read(int fd, void *buf, size_t count)
{
	struct stce_host *h;
	ssize_t ret;

	if (refused(fd, true, &h, &ret))
		return ret;
	if (h)
		return host_rw("read", h, fd, buf, count, false);
	return REAL(read)(fd, buf, count);
}

EXPORT ssize_t write(int fd, const void *buf, size_t count)
{
	struct stce_host *h;
	ssize_t ret;

	if (refused(fd, false, &h, &ret))
		return ret;
	if (h)
		return host_rw("write", h, fd, (void *)buf, count, true);
	return REAL(write)(fd, buf, count);
}

#define DEFINE_PREAD(fn)						\
EXPORT ssize_t fn(int fd, void *buf, size_t count, off_t off)		\
{									\
	struct stce_host *h;						\
	ssize_t ret;							\
									\
	if (refused(fd, true, &h, &ret))				\
		return ret;						\
	if (h)								\
		return host_prw("pread", h, fd, buf, count, off, false); \
	return REAL(fn)(fd, buf, count, off);				\
}
DEFINE_PREAD(pread)
DEFINE_PREAD(pread64)

#define DEFINE_PWRITE(fn)						\
EXPORT ssize_t fn(int fd, const void *buf, size_t count, off_t off)	\
{									\
	struct stce_host *h;						\
	ssize_t ret;							\
									\
	if (refused(fd, false, &h, &ret))				\
		return ret;						\
	if (h)								\
		return host_prw("pwrite", h, fd, (void *)buf, count, off, true); \
	return REAL(fn)(fd, buf, count, off);				\
}
DEFINE_PWRITE(pwrite)
DEFINE_PWRITE(pwrite64)

/* glibc's _FORTIFY_SOURCE forms: the buffer check, then the call. */
EXPORT ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
	if (count > buflen)
		__chk_fail();
	return read(fd, buf, count);
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t count, off_t off,
			   size_t buflen)
{
	if (count > buflen)
		__chk_fail();
	return pread(fd, buf, count, off);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t off,
			     size_t buflen)
{
	if (count > buflen)
		__chk_fail();
	return pread64(fd, buf, count, off);
}

/* ---- readv, writev, preadv, pwritev (and 2, and 64) ---------------- */

/* readv(2)'s checks of the vector: -1 with EINVAL for a bad count or a
 * total past SSIZE_MAX. */
static int iov_check(const struct iovec *iov, int cnt)
{
	size_t sum = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return -1;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - sum)
			return -1;
		sum += iov[i].iov_len;
	}
	return 0;
}

/*
 * Region access through a vector, from @off (or the file position when
 * @off is -1, which then advances): one access an iovec, as the kernel's
 * loop over a file without read_iter; a short one ends it. What was done
 * before an error is returned, as the kernel does.
 */
static ssize_t host_prwv(const char *call, struct stce_host *h, int fd,
			 const struct iovec *iov, int cnt, off_t off,
			 bool write)
{
	bool at_pos = off == -1;
	ssize_t total = 0, n;
	int saved = errno;

	if (iov_check(iov, cnt)) {
		errno = EINVAL;
		return -1;
	}
	if (at_pos && (off = REAL(lseek)(fd, 0, SEEK_CUR)) < 0)
		return -1;
	for (int i = 0; i < cnt; i++) {
		if (!iov[i].iov_len)
			continue;
		n = host_prw(call, h, fd, iov[i].iov_base, iov[i].iov_len,
			     off + total, write);
		if (n < 0 && !total)
			return -1;
		if (n < 0)
			break;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	if (at_pos && total)
		REAL(lseek)(fd, off + total, SEEK_SET);
	errno = saved;
	return total;
}

/* The flags preadv2/pwritev2 take on a file without read_iter: RWF_HIPRI
 * is ignored, the others are EOPNOTSUPP. */
static bool bad_rwf(int flags, ssize_t *ret)
{
	if (!(flags & ~RWF_HIPRI))
		return false;
	errno = EOPNOTSUPP;
	*ret = -1;
	return true;
}

#define DEFINE_RWV(fn, call, write)					\
EXPORT ssize_t fn(int fd, const struct iovec *iov, int cnt)		\
{									\
	struct stce_host *h;						\
	ssize_t ret;							\
									\
	if (refused(fd, !write, &h, &ret))				\
		return ret;						\
	if (h)								\
		return host_prwv(call, h, fd, iov, cnt, -1, write);	\
	return REAL(fn)(fd, iov, cnt);					\
}
DEFINE_RWV(readv, "readv", false)
DEFINE_RWV(writev, "writev", true)

#define DEFINE_PRWV(fn, type, call, write)				\
EXPORT ssize_t fn(int fd, const struct iovec *iov, int cnt, type off)	\
{									\
	struct stce_host *h;						\
	ssize_t ret;							\
									\
	if (refused(fd, !write, &h, &ret))				\
		return ret;						\
	if (!h)								\
		return REAL(fn)(fd, iov, cnt, off);			\
	if (off < 0) {							\
		errno = EINVAL;						\
		return -1;						\
	}								\
	return host_prwv(call, h, fd, iov, cnt, off, write);		\
}
DEFINE_PRWV(preadv, off_t, "preadv", false)
DEFINE_PRWV(preadv64, off64_t, "preadv", false)
DEFINE_PRWV(pwritev, off_t, "pwritev", true)
DEFINE_PRWV(pwritev64, off64_t, "pwritev", true)

/* Offset -1: at the file position, as readv/writev. */
#define DEFINE_PRWV2(fn, type, call, write)				\
EXPORT ssize_t fn(int fd, const struct iovec *iov, int cnt, type off,	\
		  int flags)						\
{									\
	struct stce_host *h;						\
	ssize_t ret;							\
									\
	if (refused(fd, !write, &h, &ret))				\
		return ret;						\
	if (!h)								\
		return REAL(fn)(fd, iov, cnt, off, flags);		\
	if (bad_rwf(flags, &ret))					\
		return ret;						\
	if (off < -1) {							\
		errno = EINVAL;						\
		return -1;						\
	}								\
	return host_prwv(call, h, fd, iov, cnt, off, write);		\
}
DEFINE_PRWV2(preadv2, off_t, "preadv2", false)
DEFINE_PRWV2(preadv64v2, off64_t, "preadv2", false)
DEFINE_PRWV2(pwritev2, off_t, "pwritev2", true)
DEFINE_PRWV2(pwritev64v2, off64_t, "pwritev2", true)

/* ---- lseek, fsync, ftruncate, epoll_ctl ---------------------------- */

/* A VFIO descriptor of ours, or one a fork child inherited. */
static bool vfio_fd(int fd)
{
	return fd_inherited(fd) || host_of(fd);
}

/*
 * The kernel's VFIO files cannot seek (ESPIPE; a device file's read and
 * write still move an internal position). A served sysfs file ends, for
 * SEEK_END, at the page size, as sysfs reports its size.
 */
#define DEFINE_LSEEK(fn, type)						\
EXPORT type fn(int fd, type off, int whence)				\
{									\
	vnode_t n;							\
									\
	if (vfio_fd(fd)) {						\
		errno = ESPIPE;						\
		return -1;						\
	}								\
	n = whence == SEEK_END ? vfs_fd_peek(fd) : VNODE_NONE;		\
	if (n && vfs_node_type(n) == VT_FILE && vfs_fd_node(fd)) {	\
		struct stat st;						\
									\
		if (fstat(fd, &st))					\
			return -1;					\
		return REAL(fn)(fd, st.st_size + off, SEEK_SET);	\
	}								\
	return REAL(fn)(fd, off, whence);				\
}
DEFINE_LSEEK(lseek, off_t)
DEFINE_LSEEK(lseek64, off64_t)

/* fsync, fdatasync, ftruncate: the VFIO files have none (EINVAL). */
#define DEFINE_NO_VFIO(fn, args, call)					\
EXPORT int fn args							\
{									\
	if (vfio_fd(fd)) {						\
		errno = EINVAL;						\
		return -1;						\
	}								\
	return REAL(fn) call;						\
}
DEFINE_NO_VFIO(fsync, (int fd), (fd))
DEFINE_NO_VFIO(fdatasync, (int fd), (fd))
DEFINE_NO_VFIO(ftruncate, (int fd, off_t len), (fd, len))
DEFINE_NO_VFIO(ftruncate64, (int fd, off64_t len), (fd, len))

/* The VFIO files cannot be polled: epoll refuses them (EPERM) before it
 * looks at anything but the descriptors' validity. */
EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (!vfio_fd(fd))
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	if (REAL(fcntl)(epfd, F_GETFD) < 0)
		return -1;
	errno = EPERM;
	return -1;
}

/* ---- mmap ---------------------------------------------------------- */

#define DEFINE_MMAP(fn)							\
EXPORT void *fn(void *addr, size_t len, int prot, int flags, int fd,	\
		off_t off)						\
{									\
	struct stce_host *h;						\
									\
	if (fd < 0 || (flags & MAP_ANONYMOUS))				\
		return preload_mm_mmap(REAL(fn), addr, len, prot, flags, fd, off); \
	if (fd_inherited(fd)) {						\
		errno = EPERM;						\
		return MAP_FAILED;					\
	}								\
	h = host_of(fd);						\
	if (!h)								\
		return preload_mm_mmap(REAL(fn), addr, len, prot, flags, fd, off); \
	stce_host_mmap_check(h, fd, off);				\
	trace_rw("mmap", fd, len, off, -1, errno);			\
	return MAP_FAILED;						\
}
DEFINE_MMAP(mmap)
DEFINE_MMAP(mmap64)
