// SPDX-License-Identifier: MIT
/*
 * The /dev/iommu descriptor: an iommufd context (src/iommufd, the C API
 * of <spapr_tce/iommufd.h>) per open, and its ioctls' handlers: the
 * IOMMU_* commands (their rows in ioctls.c: iommufd's size rules), and
 * the legacy sPAPR TCE v2 container ioctls on the context's
 * compatibility IOAS (the container's handlers, on its container). They are
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

/* ---- the IOMMU_* commands ------------------------------------------ */

/* The reply: as much of the struct as the user's size holds. */
static int ucmd_out(struct vfio_call *call, const void *cmd, size_t ksize)
{
	return vfio_copy_to_user(call->arg, cmd,
				 call->usize < ksize ? call->usize : ksize);
}

/* IOMMU_DESTROY: any object by id. */
long vfio_op_destroy(struct vfio_call *call)
{
	return stce_iommufd_destroy(call->ictx, call->cmd.destroy.id);
}

/* IOMMU_IOAS_ALLOC: a new IOAS; gone again if its id cannot be given. */
long vfio_op_ioas_alloc(struct vfio_call *call)
{
	struct iommu_ioas_alloc *cmd = &call->cmd.ioas_alloc;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;
	ret = stce_iommufd_ioas_alloc(call->ictx, &cmd->out_ioas_id);
	if (ret)
		return ret;
	ret = ucmd_out(call, cmd, sizeof(*cmd));
	if (ret)
		stce_iommufd_destroy(call->ictx, cmd->out_ioas_id);
	return ret;
}

/* IOMMU_IOAS_IOVA_RANGES: the windows; EMSGSIZE when they do not fit. */
long vfio_op_iova_ranges(struct vfio_call *call)
{
	struct stce_iova_range r[STCE_PE_MAX_WINDOWS];
	struct iommu_ioas_iova_ranges *cmd = &call->cmd.iova_ranges;
	uint32_t room, n = STCE_PE_MAX_WINDOWS;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ret = stce_iommufd_iova_ranges(call->ictx, cmd->ioas_id, r, &n,
				       (uint64_t *)&cmd->out_iova_alignment);
	if (ret)
		return ret;
	room = cmd->num_iovas;
	for (uint32_t i = 0; i < n && i < room; i++) {
		struct iommu_iova_range out = { r[i].start, r[i].last };

		ret = vfio_copy_to_user((uint8_t *)(uintptr_t)cmd->allowed_iovas +
					i * sizeof(out), &out, sizeof(out));
		if (ret)
			return ret;
	}
	cmd->num_iovas = n;
	ret = ucmd_out(call, cmd, sizeof(*cmd));
	if (ret)
		return ret;
	return n > room ? -EMSGSIZE : 0;
}

/* IOMMU_IOAS_MAP: unmapped again if the IOVA cannot be given. */
long vfio_op_ioas_map(struct vfio_call *call)
{
	struct iommu_ioas_map *cmd = &call->cmd.ioas_map;
	uint64_t iova;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	iova = cmd->iova;
	ret = stce_iommufd_map(call->ictx, cmd->ioas_id, cmd->flags,
			       cmd->user_va, cmd->length, &iova);
	if (ret)
		return ret;
	cmd->iova = iova;
	ret = ucmd_out(call, cmd, sizeof(*cmd));
	if (ret) {
		uint64_t done;

		stce_iommufd_unmap(call->ictx, cmd->ioas_id, iova, cmd->length,
				   &done);
	}
	return ret;
}

/* IOMMU_IOAS_COPY: unmapped again if the IOVA cannot be given. */
long vfio_op_ioas_copy(struct vfio_call *call)
{
	struct iommu_ioas_copy *cmd = &call->cmd.ioas_copy;
	uint64_t iova;
	int ret;

	iova = cmd->dst_iova;
	ret = stce_iommufd_copy(call->ictx, cmd->flags, cmd->dst_ioas_id,
				cmd->src_ioas_id, cmd->src_iova, cmd->length,
				&iova);
	if (ret)
		return ret;
	cmd->dst_iova = iova;
	ret = ucmd_out(call, cmd, sizeof(*cmd));
	if (ret) {
		uint64_t done;

		stce_iommufd_unmap(call->ictx, cmd->dst_ioas_id, iova,
				   cmd->length, &done);
	}
	return ret;
}

