// SPDX-License-Identifier: MIT
/*
 * The group descriptor: status, joining and leaving a container, opening
 * devices. A group joins its container's IOMMU at once when the container
 * has one, else at SET_IOMMU; when the last group leaves, the IOMMU goes
 * (as in the VFIO core, a container without groups has no IOMMU).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>

#include <linux/vfio.h>

#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>

#include "common/alloc.h"
#include "vfio/vfio_internal.h"

/* See vfio_internal.h. */
int vfio_pe_index(struct stce_host *host, const struct stce_pe *pe)
{
	for (unsigned int i = 0; i < stce_platform_nr_pes(host->platform); i++)
		if (stce_platform_pe(host->platform, i) == pe)
			return (int)i;
	return -ENOENT;
}

/* See vfio_internal.h. */
int vfio_group_open(struct stce_host *host, unsigned int number, int flags)
{
	struct stce_pe *pe = stce_platform_find_pe(host->platform, number);
	struct vfio_group *g;
	int idx, fd;

	if (!pe)
		return -ENOENT;
	idx = vfio_pe_index(host, pe);
	/* One open file a group; none while a device of it is bound
	 * through its cdev (the kernel's cdev_device_open_cnt). */
	if (host->open_groups[idx] || host->cdev_bound[idx] ||
	    atomic_load(&host->inherited_busy[idx]))
		return -EBUSY;
	g = stce_zalloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->obj.kind = VFIO_OBJ_GROUP;
	atomic_init(&g->obj.refs, 1);
	g->number = number;
	g->pe = pe;
	g->pe_idx = (unsigned int)idx;
	fd = vfio_fd_install(host, &g->obj, flags);
	if (fd < 0) {
		stce_free(g);
		return fd;
	}
	host->open_groups[idx] = g;
	return fd;
}

/* See vfio_internal.h. */
void vfio_group_free(struct stce_host *host, struct vfio_group *g)
{
	if (g->container || g->iommufd)
		vfio_group_unset_container_locked(host, g);
	host->open_groups[g->pe_idx] = NULL;
	stce_free(g);
}

static void container_forget_group(struct vfio_container *vc,
				   struct vfio_group *g)
{
	for (unsigned int i = 0; i < vc->nr_groups; i++) {
		if (vc->groups[i] != g)
			continue;
		vc->groups[i] = vc->groups[--vc->nr_groups];
		return;
	}
}

/* The iommufd compat: the group leaves the context's compatibility IOAS. */
static void unset_iommufd_locked(struct stce_host *host, struct vfio_group *g)
{
	struct vfio_iommufd *f = g->iommufd;

	stce_assert_held(&host->lock);
	stce_iommufd_compat_group_detach(f->ictx, g->pe);
	g->iommufd = NULL;
	vfio_obj_put_locked(host, &f->obj);
}

/* See vfio_internal.h. */
void vfio_group_unset_container_locked(struct stce_host *host,
				       struct vfio_group *g)
{
	struct vfio_container *vc = g->container;
	struct stce_container *c;

	stce_assert_held(&host->lock);
	if (g->iommufd) {
		unset_iommufd_locked(host, g);
		return;
	}
	c = atomic_load(&vc->iommu);
	if (c)
		stce_container_detach(c, g->pe);
	container_forget_group(vc, g);
	g->container = NULL;
	if (c && !vc->nr_groups) {
		/* The last group took the IOMMU with it. */
		atomic_store(&vc->iommu, NULL);
		stce_grace_synchronize(&host->grace);
		stce_container_destroy(c);
	}
	vfio_obj_put_locked(host, &vc->obj);
}

/* VFIO_GROUP_GET_STATUS: viable always; whether a container is set. */
long vfio_op_group_status(struct vfio_call *call)
{
	struct vfio_group_status *status = &call->cmd.status;

	status->flags = VFIO_GROUP_FLAGS_VIABLE;
	if (call->g->container || call->g->iommufd)
		status->flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
	return vfio_copy_to_user(call->arg, status, sizeof(*status));
}

/*
 * The kernel's iommufd compat: a group set on an iommufd joins its
 * compatibility IOAS, whose domain VFIO_SET_IOMMU (on the iommufd) makes.
 * The group holds the descriptor's object as it holds a container's.
 */
static int set_iommufd(struct stce_host *host, struct vfio_group *g,
		       struct vfio_iommufd *f)
{
	int ret;

	(void)host;
	if (g->container || g->iommufd)
		return -EINVAL;
	ret = stce_iommufd_compat_group_attach(f->ictx, g->pe);
	if (ret)
		return ret;
	vfio_obj_get(&f->obj);
	g->iommufd = f;
	return 0;
}

/* VFIO_GROUP_SET_CONTAINER (host->lock): a container or an iommufd. */
long vfio_op_set_container(struct vfio_call *call)
{
	struct stce_host *host = call->host;
	struct vfio_group *g = call->g;
	int fd = call->cmd.fd;
	struct vfio_container *vc;
	struct stce_container *c;
	struct vfio_obj *obj;
	bool inherited;
	int ret;

	obj = vfio_fd_obj(host, fd, &inherited);
	/* A fork child cannot use its parent's container or iommufd. */
	if (inherited)
		return -EPERM;
	/* A descriptor that is not open is EBADF, one of another kind EBADFD. */
	if (!obj)
		return fcntl(fd, F_GETFD) < 0 ? -EBADF : -EBADFD;
	if (obj->kind == VFIO_OBJ_IOMMUFD)
		return set_iommufd(host, g, (struct vfio_iommufd *)obj);
	if (obj->kind != VFIO_OBJ_CONTAINER)
		return -EBADFD;
	if (g->container || g->iommufd)
		return -EINVAL;
	vc = (struct vfio_container *)obj;
	if (vc->nr_groups == HOST_MAX_GROUPS)
		return -ENOSPC;
	c = atomic_load(&vc->iommu);
	if (c) {
		ret = stce_container_attach(c, g->pe);
		if (ret)
			return ret;
	}
	vc->groups[vc->nr_groups++] = g;
	vfio_obj_get(&vc->obj);
	g->container = vc;
	return 0;
}

/* VFIO_GROUP_UNSET_CONTAINER (host->lock): not while devices are open. */
long vfio_op_unset_container(struct vfio_call *call)
{
	struct vfio_group *g = call->g;

	if (!g->container && !g->iommufd)
		return -EINVAL;
	if (g->nr_devices)
		return -EBUSY;
	vfio_group_unset_container_locked(call->host, g);
	return 0;
}

/* The device name argument: a C string of the user's, as strndup_user. */
static int copy_name(char *name, size_t len, const char *arg)
{
	/* No pointer arithmetic on NULL (undefined): it faults at once. */
	if (!arg)
		return -EFAULT;
	for (size_t i = 0; i < len; i++) {
		int ret = vfio_copy_from_user(&name[i], arg + i, 1);

		if (ret)
			return ret;
		if (!name[i])
			return 0;
	}
	return -EINVAL;
}

/* VFIO_GROUP_GET_DEVICE_FD (host->lock): a device of the group, by name. */
long vfio_op_get_device_fd(struct vfio_call *call)
{
	char name[256];
	int ret;

	ret = copy_name(name, sizeof(name), call->arg);
	if (ret)
		return ret;
	return vfio_device_open_locked(call->host, call->g, name);
}
