// SPDX-License-Identifier: MIT
/*
 * The container descriptor: the VFIO core's ioctls (API version,
 * extensions, SET_IOMMU) and, once an IOMMU is set, the sPAPR TCE
 * driver's, with the kernel's argsz, flags and ordering rules.
 *
 * Each errno has one home. What the container's state decides (the other
 * flavour's request: ENOTTY; MAP/UNMAP before ENABLE or REGISTER: EPERM;
 * no group: ENXIO, ENODEV) is stce_container_check()'s, which each
 * handler calls first, where the kernel checks, before the copy; what the
 * request means (a direction, a window, an alignment) is the container
 * call's. This file decides only what the ABI's shape causes: EFAULT,
 * argsz below the minimum and a non-zero flags field (EINVAL), a request
 * no driver has (ENOTTY).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>

#include <linux/vfio.h>

#include <spapr_tce/container.h>

#include "common/alloc.h"
#include "vfio/vfio_internal.h"

/* A new container object on a descriptor of @host; the fd or -errno. */
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

/* Free a container object whose last reference went (no group left). */
void vfio_container_free(struct stce_host *host, struct vfio_container *c)
{
	(void)host;
	/* Groups hold references: none is left, so no IOMMU either. */
	stce_free(c);
}

/* See vfio_internal.h. */
int vfio_check_extension(unsigned long ext)
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

/* SET_IOMMU: needs a group and no IOMMU yet; attaches every group. */
static int set_iommu(struct stce_host *host, struct vfio_container *vc,
		     unsigned long type)
{
	struct stce_container *c;
	int ret;

	(void)host;
	if (!vc->nr_groups || atomic_load(&vc->iommu))
		return -EINVAL;
	/*
	 * The core offers the type to every driver that claims it as an
	 * extension: none does (-ENODEV), or the sPAPR driver, which then
	 * refuses what is not one of its two types (VFIO_EEH: -EINVAL).
	 */
	if (!vfio_check_extension(type))
		return -ENODEV;
	if (type != VFIO_SPAPR_TCE_IOMMU && type != VFIO_SPAPR_TCE_v2_IOMMU)
		return -EINVAL;
	ret = stce_container_create((unsigned int)type,
				    STCE_CONTAINER_KERNEL_QUIRKS, &c);
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

static int iommu_get_info(struct stce_container *c, void *arg)
{
	struct vfio_iommu_spapr_tce_info info;
	const size_t minsz = offsetofend(struct vfio_iommu_spapr_tce_info,
					 dma32_window_size);
	const size_t ddwsz = offsetofend(struct vfio_iommu_spapr_tce_info, ddw);
	struct stce_container_info ci;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_GET_INFO);

	if (ret)
		return ret;
	ret = stce_container_get_info(c, &ci);
	if (ret)
		return ret;
	ret = vfio_copy_in(&info, arg, minsz);
	if (ret)
		return ret;
	info.flags = ci.flags;
	info.dma32_window_start = ci.dma32_window_start;
	info.dma32_window_size = ci.dma32_window_size;
	memset(&info.ddw, 0, sizeof(info.ddw));
	info.ddw.pgsizes = ci.pgsizes;
	info.ddw.max_dynamic_windows_supported = ci.max_dynamic_windows_supported;
	info.ddw.levels = ci.levels;
	/* Old callers with the 16-byte struct get the old fields only. */
	return vfio_copy_to_user(arg, &info, info.argsz >= ddwsz ? ddwsz : minsz);
}

static int iommu_map(struct stce_container *c, void *arg)
{
	struct vfio_iommu_type1_dma_map map;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_MAP);

	if (ret)
		return ret;
	ret = vfio_copy_in(&map, arg,
			   offsetofend(struct vfio_iommu_type1_dma_map, size));
	if (ret)
		return ret;
	/* The flags are the direction (STCE_MAP_* are the same bits): the
	 * container judges them, unknown bits included. */
	return stce_container_map(c, map.vaddr, map.iova, map.size,
				  map.flags);
}

static int iommu_unmap(struct stce_container *c, void *arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_UNMAP);

	if (ret)
		return ret;
	ret = vfio_copy_in(&unmap, arg,
			   offsetofend(struct vfio_iommu_type1_dma_unmap, size));
	if (ret)
		return ret;
	if (unmap.flags)
		return -EINVAL;
	return stce_container_unmap(c, unmap.iova, unmap.size);
}