/* IOMMU_IOAS_UNMAP: the length unmapped comes back. */
long vfio_op_ioas_unmap(struct vfio_call *call)
{
	struct iommu_ioas_unmap *cmd = &call->cmd.ioas_unmap;
	uint64_t done;
	int ret;

	ret = stce_iommufd_unmap(call->ictx, cmd->ioas_id, cmd->iova,
				 cmd->length, &done);
	if (ret)
		return ret;
	cmd->length = done;
	return ucmd_out(call, cmd, sizeof(*cmd));
}

/* IOMMU_HWPT_ALLOC: the sPAPR TCE geometry read from data_uptr. */
long vfio_op_hwpt_alloc(struct vfio_call *call)
{
	struct iommu_hwpt_alloc *cmd = &call->cmd.hwpt_alloc;
	struct iommu_hwpt_spapr_tce geom;
	const void *data = NULL;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->data_type == IOMMU_HWPT_DATA_SPAPR_TCE) {
		if (cmd->data_len < sizeof(geom))
			return -EINVAL;
		ret = vfio_copy_from_user(&geom,
					  (void *)(uintptr_t)cmd->data_uptr,
					  sizeof(geom));
		if (ret)
			return ret;
		data = &geom;
	}
	ret = stce_iommufd_hwpt_alloc(call->ictx, cmd->dev_id, cmd->pt_id,
				      cmd->flags, cmd->data_type, data,
				      cmd->data_len, &cmd->out_hwpt_id);
	if (ret)
		return ret;
	ret = ucmd_out(call, cmd, sizeof(*cmd));
	if (ret)
		stce_iommufd_destroy(call->ictx, cmd->out_hwpt_id);
	return ret;
}

/* ---- the legacy container ioctls on the compatibility IOAS ---------- */

static int compat_check_extension(unsigned long ext)
{
	/* v1 is not offered: its pinning model is not pre-registration's. */
	return ext == VFIO_SPAPR_TCE_v2_IOMMU || ext == VFIO_EEH;
}

/* VFIO_CHECK_EXTENSION on an iommufd: v2 and EEH. */
long vfio_op_compat_check_extension(struct vfio_call *call)
{
	return compat_check_extension(call->arg_int);
}

/* VFIO_SET_IOMMU on an iommufd: groups joined and no IOMMU yet (EINVAL),
 * then the type, as a VFIO container's SET_IOMMU checks them. */
long vfio_op_compat_set_iommu(struct vfio_call *call)
{
	unsigned long type = call->arg_int;
	struct stce_container *c;

	if (!stce_iommufd_compat_nr_groups(call->ictx) ||
	    !stce_iommufd_compat_container(call->ictx, &c))
		return -EINVAL;
	if (!compat_check_extension(type))
		return -ENODEV;
	if (type != VFIO_SPAPR_TCE_v2_IOMMU)
		return -EINVAL;
	return stce_iommufd_compat_set_iommu(call->ictx);
}

/* The compat EEH_PE_OP's check: a group joined. */
int vfio_check_compat_groups(struct vfio_call *call)
{
	return stce_iommufd_compat_nr_groups(call->ictx) ? 0 : -ENODEV;
}

/* VFIO_EEH_PE_OP on an iommufd: on the compat IOAS's PEs. */
long vfio_op_compat_eeh(struct vfio_call *call)
{
	struct vfio_eeh_pe_op *op = &call->cmd.eeh;
	int ret;

	if (op->flags)
		return -EINVAL;
	if (op->op != VFIO_EEH_PE_INJECT_ERR)
		return stce_iommufd_compat_eeh_op(call->ictx, op->op);
	ret = vfio_copy_in(op, call->arg, offsetofend(typeof(*op), err.mask));
	if (ret)
		return ret;
	return stce_iommufd_compat_eeh_inject(call->ictx, op->err.type,
					      op->err.func, op->err.addr,
					      op->err.mask);
}

/* See <spapr_tce/vfio.h>. */
long stce_iommufd_ioctl(struct stce_iommufd *ictx, unsigned long request,
			void *arg)
{
	struct vfio_call call = { .ictx = ictx, .arg = arg,
				  .arg_int = (unsigned long)arg };

	return vfio_ioctl_dispatch(STCE_HOST_FD_IOMMUFD, &call, request);
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
