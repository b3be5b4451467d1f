/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: the sPAPR TCE IOMMU container (the kernel's tce_container),
 * behind VFIO_SET_IOMMU. Two flavours:
 *
 *  - v1 (VFIO_SPAPR_TCE_IOMMU, 2): one group; the default 32-bit window
 *    only; VFIO_IOMMU_ENABLE charges the whole window to locked_vm; each
 *    MAP pins the pages it maps, each cleared TCE unpins its page.
 *  - v2 (VFIO_SPAPR_TCE_v2_IOMMU, 7): memory is pre-registered (pinned and
 *    charged once, <spapr_tce/prereg.h>); MAP and UNMAP only translate and
 *    write TCEs; the user creates and removes DMA windows (their tables
 *    are charged before they are allocated); several groups share the
 *    windows, and a group joins all of them or none.
 *
 * The container owns its tables and programs them into the PE of every
 * group attached; a table's kill hook waits for the DMA of every such PE
 * (stce_pe_tce_kill) before any cleared page is released.
 *
 * Strict and kernel modes. Created plain, a container answers every bad
 * request with a negative errno. Created with STCE_CONTAINER_KERNEL_QUIRKS
 * (the VFIO layer does this) it answers what Linux 6.12 answers,
 * surprising results included (docs/quirks.md): an unaligned MAP/UNMAP
 * iova returns +1; a MAP/UNMAP range that starts in a window and runs past
 * its end returns 0 (only the part inside the window is touched: the
 * kernel would write past its table); UNREGISTER of a mapped region
 * returns 0 (the region is released when its last mapping goes: the
 * kernel leaks it). Resources are exact in both modes.
 *
 * Locking: registration, windows, attach/detach, ENABLE take the
 * container's mutex; MAP and UNMAP take no lock (they run inside a grace
 * read-side section so that a window cannot be freed under them), and
 * nor do the hypercalls that write the windows through the calls at the
 * end of this header.
 *
 * Every function returns 0 or a negative errno unless documented
 * otherwise.
 */
#ifndef SPAPR_TCE_CONTAINER_H
#define SPAPR_TCE_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>

#include <spapr_tce/export.h>
#include <spapr_tce/pe.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STCE_IOMMU_V1	2	/* VFIO_SPAPR_TCE_IOMMU */
#define STCE_IOMMU_V2	7	/* VFIO_SPAPR_TCE_v2_IOMMU */

enum stce_container_flags {
	/* Answer as the Linux driver does, quirks included. */
	STCE_CONTAINER_KERNEL_QUIRKS = 1u << 0,
};

/* MAP direction: the VFIO_DMA_MAP_FLAG_* bits. */
#define STCE_MAP_READ	(1u << 0)	/* the device may read the memory */
#define STCE_MAP_WRITE	(1u << 1)	/* the device may write the memory */

struct stce_container;
struct stce_grace;

/* -EINVAL for a type other than STCE_IOMMU_V1/V2 or unknown flags. */
STCE_API
int stce_container_create(unsigned int type, unsigned int flags,
			  struct stce_container **out);

/*
 * Tear down as closing the container does: every group detached (its PE
 * back with the platform), every window cleared (pages released after a
 * flush) and freed, every registration dropped, ENABLE's charge returned.
 * NULL is a no-op.
 */
STCE_API
void stce_container_destroy(struct stce_container *c);

STCE_API
unsigned int stce_container_type(const struct stce_container *c);
STCE_API
unsigned int stce_container_nr_groups(const struct stce_container *c);

