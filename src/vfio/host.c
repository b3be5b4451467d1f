// SPDX-License-Identifier: MIT
/*
 * The host: making and ending one, fork, open, and the dispatch of the
 * calls on its descriptors (descriptors.c keeps the table: install,
 * close, dup).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
#include "common/safecopy.h"
#include "vfio/vfio_internal.h"

/*
 * The user's pointer may be anything a program passes to ioctl(2): read
 * and write it the way the kernel does, with a fault becoming -EFAULT
 * instead of a crash. The fault-safe copy (common/safecopy.h) does that
 * at memcpy's cost on x86_64; its handler is checked before each copy (a
 * system call) unless the preload library keeps it in front, which makes
 * the copy free of system calls. Elsewhere one process_vm_readv/writev.
 */
static int user_copy(void *local, void *user, size_t len, bool to_user)
{
	size_t left;
	int ret;

	if (!user)
		return -EFAULT;
	if (!len)
		return 0;
	/* A program's own handler may have displaced the copy's. */
	ret = stce_safe_copy_ready();
	if (ret)
		return ret;
	left = to_user ? stce_safe_copy(user, local, len)
		       : stce_safe_copy(local, user, len);
	return left ? -EFAULT : 0;
}

/* See vfio_internal.h. */
int vfio_copy_from_user(void *dst, const void *arg, size_t len)
{
	return user_copy(dst, (void *)arg, len, false);
}

/* See vfio_internal.h. */
int vfio_copy_to_user(void *arg, const void *src, size_t len)
{
	return user_copy((void *)src, arg, len, true);
}

/* See vfio_internal.h. */
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

/*
 * Every host, for fork. hosts_lock also orders a host's creation before a
 * fork (the prepare handler takes it), so the child sees whole hosts.
 */
static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stce_host *hosts;

/* Platforms a fork child left to its inherited objects: never touched or
 * freed again (their locks may be held by threads the child does not
 * have); kept reachable. */
#define MAX_LEFT 16
static struct stce_platform *left[MAX_LEFT];
static unsigned int nr_left;

/* See <spapr_tce/vfio.h>. */
int stce_host_create(const struct stce_topology *topo, struct stce_host **out)
{
	struct stce_topology *own = NULL;
	struct stce_platform *plat;
	struct stce_host *host;
	int ret;

	if (!topo) {
		ret = stce_topology_default(&own);
		if (ret)
			return ret;
		topo = own;
	}
	/* The ioctl argument copies need the fault handler (once: later
	 * calls only check it is still ours). */
	ret = stce_safe_copy_arm();
	if (ret)
		goto out;
	host = stce_zalloc(sizeof(*host));
	ret = -ENOMEM;
	if (!host)
		goto out;
	ret = stce_platform_create(topo, &plat);
	if (ret) {
		stce_free(host);
		goto out;
	}
	host->platform = plat;
	pthread_mutex_init(&host->lock, NULL);
	stce_grace_init(&host->grace);
	pthread_mutex_lock(&hosts_lock);
	host->next = hosts;
	hosts = host;
	pthread_mutex_unlock(&hosts_lock);
	*out = host;
out:
	stce_topology_free(own);
	return ret;
}

static void hosts_remove(struct stce_host *host)
{
	pthread_mutex_lock(&hosts_lock);
	for (struct stce_host **p = &hosts; *p; p = &(*p)->next) {
		if (*p == host) {
			*p = host->next;
			break;
		}
	}
	pthread_mutex_unlock(&hosts_lock);
}

/* See <spapr_tce/vfio.h>. */
void stce_host_destroy(struct stce_host *host)
{
	if (!host)
		return;
	hosts_remove(host);
	vfio_fds_close_all(host);
	/* A fork child's host not renewed yet still has the parent's. */
	if (!atomic_load(&host->renew))
		stce_platform_destroy(host->platform);
	stce_grace_destroy(&host->grace);
	pthread_mutex_destroy(&host->lock);
	stce_fdtab_destroy(&host->fds);
	free(host->inherited);
	stce_free(host);
}

/*
 * A fork child's first need of the machine: a platform of its own, from
 * the same topology (the parent's stays with the inherited objects).
 */
