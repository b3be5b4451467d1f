// SPDX-License-Identifier: MIT
/*
 * The container descriptor: the handlers of the VFIO core's ioctls (API
 * version, extensions, SET_IOMMU) and, once an IOMMU is set, of the sPAPR
 * TCE driver's, with the kernel's flags and ordering rules. Their rows
 * (ioctls.c) give the struct sizes the dispatch copies in and the order
 * of the checks.
 *
 * Each errno has one home. What the container's state decides (the other
 * flavour's request: ENOTTY; MAP/UNMAP before ENABLE or REGISTER: EPERM;
 * no group: ENXIO, ENODEV) is stce_container_check()'s, which the
 * dispatch calls first for the rows that name a container op, where the
 * kernel checks, before the copy; what the request means (a direction, a
 * window, an alignment) is the container call's. This file decides only
 * what the ABI's shape causes: EFAULT, argsz below the minimum and a
 * non-zero flags field (EINVAL), a request no driver has (ENOTTY).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>

#include <linux/vfio.h>

#include <spapr_tce/container.h>

#include "common/alloc.h"
#include "vfio/vfio_internal.h"

/* See vfio_internal.h. */
int vfio_container_open(struct stce_host *host, int flags)
{
	struct vfio_container *c = stce_zalloc(sizeof(*c));
	int fd;

	if (!c)
		return -ENOMEM;
	c->obj.kind = VFIO_OBJ_CONTAINER;
	atomic_init(&c->obj.refs, 1);
	fd = vfio_fd_install(host, &c->obj, flags);
	if (fd < 0)
		stce_free(c);
	return fd;
}

/* See vfio_internal.h. */
void vfio_container_free(struct stce_host *host, struct vfio_container *c)
{
	(void)host;
	/* Groups hold references: none is left, so no IOMMU either. */
	stce_free(c);
}

/* VFIO_GET_API_VERSION: the core's version, whatever the state. */
long vfio_op_api_version(struct vfio_call *call)
{
	(void)call;
	return VFIO_API_VERSION;
}

static int check_extension(unsigned long ext)
{
	switch (ext) {
	case VFIO_SPAPR_TCE_IOMMU:
	case VFIO_SPAPR_TCE_v2_IOMMU:
	case VFIO_EEH:
		return 1;
	default:
		return 0;
	}
}

/* VFIO_CHECK_EXTENSION: the sPAPR driver's answer (the core asks every
 * driver when no IOMMU is set, and only it claims these). */
long vfio_op_check_extension(struct vfio_call *call)
{
	return check_extension(call->arg_int);
}

/* SET_IOMMU (host->lock): needs a group and no IOMMU yet; attaches
 * every group. */
long vfio_op_set_iommu(struct vfio_call *call)
{
	struct vfio_container *vc = call->vc;
	unsigned long type = call->arg_int;
	struct stce_container *c;
	int ret;

	if (!vc->nr_groups || atomic_load(&vc->iommu))
		return -EINVAL;
	/*
	 * The core offers the type to every driver that claims it as an
	 * extension: none does (-ENODEV), or the sPAPR driver, which then
	 * refuses what is not one of its two types (VFIO_EEH: -EINVAL).
	 */
	if (!check_extension(type))
		return -ENODEV;
	if (type != VFIO_SPAPR_TCE_IOMMU && type != VFIO_SPAPR_TCE_v2_IOMMU)
		return -EINVAL;
	/*
	 * In the host's grace: MAP and UNMAP run inside the descriptor's
	 * section (host.c), so the container's is a nested one and costs
	 * no locked instruction. Its window removal waits for that grace:
	 * TCE_REMOVE is a locked row (outside every section), and the
	 * destroy comes after the host's grace period (group_fd.c).
	 */
	ret = stce_container_create_in((unsigned int)type,
				       STCE_CONTAINER_KERNEL_QUIRKS,
				       &call->host->grace, &c);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < vc->nr_groups; i++) {
		ret = stce_container_attach(c, vc->groups[i]->pe);
		if (ret) {
			stce_container_destroy(c);
			return ret;
		}
	}
	atomic_store(&vc->iommu, c);
	return 0;
}

/*
 * The sPAPR driver's ioctls on an IOMMU (call->iommu): shared by the
 * container descriptor and the iommufd compat rows. The dispatch made
 * the row's stce_container_check() before the copy-in.
 */

