// SPDX-License-Identifier: MIT
/*
 * The ioctl table: one row per ioctl each kind of descriptor serves, as
 * the kernel's iommufd keeps its IOCTL_OP table. A row's description
 * (<spapr_tce/vfio.h>: number, name, argument, struct size, minimum
 * size, the fields a trace prints) is shared where two kinds serve the
 * same ioctl (a container's and an iommufd's MAP_DMA); its op adds the
 * state checks the kernel makes before it copies the struct in, the
 * handler and where it may run (flags).
 *
 * The dispatch: the kind's gates (a container without an IOMMU answers
 * EINVAL, an unbound cdev EINVAL, the iommufd compat rows need the
 * compatibility IOAS's container), the row's checks, one copy-in by the
 * argument's rule (VFIO's argsz, iommufd's size with its zeroed tail), the
 * handler with the kernel's copy. What has no row is ENOTTY.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/common.h"
#include "vfio/vfio_internal.h"

/* ---- the descriptions ---------------------------------------------- */

#define FIELD(type, member, label, format) {				\
	.name = (label), .offset = offsetof(type, member),		\
	.size = sizeof(((type *)0)->member), .fmt = STCE_VFIO_FMT_##format }
#define FIELD_CLOSE(type, member, label, format) {			\
	.name = (label), .offset = offsetof(type, member),		\
	.size = sizeof(((type *)0)->member), .fmt = STCE_VFIO_FMT_##format, \
	.close = true }

#define SCALAR(req, kind) {						\
	.request = (req), .name = #req, .arg = STCE_VFIO_ARG_##kind }
/* A struct of @type; copied in up to and with @last. */
#define STRUCT(req, kind, type, last, flds) {				\
	.request = (req), .name = #req, .arg = STCE_VFIO_ARG_##kind,	\
	.size = sizeof(type), .minsz = offsetofend(type, last),		\
	.fields = (flds), .nr_fields = STCE_ARRAY_SIZE(flds) }
/* A struct the trace prints as a pointer. */
#define OPAQUE(req, kind, type, last) {				\
	.request = (req), .name = #req, .arg = STCE_VFIO_ARG_##kind,	\
	.size = sizeof(type), .minsz = offsetofend(type, last) }

/* The VFIO core's and the sPAPR TCE driver's (container, iommufd). */
#define T struct vfio_iommu_spapr_tce_info
static const struct stce_vfio_field tce_info_fields[] = {
	FIELD(T, argsz, "argsz", U),
	FIELD(T, flags, "flags", INFO_FLAGS),
	FIELD(T, dma32_window_start, "dma32_window_start", X),
	FIELD(T, dma32_window_size, "dma32_window_size", X),
	FIELD(T, ddw.pgsizes, "ddw={pgsizes", X),
	FIELD(T, ddw.max_dynamic_windows_supported,
	      "max_dynamic_windows_supported", U),
	FIELD_CLOSE(T, ddw.levels, "levels", U),
};
#undef T
#define T struct vfio_iommu_type1_dma_map
static const struct stce_vfio_field map_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", MAP_FLAGS),
	FIELD(T, vaddr, "vaddr", X), FIELD(T, iova, "iova", X),
	FIELD(T, size, "size", X),
};
#undef T
#define T struct vfio_iommu_type1_dma_unmap
static const struct stce_vfio_field unmap_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, iova, "iova", X), FIELD(T, size, "size", X),
};
#undef T
#define T struct vfio_iommu_spapr_register_memory
static const struct stce_vfio_field reg_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, vaddr, "vaddr", X), FIELD(T, size, "size", X),
};
#undef T
#define T struct vfio_iommu_spapr_tce_create
static const struct stce_vfio_field create_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, page_shift, "page_shift", U),
	FIELD(T, window_size, "window_size", X),
	FIELD(T, levels, "levels", U), FIELD(T, start_addr, "start_addr", X),
};
#undef T
#define T struct vfio_iommu_spapr_tce_remove
static const struct stce_vfio_field remove_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, start_addr, "start_addr", X),
};
#undef T
#define T struct vfio_eeh_pe_op
static const struct stce_vfio_field eeh_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, op, "op", EEH_OP),
};
#undef T

