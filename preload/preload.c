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
 * Lifetimes (close races, signal handlers, fork) are the host's
 * (src/vfio/descriptors.c, docs/preload.md): close and the dups go
 * through it whole, and every served call asks it first.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <signal.h>
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
#define VFS_FDS 65536	/* vfs.c's descriptor table */

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

struct stce_host *preload_host_peek(void)
{
	return atomic_load_explicit(&host_now, memory_order_acquire);
}

/* host_mutex held. */
static struct stce_host *host_make(void)
{
	struct stce_topology *topo = NULL;
	struct stce_host *h = NULL;
	char err[256] = "";
	int ret;

	ret = stce_topology_from_env(&topo, err, sizeof(err));
	if (!ret)
		ret = stce_host_create(topo, &h);
	stce_topology_free(topo);
	if (ret) {
		fprintf(stderr, "spapr-tce preload: %s\n",
			err[0] ? err : strerror(-ret));
		host_error = -ret;
		return NULL;
	}
	atomic_store_explicit(&host_now, h, memory_order_release);
	return h;
}

/*
 * Made once, with every signal blocked: a handler's open of /dev/vfio
 * would otherwise wait for host_mutex held by the code it interrupted.
 */
struct stce_host *preload_host(void)
{
	struct stce_host *h = preload_host_peek();
	sigset_t all, old;

	if (h)
		return h;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&host_mutex);
	h = atomic_load(&host_now);
	if (!h && !host_error)
		h = host_make();
	if (!h)
		errno = host_error;
	pthread_mutex_unlock(&host_mutex);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return h;
}

/*
 * The host @fd belongs to, or NULL (the common case: one atomic load). A
 * descriptor another thread is closing is waited for (stce_host_fd_ours).
 */
static struct stce_host *host_of(int fd)
{
	struct stce_host *h = preload_host_peek();

	return h && stce_host_fd_ours(h, fd) ? h : NULL;
}

uint32_t preload_fd_tag(int fd)
{
	struct stce_host *h = host_of(fd);

	return h ? stce_host_fd_tag(h, fd) : 0;
}

bool preload_fd_set_tag(int fd, uint32_t tag)
{
	struct stce_host *h = host_of(fd);

	return h && !stce_host_fd_set_tag(h, fd, tag);
}

uint64_t preload_fd_generation(void)
{
	struct stce_host *h = preload_host_peek();

	return h ? stce_host_fd_generation(h) : 0;
}

int preload_fd_recheck(int fd, uint64_t gen)
{
	struct stce_host *h = preload_host_peek();

	if (!h)
		return 0;
	if (stce_host_fd_ours(h, fd))
		return 1;
	return stce_host_fd_generation(h) != gen ? -1 : 0;
}

/* fork: the host renews itself in the child (src/vfio/host.c); the
 * mutex that makes it must not be copied held. */
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
	pthread_mutex_init(&host_mutex, NULL);
	stats_fork_child();
}

/*
 * Neither tracing nor SPAPR_TCE_STATS is on: known once the constructor
 * ran (both read their environment variable once), and until then
 * false, so that an ioctl from an earlier constructor still asks them.
 * The ioctl path then skips both with one predictable branch.
 */
static bool quiet;

__attribute__((constructor)) static void preload_init(void)
{
	bool tracing;

	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	/* Settle the trace's pthread_once and the statistics' state before
	 * any signal handler can interrupt them. */
	tracing = trace_enabled();
	quiet = !stats_start() && !tracing;
	/*
	 * sigaction and signal are ours (below; a sanitizer's interceptors
	 * in front hand them on to us), so the ioctl copies' fault handler
	 * stays in front with no check a call.
	 */
	stce_host_keep_fault_handler();
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
	uint64_t t0;

	if (!h) {
		vfs_fd_forget(fd);
		return REAL(close)(fd);
	}
	t0 = stats_start();
	ret = stce_host_close(h, fd);
	if (!ret)
		errno = saved;
	stats_call("close", t0);
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

	if (fd < 0 || !host_of(fd))
		return REAL(fclose)(f);
	ret = fflush(f);
	f->_fileno = -1;
	REAL(fclose)(f);
	return close(fd) || ret ? EOF : 0;
}

/* One of the duplicating calls, made by the host at the right moment. */
struct dup_req {
	const char *call;
	int oldfd, newfd, flags, cmd;
	int (*fcntl_fn)(int fd, int cmd, ...);
};

