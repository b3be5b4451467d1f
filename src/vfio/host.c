// SPDX-License-Identifier: MIT
/*
 * The host: descriptors, open, close and ioctl dispatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/vfio.h>

#include <spapr_tce/iommufd.h>
#include <spapr_tce/vfio.h>

#include "common/alloc.h"
#include "vfio/vfio_internal.h"

/*
 * The user's pointer may be anything a program passes to ioctl(2): read
 * and write it the way the kernel does, with a fault becoming -EFAULT
 * instead of a crash. process_vm_readv/writev on our own pid does exactly
 * that for one syscall.
 */
/*
 * Where a sandbox forbids the syscalls (seccomp: EPERM or ENOSYS), the
 * copy falls back to plain memcpy for the rest of the process: a bad
 * pointer then faults as in any library call, a NULL one is still EFAULT.
 */
static atomic_bool user_copy_direct;

static int user_copy(void *local, void *user, size_t len, bool to_user)
{
	struct iovec l = { local, len }, r = { user, len };
	ssize_t done;

	if (!user)
		return -EFAULT;
	if (!len)
		return 0;
	if (!atomic_load_explicit(&user_copy_direct, memory_order_relaxed)) {
		done = to_user ? process_vm_writev(getpid(), &l, 1, &r, 1, 0)
			       : process_vm_readv(getpid(), &l, 1, &r, 1, 0);
		if (done == (ssize_t)len)
			return 0;
		if (done >= 0 || (errno != EPERM && errno != ENOSYS))
			return -EFAULT;
		atomic_store(&user_copy_direct, true);
	}
	if (to_user)
		memcpy(user, local, len);
	else
		memcpy(local, user, len);
	return 0;
}

int vfio_copy_from_user(void *dst, const void *arg, size_t len)
{
	return user_copy(dst, (void *)arg, len, false);
}

int vfio_copy_to_user(void *arg, const void *src, size_t len)
{
	return user_copy((void *)src, arg, len, true);
}

int vfio_copy_in(void *dst, const void *arg, size_t minsz)
{
	uint32_t argsz;
	int ret;

	ret = vfio_copy_from_user(dst, arg, minsz);
	if (ret)
		return ret;
	memcpy(&argsz, dst, sizeof(argsz));
	return argsz < minsz ? -EINVAL : 0;
}

int stce_host_create(const struct stce_topology *topo, struct stce_host **out)
{
	struct stce_topology *own = NULL;
	struct stce_host *host;
	int ret;

	if (!topo) {
		ret = stce_topology_default(&own);
		if (ret)
			return ret;
		topo = own;
	}
	host = stce_zalloc(sizeof(*host));
	ret = -ENOMEM;
	if (!host)
		goto out;
	ret = stce_platform_create(topo, &host->platform);
	if (ret) {
		stce_free(host);
		goto out;
	}
	pthread_mutex_init(&host->lock, NULL);
	stce_grace_init(&host->grace);
	*out = host;
out:
	stce_topology_free(own);
	return ret;
}

void stce_host_destroy(struct stce_host *host)
{
	if (!host)
		return;
	for (int fd = 0; fd < HOST_MAX_FDS; fd++)
		if (atomic_load(&host->fds[fd]))
			stce_host_close(host, fd);
	stce_platform_destroy(host->platform);
	stce_grace_destroy(&host->grace);
	pthread_mutex_destroy(&host->lock);
	stce_free(host);
}

struct stce_platform *stce_host_platform(struct stce_host *host)
{
	return host->platform;
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static struct stce_host *default_host;
static int default_error;

/* Why the topology's host could not be built, for the user. */
static void report_host_error(const struct stce_topology *topo, int ret)
{
	const char *page = topo->host_page_shift == 12 ? "4K" : "64K";
	long real = sysconf(_SC_PAGESIZE);

	if (ret == -EINVAL && (1L << topo->host_page_shift) < real)
		fprintf(stderr, "spapr-tce: host_page %s is smaller than this "
			"machine's page (%ldK)\n", page, real >> 10);
	else if (ret == -EBUSY)
		fprintf(stderr, "spapr-tce: host_page %s: this process's "
			"emulated host page is the other one and in use\n", page);
	else
		fprintf(stderr, "spapr-tce: cannot build the host: %s\n",
			strerror(-ret));
}

static void default_host_init(void)
{
	struct stce_topology *topo = NULL;
	char err[256] = "";
	int ret;

	ret = stce_topology_from_env(&topo, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "spapr-tce: %s\n", err[0] ? err : strerror(-ret));
		default_error = -ret;
		return;
	}
	ret = stce_host_create(topo, &default_host);
	if (ret)
		report_host_error(topo, ret);
	stce_topology_free(topo);
	if (ret)
		default_error = -ret;
}