static const struct stce_vfio_ioctl
	d_api_version = SCALAR(VFIO_GET_API_VERSION, NONE),
	d_check_extension = SCALAR(VFIO_CHECK_EXTENSION, INT),
	d_set_iommu = SCALAR(VFIO_SET_IOMMU, INT),
	d_tce_get_info = STRUCT(VFIO_IOMMU_SPAPR_TCE_GET_INFO, ARGSZ,
				struct vfio_iommu_spapr_tce_info,
				dma32_window_size, tce_info_fields),
	d_map = STRUCT(VFIO_IOMMU_MAP_DMA, ARGSZ,
		       struct vfio_iommu_type1_dma_map, size, map_fields),
	d_unmap = STRUCT(VFIO_IOMMU_UNMAP_DMA, ARGSZ,
			 struct vfio_iommu_type1_dma_unmap, size, unmap_fields),
	d_enable = SCALAR(VFIO_IOMMU_ENABLE, NONE),
	d_disable = SCALAR(VFIO_IOMMU_DISABLE, NONE),
	d_register = STRUCT(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, ARGSZ,
			    struct vfio_iommu_spapr_register_memory, size,
			    reg_fields),
	d_unregister = STRUCT(VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, ARGSZ,
			      struct vfio_iommu_spapr_register_memory, size,
			      reg_fields),
	d_tce_create = STRUCT(VFIO_IOMMU_SPAPR_TCE_CREATE, ARGSZ,
			      struct vfio_iommu_spapr_tce_create, start_addr,
			      create_fields),
	d_tce_remove = STRUCT(VFIO_IOMMU_SPAPR_TCE_REMOVE, ARGSZ,
			      struct vfio_iommu_spapr_tce_remove, start_addr,
			      remove_fields),
	d_eeh = STRUCT(VFIO_EEH_PE_OP, ARGSZ, struct vfio_eeh_pe_op, op,
		       eeh_fields);

/* The group's. */
static const struct stce_vfio_field status_fields[] = {
	FIELD(struct vfio_group_status, argsz, "argsz", U),
	FIELD(struct vfio_group_status, flags, "flags", GROUP_FLAGS),
};

static const struct stce_vfio_ioctl
	d_group_status = STRUCT(VFIO_GROUP_GET_STATUS, ARGSZ,
				struct vfio_group_status, flags,
				status_fields),
	d_set_container = { .request = VFIO_GROUP_SET_CONTAINER,
			    .name = "VFIO_GROUP_SET_CONTAINER",
			    .arg = STCE_VFIO_ARG_FD, .size = sizeof(int32_t),
			    .minsz = sizeof(int32_t) },
	d_unset_container = SCALAR(VFIO_GROUP_UNSET_CONTAINER, NONE),
	d_get_device_fd = SCALAR(VFIO_GROUP_GET_DEVICE_FD, STRING);

/* The device's (vfio-pci's, and the cdev's iommufd binding). */
#define T struct vfio_device_info
static const struct stce_vfio_field dev_info_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, num_regions, "num_regions", U),
	FIELD(T, num_irqs, "num_irqs", U),
};
#undef T
#define T struct vfio_region_info
static const struct stce_vfio_field region_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, index, "index", U),
	FIELD(T, flags, "flags", X), FIELD(T, size, "size", X),
	FIELD(T, offset, "offset", X),
};
#undef T
#define T struct vfio_irq_info
static const struct stce_vfio_field irq_info_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, index, "index", U),
	FIELD(T, flags, "flags", X), FIELD(T, count, "count", U),
};
#undef T
#define T struct vfio_irq_set
static const struct stce_vfio_field irq_set_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, index, "index", U), FIELD(T, start, "start", U),
	FIELD(T, count, "count", U),
	{ .name = "data", .offset = sizeof(T), .size = 4,
	  .fmt = STCE_VFIO_FMT_EVENTFD },
};
#undef T
#define T struct vfio_device_bind_iommufd
static const struct stce_vfio_field bind_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, iommufd, "iommufd", D), FIELD(T, out_devid, "out_devid", U),
};
#undef T
#define T struct vfio_device_attach_iommufd_pt
static const struct stce_vfio_field attach_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
	FIELD(T, pt_id, "pt_id", U),
};
#undef T
#define T struct vfio_device_detach_iommufd_pt
static const struct stce_vfio_field detach_fields[] = {
	FIELD(T, argsz, "argsz", U), FIELD(T, flags, "flags", X),
};
#undef T