/* The requests stce_container_check() judges (the ioctl of each). */
enum stce_container_op {
	STCE_CONTAINER_OP_GET_INFO,		/* VFIO_IOMMU_SPAPR_TCE_GET_INFO */
	STCE_CONTAINER_OP_ENABLE,		/* VFIO_IOMMU_ENABLE */
	STCE_CONTAINER_OP_DISABLE,		/* VFIO_IOMMU_DISABLE */
	STCE_CONTAINER_OP_MAP,			/* VFIO_IOMMU_MAP_DMA */
	STCE_CONTAINER_OP_UNMAP,		/* VFIO_IOMMU_UNMAP_DMA */
	STCE_CONTAINER_OP_REGISTER,		/* ..._SPAPR_REGISTER_MEMORY */
	STCE_CONTAINER_OP_UNREGISTER,		/* ..._SPAPR_UNREGISTER_MEMORY */
	STCE_CONTAINER_OP_CREATE_WINDOW,	/* VFIO_IOMMU_SPAPR_TCE_CREATE */
	STCE_CONTAINER_OP_REMOVE_WINDOW,	/* VFIO_IOMMU_SPAPR_TCE_REMOVE */
	STCE_CONTAINER_OP_EEH,			/* VFIO_EEH_PE_OP */
};

/*
 * Whether @c's state allows @op now, before any argument is looked at:
 * the errnos the kernel decides before it reads the request, in its
 * order. -ENOTTY: an op of the other flavour (ENABLE, DISABLE on v2;
 * REGISTER, UNREGISTER, CREATE_WINDOW, REMOVE_WINDOW on v1). -EPERM:
 * MAP, UNMAP before ENABLE (v1) or the first REGISTER (v2). -ENXIO:
 * GET_INFO, CREATE_WINDOW, REMOVE_WINDOW without a group. -ENODEV: EEH
 * without a group. -EINVAL: @op not one of enum stce_container_op.
 * This is the one home of those errnos: each call below makes this
 * check first, and the VFIO layer makes it where the kernel does,
 * before it copies the request in. No lock (atomic loads only).
 */
STCE_API
int stce_container_check(const struct stce_container *c, unsigned int op);

/*
 * Attach the group of @pe: the container takes the PE from the platform
 * and programs every existing window into it (all or none).
 * -EBUSY: v1 with a group already, or @pe attached already, or the PE is
 * owned by another user. -EINVAL: v2 on a PE without dynamic windows.
 * -EPERM: a PE whose capabilities differ from the attached groups' (the
 * kernel's "incompatible ops"). -ENOMEM.
 */
STCE_API
int stce_container_attach(struct stce_container *c, struct stce_pe *pe);

/* Detach: the PE's windows are unset and it goes back to the platform.
 * -ENOENT when @pe is not attached. */
STCE_API
int stce_container_detach(struct stce_container *c, struct stce_pe *pe);

struct stce_container_info {
	uint32_t flags;			/* VFIO_IOMMU_SPAPR_INFO_DDW for v2 */
	uint32_t dma32_window_start;
	uint32_t dma32_window_size;
	uint64_t pgsizes;		/* v2 only, else 0 */
	uint32_t max_dynamic_windows_supported;	/* v2 only */
	uint32_t levels;		/* v2 only */
};

/* GET_INFO. -ENXIO without a group. Takes the container lock. */
STCE_API
int stce_container_get_info(const struct stce_container *c,
			    struct stce_container_info *info);

/*
 * v1 ENABLE: charge the 32-bit window (size / host page) to locked_vm.
 * -EBUSY when enabled, -ENODEV without a group, -ENOMEM over the limit,
 * -ENOTTY on v2. DISABLE returns the charge (0 also when not enabled;
 * -ENOTTY on v2).
 */
STCE_API
int stce_container_enable(struct stce_container *c);
STCE_API
int stce_container_disable(struct stce_container *c);
STCE_API
bool stce_container_enabled(const struct stce_container *c);

/*
 * v2 REGISTER / UNREGISTER of [ua, ua + size) (see prereg.h for the
 * region rules). Register: -EINVAL (alignment, zero size, wrap, overlap),
 * -EBUSY (this container has it already), -ENOMEM, -EFAULT (also when only
 * the first N host pages can be pinned; KERNEL_QUIRKS answers N, as the
 * kernel does, nothing registered either way). Unregister:
 * -EINVAL (alignment), -ENOENT (not registered here); a region with live
 * mappings: -EBUSY in strict mode, 0 with KERNEL_QUIRKS. -ENOTTY on v1.
 */
