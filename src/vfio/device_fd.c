// SPDX-License-Identifier: MIT
/*
 * The device descriptor. Opening one pins its group (and so the group's
 * container) until it is closed. Its region and interrupt ioctls are the
 * preload issue's; for now a device answers what every VFIO device does.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <linux/vfio.h>

#include "common/alloc.h"
#include "vfio/vfio_internal.h"

int vfio_device_open_locked(struct stce_host *host, struct vfio_group *g,
			    const char *name)
{
	struct stce_device *dev = NULL;
	struct vfio_device *d;
	int fd;

	for (unsigned int i = 0; i < stce_platform_nr_devices(host->platform); i++) {
		struct stce_device *cand = stce_platform_device(host->platform, i);

		if (stce_device_pe(cand) == g->pe &&
		    !strcmp(stce_device_name(cand), name))
			dev = cand;
	}
	if (!dev)
		return -ENODEV;
	if (!g->container || !atomic_load(&g->container->iommu))
		return -EINVAL;
	d = stce_zalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->obj.kind = VFIO_OBJ_DEVICE;
	atomic_init(&d->obj.refs, 1);
	d->dev = dev;
	d->group = g;
	fd = vfio_fd_install(host, &d->obj, true);
	if (fd < 0) {
		stce_free(d);
		return fd;
	}
	vfio_obj_get(&g->obj);
	g->nr_devices++;
	return fd;
}

void vfio_device_free(struct stce_host *host, struct vfio_device *d)
{
	d->group->nr_devices--;
	vfio_obj_put_locked(host, &d->group->obj);
	stce_free(d);
}

int vfio_device_ioctl(struct stce_host *host, struct vfio_device *d,
		      unsigned long request, void *arg)
{
	(void)host;
	(void)d;
	(void)arg;
	switch (request) {
	default:
		return -ENOTTY;
	}
}