static int host_renew(struct stce_host *host)
{
	struct stce_platform *old, *plat;
	int ret = 0;

	if (!atomic_load_explicit(&host->renew, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&host->lock);
	old = host->platform;
	if (atomic_load(&host->renew)) {
		ret = stce_platform_create(stce_platform_topology(old), &plat);
		if (!ret) {
			if (nr_left < MAX_LEFT)
				left[nr_left++] = old;
			host->platform = plat;
			atomic_store_explicit(&host->renew, false,
					      memory_order_release);
		}
	}
	pthread_mutex_unlock(&host->lock);
	return ret;
}

/* See <spapr_tce/vfio.h>. */
struct stce_platform *stce_host_platform(struct stce_host *host)
{
	host_renew(host);	/* on failure, the parent's: still readable */
	return host->platform;
}

/*
 * fork. The prepare handler orders host creation (and the default host's)
 * before the fork. In the child only the forking thread exists: every
 * descriptor becomes inherited, and the host's lock and grace period
 * start afresh (threads of the parent may have held them); the platform
 * is renewed at first need.
 */
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&default_lock);
	pthread_mutex_lock(&hosts_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&hosts_lock);
	pthread_mutex_unlock(&default_lock);
}

static void host_fork_child(struct stce_host *host)
{
	pthread_mutex_init(&host->lock, NULL);
	stce_grace_init(&host->grace);
	memset(host->open_groups, 0, sizeof(host->open_groups));
	memset(host->dev_state, 0, sizeof(host->dev_state));
	memset(host->cdev_bound, 0, sizeof(host->cdev_bound));
	for (unsigned int i = 0; i < HOST_MAX_GROUPS; i++)
		atomic_init(&host->inherited_busy[i], 0);
	vfio_fds_fork_child(host);
	atomic_store(&host->renew, true);
}

static void atfork_child(void)
{
	pthread_mutex_init(&hosts_lock, NULL);
	pthread_mutex_init(&default_lock, NULL);
	for (struct stce_host *h = hosts; h; h = h->next)
		host_fork_child(h);
}

__attribute__((constructor)) static void host_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static struct stce_host *_Atomic default_host;
static int default_error;	/* default_lock */

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

/* default_lock held. */
static void default_host_init(void)
{
	struct stce_topology *topo = NULL;
	struct stce_host *h;
	char err[256] = "";
	int ret;

	ret = stce_topology_from_env(&topo, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "spapr-tce: %s\n", err[0] ? err : strerror(-ret));
		default_error = -ret;
		return;
	}
	ret = stce_host_create(topo, &h);
	if (ret)
		report_host_error(topo, ret);
	stce_topology_free(topo);
	if (ret)
		default_error = -ret;
	else
		atomic_store_explicit(&default_host, h, memory_order_release);
}

/* A mutex, not pthread_once: the fork child handler can reset it. */
struct stce_host *stce_host_default(void)
{
	struct stce_host *h = atomic_load_explicit(&default_host,
						   memory_order_acquire);