struct stce_host *stce_host_default(void)
{
	pthread_once(&default_once, default_host_init);
	if (!default_host)
		errno = default_error;
	return default_host;
}

/* The decimal N (no sign, no leading zero) in "<prefix><N>", or -ENOENT. */
static int number_of_path(const char *path, const char *prefix)
{
	const char *p = path + strlen(prefix);
	char *end;
	long n;

	if (strncmp(path, prefix, strlen(prefix)) || *p < '0' || *p > '9')
		return -ENOENT;
	errno = 0;
	n = strtol(p, &end, 10);
	if (errno || *end || n > 0x7fffffff || (p[0] == '0' && p[1]))
		return -ENOENT;
	return (int)n;
}

/* The group number in "/dev/vfio/<N>", or -ENOENT. */
static int group_of_path(const char *path)
{
	return number_of_path(path, STCE_VFIO_GROUP_PREFIX);
}

/* The device index in "/dev/vfio/devices/vfio<N>" (N < the platform's
 * devices), or -ENOENT. */
static int cdev_of_path(struct stce_host *host, const char *path)
{
	int n = number_of_path(path, STCE_VFIO_CDEV_PREFIX);

	if (n >= 0 && (unsigned int)n >= stce_platform_nr_devices(host->platform))
		return -ENOENT;
	return n;
}

bool stce_host_path_ours(struct stce_host *host, const char *path)
{
	int group;

	if (!path)
		return false;
	if (!strcmp(path, STCE_VFIO_CONTAINER_PATH) ||
	    !strcmp(path, STCE_IOMMUFD_PATH))
		return true;
	if (cdev_of_path(host, path) >= 0)
		return true;
	group = group_of_path(path);
	return group >= 0 && stce_platform_find_pe(host->platform,
						   (unsigned int)group);
}

int vfio_fd_install(struct stce_host *host, struct vfio_obj *obj,
		    bool cloexec)
{
	static const char *const names[] = {
		[VFIO_OBJ_CONTAINER] = "spapr-tce-container",
		[VFIO_OBJ_GROUP] = "spapr-tce-group",
		[VFIO_OBJ_DEVICE] = "spapr-tce-device",
		[VFIO_OBJ_IOMMUFD] = "spapr-tce-iommufd",
	};
	int fd = memfd_create(names[obj->kind], cloexec ? MFD_CLOEXEC : 0);

	if (fd < 0)
		return -errno;
	if (fd >= HOST_MAX_FDS) {
		close(fd);
		return -EMFILE;
	}
	obj->fd = fd;
	atomic_store(&host->fds[fd], obj);
	atomic_fetch_add(&host->nr_open, 1);
	return fd;
}

int stce_host_open(struct stce_host *host, const char *path, int flags)
{
	int group, dev, ret;

	if (!path)
		return vfio_ret(-EFAULT);
	if (!strcmp(path, STCE_VFIO_CONTAINER_PATH)) {
		pthread_mutex_lock(&host->lock);
		ret = vfio_container_open(host, flags);
		pthread_mutex_unlock(&host->lock);
		return vfio_ret(ret);
	}
	if (!strcmp(path, STCE_IOMMUFD_PATH)) {
		pthread_mutex_lock(&host->lock);
		ret = vfio_iommufd_open(host, flags);
		pthread_mutex_unlock(&host->lock);
		return vfio_ret(ret);
	}
	dev = cdev_of_path(host, path);
	if (dev >= 0) {
		pthread_mutex_lock(&host->lock);
		ret = vfio_device_cdev_open_locked(host, (unsigned int)dev, flags);
		pthread_mutex_unlock(&host->lock);
		return vfio_ret(ret);
	}
	group = group_of_path(path);
	if (group < 0)
		return vfio_ret(group);
	pthread_mutex_lock(&host->lock);
	ret = vfio_group_open(host, (unsigned int)group, flags);
	pthread_mutex_unlock(&host->lock);
	return vfio_ret(ret);
}

void vfio_obj_get(struct vfio_obj *obj)
{
	atomic_fetch_add(&obj->refs, 1);
}