static const struct stce_vfio_ioctl
	d_dev_info = STRUCT(VFIO_DEVICE_GET_INFO, ARGSZ,
			    struct vfio_device_info, num_irqs, dev_info_fields),
	d_region_info = STRUCT(VFIO_DEVICE_GET_REGION_INFO, ARGSZ,
			       struct vfio_region_info, offset, region_fields),
	d_irq_info = STRUCT(VFIO_DEVICE_GET_IRQ_INFO, ARGSZ,
			    struct vfio_irq_info, count, irq_info_fields),
	d_set_irqs = STRUCT(VFIO_DEVICE_SET_IRQS, ARGSZ, struct vfio_irq_set,
			    count, irq_set_fields),
	d_reset = SCALAR(VFIO_DEVICE_RESET, NONE),
	d_hot_reset_info = OPAQUE(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, ARGSZ,
				  struct vfio_pci_hot_reset_info, count),
	d_hot_reset = OPAQUE(VFIO_DEVICE_PCI_HOT_RESET, ARGSZ,
			     struct vfio_pci_hot_reset, count),
	d_feature = OPAQUE(VFIO_DEVICE_FEATURE, ARGSZ,
			   struct vfio_device_feature, flags),
	d_ioeventfd = OPAQUE(VFIO_DEVICE_IOEVENTFD, ARGSZ,
			     struct vfio_device_ioeventfd, fd),
	d_bind = STRUCT(VFIO_DEVICE_BIND_IOMMUFD, ARGSZ,
			struct vfio_device_bind_iommufd, out_devid, bind_fields),
	d_attach = STRUCT(VFIO_DEVICE_ATTACH_IOMMUFD_PT, ARGSZ,
			  struct vfio_device_attach_iommufd_pt, pt_id,
			  attach_fields),
	d_detach = STRUCT(VFIO_DEVICE_DETACH_IOMMUFD_PT, ARGSZ,
			  struct vfio_device_detach_iommufd_pt, flags,
			  detach_fields);

/* iommufd's commands. */
static const struct stce_vfio_field destroy_fields[] = {
	FIELD(struct iommu_destroy, size, "size", U),
	FIELD(struct iommu_destroy, id, "id", U),
};
#define T struct iommu_ioas_alloc
static const struct stce_vfio_field ioas_alloc_fields[] = {
	FIELD(T, size, "size", U), FIELD(T, flags, "flags", X),
	FIELD(T, out_ioas_id, "out_ioas_id", U),
};
#undef T
#define T struct iommu_ioas_iova_ranges
static const struct stce_vfio_field iova_ranges_fields[] = {
	FIELD(T, size, "size", U), FIELD(T, ioas_id, "ioas_id", U),
	FIELD(T, num_iovas, "num_iovas", U),
	FIELD(T, allowed_iovas, "allowed_iovas", X),
	FIELD(T, out_iova_alignment, "out_iova_alignment", X),
};
#undef T
#define T struct iommu_ioas_map
static const struct stce_vfio_field ioas_map_fields[] = {
	FIELD(T, size, "size", U), FIELD(T, flags, "flags", IOAS_FLAGS),
	FIELD(T, ioas_id, "ioas_id", U), FIELD(T, user_va, "user_va", X),
	FIELD(T, length, "length", X), FIELD(T, iova, "iova", X),
};
#undef T
#define T struct iommu_ioas_copy
static const struct stce_vfio_field ioas_copy_fields[] = {
	FIELD(T, size, "size", U), FIELD(T, flags, "flags", IOAS_FLAGS),
	FIELD(T, dst_ioas_id, "dst_ioas_id", U),
	FIELD(T, src_ioas_id, "src_ioas_id", U),
	FIELD(T, length, "length", X), FIELD(T, dst_iova, "dst_iova", X),
	FIELD(T, src_iova, "src_iova", X),
};
#undef T
#define T struct iommu_ioas_unmap
static const struct stce_vfio_field ioas_unmap_fields[] = {
	FIELD(T, size, "size", U), FIELD(T, ioas_id, "ioas_id", U),
	FIELD(T, iova, "iova", X), FIELD(T, length, "length", X),
};
#undef T
#define T struct iommu_hwpt_alloc
static const struct stce_vfio_field hwpt_alloc_fields[] = {
	FIELD(T, size, "size", U), FIELD(T, flags, "flags", X),
	FIELD(T, dev_id, "dev_id", U), FIELD(T, pt_id, "pt_id", U),
	FIELD(T, out_hwpt_id, "out_hwpt_id", U),
	FIELD(T, data_type, "data_type", X),
	FIELD(T, data_len, "data_len", U), FIELD(T, data_uptr, "data_uptr", X),
};
#undef T