/* VFIO_IOMMU_SPAPR_TCE_GET_INFO: the DMA32 window and the DDW caps. */
long vfio_op_tce_get_info(struct vfio_call *call)
{
	struct vfio_iommu_spapr_tce_info *info = &call->cmd.tce_info;
	const size_t minsz = offsetofend(struct vfio_iommu_spapr_tce_info,
					 dma32_window_size);
	const size_t ddwsz = offsetofend(struct vfio_iommu_spapr_tce_info, ddw);
	struct stce_container_info ci;
	int ret;

	ret = stce_container_get_info(call->iommu, &ci);
	if (ret)
		return ret;
	info->flags = ci.flags;
	info->dma32_window_start = ci.dma32_window_start;
	info->dma32_window_size = ci.dma32_window_size;
	memset(&info->ddw, 0, sizeof(info->ddw));
	info->ddw.pgsizes = ci.pgsizes;
	info->ddw.max_dynamic_windows_supported =
		ci.max_dynamic_windows_supported;
	info->ddw.levels = ci.levels;
	/* Old callers with the 16-byte struct get the old fields only. */
	return vfio_copy_to_user(call->arg, info,
				 info->argsz >= ddwsz ? ddwsz : minsz);
}

/* VFIO_IOMMU_MAP_DMA. The flags are the direction (STCE_MAP_* are the
 * same bits): the container judges them, unknown bits included. */
long vfio_op_map_dma(struct vfio_call *call)
{
	struct vfio_iommu_type1_dma_map *map = &call->cmd.map;

	return stce_container_map(call->iommu, map->vaddr, map->iova,
				  map->size, map->flags);
}

/* See vfio_internal.h. */
long vfio_op_map_dma_held(struct vfio_call *call)
{
	struct vfio_iommu_type1_dma_map *map = &call->cmd.map;

	return stce_container_map_checked(call->iommu, map->vaddr, map->iova,
					  map->size, map->flags);
}

/* VFIO_IOMMU_UNMAP_DMA: no flags (@held: vfio_op_unmap_dma_held()). */
static long unmap_dma(struct vfio_call *call, bool held)
{
	struct vfio_iommu_type1_dma_unmap *unmap = &call->cmd.unmap;

	if (unmap->flags)
		return -EINVAL;
	if (held)
		return stce_container_unmap_checked(call->iommu, unmap->iova,
						    unmap->size);
	return stce_container_unmap(call->iommu, unmap->iova, unmap->size);
}

/* See vfio_internal.h. */
long vfio_op_unmap_dma(struct vfio_call *call)
{
	return unmap_dma(call, false);
}

/* See vfio_internal.h. */
long vfio_op_unmap_dma_held(struct vfio_call *call)
{
	return unmap_dma(call, true);
}

/* VFIO_IOMMU_ENABLE (v1). */
long vfio_op_enable(struct vfio_call *call)
{
	return stce_container_enable(call->iommu);
}

/* VFIO_IOMMU_DISABLE (v1). */
long vfio_op_disable(struct vfio_call *call)
{
	return stce_container_disable(call->iommu);
}

/* VFIO_IOMMU_SPAPR_REGISTER_MEMORY (v2): no flags. */
long vfio_op_register(struct vfio_call *call)
{
	struct vfio_iommu_spapr_register_memory *r = &call->cmd.reg;

	if (r->flags)
		return -EINVAL;
	return stce_container_register(call->iommu, r->vaddr, r->size);
}

/* VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY (v2): no flags. */
long vfio_op_unregister(struct vfio_call *call)
{
	struct vfio_iommu_spapr_register_memory *r = &call->cmd.reg;

	if (r->flags)
		return -EINVAL;
	return stce_container_unregister(call->iommu, r->vaddr, r->size);
}

/* VFIO_IOMMU_SPAPR_TCE_CREATE (v2): the window's start comes back. */
long vfio_op_tce_create(struct vfio_call *call)
{
	struct vfio_iommu_spapr_tce_create *create = &call->cmd.create;
	uint64_t start;
	int ret;

	if (create->flags)
		return -EINVAL;
	ret = stce_container_create_window(call->iommu, create->page_shift,
					   create->window_size, create->levels,
					   &start);
	if (ret)
		return ret;
	create->start_addr = start;
	return vfio_copy_to_user(call->arg, create, offsetofend(
		struct vfio_iommu_spapr_tce_create, start_addr));
}

/* VFIO_IOMMU_SPAPR_TCE_REMOVE (v2). */
long vfio_op_tce_remove(struct vfio_call *call)
{
	struct vfio_iommu_spapr_tce_remove *remove = &call->cmd.remove;

	if (remove->flags)
		return -EINVAL;
	return stce_container_remove_window(call->iommu, remove->start_addr);
}

/* VFIO_EEH_PE_OP: INJECT_ERR reads the error fields too. */
long vfio_op_eeh(struct vfio_call *call)
{
	struct vfio_eeh_pe_op *op = &call->cmd.eeh;
	int ret;

	if (op->flags)
		return -EINVAL;
	if (op->op != VFIO_EEH_PE_INJECT_ERR)
		return stce_container_eeh_op(call->iommu, op->op);
	ret = vfio_copy_in(op, call->arg,
			   offsetofend(struct vfio_eeh_pe_op, err.mask));
	if (ret)
		return ret;
	return stce_container_eeh_inject(call->iommu, op->err.type,
					 op->err.func, op->err.addr,
					 op->err.mask);
}
