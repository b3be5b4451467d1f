// SPDX-License-Identifier: MIT
/*
 * The /dev/iommu ABI: the IOMMU_* commands with iommufd's size rules, the
 * legacy sPAPR TCE v2 container ioctls on the compatibility IOAS, and the
 * device descriptor's bind/attach/detach.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>

#include "iommufd/iommufd_internal.h"
#include "vfio/vfio_internal.h"

/* ---- iommufd's struct rules ---------------------------------------- */

/*
 * Copy the user's command: its first u32 is its size. Shorter than
 * @minsz: -EINVAL. Longer than we know: the tail must be zero (-E2BIG).
 */
static int ucmd_in(void *cmd, size_t ksize, size_t minsz, void *arg,
		   uint32_t *usize)
{
	int ret;

	ret = vfio_copy_from_user(usize, arg, sizeof(*usize));
	if (ret)
		return ret;
	if (*usize < minsz)
		return -EINVAL;
	memset(cmd, 0, ksize);
	ret = vfio_copy_from_user(cmd, arg, *usize < ksize ? *usize : ksize);
	if (ret)
		return ret;
	for (size_t off = ksize; off < *usize; off++) {
		uint8_t b;

		ret = vfio_copy_from_user(&b, (uint8_t *)arg + off, 1);
		if (ret)
			return ret;
		if (b)
			return -E2BIG;
	}
	return 0;
}

static int ucmd_out(void *arg, const void *cmd, size_t ksize, uint32_t usize)
{
	return vfio_copy_to_user(arg, cmd, usize < ksize ? usize : ksize);
}

#define UCMD_IN(cmd, last, arg, usize) \
	ucmd_in(&(cmd), sizeof(cmd), offsetofend(typeof(cmd), last), arg, usize)

static long cmd_destroy(struct stce_iommufd *ictx, void *arg)
{
	struct iommu_destroy cmd;
	uint32_t usize;
	int ret = UCMD_IN(cmd, id, arg, &usize);

	return ret ? ret : stce_iommufd_destroy(ictx, cmd.id);
}

static long cmd_ioas_alloc(struct stce_iommufd *ictx, void *arg)
{
	struct iommu_ioas_alloc cmd;
	uint32_t usize;
	int ret = UCMD_IN(cmd, out_ioas_id, arg, &usize);

	if (ret)
		return ret;
	if (cmd.flags)
		return -EOPNOTSUPP;
	ret = stce_iommufd_ioas_alloc(ictx, &cmd.out_ioas_id);
	if (ret)
		return ret;
	ret = ucmd_out(arg, &cmd, sizeof(cmd), usize);
	if (ret)
		stce_iommufd_destroy(ictx, cmd.out_ioas_id);
	return ret;
}

static long cmd_iova_ranges(struct stce_iommufd *ictx, void *arg)
{
	struct stce_iova_range r[STCE_PE_MAX_WINDOWS];
	struct iommu_ioas_iova_ranges cmd;
	uint32_t usize, room, n = STCE_PE_MAX_WINDOWS;
	int ret = UCMD_IN(cmd, out_iova_alignment, arg, &usize);

	if (ret)
		return ret;
	if (cmd.__reserved)
		return -EOPNOTSUPP;
	ret = stce_iommufd_iova_ranges(ictx, cmd.ioas_id, r, &n,
				       (uint64_t *)&cmd.out_iova_alignment);
	if (ret)
		return ret;
	room = cmd.num_iovas;
	for (uint32_t i = 0; i < n && i < room; i++) {
		struct iommu_iova_range out = { r[i].start, r[i].last };

		ret = vfio_copy_to_user((uint8_t *)(uintptr_t)cmd.allowed_iovas +
					i * sizeof(out), &out, sizeof(out));
		if (ret)
			return ret;
	}
	cmd.num_iovas = n;
	ret = ucmd_out(arg, &cmd, sizeof(cmd), usize);
	if (ret)
		return ret;
	return n > room ? -EMSGSIZE : 0;
}

