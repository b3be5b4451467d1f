// SPDX-License-Identifier: MIT
/*
 * The /dev/iommu descriptor: an iommufd context (src/iommufd) per open.
 * Its ioctls (the IOMMU_* commands and the legacy v2 container ones) are
 * dispatched by stce_host_ioctl without the host lock; closing the last
 * descriptor drops the context's reference (devices bound to it and
 * groups set on it hold their own).
 */
#include <errno.h>
#include <fcntl.h>

#include <spapr_tce/iommufd.h>

#include "common/alloc.h"
#include "vfio/vfio_internal.h"

int vfio_iommufd_open(struct stce_host *host, int flags)
{
	struct vfio_iommufd *f = stce_zalloc(sizeof(*f));
	int fd, ret;

	if (!f)
		return -ENOMEM;
	ret = stce_iommufd_create(&f->ictx);
	if (ret) {
		stce_free(f);
		return ret;
	}
	f->obj.kind = VFIO_OBJ_IOMMUFD;
	atomic_init(&f->obj.refs, 1);
	fd = vfio_fd_install(host, &f->obj, flags);
	if (fd < 0)
		vfio_iommufd_free(f);
	return fd;
}

void vfio_iommufd_free(struct vfio_iommufd *f)
{
	stce_iommufd_put(f->ictx);
	stce_free(f);
}

struct stce_iommufd *vfio_iommufd_lookup(void *ctx, int fd)
{
	struct vfio_obj *obj = vfio_fd_obj(ctx, fd, NULL);

	if (!obj || obj->kind != VFIO_OBJ_IOMMUFD)
		return NULL;
	return ((struct vfio_iommufd *)obj)->ictx;
}
