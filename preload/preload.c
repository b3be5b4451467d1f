// SPDX-License-Identifier: MIT
/*
 * libspapr-tce-preload.so: LD_PRELOAD it and a program's /dev/vfio/vfio,
 * /dev/vfio/<group>, /dev/vfio/devices/vfioN and /dev/iommu are
 * spapr-tce's (docs/preload.md).
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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spapr_tce/topology.h>
#include <spapr_tce/vfio.h>

#include "preload_internal.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_FDS 65536	/* the host's descriptor table */

/* glibc's fortified entry points (declared by bits/fcntl2.h only under
 * _FORTIFY_SOURCE). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int fcntl64(int fd, int cmd, ...);

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

/* /dev/vfio/... (container, groups, device cdevs) and /dev/iommu. */
static bool maybe_ours(const char *path)
{
	return path && (!strncmp(path, STCE_VFIO_GROUP_PREFIX,
				 strlen(STCE_VFIO_GROUP_PREFIX)) ||
			!strcmp(path, "/dev/iommu"));
}

/*
 * A /dev/vfio/ or /dev/iommu path: the host's open when the path is the host's. Returns
 * false to let libc have it.
 */
static bool host_open(const char *path, int flags, int *ret)
{
	struct stce_host *h;
	int saved = errno;

	if (!maybe_ours(path))
		return false;
	h = preload_host();
	if (!h) {
		*ret = -1;	/* errno: why the host could not be made */
		trace_open(path, flags, -1, errno);
		return true;
	}
	if (!stce_host_path_ours(h, path))
		return false;
	*ret = stce_host_open(h, path, flags);
	if (*ret >= 0)
		errno = saved;
	trace_open(path, flags, *ret, *ret < 0 ? errno : 0);
	return true;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
	       va_arg(ap, mode_t) : 0;
}

#define DEFINE_OPEN(fn)							\
EXPORT int fn(const char *path, int flags, ...)				\
{									\
	va_list ap;							\
	mode_t mode;							\
	int ret;							\
									\
	if (host_open(path, flags, &ret))				\
		return ret;						\
	va_start(ap, flags);						\
	mode = open_mode(flags, ap);					\
	va_end(ap);							\
	return REAL(fn)(path, flags, mode);				\
}
DEFINE_OPEN(open)
DEFINE_OPEN(open64)

#define DEFINE_OPENAT(fn)						\
EXPORT int fn(int dirfd, const char *path, int flags, ...)		\
{									\
	va_list ap;							\
	mode_t mode;							\
	int ret;							\
									\
	/* Relative paths are never /dev/vfio/... */			\
	if (host_open(path, flags, &ret))				\
		return ret;						\
	va_start(ap, flags);						\
	mode = open_mode(flags, ap);					\
	va_end(ap);							\
	return REAL(fn)(dirfd, path, flags, mode);			\
}
DEFINE_OPENAT(openat)
DEFINE_OPENAT(openat64)

#define DEFINE_OPEN_2(fn)						\
EXPORT int fn(const char *path, int flags)				\
{									\
	int ret;							\
									\
	if (host_open(path, flags, &ret))				\
		return ret;						\
	return REAL(fn)(path, flags);					\
}
DEFINE_OPEN_2(__open_2)
DEFINE_OPEN_2(__open64_2)

#define DEFINE_OPENAT_2(fn)						\
EXPORT int fn(int dirfd, const char *path, int flags)			\
{									\
	int ret;							\
									\
	if (host_open(path, flags, &ret))				\
		return ret;						\
	return REAL(fn)(dirfd, path, flags);				\
}
DEFINE_OPENAT_2(__openat_2)
DEFINE_OPENAT_2(__openat64_2)

/* ---- close, dup ---------------------------------------------------- */