static long cmd_ioas_map(struct stce_iommufd *ictx, void *arg)
{
	struct iommu_ioas_map cmd;
	uint32_t usize;
	uint64_t iova;
	int ret = UCMD_IN(cmd, iova, arg, &usize);

	if (ret)
		return ret;
	if (cmd.__reserved)
		return -EOPNOTSUPP;
	iova = cmd.iova;
	ret = stce_iommufd_map(ictx, cmd.ioas_id, cmd.flags, cmd.user_va,
			       cmd.length, &iova);
	if (ret)
		return ret;
	cmd.iova = iova;
	ret = ucmd_out(arg, &cmd, sizeof(cmd), usize);
	if (ret) {
		uint64_t done;

		stce_iommufd_unmap(ictx, cmd.ioas_id, iova, cmd.length, &done);
	}
	return ret;
}

static long cmd_ioas_copy(struct stce_iommufd *ictx, void *arg)
{
	struct iommu_ioas_copy cmd;
	uint32_t usize;
	uint64_t iova;
	int ret = UCMD_IN(cmd, src_iova, arg, &usize);

	if (ret)
		return ret;
	iova = cmd.dst_iova;
	ret = stce_iommufd_copy(ictx, cmd.flags, cmd.dst_ioas_id,
				cmd.src_ioas_id, cmd.src_iova, cmd.length,
				&iova);
	if (ret)
		return ret;
	cmd.dst_iova = iova;
	ret = ucmd_out(arg, &cmd, sizeof(cmd), usize);
	if (ret) {
		uint64_t done;

		stce_iommufd_unmap(ictx, cmd.dst_ioas_id, iova, cmd.length,
				   &done);
	}
	return ret;
}

static long cmd_ioas_unmap(struct stce_iommufd *ictx, void *arg)
{
	struct iommu_ioas_unmap cmd;
	uint32_t usize;
	uint64_t done;
	int ret = UCMD_IN(cmd, length, arg, &usize);

	if (ret)
		return ret;
	ret = stce_iommufd_unmap(ictx, cmd.ioas_id, cmd.iova, cmd.length,
				 &done);
	if (ret)
		return ret;
	cmd.length = done;
	return ucmd_out(arg, &cmd, sizeof(cmd), usize);
}

static long cmd_hwpt_alloc(struct stce_iommufd *ictx, void *arg)
{
	struct iommu_hwpt_spapr_tce geom;
	struct iommu_hwpt_alloc cmd;
	uint32_t usize;
	const void *data = NULL;
	int ret = UCMD_IN(cmd, data_uptr, arg, &usize);

	if (ret)
		return ret;
	if (cmd.__reserved)
		return -EOPNOTSUPP;
	if (cmd.data_type == IOMMU_HWPT_DATA_SPAPR_TCE) {
		if (cmd.data_len < sizeof(geom))
			return -EINVAL;
		ret = vfio_copy_from_user(&geom,
					  (void *)(uintptr_t)cmd.data_uptr,
					  sizeof(geom));
		if (ret)
			return ret;
		data = &geom;
	}
	ret = stce_iommufd_hwpt_alloc(ictx, cmd.dev_id, cmd.pt_id, cmd.flags,
				      cmd.data_type, data, cmd.data_len,
				      &cmd.out_hwpt_id);
	if (ret)
		return ret;
	ret = ucmd_out(arg, &cmd, sizeof(cmd), usize);
	if (ret)
		stce_iommufd_destroy(ictx, cmd.out_hwpt_id);
	return ret;
}

/* ---- the legacy container ioctls on the compatibility IOAS ---------- */

static int compat_check_extension(unsigned long ext)
{
	/* v1 is not offered: its pinning model is not pre-registration's. */
	return ext == VFIO_SPAPR_TCE_v2_IOMMU || ext == VFIO_EEH;
}