void vfio_obj_put_locked(struct stce_host *host, struct vfio_obj *obj)
{
	if (atomic_fetch_sub(&obj->refs, 1) != 1)
		return;
	switch (obj->kind) {
	case VFIO_OBJ_CONTAINER:
		vfio_container_free(host, (struct vfio_container *)obj);
		break;
	case VFIO_OBJ_GROUP:
		vfio_group_free(host, (struct vfio_group *)obj);
		break;
	case VFIO_OBJ_DEVICE:
		vfio_device_free(host, (struct vfio_device *)obj);
		break;
	case VFIO_OBJ_IOMMUFD:
		vfio_iommufd_free((struct vfio_iommufd *)obj);
		break;
	}
}

/*
 * The object behind @fd, inside a read-side section the caller leaves
 * with stce_grace_read_unlock() (the object stays valid until then:
 * close waits a grace period before it drops the descriptor's
 * reference). NULL (and no section held) when @fd is not the host's.
 */
static struct vfio_obj *fd_enter(struct stce_host *host, int fd,
				 struct stce_grace_guard *guard)
{
	struct vfio_obj *obj;

	if (fd < 0 || fd >= HOST_MAX_FDS)
		return NULL;
	stce_grace_read_lock(&host->grace, guard);
	obj = atomic_load(&host->fds[fd]);
	if (!obj)
		stce_grace_read_unlock(&host->grace, guard);
	return obj;
}

bool stce_host_fd_ours(struct stce_host *host, int fd)
{
	return fd >= 0 && fd < HOST_MAX_FDS && atomic_load(&host->fds[fd]);
}

unsigned int stce_host_open_fds(struct stce_host *host)
{
	return atomic_load(&host->nr_open);
}

/* The structural ioctls: under the host lock, holding a reference. */
static int ioctl_locked(struct stce_host *host, struct vfio_obj *obj,
			unsigned long request, void *arg)
{
	int ret = -ENOTTY;

	pthread_mutex_lock(&host->lock);
	switch (obj->kind) {
	case VFIO_OBJ_CONTAINER:
		ret = vfio_container_ioctl(host, (struct vfio_container *)obj,
					   request, arg);
		break;
	case VFIO_OBJ_GROUP:
		ret = vfio_group_ioctl(host, (struct vfio_group *)obj, request,
				       arg);
		break;
	case VFIO_OBJ_DEVICE:
		ret = vfio_device_ioctl(host, (struct vfio_device *)obj,
					request, arg);
		break;
	case VFIO_OBJ_IOMMUFD:	/* never here: stce_host_ioctl serves it */
		break;
	}
	vfio_obj_put_locked(host, obj);
	pthread_mutex_unlock(&host->lock);
	return ret;
}

int stce_host_ioctl(struct stce_host *host, int fd, unsigned long request,
		    void *arg)
{
	struct stce_grace_guard guard;
	struct vfio_obj *obj;
	int ret;

	obj = fd_enter(host, fd, &guard);
	if (!obj)
		return vfio_ret(-EBADF);
	/*
	 * The container's IOMMU ioctls (MAP, UNMAP, ...) run lock-free
	 * inside the read-side section; the rest takes the host lock.
	 */
	if (obj->kind == VFIO_OBJ_CONTAINER && request != VFIO_SET_IOMMU) {
		ret = vfio_container_ioctl(host, (struct vfio_container *)obj,
					   request, arg);
		stce_grace_read_unlock(&host->grace, &guard);
		return vfio_ret(ret);
	}
	/*
	 * An iommufd serialises on its own context (and MAP/UNMAP's TCE
	 * writes are lock-free inside it): hold the context, not the host.
	 */
	if (obj->kind == VFIO_OBJ_IOMMUFD) {
		struct stce_iommufd *ictx = ((struct vfio_iommufd *)obj)->ictx;

		stce_iommufd_get(ictx);
		stce_grace_read_unlock(&host->grace, &guard);
		ret = (int)stce_iommufd_ioctl(ictx, request, arg);
		stce_iommufd_put(ictx);
		return vfio_ret(ret);
	}
	vfio_obj_get(obj);
	stce_grace_read_unlock(&host->grace, &guard);
	return vfio_ret(ioctl_locked(host, obj, request, arg));
}

int stce_host_close(struct stce_host *host, int fd)
{
	struct vfio_obj *obj;

	if (fd < 0 || fd >= HOST_MAX_FDS)
		return vfio_ret(-EBADF);
	pthread_mutex_lock(&host->lock);
	obj = atomic_exchange(&host->fds[fd], NULL);
	pthread_mutex_unlock(&host->lock);
	if (!obj)
		return vfio_ret(-EBADF);
	/* No lock-free ioctl can still be using the descriptor's object. */
	stce_grace_synchronize(&host->grace);
	pthread_mutex_lock(&host->lock);
	obj->fd = -1;
	atomic_fetch_sub(&host->nr_open, 1);
	vfio_obj_put_locked(host, obj);
	pthread_mutex_unlock(&host->lock);
	close(fd);
	return 0;
}