EXPORT int close(int fd)
{
	struct stce_host *h = host_of(fd);
	int saved = errno, ret;

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
 * @newfd became a real duplicate of @oldfd (ret of the libc call): make
 * it the same host object too.
 */
static int dup_done(const char *call, int oldfd, int newfd)
{
	struct stce_host *h;
	int saved = errno;

	if (newfd < 0 || newfd == oldfd)
		return newfd;
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
	off_t pos = lseek(fd, 0, SEEK_CUR);
	ssize_t ret;

	if (pos < 0)
		return -1;
	ret = host_prw(call, h, fd, buf, count, pos, write);
	if (ret > 0)
		lseek(fd, pos + ret, SEEK_SET);
	return ret;
}

static bool refuse_inherited(int fd, ssize_t *ret)
{
	if (!fd_inherited(fd))
		return false;
	errno = EPERM;
	*ret = -1;
	return true;
}

EXPORT ssize_t read(int fd, void *buf, size_t count)
{
	struct stce_host *h = host_of(fd);
	ssize_t ret;

	if (refuse_inherited(fd, &ret))
		return ret;
	if (!h)
		return REAL(read)(fd, buf, count);
	return host_rw("read", h, fd, buf, count, false);
}

EXPORT ssize_t write(int fd, const void *buf, size_t count)
{
	struct stce_host *h = host_of(fd);
	ssize_t ret;

	if (refuse_inherited(fd, &ret))
		return ret;
	if (!h)
		return REAL(write)(fd, buf, count);
	return host_rw("write", h, fd, (void *)buf, count, true);
}

#define DEFINE_PREAD(fn)						\
EXPORT ssize_t fn(int fd, void *buf, size_t count, off_t off)		\
{									\
	struct stce_host *h = host_of(fd);				\
	ssize_t ret;							\
									\
	if (refuse_inherited(fd, &ret))					\
		return ret;						\
	if (!h)								\
		return REAL(fn)(fd, buf, count, off);			\
	return host_prw("pread", h, fd, buf, count, off, false);	\
}
DEFINE_PREAD(pread)
DEFINE_PREAD(pread64)

#define DEFINE_PWRITE(fn)						\
EXPORT ssize_t fn(int fd, const void *buf, size_t count, off_t off)	\
{									\
	struct stce_host *h = host_of(fd);				\
	ssize_t ret;							\
									\
	if (refuse_inherited(fd, &ret))					\
		return ret;						\
	if (!h)								\
		return REAL(fn)(fd, buf, count, off);			\
	return host_prw("pwrite", h, fd, (void *)buf, count, off, true); \
}
DEFINE_PWRITE(pwrite)
DEFINE_PWRITE(pwrite64)

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

/* ---- /proc/self/status --------------------------------------------- */

static bool is_own_status(const char *path)
{
	char mine[64];

	if (!path)
		return false;
	if (!strcmp(path, "/proc/self/status") ||
	    !strcmp(path, "/proc/thread-self/../status"))
		return true;
	snprintf(mine, sizeof(mine), "/proc/%d/status", (int)getpid());
	return !strcmp(path, mine);
}

#define DEFINE_FOPEN(fn)						\
EXPORT FILE *fn(const char *path, const char *mode)			\
{									\
	if (is_own_status(path) && mode && mode[0] == 'r' &&		\
	    !strchr(mode, '+'))						\
		return stce_proc_status_open();				\
	return REAL(fn)(path, mode);					\
}
DEFINE_FOPEN(fopen)
DEFINE_FOPEN(fopen64)

/* ---- sysfs --------------------------------------------------------- */

EXPORT ssize_t readlink(const char *path, char *buf, size_t len)
{
	ssize_t ret;

	if (sysfs_readlink(path, buf, len, &ret))
		return ret;
	return REAL(readlink)(path, buf, len);
}

EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	ssize_t ret;

	if (sysfs_readlink(path, buf, len, &ret))
		return ret;
	return REAL(readlinkat)(dirfd, path, buf, len);
}

EXPORT DIR *opendir(const char *path)
{
	DIR *dir;

	if (sysfs_opendir(path, &dir))
		return dir;
	return REAL(opendir)(path);
}

EXPORT struct dirent *readdir(DIR *dir)
{
	if (sysfs_is_dir(dir))
		return sysfs_readdir(dir);
	return REAL(readdir)(dir);
}

EXPORT struct dirent64 *readdir64(DIR *dir)
{
	/* One layout on 64-bit glibc. */
	if (sysfs_is_dir(dir))
		return (struct dirent64 *)sysfs_readdir(dir);
	return REAL(readdir64)(dir);
}

EXPORT int closedir(DIR *dir)
{
	if (sysfs_is_dir(dir))
		return sysfs_closedir(dir);
	return REAL(closedir)(dir);
}

EXPORT void rewinddir(DIR *dir)
{
	if (sysfs_is_dir(dir)) {
		sysfs_rewinddir(dir);
		return;
	}
	REAL(rewinddir)(dir);
}

EXPORT int dirfd(DIR *dir)
{
	if (sysfs_is_dir(dir)) {
		errno = ENOTSUP;
		return -1;
	}
	return REAL(dirfd)(dir);
}