static int compat_set_iommu(struct stce_iommufd *ictx, unsigned long type)
{
	struct iofd_ioas *ioas = ictx->compat_ioas;
	unsigned int i;
	int ret;

	if (!ictx->nr_compat || ictx->compat_set)
		return -EINVAL;
	if (!compat_check_extension(type))
		return -ENODEV;
	if (type != VFIO_SPAPR_TCE_v2_IOMMU)
		return -EINVAL;
	if (!ioas) {
		ret = iofd_ioas_alloc_locked(ictx, &ioas);
		if (ret)
			return ret;
		ictx->compat_ioas = ioas;
	}
	if (!ioas->dom) {
		ret = iofd_domain_create(ictx, ioas, ictx->compat_pes[0],
					 IOFD_DOMAIN_LEGACY, NULL);
		if (ret)
			return ret;
	}
	for (i = 0; i < ictx->nr_compat; i++) {
		ret = stce_container_attach(ioas->dom->c, ictx->compat_pes[i]);
		if (ret)
			goto unwind;
	}
	ictx->compat_set = true;
	return 0;
unwind:
	while (i--)
		stce_container_detach(ioas->dom->c, ictx->compat_pes[i]);
	if (!ioas->nr_areas)
		iofd_domain_destroy(ictx, ioas->dom);
	return ret;
}

int stce_iommufd_compat_group_attach(struct stce_iommufd *ictx,
				     struct stce_pe *pe)
{
	int ret = 0;

	pthread_mutex_lock(&ictx->lock);
	for (unsigned int i = 0; i < ictx->nr_compat; i++)
		if (ictx->compat_pes[i] == pe)
			ret = -EBUSY;
	if (!ret && ictx->nr_compat == IOFD_COMPAT_MAX_GROUPS)
		ret = -ENOSPC;
	if (!ret && ictx->compat_set)
		ret = stce_container_attach(ictx->compat_ioas->dom->c, pe);
	if (!ret)
		ictx->compat_pes[ictx->nr_compat++] = pe;
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

int stce_iommufd_compat_group_detach(struct stce_iommufd *ictx,
				     struct stce_pe *pe)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&ictx->lock);
	for (unsigned int i = 0; i < ictx->nr_compat; i++) {
		if (ictx->compat_pes[i] != pe)
			continue;
		if (ictx->compat_set)
			stce_container_detach(ictx->compat_ioas->dom->c, pe);
		ictx->compat_pes[i] = ictx->compat_pes[--ictx->nr_compat];
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* EEH acts on the first real group, never on the domain's shadow PE. */
static int compat_eeh(struct stce_iommufd *ictx, void *arg)
{
	struct vfio_eeh_pe_op op;
	struct stce_pe *pe = ictx->nr_compat ? ictx->compat_pes[0] : NULL;
	int ret;

	if (!pe)
		return -ENODEV;
	ret = vfio_copy_in(&op, arg, offsetofend(typeof(op), op));
	if (ret)
		return ret;
	if (op.flags)
		return -EINVAL;
	if (op.op != VFIO_EEH_PE_INJECT_ERR)
		return stce_pe_eeh_op(pe, op.op);
	ret = vfio_copy_in(&op, arg, offsetofend(typeof(op), err.mask));
	if (ret)
		return ret;
	return stce_pe_eeh_inject(pe, op.err.type, op.err.func, op.err.addr,
				  op.err.mask);
}

static long compat_ioctl(struct stce_iommufd *ictx, unsigned long request,
			 void *arg)
{
	struct stce_container *c;

	switch (request) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return compat_check_extension((unsigned long)arg);
	case VFIO_SET_IOMMU:
		return compat_set_iommu(ictx, (unsigned long)arg);
	}
	switch (request) {
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO:
	case VFIO_IOMMU_MAP_DMA:
	case VFIO_IOMMU_UNMAP_DMA:
	case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
	case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY:
	case VFIO_IOMMU_SPAPR_TCE_CREATE:
	case VFIO_IOMMU_SPAPR_TCE_REMOVE:
	case VFIO_EEH_PE_OP:
		break;
	default:
		return -ENOTTY;
	}
	/* A container without an IOMMU answers -EINVAL. */
	if (!ictx->compat_set)
		return -EINVAL;
	if (request == VFIO_EEH_PE_OP)
		return compat_eeh(ictx, arg);
	/* The rest answers exactly as a VFIO container's IOMMU does. */
	c = ictx->compat_ioas->dom->c;
	return vfio_iommu_ioctl(c, request, arg);
}