static int dup_real(void *arg)
{
	struct dup_req *r = arg;

	if (r->fcntl_fn)
		return r->fcntl_fn(r->oldfd, r->cmd, r->newfd);
	if (r->newfd < 0)
		return REAL(dup)(r->oldfd);
	if (r->flags < 0)
		return REAL(dup2)(r->oldfd, r->newfd);
	return REAL(dup3)(r->oldfd, r->newfd, r->flags);
}

/*
 * Every duplicate goes through the host once there is one: the copy of a
 * host descriptor names its object, one over a host descriptor (dup2,
 * dup3) releases what that named, atomically with the libc call.
 * @target: the descriptor replaced (dup2/dup3), else -1.
 */
static int dup_any(struct dup_req *r, int target)
{
	struct stce_host *h = preload_host_peek();
	int ret;

	if (!h)
		ret = dup_real(r);
	else
		ret = stce_host_dup_call(h, r->oldfd, target, dup_real, r);
	if (ret < 0 || ret == r->oldfd)
		return ret;
	vfs_fd_dup(r->oldfd, ret);	/* served sysfs files */
	if (h && stce_host_fd_ours(h, ret))
		trace_dup(r->call, r->oldfd, ret, 0);
	return ret;
}

EXPORT int dup(int oldfd)
{
	struct dup_req r = { "dup", oldfd, -1, -1, 0, NULL };

	return dup_any(&r, -1);
}

EXPORT int dup2(int oldfd, int newfd)
{
	struct dup_req r = { "dup2", oldfd, newfd, -1, 0, NULL };

	/* A no-op on a valid descriptor (EBADF else): nothing changes. */
	if (oldfd == newfd)
		return REAL(dup2)(oldfd, newfd);
	return dup_any(&r, newfd);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	struct dup_req r = { "dup3", oldfd, newfd, flags, 0, NULL };

	if (oldfd == newfd)
		return REAL(dup3)(oldfd, newfd, flags);	/* EINVAL */
	return dup_any(&r, newfd);
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd,
			void *arg)
{
	struct dup_req r = { "fcntl(F_DUPFD)", fd, (int)(intptr_t)arg, -1,
			     cmd, real };
	uint64_t gen = preload_fd_generation();
	struct stce_host *h;
	int saved = errno, ret;

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return dup_any(&r, -1);
	/* The status flags are the object's (an O_PATH descriptor has
	 * others, and refuses F_SETFL). */
	if ((cmd == F_GETFL || cmd == F_SETFL) && (h = host_of(fd)))
		goto host;
	ret = real(fd, cmd, arg);
	/* One of ours made at this number since host_of() asked (a dup2,
	 * an open of another thread). */
	if (cmd == F_GETFL && ret >= 0 && (ret & O_PATH)) {
		switch (preload_fd_recheck(fd, gen)) {
		case 1:
			h = host_of(fd);
			goto host;
		case -1:
			errno = EBADF;
			return -1;
		}
	}
	return ret;
host:
	ret = stce_host_fcntl(h, fd, cmd, (long)(intptr_t)arg);
	if (ret >= 0)
		errno = saved;
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
		for (unsigned int fd = first; fd <= last && fd < VFS_FDS; fd++)
			vfs_fd_forget((int)fd);
		if (h)
			stce_host_close_range(h, first, last);
	}
	return REAL(close_range)(first, last, flags);
}

/* ---- ioctl --------------------------------------------------------- */

/* An ioctl the host served: what it leaves besides its answer @ret. */
static int ioctl_served(int ret, unsigned long request, int saved)
{
	if (ret >= 0 && request == VFIO_GROUP_GET_DEVICE_FD)
		vfs_fd_set(ret, VNODE_ANON_DEVICE);
	if (ret >= 0)
		errno = saved;
	return ret;
}

