// SPDX-License-Identifier: MIT
/*
 * The device descriptor's ioctls beyond regions and interrupts, as the
 * VFIO core and vfio-pci answer them (recorded: conformance client
 * device): VFIO_DEVICE_FEATURE (the core's header checks; of the features
 * only vfio-pci's power ones exist here, and entering or leaving low power
 * changes nothing an emulated function could show) and the hot-reset pair
 * (every device on the function's bus is reset together, when the caller
 * holds all of their groups). Called with host->lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio/vfio_internal.h"

/* ---- VFIO_DEVICE_FEATURE ---------------------------------------------- */

#define FEATURE_OPS	(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)

/*
 * The core's rule for one feature: only the operations it has (@ops);
 * PROBE answers 0 there; otherwise GET or SET with @minsz bytes of data.
 * 1 when the caller is to do the operation.
 */
static int feature_check(uint32_t flags, size_t data, uint32_t ops, size_t minsz)
{
	if (flags & FEATURE_OPS & ~ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & FEATURE_OPS) || data < minsz)
		return -EINVAL;
	return 1;
}

/* LOW_POWER_ENTRY_WITH_WAKEUP: the eventfd must be one (never signalled). */
static int low_power_wakeup(const uint8_t *data)
{
	struct vfio_device_low_power_entry_with_wakeup w;
	int ret, fd;

	ret = vfio_copy_from_user(&w, data, sizeof(w));
	if (ret)
		return ret;
	if (w.reserved)
		return -EINVAL;
	fd = vfio_eventfd_get(w.wakeup_eventfd);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int vfio_device_feature(void *arg)
{
	const size_t minsz = offsetofend(struct vfio_device_feature, flags);
	const uint8_t *data = (const uint8_t *)arg + minsz;
	struct vfio_device_feature f;
	size_t len;
	int ret;

	ret = vfio_copy_in(&f, arg, minsz);
	if (ret)
		return ret;
	if (f.flags & ~(VFIO_DEVICE_FEATURE_MASK | FEATURE_OPS |
			VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	if (!(f.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (f.flags & FEATURE_OPS) == FEATURE_OPS)
		return -EINVAL;
	len = f.argsz - minsz;
	switch (f.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		ret = feature_check(f.flags, len, VFIO_DEVICE_FEATURE_SET, 0);
		return ret == 1 ? 0 : ret;
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		ret = feature_check(f.flags, len, VFIO_DEVICE_FEATURE_SET,
			sizeof(struct vfio_device_low_power_entry_with_wakeup));
		return ret == 1 ? low_power_wakeup(data) : ret;
	default:
		/* Migration, dirty logging, a VF token: none here. */
		return -ENOTTY;
	}
}

/* ---- the hot-reset pair ----------------------------------------------- */

#define RESET_MAX	STCE_TOPO_MAX_DEVICES

struct bdf {
	unsigned int seg, bus, devfn;
};

static struct bdf bdf_of(const struct stce_device *dev)
{
	unsigned int seg = 0, bus = 0, slot = 0, fn = 0;

	/* The topology wrote it as dddd:bb:dd.f. */
	sscanf(stce_device_name(dev), "%x:%x:%x.%x", &seg, &bus, &slot, &fn);
	return (struct bdf){ seg, bus, (slot << 3) | fn };
}

/*
 * What a bus reset of @dev's bus resets: every device at the same domain
 * and bus (vfio-pci resets the bus when the slot cannot be reset alone).
 */
static unsigned int reset_set(struct stce_host *host,
			      const struct stce_device *dev,
			      struct stce_device **set)
{
	struct bdf me = bdf_of(dev);
	unsigned int n = 0;

	for (unsigned int i = 0; i < stce_platform_nr_devices(host->platform); i++) {
		struct stce_device *o = stce_platform_device(host->platform, i);
		struct bdf b = bdf_of(o);

		if (b.seg == me.seg && b.bus == me.bus && n < RESET_MAX)
			set[n++] = o;
	}
	return n;
}

int vfio_device_hot_reset_info(struct stce_host *host, struct vfio_device *d,
			       void *arg)
{
	const size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_dependent_device dep[RESET_MAX];
	struct stce_device *set[RESET_MAX];
	struct vfio_pci_hot_reset_info h;
	unsigned int n;
	int ret, hret;

	/* Devices opened through their cdev would name themselves by devid. */
	if (!d->group)
		return -ENOTTY;
	ret = vfio_copy_in(&h, arg, minsz);
	if (ret)
		return ret;
	h.flags = 0;
	n = reset_set(host, d->dev, set);
	h.count = n;
	if (n > (h.argsz - minsz) / sizeof(dep[0])) {
		ret = -ENOSPC;
	} else {
		for (unsigned int i = 0; i < n; i++) {
			struct bdf b = bdf_of(set[i]);

			dep[i] = (struct vfio_pci_dependent_device){
				.group_id = stce_pe_group(stce_device_pe(set[i])),
				.segment = (uint16_t)b.seg,
				.bus = (uint8_t)b.bus,
				.devfn = (uint8_t)b.devfn,
			};
		}
		ret = vfio_copy_to_user((uint8_t *)arg + minsz, dep,
					n * sizeof(dep[0]));
	}
	hret = vfio_copy_to_user(arg, &h, minsz);
	return hret ? hret : ret;
}

/* Is @pe the PE of one of the groups named by @fds? -EBADF, -EINVAL. */
static int groups_hold(struct stce_host *host, const int32_t *fds,
		       unsigned int n, const struct stce_pe *pe)
{
	bool held = false;

	for (unsigned int i = 0; i < n; i++) {
		struct vfio_obj *obj = fds[i] >= 0 && fds[i] < HOST_MAX_FDS ?
				       atomic_load(&host->fds[fds[i]]) : NULL;

		/* Not open: EBADF; open but no VFIO group: EINVAL. */
		if (!obj)
			return fcntl(fds[i], F_GETFD) < 0 ? -EBADF : -EINVAL;
		if (obj->kind != VFIO_OBJ_GROUP)
			return -EINVAL;
		held |= ((struct vfio_group *)obj)->pe == pe;
	}
	return held ? 0 : -EINVAL;
}

/*
 * The kernel copies group_fds[count] whatever argsz says (recorded: count
 * 1 with an argsz of the bare header resets); count is only bounded by
 * the number of devices the reset affects (EINVAL above it).
 */
int vfio_device_hot_reset(struct stce_host *host, struct vfio_device *d,
			  void *arg)
{
	const size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct stce_device *set[RESET_MAX];
	int32_t fds[RESET_MAX];
	struct vfio_pci_hot_reset h;
	unsigned int n;
	int ret;

	ret = vfio_copy_in(&h, arg, minsz);
	if (ret)
		return ret;
	/* A group's device names the groups; only a cdev's may give none. */
	if (h.flags || !d->group || !h.count)
		return -EINVAL;
	n = reset_set(host, d->dev, set);
	if (h.count > n)
		return -EINVAL;
	ret = vfio_copy_from_user(fds, (uint8_t *)arg + minsz,
				  h.count * sizeof(fds[0]));
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n; i++) {
		ret = groups_hold(host, fds, h.count, stce_device_pe(set[i]));
		if (ret)
			return ret;
	}
	for (unsigned int i = 0; i < n; i++)
		stce_device_function_reset(set[i]);
	return 0;
}
