/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: an iommufd for POWER. One context is one open /dev/iommu: it
 * holds objects by id (IOAS, HWPT, device), as <linux/iommufd.h> does.
 *
 * The model (docs/iommufd.md). An IOAS owns at most one *domain*: the
 * sPAPR TCE domain with its two windows - window 0 at the PE's 32-bit
 * base, window 1 at the DDW base - exposed as one HWPT object. The window
 * geometry is the domain's driver data, given at IOMMU_HWPT_ALLOC with
 * data type IOMMU_HWPT_DATA_SPAPR_TCE (below); a device attached to an
 * IOAS without a domain gets the default geometry. A device joins the
 * domain with its whole PE (its IOMMU group), and joins or leaves both
 * windows at once: a failure part-way leaves the PE in neither window,
 * back with the platform.
 *
 * One core serves both ABIs: the domain is a TCE-v2 container
 * (<spapr_tce/container.h>), and the legacy container ioctls work on the
 * context's compatibility IOAS. The ABI itself - the ioctls of /dev/iommu,
 * of the device cdevs and the user copies - is <spapr_tce/vfio.h>'s: this
 * header is the C API it calls. Memory is pinned through pre-registration
 * (<spapr_tce/prereg.h>): an IOAS map takes a user reference on the
 * regions that hold it - existing ones are shared, missing ones are
 * registered - so memory mapped through both ABIs is pinned and charged
 * once.
 *
 * Errors are the iommufd ones: -ENOENT unknown id (or an id of the wrong
 * kind), -EINVAL bad field, -EOPNOTSUPP unknown flag or data type,
 * -EEXIST IOVA in use, -EBUSY object in use, -ENOMEM, -EOVERFLOW.
 * Every function returns 0 or a negative errno.
 *
 * Thread-safe: every call serialises on the context, except that the TCE
 * writes of MAP/UNMAP are the container's lock-free path.
 */
#ifndef SPAPR_TCE_IOMMUFD_H
#define SPAPR_TCE_IOMMUFD_H

#include <stdint.h>

#include <spapr_tce/export.h>
#include <spapr_tce/pe.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STCE_IOMMUFD_PATH	"/dev/iommu"

/*
 * IOMMU_HWPT_ALLOC data type for the sPAPR TCE domain: the geometry of
 * both windows. A value well away from the upstream types (0..2 so far).
 */
#define IOMMU_HWPT_DATA_SPAPR_TCE	0x53504154u	/* "SPAT" */

struct iommu_hwpt_spapr_tce_window {
	uint32_t page_shift;	/* IOMMU page: 12 16 21 24 28 30; 0: no window */
	uint32_t levels;	/* TCE table levels, 1..the PE's max */
	uint64_t window_size;	/* bytes, a power of two */
};

struct iommu_hwpt_spapr_tce {
	uint32_t flags;		/* must be 0 */
	uint32_t __reserved;	/* must be 0 */
	struct iommu_hwpt_spapr_tce_window window[STCE_PE_MAX_WINDOWS];
};

/* Default geometry (IOMMU_HWPT_DATA_NONE, or attach to a bare IOAS):
 * window 0 the PE's default 32-bit window; window 1 4 GiB of 64K pages
 * in two levels. */
#define STCE_IOMMUFD_DEFAULT_DDW_SIZE		(1ULL << 32)
#define STCE_IOMMUFD_DEFAULT_DDW_PAGE_SHIFT	16
#define STCE_IOMMUFD_DEFAULT_DDW_LEVELS		2

/* IOAS map flags: the IOMMU_IOAS_MAP_* values. */
#define STCE_IOAS_MAP_FIXED_IOVA	(1u << 0)
#define STCE_IOAS_MAP_WRITEABLE		(1u << 1)
#define STCE_IOAS_MAP_READABLE		(1u << 2)

struct stce_iommufd;

/* A context with one reference (the descriptor's). -ENOMEM. */
STCE_API
int stce_iommufd_create(struct stce_iommufd **out);

/* Drop a reference; the last one destroys every object: devices
 * detached (their PEs back with the platform), mappings unmapped,
 * regions unpinned, windows freed. NULL: no-op. */