static const struct stce_vfio_ioctl
	d_destroy = STRUCT(IOMMU_DESTROY, SIZE, struct iommu_destroy, id,
			   destroy_fields),
	d_ioas_alloc = STRUCT(IOMMU_IOAS_ALLOC, SIZE, struct iommu_ioas_alloc,
			      out_ioas_id, ioas_alloc_fields),
	d_iova_ranges = STRUCT(IOMMU_IOAS_IOVA_RANGES, SIZE,
			       struct iommu_ioas_iova_ranges,
			       out_iova_alignment, iova_ranges_fields),
	d_ioas_map = STRUCT(IOMMU_IOAS_MAP, SIZE, struct iommu_ioas_map, iova,
			    ioas_map_fields),
	d_ioas_copy = STRUCT(IOMMU_IOAS_COPY, SIZE, struct iommu_ioas_copy,
			     src_iova, ioas_copy_fields),
	d_ioas_unmap = STRUCT(IOMMU_IOAS_UNMAP, SIZE, struct iommu_ioas_unmap,
			      length, ioas_unmap_fields),
	d_hwpt_alloc = STRUCT(IOMMU_HWPT_ALLOC, SIZE, struct iommu_hwpt_alloc,
			      data_uptr, hwpt_alloc_fields);

/* Known, not served (ENOTTY): named for tracers. The fallback uapi
 * header has no macros for them. */
static const struct stce_vfio_ioctl unserved[] = {
	{ .request = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS),
	  .name = "IOMMU_IOAS_ALLOW_IOVAS", .arg = STCE_VFIO_ARG_SIZE },
	{ .request = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION),
	  .name = "IOMMU_OPTION", .arg = STCE_VFIO_ARG_SIZE },
	{ .request = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS),
	  .name = "IOMMU_VFIO_IOAS", .arg = STCE_VFIO_ARG_SIZE },
};

/* ---- the tables ------------------------------------------------------ */

#define OP(desc, chk, handler, fl) \
	{ .info = &(desc), .check = (chk), .fn = (handler), .flags = (fl) }
/* A row of the sPAPR driver's: stce_container_check(@which) first. */
#define IOMMU_OP(desc, which, handler, fl) \
	{ .info = &(desc), .cop = 1 + STCE_CONTAINER_OP_##which, \
	  .fn = (handler), .flags = (fl) }

/* Most used first: lookups scan in order. */
enum { ROW_MAP, ROW_UNMAP };	/* vfio_ioctl_container_dma()'s */
static const struct vfio_ioctl_op container_ops[] = {
	[ROW_MAP] = IOMMU_OP(d_map, MAP, vfio_op_map_dma, 0),
	[ROW_UNMAP] = IOMMU_OP(d_unmap, UNMAP, vfio_op_unmap_dma, 0),
	IOMMU_OP(d_eeh, EEH, vfio_op_eeh, 0),
	OP(d_api_version, NULL, vfio_op_api_version,
	   VFIO_OP_CORE | VFIO_OP_INHERITED),
	OP(d_check_extension, NULL, vfio_op_check_extension,
	   VFIO_OP_CORE | VFIO_OP_INHERITED),
	OP(d_set_iommu, NULL, vfio_op_set_iommu,
	   VFIO_OP_CORE | VFIO_OP_LOCKED),
	IOMMU_OP(d_tce_get_info, GET_INFO, vfio_op_tce_get_info, 0),
	/* The container's enable/disable make their own check. */
	OP(d_enable, NULL, vfio_op_enable, 0),
	OP(d_disable, NULL, vfio_op_disable, 0),
	IOMMU_OP(d_register, REGISTER, vfio_op_register, 0),
	IOMMU_OP(d_unregister, UNREGISTER, vfio_op_unregister, 0),
	IOMMU_OP(d_tce_create, CREATE_WINDOW, vfio_op_tce_create, 0),
	/* Locked: the removal waits for the host's grace (container_fd.c). */
	IOMMU_OP(d_tce_remove, REMOVE_WINDOW, vfio_op_tce_remove,
		 VFIO_OP_LOCKED),
};