/* Tracing or SPAPR_TCE_STATS on: the call timed and traced. */
static int ioctl_watched(struct stce_host *h, int fd, unsigned long request,
			 void *arg, int saved)
{
	enum stce_host_fd_kind kind = STCE_HOST_FD_NONE;
	uint64_t t0;
	int ret;

	if (!stce_host_fd_ours(h, fd))
		return REAL(ioctl)(fd, request, arg);
	t0 = stats_start();
	if (trace_enabled() || t0)
		kind = stce_host_fd_kind(h, fd);
	ret = ioctl_served(stce_host_ioctl(h, fd, request, arg), request,
			   saved);
	stats_ioctl(kind, request, t0);
	trace_ioctl(kind, fd, request, arg, ret, ret < 0 ? errno : 0);
	return ret;
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	struct stce_host *h;
	va_list ap;
	void *arg;
	int saved = errno, ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	h = preload_host_peek();
	if (!h)
		return REAL(ioctl)(fd, request, arg);
	if (!__builtin_expect(quiet, 1))
		return ioctl_watched(h, fd, request, arg, saved);
	/* One look at the descriptor (QEMU's MAP/UNMAP per TCE). */
	if (!stce_host_ioctl_ours(h, fd, request, arg, &ret))
		return REAL(ioctl)(fd, request, arg);
	return ioctl_served(ret, request, saved);
}

/* ---- read, write, pread, pwrite ------------------------------------ */

static ssize_t host_prw(const char *call, struct stce_host *h, int fd,
			void *buf, size_t count, off_t off, bool write)
{
	uint64_t t0 = stats_start();
	int saved = errno;
	ssize_t ret;

	ret = write ? stce_host_pwrite(h, fd, buf, count, off)
		    : stce_host_pread(h, fd, buf, count, off);
	if (ret >= 0)
		errno = saved;
	stats_call(call, t0);
	trace_rw(call, fd, count, off, ret, ret < 0 ? errno : 0);
	return ret;
}

/* read/write at the file position, which the host keeps with the object
 * (shared between duplicates, as a file's position is). */
static ssize_t host_rw(const char *call, struct stce_host *h, int fd,
		       void *buf, size_t count, bool write)
{
	uint64_t t0 = stats_start();
	int saved = errno;
	ssize_t ret;

	ret = write ? stce_host_write(h, fd, buf, count)
		    : stce_host_read(h, fd, buf, count);
	if (ret >= 0)
		errno = saved;
	stats_call(call, t0);
	trace_rw(call, fd, count, -1, ret, ret < 0 ? errno : 0);
	return ret;
}

/*
 * The read and write family's first question: a served directory is
 * EISDIR to read (true, with *ret). Else *h is the host of a host
 * descriptor, NULL for libc's.
 */
static bool refused(int fd, bool reading, struct stce_host **h, ssize_t *ret)
{
	*ret = -1;
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
	for (int i = 0; i < cnt; i++) {
		if (!iov[i].iov_len)
			continue;
		n = at_pos ? host_rw(call, h, fd, iov[i].iov_base,
				     iov[i].iov_len, write)
			   : host_prw(call, h, fd, iov[i].iov_base,
				      iov[i].iov_len, off + total, write);
		if (n < 0 && !total)
			return -1;
		if (n < 0)
			break;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
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

/* A VFIO descriptor of ours (one a fork child inherited included). */
static bool vfio_fd(int fd)
{
	return host_of(fd);
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
	uint64_t t0;							\
									\
	if (fd < 0 || (flags & MAP_ANONYMOUS))				\
		return preload_mm_mmap(REAL(fn), addr, len, prot, flags, fd, off); \
	h = host_of(fd);						\
	if (!h)								\
		return preload_mm_mmap(REAL(fn), addr, len, prot, flags, fd, off); \
	t0 = stats_start();						\
	stce_host_mmap_check(h, fd, off);				\
	stats_call("mmap", t0);						\
	trace_rw("mmap", fd, len, off, -1, errno);			\
	return MAP_FAILED;						\
}
DEFINE_MMAP(mmap)
DEFINE_MMAP(mmap64)

/* ---- sigaction, signal --------------------------------------------- */

/*
 * SIGSEGV and SIGBUS: the program's handler goes behind the host's
 * (stce_host_sigaction), which hands it every fault that is not an ioctl
 * copy's; the program sees its own handler as the old one.
 */
EXPORT int sigaction(int sig, const struct sigaction *act,
		     struct sigaction *old)
{
	if (stce_host_sigaction(sig, act, old))
		return 0;
	return REAL(sigaction)(sig, act, old);
}

/* glibc's signal(): BSD semantics (SA_RESTART, the signal blocked in
 * its handler), through the sigaction above. */
EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction act = { .sa_handler = handler, .sa_flags = SA_RESTART },
			 old;

	sigemptyset(&act.sa_mask);
	if (sig > 0 && sig < NSIG)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old))
		return SIG_ERR;
	return old.sa_handler;
}