STCE_API
int stce_container_register(struct stce_container *c, uint64_t ua,
			    uint64_t size);
STCE_API
int stce_container_unregister(struct stce_container *c, uint64_t ua,
			      uint64_t size);

/*
 * stce_container_create() for an owner that brackets its calls with
 * read-side sections of its own @grace (src/common/grace.h; the VFIO
 * host): the container's lock-free readers (MAP, UNMAP and the window
 * lookups) use @grace instead of a grace of their own, so that inside
 * the owner's section theirs is a nested one, which costs no locked
 * instruction. Window removal (stce_container_remove_window,
 * stce_container_destroy) waits for @grace's readers: the owner never
 * calls it from inside a section of @grace. @grace outlives the
 * container. NULL: stce_container_create().
 */
STCE_API
int stce_container_create_in(unsigned int type, unsigned int flags,
			     struct stce_grace *grace,
			     struct stce_container **out);

/*
 * v2 TCE_CREATE: a window of @window_size bytes of (1 << @page_shift)
 * pages in @levels levels, in the first free slot (the pending default
 * window is created first); *@start gets its bus address. -ENXIO without
 * a group, -ENOSPC when both slots are used, -EINVAL for a geometry the
 * PE or the table refuses, -ENOMEM (locked_vm limit or memory); nothing
 * stays charged on failure. -ENOTTY on v1.
 */
STCE_API
int stce_container_create_window(struct stce_container *c,
				 unsigned int page_shift, uint64_t window_size,
				 unsigned int levels, uint64_t *start);

/*
 * v2 TCE_REMOVE of the window holding bus address @addr (any address in
 * it): its entries are cleared, it is unset from every group and freed,
 * its charge returned. -EINVAL when no window holds @addr (removing the
 * pending default window by address 0 just drops it). -ENXIO without a
 * group. -ENOTTY on v1.
 */
STCE_API
int stce_container_remove_window(struct stce_container *c, uint64_t addr);

/*
 * MAP_DMA: map [vaddr, vaddr + size) at bus address @iova with @dir
 * (STCE_MAP_READ and/or STCE_MAP_WRITE). v2 takes pages from registered
 * memory, v1 pins them. A live entry is replaced (its page released after
 * the flush). A failure part-way clears what this call wrote.
 * In the kernel's order: -EPERM: v1 not enabled / v2 nothing registered
 * yet (also for a bad @dir); -EINVAL: @dir with an unknown bit; -ENXIO:
 * @iova in no window. -EINVAL: @dir empty, size or vaddr not aligned to
 * the window's page, size 0 in strict mode, memory not registered (v2) or
 * backed by pages smaller than the window's (v2). v1: -EFAULT memory not
 * mapped or a vaddr range that wraps, -EPERM backing pages too small.
 * Unaligned @iova: -EINVAL (KERNEL_QUIRKS: returns 1). Range past the
 * window's end: -ENXIO (KERNEL_QUIRKS: 0, maps the part inside).
 */
STCE_API
int stce_container_map(struct stce_container *c, uint64_t vaddr,
		       uint64_t iova, uint64_t size, unsigned int dir);

/* UNMAP_DMA: clear [iova, iova + size); the same window and alignment
 * rules as map. */
STCE_API
int stce_container_unmap(struct stce_container *c, uint64_t iova,
			 uint64_t size);

/*
 * stce_container_map() and stce_container_unmap() for a caller that has
 * made stce_container_check() of the op (MAP, UNMAP) and holds a
 * read-side section of the grace @c was made in (stce_container_create_in:
 * the VFIO host's, whose descriptor section covers the call): neither is
 * made again. The same errnos, in the same order, after the check.
 */
