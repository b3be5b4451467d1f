// SPDX-License-Identifier: MIT
/*
 * The /dev/iommu descriptor: an iommufd context (src/iommufd, the C API
 * of <spapr_tce/iommufd.h>) per open, and its ioctls: the IOMMU_*
 * commands with iommufd's size rules, and the legacy sPAPR TCE v2
 * container ioctls on the context's compatibility IOAS. They are
 * dispatched by stce_host_ioctl without the host lock (the context
 * serialises its own calls); closing the last descriptor drops the
 * context's reference (devices bound to it and groups set on it hold
 * their own).
 */
#include <errno.h>
#include <fcntl.h>
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

#include "common/alloc.h"
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

/* Groups joined and no IOMMU yet (EINVAL), then the type, as a VFIO
 * container's SET_IOMMU checks them. */
static int compat_set_iommu(struct stce_iommufd *ictx, unsigned long type)
{
	struct stce_container *c;

	if (!stce_iommufd_compat_nr_groups(ictx) ||
	    !stce_iommufd_compat_container(ictx, &c))
		return -EINVAL;
	if (!compat_check_extension(type))
		return -ENODEV;
	if (type != VFIO_SPAPR_TCE_v2_IOMMU)
		return -EINVAL;
	return stce_iommufd_compat_set_iommu(ictx);
}

static int compat_eeh(struct stce_iommufd *ictx, void *arg)
{
	struct vfio_eeh_pe_op op;
	int ret;

	if (!stce_iommufd_compat_nr_groups(ictx))
		return -ENODEV;
	ret = vfio_copy_in(&op, arg, offsetofend(typeof(op), op));
	if (ret)
		return ret;
	if (op.flags)
		return -EINVAL;
	if (op.op != VFIO_EEH_PE_INJECT_ERR)
		return stce_iommufd_compat_eeh_op(ictx, op.op);
	ret = vfio_copy_in(&op, arg, offsetofend(typeof(op), err.mask));
	if (ret)
		return ret;
	return stce_iommufd_compat_eeh_inject(ictx, op.err.type, op.err.func,
					      op.err.addr, op.err.mask);
}

static long compat_ioctl(struct stce_iommufd *ictx, unsigned long request,
			 void *arg)
{
	struct stce_container *c;
	int ret;

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
	ret = stce_iommufd_compat_container(ictx, &c);
	if (ret)
		return ret;
	if (request == VFIO_EEH_PE_OP)
		return compat_eeh(ictx, arg);
	/* The rest answers exactly as a VFIO container's IOMMU does. */
	return vfio_iommu_ioctl(c, request, arg);
}

/* See <spapr_tce/vfio.h>. */
long stce_iommufd_ioctl(struct stce_iommufd *ictx, unsigned long request,
			void *arg)
{
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
	return compat_ioctl(ictx, request, arg);
}

/* ---- the descriptor ------------------------------------------------ */

/* See vfio_internal.h. */
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

/* See vfio_internal.h. */
void vfio_iommufd_free(struct vfio_iommufd *f)
{
	stce_iommufd_put(f->ictx);
	stce_free(f);
}

/* See vfio_internal.h. */
struct stce_iommufd *vfio_iommufd_lookup(struct stce_host *host, int fd)
{
	struct vfio_obj *obj = vfio_fd_obj(host, fd, NULL);

	if (!obj || obj->kind != VFIO_OBJ_IOMMUFD)
		return NULL;
	return ((struct vfio_iommufd *)obj)->ictx;
}