static const struct vfio_ioctl_op group_ops[] = {
	OP(d_group_status, NULL, vfio_op_group_status,
	   VFIO_OP_LOCKED | VFIO_OP_INHERITED),
	OP(d_set_container, NULL, vfio_op_set_container, VFIO_OP_LOCKED),
	OP(d_unset_container, NULL, vfio_op_unset_container, VFIO_OP_LOCKED),
	OP(d_get_device_fd, NULL, vfio_op_get_device_fd, VFIO_OP_LOCKED),
};

#define DEV_INFO	(VFIO_OP_LOCKED | VFIO_OP_INHERITED)
static const struct vfio_ioctl_op device_ops[] = {
	OP(d_dev_info, NULL, vfio_op_device_info, DEV_INFO),
	OP(d_region_info, NULL, vfio_op_region_info, DEV_INFO),
	OP(d_irq_info, NULL, vfio_op_irq_info, DEV_INFO),
	OP(d_set_irqs, NULL, vfio_op_set_irqs, VFIO_OP_LOCKED),
	OP(d_reset, NULL, vfio_op_reset, VFIO_OP_LOCKED),
	OP(d_hot_reset_info, vfio_check_group_device, vfio_op_hot_reset_info,
	   VFIO_OP_LOCKED),
	OP(d_hot_reset, NULL, vfio_op_hot_reset, VFIO_OP_LOCKED),
	OP(d_feature, NULL, vfio_op_feature, VFIO_OP_LOCKED),
	OP(d_ioeventfd, NULL, vfio_op_ioeventfd, VFIO_OP_LOCKED),
	OP(d_bind, NULL, vfio_op_bind, VFIO_OP_LOCKED | VFIO_OP_UNBOUND),
	OP(d_attach, vfio_check_cdev, vfio_op_attach, VFIO_OP_LOCKED),
	OP(d_detach, vfio_check_cdev, vfio_op_detach, VFIO_OP_LOCKED),
};

/* The context serialises these itself: none takes the host lock. */
static const struct vfio_ioctl_op iommufd_ops[] = {
	OP(d_ioas_map, NULL, vfio_op_ioas_map, 0),
	OP(d_ioas_unmap, NULL, vfio_op_ioas_unmap, 0),
	OP(d_destroy, NULL, vfio_op_destroy, 0),
	OP(d_ioas_alloc, NULL, vfio_op_ioas_alloc, 0),
	OP(d_iova_ranges, NULL, vfio_op_iova_ranges, 0),
	OP(d_ioas_copy, NULL, vfio_op_ioas_copy, 0),
	OP(d_hwpt_alloc, NULL, vfio_op_hwpt_alloc, 0),
	/* The legacy container's, on the compatibility IOAS (v2 only). */
	OP(d_api_version, NULL, vfio_op_api_version, 0),
	OP(d_check_extension, NULL, vfio_op_compat_check_extension, 0),
	OP(d_set_iommu, NULL, vfio_op_compat_set_iommu, 0),
	IOMMU_OP(d_map, MAP, vfio_op_map_dma, VFIO_OP_COMPAT),
	IOMMU_OP(d_unmap, UNMAP, vfio_op_unmap_dma, VFIO_OP_COMPAT),
	IOMMU_OP(d_tce_get_info, GET_INFO, vfio_op_tce_get_info,
		 VFIO_OP_COMPAT),
	IOMMU_OP(d_register, REGISTER, vfio_op_register, VFIO_OP_COMPAT),
	IOMMU_OP(d_unregister, UNREGISTER, vfio_op_unregister,
		 VFIO_OP_COMPAT),
	IOMMU_OP(d_tce_create, CREATE_WINDOW, vfio_op_tce_create,
		 VFIO_OP_COMPAT),
	IOMMU_OP(d_tce_remove, REMOVE_WINDOW, vfio_op_tce_remove,
		 VFIO_OP_COMPAT),
	OP(d_eeh, vfio_check_compat_groups, vfio_op_compat_eeh,
	   VFIO_OP_COMPAT),
};

static const struct {
	const struct vfio_ioctl_op *ops;
	unsigned int n;
} tables[] = {
	[STCE_HOST_FD_CONTAINER] = { container_ops,
				     STCE_ARRAY_SIZE(container_ops) },
	[STCE_HOST_FD_GROUP] = { group_ops, STCE_ARRAY_SIZE(group_ops) },
	[STCE_HOST_FD_DEVICE] = { device_ops, STCE_ARRAY_SIZE(device_ops) },
	[STCE_HOST_FD_IOMMUFD] = { iommufd_ops, STCE_ARRAY_SIZE(iommufd_ops) },
};