STCE_API
int stce_container_map_checked(struct stce_container *c, uint64_t vaddr,
			       uint64_t iova, uint64_t size, unsigned int dir);
STCE_API
int stce_container_unmap_checked(struct stce_container *c, uint64_t iova,
				 uint64_t size);

/*
 * Snapshot for audits and tests: the windows (bus start, size, page
 * shift, levels; size 0 for an empty slot), what tables and ENABLE
 * charge, and the live TCEs.
 */
struct stce_container_stats {
	struct {
		uint64_t start;
		uint64_t size;
		unsigned int page_shift;
		unsigned int levels;
		uint64_t charged_pages;
		uint64_t allocated_bytes;
	} window[STCE_PE_MAX_WINDOWS];
	bool default_window_pending;
	uint64_t enable_charged_pages;
	unsigned int nr_registered;
};

STCE_API
void stce_container_get_stats(struct stce_container *c,
			      struct stce_container_stats *stats);

/*
 * ---- The windows, for a hypervisor's TCE hypercalls ---------------------
 *
 * A guest's hypercalls (<spapr_tce/hcall.h>) write a container's window
 * tables directly, as KVM writes the iommu_table VFIO gave it. A window
 * is a slot (0 .. STCE_PE_MAX_WINDOWS - 1) and the table in it; a table
 * pointer found earlier is still that window only while
 * stce_container_window_table() returns it. Dereference a table only
 * inside a read-side section of its container: TCE_REMOVE and destroy
 * unpublish the table, wait for every section that may have seen it, and
 * only then clear and free it. Sections are lock-free (per-thread
 * counters, no shared write), nest, begin and end on one thread, and must
 * not call a function of the same container that changes its windows.
 */

/* What a reader holds between stce_container_read_lock() and _unlock();
 * on the caller's stack, opaque. */
struct stce_container_guard {
	unsigned int slot;
	unsigned int idx;
	bool held;
};

STCE_API
void stce_container_read_lock(struct stce_container *c,
			      struct stce_container_guard *guard);
STCE_API
void stce_container_read_unlock(struct stce_container *c,
				struct stce_container_guard *guard);

/*
 * The table in window slot @num now, or NULL (an empty slot, or @num not
 * below STCE_PE_MAX_WINDOWS). One atomic load; no lock.
 */
STCE_API
struct stce_table *stce_container_window_table(struct stce_container *c,
					       unsigned int num);

/*
 * The window a guest table of (1 << @page_shift)-byte pages at bus
 * address @bus_start spanning @bytes may write (the kernel's rule for
 * KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE: the same start, an IOMMU page not
 * larger, a window not smaller): its slot in *@num, its table in
 * *@table. The pending default window is created first (its errors,
 * -ENOMEM over the limit, are returned). -EINVAL when no window fits
 * (also without a group). Takes the container lock.
 */
STCE_API
int stce_container_find_window(struct stce_container *c, uint64_t bus_start,
			       unsigned int page_shift, uint64_t bytes,
			       unsigned int *num, struct stce_table **table);

/* True when @pe is one of @c's groups (false for NULL). Takes the lock. */
STCE_API
bool stce_container_has_group(struct stce_container *c,
			      const struct stce_pe *pe);

/*
 * The capabilities of the first group's PE (all groups' are equal):
 * what the RTAS DDW calls answer from. -ENXIO without a group. Takes the
 * container lock.
 */
STCE_API
int stce_container_caps(struct stce_container *c, struct stce_pe_caps *caps);

/* VFIO_EEH_PE_OP on the first group's PE. -ENODEV without a group. */
STCE_API
int stce_container_eeh_op(struct stce_container *c, unsigned int op);

/* VFIO_EEH_PE_INJECT_ERR: see stce_pe_eeh_inject(). -ENODEV likewise. */
STCE_API
int stce_container_eeh_inject(struct stce_container *c, unsigned int type,
			      unsigned int func, uint64_t addr, uint64_t mask);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_CONTAINER_H */