	if (h)
		return h;
	pthread_mutex_lock(&default_lock);
	if (!atomic_load(&default_host) && !default_error)
		default_host_init();
	h = atomic_load(&default_host);
	if (!h)
		errno = default_error;
	pthread_mutex_unlock(&default_lock);
	return h;
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

/* See <spapr_tce/vfio.h>. */
bool stce_host_path_ours(struct stce_host *host, const char *path)
{
	int group;

	if (!path)
		return false;
	host_renew(host);
	if (!strcmp(path, STCE_VFIO_CONTAINER_PATH) ||
	    !strcmp(path, STCE_IOMMUFD_PATH))
		return true;
	if (cdev_of_path(host, path) >= 0)
		return true;
	group = group_of_path(path);
	return group >= 0 && stce_platform_find_pe(host->platform,
						   (unsigned int)group);
}

/* The host's part of open(2), structural, host->lock taken inside. */
static int host_open(struct stce_host *host, const char *path, int flags)
{
	int group, dev, ret;

	if (!path)
		return -EFAULT;
	ret = host_renew(host);
	if (ret)
		return ret;
	/* What open(2) adds on a 64-bit kernel, and F_GETFL shows. */
	flags |= O_LARGEFILE;
	if (!strcmp(path, STCE_VFIO_CONTAINER_PATH)) {
		pthread_mutex_lock(&host->lock);
		ret = vfio_container_open(host, flags);
		pthread_mutex_unlock(&host->lock);
		return ret;
	}
	if (!strcmp(path, STCE_IOMMUFD_PATH)) {
		pthread_mutex_lock(&host->lock);
		ret = vfio_iommufd_open(host, flags);
		pthread_mutex_unlock(&host->lock);
		return ret;
	}
	dev = cdev_of_path(host, path);
	if (dev >= 0) {
		pthread_mutex_lock(&host->lock);
		ret = vfio_device_cdev_open_locked(host, (unsigned int)dev, flags);
		pthread_mutex_unlock(&host->lock);
		return ret;
	}
	group = group_of_path(path);
	if (group < 0)
		return group;
	pthread_mutex_lock(&host->lock);
	ret = vfio_group_open(host, (unsigned int)group, flags);
	pthread_mutex_unlock(&host->lock);
	return ret;
}

/* See <spapr_tce/vfio.h>. */
int stce_host_open(struct stce_host *host, const char *path, int flags)
{
	int ret;

	if (vfio_call_nested())
		return vfio_ret(-EDEADLK);
	vfio_call_enter();
	ret = host_open(host, path, flags);
	vfio_call_leave();
	return vfio_ret(ret);
}

/* See vfio_internal.h. */
void vfio_obj_get(struct vfio_obj *obj)
{
	atomic_fetch_add(&obj->refs, 1);
}

/* See vfio_internal.h. */
void vfio_obj_put_locked(struct stce_host *host, struct vfio_obj *obj)
{
	stce_assert_held(&host->lock);
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

/* See <spapr_tce/vfio.h>. */
unsigned int stce_host_open_fds(struct stce_host *host)
{
	return atomic_load(&host->nr_open);
}

/* The call's object, by its kind (the member its handlers use). */
/*
 * Everything but the command, which the row's copy-in fills (zeroing
 * what the user's struct lacks): a 104-byte zeroing of the whole call
 * cost 5% of a one-page MAP_DMA (rep stos).
 */
static void call_init(struct vfio_call *call, struct stce_host *host,
		      void *arg)
{
	call->host = host;
	call->vc = NULL;
	call->g = NULL;
	call->d = NULL;
	call->ictx = NULL;
	call->iommu = NULL;
	call->arg_int = (unsigned long)arg;
	call->arg = arg;
	call->usize = 0;
}

static void call_set_obj(struct vfio_call *call, struct vfio_obj *obj)
{
	switch (obj->kind) {
	case VFIO_OBJ_CONTAINER:
		call->vc = (struct vfio_container *)obj;
		break;
	case VFIO_OBJ_GROUP:
		call->g = (struct vfio_group *)obj;
		break;
	case VFIO_OBJ_DEVICE:
		call->d = (struct vfio_device *)obj;
		break;
	case VFIO_OBJ_IOMMUFD:
		call->ictx = ((struct vfio_iommufd *)obj)->ictx;
		break;
	}
}

/* The structural ioctls: under the host lock, holding a reference. */
static int ioctl_under_lock(struct vfio_call *call, struct vfio_obj *obj,
			unsigned long request)
{
	struct stce_host *host = call->host;
	int ret;

	pthread_mutex_lock(&host->lock);
	ret = (int)vfio_ioctl_dispatch((enum stce_host_fd_kind)obj->kind, call,
				       request);
	vfio_obj_put_locked(host, obj);
	pthread_mutex_unlock(&host->lock);
	return ret;
}

/*
 * A fork child's ioctl on a descriptor it inherited: the parent's object,
 * which this process cannot act on (the kernel binds a container to the
 * mm that uses it). What the kernel answers without the parent's state
 * (the rows flagged VFIO_OP_INHERITED; SET_IOMMU and UNSET_CONTAINER with
 * state the parent cannot change under it) is answered; the rest is EPERM
 * (docs/preload.md).
 */
static int inherited_ioctl(struct vfio_call *call, struct vfio_obj *obj,
			   unsigned long request)
{
	enum stce_host_fd_kind kind = (enum stce_host_fd_kind)obj->kind;
	const struct vfio_ioctl_op *op = vfio_ioctl_op(kind, request);

	if (op && (op->flags & VFIO_OP_INHERITED))
		return (int)vfio_ioctl_run(op, call);
	if (obj->kind == VFIO_OBJ_CONTAINER && request == VFIO_SET_IOMMU &&
	    atomic_load(&call->vc->iommu))
		return -EINVAL;
	if (obj->kind == VFIO_OBJ_GROUP &&
	    request == VFIO_GROUP_UNSET_CONTAINER && call->g->nr_devices)
		return -EBUSY;
	return -EPERM;
}

/*
 * ioctl(2) on entry @e's object, inside the read-side section @guard of
 * a host call, which this leaves. Out of line: its frame is not the
 * one-page MAP/UNMAP's.
 */
static int __attribute__((noinline))
host_ioctl_obj(struct stce_host *host, uintptr_t e,
	       struct stce_grace_guard *guard, unsigned long request,
	       void *arg)
{
	struct vfio_obj *obj = vfio_entry_obj(e);
	const struct vfio_ioctl_op *op;
	struct stce_iommufd *ictx;
	struct vfio_call call;
	int ret;

	call_init(&call, host, arg);
	call_set_obj(&call, obj);
	if (e & VFIO_FD_INHERITED) {
		ret = inherited_ioctl(&call, obj, request);
		stce_grace_read_unlock(&host->grace, guard);
		return ret;
	}
	/*
	 * The container's IOMMU ioctls (MAP, UNMAP, ...) run lock-free
	 * inside the read-side section (the container's own sections nest
	 * in it: it shares the host's grace); its structural ones (the
	 * rows flagged VFIO_OP_LOCKED: SET_IOMMU, and TCE_REMOVE, which
	 * waits for that grace) and every group and device
	 * ioctl take the host lock.
	 */
	if (obj->kind == VFIO_OBJ_CONTAINER) {
		op = vfio_ioctl_op(STCE_HOST_FD_CONTAINER, request);
		if (!op || !(op->flags & VFIO_OP_LOCKED)) {
			ret = (int)vfio_ioctl_dispatch_row(
				STCE_HOST_FD_CONTAINER, &call, op);
			stce_grace_read_unlock(&host->grace, guard);
			return ret;
		}
	}
	/*
	 * An iommufd serialises on its own context (and MAP/UNMAP's TCE
	 * writes are lock-free inside it): hold the context, not the host.
	 */
	if (obj->kind == VFIO_OBJ_IOMMUFD) {
		ictx = call.ictx;
		stce_iommufd_get(ictx);
		stce_grace_read_unlock(&host->grace, guard);
		ret = (int)vfio_ioctl_dispatch(STCE_HOST_FD_IOMMUFD, &call,
					       request);
		stce_iommufd_put(ictx);
		return ret;
	}
	vfio_obj_get(obj);
	stce_grace_read_unlock(&host->grace, guard);
	return ioctl_under_lock(&call, obj, request);
}

/* ioctl(2) on the descriptor of table slot @slot, inside a host call. */
static int host_ioctl(struct stce_host *host, _Atomic uintptr_t *slot,
		      unsigned long request, void *arg)
{
	struct stce_grace_guard guard;
	struct vfio_call call;
	uintptr_t e;
	int ret;

	e = vfio_slot_enter(host, slot, &guard);
	if (!e)
		return -EBADF;
	/* QEMU's call per TCE: straight to its row, in this section. */
	if (vfio_entry_obj(e)->kind == VFIO_OBJ_CONTAINER &&
	    !(e & VFIO_FD_INHERITED) &&
	    (request == VFIO_IOMMU_MAP_DMA ||
	     request == VFIO_IOMMU_UNMAP_DMA)) {
		call.vc = (struct vfio_container *)vfio_entry_obj(e);
		call.arg = arg;
		ret = (int)vfio_ioctl_container_dma(&call, request);
		stce_grace_read_unlock(&host->grace, &guard);
		return ret;
	}
	return host_ioctl_obj(host, e, &guard, request, arg);
}

/* See <spapr_tce/vfio.h>. */
int stce_host_ioctl(struct stce_host *host, int fd, unsigned long request,
		    void *arg)
{
	_Atomic uintptr_t *slot;
	int ret;

	/* From a signal handler that interrupted a host call of this
	 * thread: that call may hold what this one would wait for. */
	if (vfio_call_nested())
		return vfio_ret(-EDEADLK);
	slot = stce_fdtab_peek(&host->fds, fd);
	if (!slot)
		return vfio_ret(-EBADF);
	vfio_call_enter();
	ret = host_ioctl(host, slot, request, arg);
	vfio_call_leave();
	return vfio_ret(ret);
}

/*
 * See <spapr_tce/vfio.h>. One look at the descriptor's entry decides:
 * none, not ours; a settled one, served here; one being closed, or a
 * call from a signal handler, the two calls' own way (the wait for the
 * close, EDEADLK).
 */
bool stce_host_ioctl_ours(struct stce_host *host, int fd,
			  unsigned long request, void *arg, int *out)
{
	_Atomic uintptr_t *slot = stce_fdtab_peek(&host->fds, fd);
	uintptr_t e;
	int ret;

	if (!slot)
		return false;
	e = atomic_load_explicit(slot, memory_order_acquire);
	if (!e)
		return false;
	if (__builtin_expect((e & VFIO_FD_CLOSING) || vfio_call_nested(),
			     0)) {
		if (!stce_host_fd_ours(host, fd))
			return false;
		*out = stce_host_ioctl(host, fd, request, arg);
		return true;
	}
	vfio_call_enter();
	ret = host_ioctl(host, slot, request, arg);
	vfio_call_leave();
	*out = vfio_ret(ret);
	return true;
}

/*
 * Region access on a device descriptor at @off, or (@off -1) at its file
 * position, which then advances; others: -EINVAL as the kernel's
 * container and group files (no read/write).
 */
static ssize_t host_rw(struct stce_host *host, int fd, void *buf,
		       size_t count, off_t off, bool write)
{
	struct stce_grace_guard guard;
	struct vfio_obj *obj;
	bool at_pos = off == -1;
	ssize_t ret;
	uintptr_t e;

	e = vfio_fd_enter(host, fd, &guard);
	if (!e)
		return -EBADF;
	obj = vfio_entry_obj(e);
	if (at_pos)
		off = (off_t)atomic_load(&obj->pos);
	if (e & VFIO_FD_INHERITED)
		ret = -EPERM;
	else if (obj->kind != VFIO_OBJ_DEVICE)
		ret = -EINVAL;
	else if (off < 0)
		ret = -EINVAL;
	else
		ret = vfio_device_rw((struct vfio_device *)obj, buf, count,
				     (uint64_t)off, write);
	/* As on a file without atomic positions: racing reads may both
	 * start at the same place. */
	if (at_pos && ret > 0)
		atomic_store(&obj->pos, (int64_t)off + ret);
	stce_grace_read_unlock(&host->grace, &guard);
	return ret;
}

static ssize_t host_call_rw(struct stce_host *host, int fd, void *buf,
			    size_t count, off_t off, bool write)
{
	ssize_t ret;

	if (vfio_call_nested())
		return vfio_ret(-EDEADLK);
	vfio_call_enter();
	ret = host_rw(host, fd, buf, count, off, write);
	vfio_call_leave();
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* See <spapr_tce/vfio.h>. */
ssize_t stce_host_pread(struct stce_host *host, int fd, void *buf,
			size_t count, off_t off)
{
	/* pread(2) checks the offset before the descriptor. */
	if (off < 0)
		return vfio_ret(-EINVAL);
	return host_call_rw(host, fd, buf, count, off, false);
}

/* See <spapr_tce/vfio.h>. */
ssize_t stce_host_pwrite(struct stce_host *host, int fd, const void *buf,
			 size_t count, off_t off)
{
	if (off < 0)
		return vfio_ret(-EINVAL);
	return host_call_rw(host, fd, (void *)buf, count, off, true);
}

/* See <spapr_tce/vfio.h>. */
ssize_t stce_host_read(struct stce_host *host, int fd, void *buf,
		       size_t count)
{
	return host_call_rw(host, fd, buf, count, -1, false);
}

/* See <spapr_tce/vfio.h>. */
ssize_t stce_host_write(struct stce_host *host, int fd, const void *buf,
			size_t count)
{
	return host_call_rw(host, fd, (void *)buf, count, -1, true);
}

/* See <spapr_tce/vfio.h>. */
int stce_host_mmap_check(struct stce_host *host, int fd, off_t off)
{
	struct stce_grace_guard guard;
	struct vfio_obj *obj;
	uintptr_t e;
	int ret;

	e = vfio_fd_enter(host, fd, &guard);
	if (!e)
		return vfio_ret(-EBADF);
	obj = vfio_entry_obj(e);
	/*
	 * Container and group files have no mmap (ENODEV); no region of
	 * the device is mmap-able (GET_REGION_INFO says so): EINVAL, as
	 * vfio-pci answers for such a region. A fork child's inherited
	 * device: the parent's, EPERM.
	 */
	if (obj->kind != VFIO_OBJ_DEVICE)
		ret = -ENODEV;	/* iommufd too: no mmap on 6.12 */
	else if (e & VFIO_FD_INHERITED)
		ret = -EPERM;
	else
		ret = -EINVAL;
	stce_grace_read_unlock(&host->grace, &guard);
	(void)off;
	return vfio_ret(ret);
}

/* The status flags F_SETFL changes on the kernel's VFIO files (O_ASYNC
 * is accepted and not kept: they have no fasync; checked on 6.12). */
#define SETFL_MASK	(O_APPEND | O_NONBLOCK | O_NOATIME)

/* See <spapr_tce/vfio.h>. */
int stce_host_fcntl(struct stce_host *host, int fd, int cmd, long arg)
{
	struct stce_grace_guard guard;
	struct vfio_obj *obj;
	int ret = 0, fl;
	uintptr_t e;

	if (cmd != F_GETFL && cmd != F_SETFL)
		return vfio_ret(-EINVAL);
	e = vfio_fd_enter(host, fd, &guard);
	if (!e)
		return vfio_ret(-EBADF);
	obj = vfio_entry_obj(e);
	fl = atomic_load(&obj->fl);
	if (cmd == F_GETFL)
		ret = fl;
	else if (arg & O_DIRECT)
		ret = -EINVAL;	/* no direct I/O on these files */
	else
		atomic_store(&obj->fl, (fl & ~SETFL_MASK) | ((int)arg & SETFL_MASK));
	stce_grace_read_unlock(&host->grace, &guard);
	return vfio_ret(ret);
}

/* 0 only once no close is replacing @fd: a caller may then ask the
 * kernel (fstat) without reaching our descriptor. */
uint32_t stce_host_fd_tag(struct stce_host *host, int fd)
{
	struct stce_grace_guard guard;
	uint32_t tag;
	uintptr_t e;

	do {
		if (!stce_host_fd_ours(host, fd))
			return 0;
		e = vfio_fd_enter(host, fd, &guard);
	} while (!e && !vfio_call_nested());
	if (!e)
		return 0;
	tag = atomic_load(&vfio_entry_obj(e)->tag);
	stce_grace_read_unlock(&host->grace, &guard);
	return tag;
}

/* See <spapr_tce/vfio.h>. */
int stce_host_fd_set_tag(struct stce_host *host, int fd, uint32_t tag)
{
	struct stce_grace_guard guard;
	uintptr_t e = vfio_fd_enter(host, fd, &guard);

	if (!e)
		return vfio_ret(-EBADF);
	atomic_store(&vfio_entry_obj(e)->tag, tag);
	stce_grace_read_unlock(&host->grace, &guard);
	return 0;
}

/* See <spapr_tce/vfio.h>. */
enum stce_host_fd_kind stce_host_fd_kind(struct stce_host *host, int fd)
{
	static const enum stce_host_fd_kind kinds[] = {
		[VFIO_OBJ_CONTAINER] = STCE_HOST_FD_CONTAINER,
		[VFIO_OBJ_GROUP] = STCE_HOST_FD_GROUP,
		[VFIO_OBJ_DEVICE] = STCE_HOST_FD_DEVICE,
		[VFIO_OBJ_IOMMUFD] = STCE_HOST_FD_IOMMUFD,
	};
	struct stce_grace_guard guard;
	enum stce_host_fd_kind kind;
	uintptr_t e;

	e = vfio_fd_enter(host, fd, &guard);
	if (!e)
		return STCE_HOST_FD_NONE;
	kind = kinds[vfio_entry_obj(e)->kind];
	stce_grace_read_unlock(&host->grace, &guard);
	return kind;
}