static int iommu_register(struct stce_container *c, void *arg, bool reg)
{
	struct vfio_iommu_spapr_register_memory r;
	int ret = stce_container_check(c, reg ? STCE_CONTAINER_OP_REGISTER :
						STCE_CONTAINER_OP_UNREGISTER);

	if (ret)
		return ret;
	ret = vfio_copy_in(&r, arg, offsetofend(
		struct vfio_iommu_spapr_register_memory, size));
	if (ret)
		return ret;
	if (r.flags)
		return -EINVAL;
	if (reg)
		return stce_container_register(c, r.vaddr, r.size);
	return stce_container_unregister(c, r.vaddr, r.size);
}

static int iommu_create(struct stce_container *c, void *arg)
{
	struct vfio_iommu_spapr_tce_create create;
	const size_t minsz = offsetofend(struct vfio_iommu_spapr_tce_create,
					 start_addr);
	uint64_t start;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_CREATE_WINDOW);

	if (ret)
		return ret;
	ret = vfio_copy_in(&create, arg, minsz);
	if (ret)
		return ret;
	if (create.flags)
		return -EINVAL;
	ret = stce_container_create_window(c, create.page_shift,
					   create.window_size, create.levels,
					   &start);
	if (ret)
		return ret;
	create.start_addr = start;
	return vfio_copy_to_user(arg, &create, minsz);
}

static int iommu_remove(struct stce_container *c, void *arg)
{
	struct vfio_iommu_spapr_tce_remove remove;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_REMOVE_WINDOW);

	if (ret)
		return ret;
	ret = vfio_copy_in(&remove, arg, offsetofend(
		struct vfio_iommu_spapr_tce_remove, start_addr));
	if (ret)
		return ret;
	if (remove.flags)
		return -EINVAL;
	return stce_container_remove_window(c, remove.start_addr);
}

static int iommu_eeh(struct stce_container *c, void *arg)
{
	struct vfio_eeh_pe_op op;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_EEH);

	if (ret)
		return ret;
	ret = vfio_copy_in(&op, arg, offsetofend(struct vfio_eeh_pe_op, op));
	if (ret)
		return ret;
	if (op.flags)
		return -EINVAL;
	if (op.op != VFIO_EEH_PE_INJECT_ERR)
		return stce_container_eeh_op(c, op.op);
	ret = vfio_copy_in(&op, arg, offsetofend(struct vfio_eeh_pe_op, err.mask));
	if (ret)
		return ret;
	return stce_container_eeh_inject(c, op.err.type, op.err.func,
					 op.err.addr, op.err.mask);
}

/*
 * The sPAPR TCE driver's ioctls; -ENOTTY for the other flavour's comes
 * from the container (stce_container_check), for unknown ones from here.
 */
/* See vfio_internal.h. */
int vfio_iommu_ioctl(struct stce_container *c, unsigned long request,
		     void *arg)
{
	switch (request) {
	case VFIO_CHECK_EXTENSION:
		return vfio_check_extension((unsigned long)arg);
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO:
		return iommu_get_info(c, arg);
	case VFIO_IOMMU_MAP_DMA:
		return iommu_map(c, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return iommu_unmap(c, arg);
	case VFIO_IOMMU_ENABLE:
		return stce_container_enable(c);
	case VFIO_IOMMU_DISABLE:
		return stce_container_disable(c);
	case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
		return iommu_register(c, arg, true);
	case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY:
		return iommu_register(c, arg, false);
	case VFIO_IOMMU_SPAPR_TCE_CREATE:
		return iommu_create(c, arg);
	case VFIO_IOMMU_SPAPR_TCE_REMOVE:
		return iommu_remove(c, arg);
	case VFIO_EEH_PE_OP:
		return iommu_eeh(c, arg);
	default:
		return -ENOTTY;
	}
}

static int container_ioctl(struct stce_host *host, struct vfio_container *vc,
			   unsigned long request, void *arg)
{
	struct stce_container *c;

	switch (request) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_SET_IOMMU:
		return set_iommu(host, vc, (unsigned long)arg);
	}
	c = atomic_load(&vc->iommu);
	if (c)
		return vfio_iommu_ioctl(c, request, arg);
	/* No IOMMU yet: the core answers extensions for every driver. */
	if (request == VFIO_CHECK_EXTENSION)
		return vfio_check_extension((unsigned long)arg);
	return -EINVAL;
}

/* A container descriptor's ioctl: its result or -errno (errno kept on
 * success). */
int vfio_container_ioctl(struct stce_host *host, struct vfio_container *vc,
			 unsigned long request, void *arg)
{
	int saved = errno, ret = container_ioctl(host, vc, request, arg);

	/*
	 * A successful ioctl leaves errno as it was, as the kernel's does;
	 * what runs underneath may not (munlock of pages the process has
	 * unmapped since it mapped them fails with ENOMEM, and that is fine).
	 */
	if (ret >= 0)
		errno = saved;
	return ret;
}