/* See vfio_internal.h. */
const struct vfio_ioctl_op *vfio_ioctl_op(enum stce_host_fd_kind kind,
					  unsigned long request)
{
	if ((unsigned int)kind >= STCE_ARRAY_SIZE(tables))
		return NULL;
	for (unsigned int i = 0; i < tables[kind].n; i++)
		if (tables[kind].ops[i].info->request == request)
			return &tables[kind].ops[i];
	return NULL;
}

/* See <spapr_tce/vfio.h>. */
const struct stce_vfio_ioctl *stce_vfio_ioctl_info(unsigned long request,
						   enum stce_host_fd_kind kind)
{
	const struct vfio_ioctl_op *op;

	if (kind == STCE_HOST_FD_NONE)
		kind = STCE_HOST_FD_CONTAINER;
	op = vfio_ioctl_op(kind, request);
	return op ? op->info : NULL;
}

/* See <spapr_tce/vfio.h>. */
const struct stce_vfio_ioctl *stce_vfio_ioctl_named(unsigned long request)
{
	static const enum stce_host_fd_kind order[] = {
		STCE_HOST_FD_CONTAINER, STCE_HOST_FD_GROUP,
		STCE_HOST_FD_IOMMUFD,
	};

	for (unsigned int i = 0; i < STCE_ARRAY_SIZE(order); i++) {
		const struct vfio_ioctl_op *op = vfio_ioctl_op(order[i],
							       request);

		if (op)
			return op->info;
	}
	for (unsigned int i = 0; i < STCE_ARRAY_SIZE(unserved); i++)
		if (unserved[i].request == request)
			return &unserved[i];
	return NULL;
}

/* See <spapr_tce/vfio.h>. */
const struct stce_vfio_ioctl *stce_vfio_ioctl_row(enum stce_host_fd_kind kind,
						  unsigned int i)
{
	if ((unsigned int)kind >= STCE_ARRAY_SIZE(tables) ||
	    i >= tables[kind].n)
		return NULL;
	return tables[kind].ops[i].info;
}

/* ---- the copy-in and the dispatch ------------------------------------ */

/*
 * iommufd's rule: the first u32 is the user's size. Shorter than the
 * row's minimum: -EINVAL. Longer than the struct we know: the tail must
 * be zero (-E2BIG). What the user's struct lacks reads as zero.
 */
static int ucmd_in(struct vfio_call *call, const struct stce_vfio_ioctl *info)
{
	uint32_t usize;
	int ret;

	ret = vfio_copy_from_user(&usize, call->arg, sizeof(usize));
	if (ret)
		return ret;
	if (usize < info->minsz)
		return -EINVAL;
	memset(&call->cmd, 0, info->size);
	ret = vfio_copy_from_user(&call->cmd, call->arg,
				  usize < info->size ? usize : info->size);
	if (ret)
		return ret;
	for (size_t off = info->size; off < usize; off++) {
		uint8_t b;

		ret = vfio_copy_from_user(&b, (uint8_t *)call->arg + off, 1);
		if (ret)
			return ret;
		if (b)
			return -E2BIG;
	}
	call->usize = usize;
	return 0;
}

/* The command the handler gets: the user's struct up to the row's minimum
 * and zero after it (the caller leaves call->cmd uninitialised). */
static int copy_in(struct vfio_call *call, const struct stce_vfio_ioctl *info)
{
	switch (info->arg) {
	case STCE_VFIO_ARG_ARGSZ:
		if (info->size > info->minsz)
			memset((char *)&call->cmd + info->minsz, 0,
			       info->size - info->minsz);
		return vfio_copy_in(&call->cmd, call->arg, info->minsz);
	case STCE_VFIO_ARG_SIZE:
		return ucmd_in(call, info);
	case STCE_VFIO_ARG_FD:
		memset(&call->cmd, 0, sizeof(call->cmd));
		return vfio_copy_from_user(&call->cmd.fd, call->arg,
					   sizeof(call->cmd.fd));
	default:	/* an integer, nothing, or a string the handler reads */
		memset(&call->cmd, 0, sizeof(call->cmd));
		return 0;
	}
}

/* See vfio_internal.h. */
long vfio_ioctl_run(const struct vfio_ioctl_op *op, struct vfio_call *call)
{
	int ret;

	if (op->cop) {
		ret = stce_container_check(call->iommu, op->cop - 1);
		if (ret)
			return ret;
	}
	if (op->check) {
		ret = op->check(call);
		if (ret)
			return ret;
	}
	ret = copy_in(call, op->info);
	if (ret)
		return ret;
	return op->fn(call);
}