/* Duplicate: @newfd (a real duplicate the caller made) now names @oldfd's
 * object; whatever @newfd named before is released as its close would. */
int stce_host_dup(struct stce_host *host, int oldfd, int newfd)
{
	struct vfio_obj *obj, *prev;

	if (oldfd < 0 || oldfd >= HOST_MAX_FDS || newfd < 0 ||
	    newfd >= HOST_MAX_FDS)
		return vfio_ret(-EBADF);
	if (oldfd == newfd)
		return newfd;
	pthread_mutex_lock(&host->lock);
	obj = atomic_load(&host->fds[oldfd]);
	if (!obj) {
		pthread_mutex_unlock(&host->lock);
		return vfio_ret(-EBADF);
	}
	vfio_obj_get(obj);
	atomic_fetch_add(&host->nr_open, 1);
	prev = atomic_exchange(&host->fds[newfd], obj);
	pthread_mutex_unlock(&host->lock);
	if (prev) {
		stce_grace_synchronize(&host->grace);
		pthread_mutex_lock(&host->lock);
		atomic_fetch_sub(&host->nr_open, 1);
		vfio_obj_put_locked(host, prev);
		pthread_mutex_unlock(&host->lock);
	}
	return newfd;
}

/* Region access on a device descriptor; others: -EINVAL as the kernel's
 * container and group files (no read/write). */
static ssize_t host_rw(struct stce_host *host, int fd, void *buf,
		       size_t count, off_t off, bool write)
{
	struct stce_grace_guard guard;
	struct vfio_obj *obj;
	ssize_t ret;

	if (fd < 0 || fd >= HOST_MAX_FDS)
		return vfio_ret(-EBADF);
	if (off < 0)
		return vfio_ret(-EINVAL);
	obj = fd_enter(host, fd, &guard);
	if (!obj)
		return vfio_ret(-EBADF);
	if (obj->kind != VFIO_OBJ_DEVICE)
		ret = -EINVAL;
	else
		ret = vfio_device_rw((struct vfio_device *)obj, buf, count,
				     (uint64_t)off, write);
	stce_grace_read_unlock(&host->grace, &guard);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

ssize_t stce_host_pread(struct stce_host *host, int fd, void *buf,
			size_t count, off_t off)
{
	return host_rw(host, fd, buf, count, off, false);
}

ssize_t stce_host_pwrite(struct stce_host *host, int fd, const void *buf,
			 size_t count, off_t off)
{
	return host_rw(host, fd, (void *)buf, count, off, true);
}

int stce_host_mmap_check(struct stce_host *host, int fd, off_t off)
{
	struct stce_grace_guard guard;
	struct vfio_obj *obj;
	int ret;

	obj = fd_enter(host, fd, &guard);
	if (!obj)
		return vfio_ret(-EBADF);
	/*
	 * Container and group files have no mmap (ENODEV); no region of
	 * the device is mmap-able (GET_REGION_INFO says so): EINVAL, as
	 * vfio-pci answers for such a region.
	 */
	if (obj->kind != VFIO_OBJ_DEVICE)
		ret = -ENODEV;	/* iommufd too: no mmap on 6.12 */
	else
		ret = -EINVAL;
	stce_grace_read_unlock(&host->grace, &guard);
	(void)off;
	return vfio_ret(ret);
}

enum stce_host_fd_kind stce_host_fd_kind(struct stce_host *host, int fd)
{
	static const enum stce_host_fd_kind kinds[] = {
		[VFIO_OBJ_CONTAINER] = STCE_HOST_FD_CONTAINER,
		[VFIO_OBJ_GROUP] = STCE_HOST_FD_GROUP,
		[VFIO_OBJ_DEVICE] = STCE_HOST_FD_DEVICE,
		[VFIO_OBJ_IOMMUFD] = STCE_HOST_FD_IOMMUFD,
	};
	struct stce_grace_guard guard;
	enum stce_host_fd_kind kind = STCE_HOST_FD_NONE;
	struct vfio_obj *obj;

	obj = fd_enter(host, fd, &guard);
	if (!obj)
		return kind;
	kind = kinds[obj->kind];
	stce_grace_read_unlock(&host->grace, &guard);
	return kind;
}