STCE_API
void stce_iommufd_put(struct stce_iommufd *ictx);
STCE_API
void stce_iommufd_get(struct stce_iommufd *ictx);

/* ---- objects ------------------------------------------------------- */

STCE_API
int stce_iommufd_ioas_alloc(struct stce_iommufd *ictx, uint32_t *ioas_id);

/*
 * IOMMU_DESTROY. An IOAS: -EBUSY while it has a domain. A HWPT: -EBUSY
 * while a device is attached or the IOAS still has mappings (they live in
 * the domain's windows). A device: -EBUSY (it goes with its descriptor,
 * stce_iommufd_unbind). -ENOENT unknown id.
 */
STCE_API
int stce_iommufd_destroy(struct stce_iommufd *ictx, uint32_t id);

struct stce_iova_range {
	uint64_t start;
	uint64_t last;		/* inclusive */
};

/*
 * IOMMU_IOAS_IOVA_RANGES: the domain's windows, in bus order. On entry
 * *@num is the room in @ranges; on return the number of windows. -EMSGSIZE
 * when they do not fit (*@num tells how many). An IOAS without a domain
 * has none (0 ranges). *@alignment: the largest IOMMU page of the windows
 * (each window needs its own page alignment).
 */
STCE_API
int stce_iommufd_iova_ranges(struct stce_iommufd *ictx, uint32_t ioas_id,
			     struct stce_iova_range *ranges, uint32_t *num,
			     uint64_t *alignment);

/*
 * IOMMU_IOAS_MAP of [ua, ua + length) with @flags (STCE_IOAS_MAP_*).
 * Without FIXED_IOVA the lowest free IOVA of a window that fits (window 0
 * first) is chosen and returned in *@iova. -EOPNOTSUPP unknown flags,
 * -EINVAL length 0, no domain, no READABLE/WRITEABLE, IOVA or ua not
 * aligned to the window's page, range not inside one window, memory that
 * cannot be pinned with the window's page; -EEXIST overlap with a mapping;
 * -EOVERFLOW wrap; -ENOSPC no room (automatic IOVA); -ENOMEM; -EFAULT.
 */
STCE_API
int stce_iommufd_map(struct stce_iommufd *ictx, uint32_t ioas_id,
		     uint32_t flags, uint64_t ua, uint64_t length,
		     uint64_t *iova);

/*
 * IOMMU_IOAS_UNMAP: every mapping inside [iova, iova + length) goes;
 * (0, UINT64_MAX) unmaps all. -ENOENT when nothing is there or a mapping
 * would be split, -EINVAL length 0, -EOVERFLOW wrap. *@unmapped: bytes.
 */
STCE_API
int stce_iommufd_unmap(struct stce_iommufd *ictx, uint32_t ioas_id,
		       uint64_t iova, uint64_t length, uint64_t *unmapped);

/*
 * IOMMU_IOAS_COPY: map the memory of the source mapping that is exactly
 * [src_iova, src_iova + length) into @dst_id (same flags rules as map;
 * nothing is pinned twice). -ENOENT when no mapping is exactly that range.
 */
STCE_API
int stce_iommufd_copy(struct stce_iommufd *ictx, uint32_t flags,
		      uint32_t dst_id, uint32_t src_id, uint64_t src_iova,
		      uint64_t length, uint64_t *dst_iova);

/* ---- devices and domains ------------------------------------------- */

/* VFIO_DEVICE_BIND_IOMMUFD for a device of @pe: -EBUSY when the PE is
 * bound in this context already (one device object per group). */
STCE_API
int stce_iommufd_bind(struct stce_iommufd *ictx, struct stce_pe *pe,
		      uint32_t *dev_id);

/* Unbind (closing the device): detaches it first. -ENOENT. */
STCE_API
int stce_iommufd_unbind(struct stce_iommufd *ictx, uint32_t dev_id);

/*
 * IOMMU_HWPT_ALLOC for device @dev_id (whose PE gives the capabilities)
 * on IOAS @pt_id: the IOAS's domain with the geometry of @data
 * (IOMMU_HWPT_DATA_SPAPR_TCE, @data_len >= sizeof(struct
 * iommu_hwpt_spapr_tce)) or the default one (IOMMU_HWPT_DATA_NONE, no
 * data). Both windows are created, charged to locked_vm, before any
 * device can use them. -EOPNOTSUPP flags or unknown data type, -EINVAL
 * bad data or geometry (stce_pe_table_params rules), -EEXIST the IOAS has
 * a domain already, -ENOENT, -ENOMEM (also over RLIMIT_MEMLOCK).
 */