long stce_iommufd_ioctl(struct stce_iommufd *ictx, unsigned long request,
			void *arg)
{
	long ret;

	switch (request) {
	case IOMMU_DESTROY:
		return cmd_destroy(ictx, arg);
	case IOMMU_IOAS_ALLOC:
		return cmd_ioas_alloc(ictx, arg);
	case IOMMU_IOAS_IOVA_RANGES:
		return cmd_iova_ranges(ictx, arg);
	case IOMMU_IOAS_MAP:
		return cmd_ioas_map(ictx, arg);
	case IOMMU_IOAS_COPY:
		return cmd_ioas_copy(ictx, arg);
	case IOMMU_IOAS_UNMAP:
		return cmd_ioas_unmap(ictx, arg);
	case IOMMU_HWPT_ALLOC:
		return cmd_hwpt_alloc(ictx, arg);
	}
	pthread_mutex_lock(&ictx->lock);
	ret = compat_ioctl(ictx, request, arg);
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* ---- the device descriptor ----------------------------------------- */

static long vdev_bind(struct stce_iommufd_vdev *vd, void *arg,
		      stce_iommufd_lookup_fn lookup, void *lookup_ctx)
{
	struct vfio_device_bind_iommufd b;
	struct stce_iommufd *ictx;
	int ret = vfio_copy_in(&b, arg, offsetofend(typeof(b), out_devid));

	if (ret)
		return ret;
	if (b.flags || vd->ictx)
		return -EINVAL;
	ictx = lookup ? lookup(lookup_ctx, b.iommufd) : NULL;
	if (!ictx)
		return -EBADF;
	ret = stce_iommufd_bind(ictx, vd->pe, &b.out_devid);
	if (ret)
		return ret;
	ret = vfio_copy_to_user(arg, &b, offsetofend(typeof(b), out_devid));
	if (ret) {
		stce_iommufd_unbind(ictx, b.out_devid);
		return ret;
	}
	stce_iommufd_get(ictx);
	vd->ictx = ictx;
	vd->dev_id = b.out_devid;
	return 0;
}

static long vdev_attach(struct stce_iommufd_vdev *vd, void *arg)
{
	struct vfio_device_attach_iommufd_pt a;
	int ret = vfio_copy_in(&a, arg, offsetofend(typeof(a), pt_id));

	if (ret)
		return ret;
	if (a.flags || !vd->ictx)
		return -EINVAL;
	ret = stce_iommufd_attach(vd->ictx, vd->dev_id, &a.pt_id);
	if (ret)
		return ret;
	return vfio_copy_to_user(arg, &a, offsetofend(typeof(a), pt_id));
}

static long vdev_detach(struct stce_iommufd_vdev *vd, void *arg)
{
	struct vfio_device_detach_iommufd_pt d;
	int ret = vfio_copy_in(&d, arg, offsetofend(typeof(d), flags));

	if (ret)
		return ret;
	if (d.flags || !vd->ictx)
		return -EINVAL;
	return stce_iommufd_detach(vd->ictx, vd->dev_id);
}

long stce_iommufd_vdev_ioctl(struct stce_iommufd_vdev *vd,
			     unsigned long request, void *arg,
			     stce_iommufd_lookup_fn lookup, void *lookup_ctx)
{
	switch (request) {
	case VFIO_DEVICE_BIND_IOMMUFD:
		return vdev_bind(vd, arg, lookup, lookup_ctx);
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return vdev_attach(vd, arg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return vdev_detach(vd, arg);
	default:
		return -ENOTTY;
	}
}

void stce_iommufd_vdev_release(struct stce_iommufd_vdev *vd)
{
	if (!vd->ictx)
		return;
	stce_iommufd_unbind(vd->ictx, vd->dev_id);
	stce_iommufd_put(vd->ictx);
	vd->ictx = NULL;
}
