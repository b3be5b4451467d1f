// SPDX-License-Identifier: MIT
/*
 * Read-only audits of a host (vfio_audit.h), in the test library only.
 */
#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>

#include "vfio/vfio_audit.h"
#include "vfio/vfio_internal.h"

_Static_assert(VFIO_AUDIT_MAX_GROUPS == HOST_MAX_GROUPS,
	       "vfio_audit.h's bound is the host's");

/* The container of an iommufd's compatibility IOAS, or NULL. */
static struct stce_container *compat_iommu(struct stce_iommufd *ictx)
{
	struct stce_container *c;

	return stce_iommufd_compat_container(ictx, &c) ? NULL : c;
}

/* See vfio_audit.h. */
struct stce_container *vfio_audit_fd_iommu(struct stce_host *host, int fd)
{
	struct vfio_obj *obj = vfio_fd_obj(host, fd, NULL);

	if (obj && obj->kind == VFIO_OBJ_IOMMUFD)
		return compat_iommu(((struct vfio_iommufd *)obj)->ictx);
	if (!obj || obj->kind != VFIO_OBJ_CONTAINER)
		return NULL;
	return atomic_load(&((struct vfio_container *)obj)->iommu);
}

static bool listed(struct stce_container *const *out, unsigned int n,
		   const struct stce_container *c)
{
	for (unsigned int k = 0; k < n; k++)
		if (out[k] == c)
			return true;
	return false;
}

/* See vfio_audit.h. */
unsigned int vfio_audit_iommus(struct stce_host *host,
			       struct stce_container **out, unsigned int max)
{
	unsigned int n = 0;

	pthread_mutex_lock(&host->lock);
	for (unsigned int i = 0; i < HOST_MAX_GROUPS && n < max; i++) {
		struct vfio_group *g = host->open_groups[i];
		struct stce_container *c;

		if (!g || (!g->container && !g->iommufd))
			continue;
		c = g->container ? atomic_load(&g->container->iommu) :
				   compat_iommu(g->iommufd->ictx);
		if (c && !listed(out, n, c))
			out[n++] = c;
	}
	pthread_mutex_unlock(&host->lock);
	return n;
}