STCE_API
int stce_iommufd_hwpt_alloc(struct stce_iommufd *ictx, uint32_t dev_id,
			    uint32_t pt_id, uint32_t flags, uint32_t data_type,
			    const void *data, uint32_t data_len,
			    uint32_t *hwpt_id);

/*
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT: @*pt_id an IOAS (its domain, made with
 * the default geometry when missing) or a HWPT; on return the HWPT id.
 * The device's PE joins both windows at once, or neither. Attaching to
 * the domain it is in: 0. -EBUSY attached elsewhere, or the PE is owned
 * by another user. -EPERM capabilities differ from the domain's.
 */
STCE_API
int stce_iommufd_attach(struct stce_iommufd *ictx, uint32_t dev_id,
			uint32_t *pt_id);

/* VFIO_DEVICE_DETACH_IOMMUFD_PT: both windows leave at once; the PE goes
 * back to the platform. -EINVAL when not attached. */
STCE_API
int stce_iommufd_detach(struct stce_iommufd *ictx, uint32_t dev_id);

/* ---- audit --------------------------------------------------------- */

struct stce_iommufd_stats {
	unsigned int nr_objects;
	unsigned int nr_domains;
	unsigned int nr_areas;		/* live IOAS mappings */
	unsigned int nr_pins;		/* regions held by IOAS mappings */
};

STCE_API
void stce_iommufd_get_stats(struct stce_iommufd *ictx,
			    struct stce_iommufd_stats *stats);

/* ---- the legacy container (the compatibility IOAS) ----------------- */

/*
 * What the legacy VFIO container ioctls sent to a /dev/iommu descriptor
 * act on (<spapr_tce/vfio.h>'s stce_iommufd_ioctl serves them): the
 * groups joined to the context's compatibility IOAS, and the sPAPR TCE v2
 * domain that VFIO_SET_IOMMU makes for them.
 *
 * group_attach: VFIO_GROUP_SET_CONTAINER with an iommufd descriptor as the
 * container. The group joins the compatibility IOAS (its domain once
 * set_iommu made it). -EBUSY: joined already, -ENOSPC: 64 groups joined.
 * group_detach: -ENOENT when not there. nr_groups: how many have joined.
 */
STCE_API
int stce_iommufd_compat_group_attach(struct stce_iommufd *ictx,
				     struct stce_pe *pe);
STCE_API
int stce_iommufd_compat_group_detach(struct stce_iommufd *ictx,
				     struct stce_pe *pe);
STCE_API
unsigned int stce_iommufd_compat_nr_groups(struct stce_iommufd *ictx);

/*
 * VFIO_SET_IOMMU (the v2 type): the compatibility domain, in kernel mode
 * (no window but the pending default one), with every joined group in it.
 * -EINVAL without a group or when made already; -ENOMEM, or what a
 * group's attach answers (nothing is left half made).
 */
STCE_API
int stce_iommufd_compat_set_iommu(struct stce_iommufd *ictx);

struct stce_container;

/*
 * The compatibility domain's container (<spapr_tce/container.h>), on
 * which the legacy ioctls act as on a VFIO container's IOMMU. -EINVAL
 * before set_iommu. It lives as long as the context: valid while the
 * caller holds a reference.
 */
STCE_API
int stce_iommufd_compat_container(struct stce_iommufd *ictx,
				  struct stce_container **c);

/* VFIO_EEH_PE_OP on the first joined group (stce_pe_eeh_op and
 * stce_pe_eeh_inject answers): -ENODEV without a group. */
STCE_API
int stce_iommufd_compat_eeh_op(struct stce_iommufd *ictx, unsigned int op);
STCE_API
int stce_iommufd_compat_eeh_inject(struct stce_iommufd *ictx,
				   unsigned int type, unsigned int func,
				   uint64_t addr, uint64_t mask);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_IOMMUFD_H */