/*
 * A container: the core's rows always; the driver's only once SET_IOMMU
 * made an IOMMU (before: -EINVAL, whatever the request; the other
 * flavour's: -ENOTTY from stce_container_check).
 */
static long container_dispatch(struct vfio_call *call,
			       const struct vfio_ioctl_op *op)
{
	if (op && (op->flags & VFIO_OP_CORE))
		return vfio_ioctl_run(op, call);
	call->iommu = atomic_load(&call->vc->iommu);
	if (!call->iommu)
		return -EINVAL;
	return op ? vfio_ioctl_run(op, call) : -ENOTTY;
}

/* A device: nothing but BIND_IOMMUFD before a cdev is bound (EINVAL,
 * even for what it does not serve: the kernel's access_granted). */
static long device_dispatch(struct vfio_call *call,
			    const struct vfio_ioctl_op *op)
{
	if (!(op && (op->flags & VFIO_OP_UNBOUND)) &&
	    !atomic_load(&call->d->granted))
		return -EINVAL;
	return op ? vfio_ioctl_run(op, call) : -ENOTTY;
}

/* An iommufd: the compat rows run on the compatibility IOAS's container
 * (-EINVAL before VFIO_SET_IOMMU made it). */
static long iommufd_dispatch(struct vfio_call *call,
			     const struct vfio_ioctl_op *op)
{
	int ret;

	if (!op)
		return -ENOTTY;
	if (op->flags & VFIO_OP_COMPAT) {
		ret = stce_iommufd_compat_container(call->ictx, &call->iommu);
		if (ret)
			return ret;
	}
	return vfio_ioctl_run(op, call);
}

/* See vfio_internal.h. */
long vfio_ioctl_dispatch_row(enum stce_host_fd_kind kind,
			     struct vfio_call *call,
			     const struct vfio_ioctl_op *op)
{
	int saved = errno;
	long ret;

	switch (kind) {
	case STCE_HOST_FD_CONTAINER:
		ret = container_dispatch(call, op);
		/*
		 * A successful ioctl leaves errno as it was, as the kernel's
		 * does; what runs underneath may not (munlock of pages the
		 * process has unmapped since it mapped them fails with
		 * ENOMEM, and that is fine).
		 */
		if (ret >= 0)
			errno = saved;
		return ret;
	case STCE_HOST_FD_DEVICE:
		return device_dispatch(call, op);
	case STCE_HOST_FD_IOMMUFD:
		return iommufd_dispatch(call, op);
	case STCE_HOST_FD_GROUP:
		return op ? vfio_ioctl_run(op, call) : -ENOTTY;
	default:
		return -ENOTTY;
	}
}

/*
 * See vfio_internal.h. container_dispatch() and vfio_ioctl_run() for the
 * two rows, without the row lookup, the kind's switch and the argument
 * rule's: the same gates in the same order (no IOMMU: EINVAL; the row's
 * container op; the argsz copy-in of the row's minimum, which is the
 * whole struct of both), then the handler that knows the check is made
 * and the host's section held.
 */
long vfio_ioctl_container_dma(struct vfio_call *call, unsigned long request)
{
	bool map = request == VFIO_IOMMU_MAP_DMA;
	const struct vfio_ioctl_op *op = &container_ops[map ? ROW_MAP :
								 ROW_UNMAP];
	int saved = errno;
	long ret;

	call->iommu = atomic_load(&call->vc->iommu);
	if (!call->iommu)
		return -EINVAL;
	ret = stce_container_check(call->iommu, op->cop - 1);
	if (ret)
		return ret;
	ret = vfio_copy_in(&call->cmd, call->arg, op->info->minsz);
	if (ret)
		return ret;
	ret = map ? vfio_op_map_dma_held(call) : vfio_op_unmap_dma_held(call);
	/* As vfio_ioctl_dispatch_row(): success leaves errno alone. */
	if (ret >= 0)
		errno = saved;
	return ret;
}

/* See vfio_internal.h. */
long vfio_ioctl_dispatch(enum stce_host_fd_kind kind, struct vfio_call *call,
			 unsigned long request)
{
	return vfio_ioctl_dispatch_row(kind, call, vfio_ioctl_op(kind, request));
}
