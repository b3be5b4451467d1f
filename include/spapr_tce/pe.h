/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: Partitionable Endpoints (PEs).
 *
 * A PE is the unit of DMA isolation: one IOMMU group, up to two DMA
 * windows (each a TCE table at a fixed bus offset), and an EEH state. The
 * device side translates through the windows (stce_pe_dma_*); any access
 * outside every window, to an empty entry or without the needed permission
 * freezes the PE.
 *
 * Ownership. A PE starts owned by the platform, which has its own default
 * 32-bit window (a table the PE allocates and keeps). A user (a container)
 * takes it with stce_pe_take_ownership(): the platform window is taken
 * off the bus and cleared. The user then programs its own tables with
 * stce_pe_set_window() / stce_pe_unset_window(); the tables stay the
 * caller's (the PE never frees them). stce_pe_release_ownership() unsets
 * every user window and puts the platform window back.
 *
 * Window numbers: window 0 sits at the PE's 32-bit window start (bus 0
 * on PowerNV), window 1 at the 64-bit DDW base (1ULL << 59).
 *
 * Concurrency. The DMA functions are lock-free readers: they never take a
 * lock and never write a shared cache line. A TCE cleared while a DMA runs
 * must not give access to a released page: whoever clears entries calls
 * stce_pe_tce_kill() (from the table's kill hook) before releasing the
 * pages; it returns once every DMA that may have read a TCE before the
 * call has finished. stce_pe_unset_window() waits the same way, so its
 * caller may destroy the table right after. Window and ownership changes
 * are serialised by the PE; they must not be called from inside a DMA
 * (between stce_pe_dma_map() and stce_pe_dma_unmap()).
 *
 * Every function returns 0 or a negative errno unless documented
 * otherwise.
 */
#ifndef SPAPR_TCE_PE_H
#define SPAPR_TCE_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spapr_tce/export.h>
#include <spapr_tce/table.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STCE_PE_MAX_WINDOWS	2	/* IOMMU_TABLE_GROUP_MAX_TABLES */

/* What a PE can do; defaults are what PowerNV PHB4 reports. */
struct stce_pe_caps {
	uint64_t pgsizes;		/* IOMMU page sizes, a mask of 1 << shift */
	unsigned int max_windows;	/* 1..STCE_PE_MAX_WINDOWS */
	unsigned int max_levels;	/* 1..STCE_TABLE_MAX_LEVELS */
	uint64_t dma32_start;		/* bus offset of window 0 */
	uint64_t dma32_size;		/* size of the default window */
	unsigned int dma32_page_shift;	/* IOMMU page of the default window */
	uint64_t ddw_base;		/* bus offset of window 1 */
	unsigned int host_page_shift;	/* 12 or 16 */
	/*
	 * Refuse page shift 24 (16M) at create even when pgsizes holds it:
	 * on the observed PHB4 a 16M create fails -EINVAL. (The reported
	 * 0x40211000 is 4K|64K|2M|1G: it does not hold 16M, so with the
	 * default pgsizes the refusal follows from pgsizes already.)
	 */
	bool refuse_16m;
};

#define STCE_PE_DEFAULT_PGSIZES		0x40211000ULL	/* 4K 64K 2M 1G */
#define STCE_PE_DEFAULT_MAX_WINDOWS	2
#define STCE_PE_DEFAULT_MAX_LEVELS	5
#define STCE_PE_DEFAULT_DMA32_SIZE	0x80000000ULL	/* 2 GiB */
#define STCE_PE_DEFAULT_DDW_BASE	(1ULL << 59)

/* Fill @caps with the PowerNV PHB4 defaults above. */
STCE_API
void stce_pe_caps_default(struct stce_pe_caps *caps);

/*
 * Check a capability set: -EINVAL when pgsizes is empty or holds a size
 * no table supports, max_windows or max_levels is out of range, the
 * default window is not a power of two, not aligned, not at least one
 * page of a supported size, or overlaps the DDW base, the DDW base is not
 * aligned to the largest page, or the host page is not 4K or 64K.
 */
STCE_API
int stce_pe_caps_check(const struct stce_pe_caps *caps);

/* What stce_pe_caps_check() objects to, in words, or NULL. */
STCE_API
const char *stce_pe_caps_problem(const struct stce_pe_caps *caps);

struct stce_pe;

/*
 * A PE for IOMMU group @group, owned by the platform. caps->host_page_shift
 * is the process's emulated host page (account.h) while the PE lives: the
 * first PE switches to it, and the page cannot change until the last PE
 * of it is destroyed. -EINVAL for bad caps, or a host page below this
 * machine's real page. -EBUSY: the process is on the other host page and
 * cannot leave it (a PE of that page lives, or memory is registered,
 * pinned or charged). -ENOMEM.
 */
STCE_API
int stce_pe_create(const struct stce_pe_caps *caps, unsigned int group,
		   struct stce_pe **out);

/* Unset every window (user tables are left to their owner), free the
 * platform window and the PE. NULL is a no-op. */
STCE_API
void stce_pe_destroy(struct stce_pe *pe);

STCE_API
unsigned int stce_pe_group(const struct stce_pe *pe);
STCE_API
void stce_pe_get_caps(const struct stce_pe *pe, struct stce_pe_caps *caps);

/* ---- Windows ------------------------------------------------------- */

/*
 * Validate a request for window @num and fill @out with the table
 * parameters to create it with: bus offset (dma32_start for 0, ddw_base
 * for 1), window size, page shift, levels and the PE's host page shift;
 * flags 0 (the caller adds STCE_TABLE_USERSPACE_VIEW when it wants one).
 *
 * These are the checks the kernel makes before it charges the table to
 * locked_vm, all -EINVAL: @num not below max_windows; page shift not in
 * pgsizes, or 24 with refuse_16m; levels 0 or above max_levels; window
 * not a power of two, smaller than one IOMMU page, or running into the
 * other window's base (window 0) or past 2^64 (window 1).
 * stce_table_create() makes the rest (its 55-bit check) after the charge.
 * @out is untouched on error.
 */
STCE_API
int stce_pe_table_params(const struct stce_pe *pe, unsigned int num,
			 unsigned int page_shift, uint64_t window_size,
			 unsigned int levels, struct stce_table_params *out);

/*
 * Program @table as window @num. The table stays the caller's.
 * -EPERM: the PE is not owned by a user. -EINVAL: @num out of range, or a
 * table that does not fit this PE (bus offset other than window @num's,
 * page shift not in pgsizes, more levels than max_levels, window running
 * into the other window). -EBUSY: window @num is in use. -ENOMEM.
 */
STCE_API
int stce_pe_set_window(struct stce_pe *pe, unsigned int num,
		       struct stce_table *table);

/*
 * Program every window at once: @tables[num] as window num (NULL: leave
 * the slot empty; at least one table). Every table is checked and every
 * allocation made first, so a failure changes nothing; then all windows
 * appear in one step that no DMA can split: a DMA sees either none of
 * them or all of them (a window-set sequence count read by the DMA side).
 * -EPERM: not user-owned. -EINVAL: as stce_pe_set_window, or no table.
 * -EBUSY: a slot to be set is in use. -ENOMEM.
 */
STCE_API
int stce_pe_set_windows(struct stce_pe *pe,
			struct stce_table *const tables[STCE_PE_MAX_WINDOWS]);

/*
 * Take window @num off the bus; on return no DMA can reach the table any
 * more (the grace period of stce_pe_tce_kill() has passed), so its owner
 * may clear and destroy it. A window the PE created itself
 * (stce_pe_create_window) is freed. -EPERM: not user-owned. -EINVAL:
 * @num out of range or no window there.
 */
STCE_API
int stce_pe_unset_window(struct stce_pe *pe, unsigned int num);

/*
 * Convenience for users without a container: create a PE-owned table in
 * the first free window (-ENOSPC when none, checked first as the kernel
 * does), with the checks of stce_pe_table_params() and
 * stce_table_create(); *@start gets its bus offset. -EPERM: not
 * user-owned. -ENOMEM.
 */
STCE_API
int stce_pe_create_window(struct stce_pe *pe, unsigned int page_shift,
			  uint64_t window_size, unsigned int levels,
			  uint64_t *start);

/*
 * Remove the PE-owned window that contains bus address @addr (any address
 * inside it, as TCE_REMOVE takes). -EINVAL: no window there. -EBUSY: the
 * window is a table set by stce_pe_set_window (unset it instead). -EPERM.
 */
STCE_API
int stce_pe_remove_window(struct stce_pe *pe, uint64_t addr);

/*
 * Remove every window (PE-owned ones freed, others just unset) and create
 * the default window 0: dma32_start, dma32_size, dma32_page_shift, one
 * level, PE-owned. -EPERM: not user-owned. -ENOMEM (the PE is then left
 * with no window).
 */
STCE_API
int stce_pe_reset_windows(struct stce_pe *pe);

/* The table programmed as window @num, or NULL. For the owner's
 * bookkeeping; DMA does not go through this. */
STCE_API
struct stce_table *stce_pe_window_table(const struct stce_pe *pe,
					unsigned int num);

/* The window number covering bus address @iova, or -ENXIO. */
STCE_API
int stce_pe_find_window(const struct stce_pe *pe, uint64_t iova);

/* ---- Ownership ----------------------------------------------------- */

/*
 * Hand the PE to a user: the platform window goes off the bus (after the
 * grace period) and its mappings are cleared. -EBUSY: already owned by a
 * user.
 */
STCE_API
int stce_pe_take_ownership(struct stce_pe *pe);

/*
 * Give the PE back: every user window is unset (as stce_pe_unset_window),
 * then the platform window is restored, empty. -EINVAL when not
 * user-owned.
 */
STCE_API
int stce_pe_release_ownership(struct stce_pe *pe);

STCE_API
bool stce_pe_user_owned(const struct stce_pe *pe);

/*
 * The platform's own DMA mappings in its default window, for the platform
 * (the host kernel's DMA API in the real system) and for tests: map
 * @page (aligned to the window's IOMMU page) at @iova with @perm, or clear
 * the entry at @iova. -EPERM: user-owned. -ENXIO: @iova outside the
 * platform window. -EINVAL: @page not aligned, or @perm 0 (map).
 * -ENOMEM.
 */
STCE_API
int stce_pe_platform_map(struct stce_pe *pe, uint64_t iova, void *page,
			 uint64_t perm);
STCE_API
int stce_pe_platform_unmap(struct stce_pe *pe, uint64_t iova);

/* ---- Invalidation -------------------------------------------------- */

/*
 * The TCE-cache kill: wait until every DMA of this PE that may have read
 * a TCE before this call has finished. Call it after clearing entries of
 * a table programmed in this PE and before releasing the pages they
 * pointed to (the container's table kill hook does, for each PE the table
 * is programmed in). Never call it from inside a DMA.
 */
STCE_API
void stce_pe_tce_kill(struct stce_pe *pe);

/*
 * The kill for TCEs of bus addresses [@iova, @iova + @len) only: waits for
 * the DMAs that began before the call and translate some of that range
 * (each DMA announces its range), not for the others, so that a device
 * thread preempted in a DMA elsewhere holds up no unmap. @len 0, or a
 * range past 2^64, is everything (stce_pe_tce_kill). Never from a DMA.
 */
STCE_API
void stce_pe_tce_kill_range(struct stce_pe *pe, uint64_t iova, uint64_t len);

/*
 * stce_pe_tce_kill_range() for a caller that has already ordered its TCE
 * changes before this call's loads (a full barrier): a table's kill hook,
 * which the table calls after one (stce_table_kill_fn). It makes none.
 */
STCE_API
void stce_pe_tce_kill_range_ordered(struct stce_pe *pe, uint64_t iova,
				    uint64_t len);

/* Kills (both forms) and window grace periods so far (tests, stats). */
STCE_API
uint64_t stce_pe_kill_count(const struct stce_pe *pe);

/* ---- Device DMA ---------------------------------------------------- */

enum stce_dma_dir {
	STCE_DMA_READ = 1,	/* the device reads memory: needs TCE READ */
	STCE_DMA_WRITE = 2,	/* the device writes memory: needs TCE WRITE */
};

/*
 * Copy @len bytes between device-side @buf and bus address @iova through
 * the PE's windows, entry by entry. -EIO: the PE's DMA is frozen or
 * reset, or this access froze it (outside every window, empty entry,
 * missing permission: see stce_pe_eeh_fault()). Like hardware, a
 * transfer that faults part-way may have moved the bytes before the
 * faulting entry. @len 0 is a no-op (0).
 */
STCE_API
int stce_pe_dma_read(struct stce_pe *pe, uint64_t iova, void *buf,
		     size_t len);
STCE_API
int stce_pe_dma_write(struct stce_pe *pe, uint64_t iova, const void *buf,
		      size_t len);

/*
 * A device's own copy and fill through the windows, with no buffer of the
 * caller's between: @len bytes from bus address @src to @dst (the device
 * reads @src and writes @dst; overlapping ranges move as memmove does,
 * unless a page faults part-way), or @len bytes of (uint8_t)@byte at
 * @iova. One read-side section a call, so keep @len to what the caller
 * would hold off stce_pe_tce_kill() for. Faults, -EIO and @len 0 as for
 * stce_pe_dma_read() and stce_pe_dma_write().
 */
STCE_API
int stce_pe_dma_copy(struct stce_pe *pe, uint64_t dst, uint64_t src,
		     size_t len);
STCE_API
int stce_pe_dma_fill(struct stce_pe *pe, uint64_t iova, int byte, size_t len);

struct stce_dma_span {
	void *addr;	/* process address of the bytes */
	size_t len;
};

/* Read-side state of a mapped access; opaque to the caller. */
struct stce_dma_guard {
	unsigned int slot;
	unsigned int idx;
	bool held;
};

/*
 * Map-for-access: translate [@iova, @iova + @len) for @dir and return the
 * memory as up to @max_spans spans (physically adjacent entries merged)
 * in @spans, their number in *@nr_spans. The spans stay valid - the pages
 * cannot be released - until stce_pe_dma_unmap(@guard), which must
 * follow soon on the same thread (it holds off stce_pe_tce_kill()).
 * Faults freeze the PE exactly as the copy functions do (-EIO).
 * -E2BIG: more spans than @max_spans (nothing mapped, PE not frozen).
 * -EINVAL: @len 0 or @max_spans 0. On any error the guard is released.
 */
STCE_API
int stce_pe_dma_map(struct stce_pe *pe, uint64_t iova, size_t len,
		    enum stce_dma_dir dir, struct stce_dma_span *spans,
		    unsigned int max_spans, unsigned int *nr_spans,
		    struct stce_dma_guard *guard);
STCE_API
void stce_pe_dma_unmap(struct stce_pe *pe, struct stce_dma_guard *guard);

/* ---- EEH ----------------------------------------------------------- */

/* Operations: the numbers of VFIO_EEH_PE_* in <linux/vfio.h>. */
enum stce_eeh_op {
	STCE_EEH_PE_DISABLE = 0,
	STCE_EEH_PE_ENABLE = 1,
	STCE_EEH_PE_UNFREEZE_IO = 2,
	STCE_EEH_PE_UNFREEZE_DMA = 3,
	STCE_EEH_PE_GET_STATE = 4,
	STCE_EEH_PE_RESET_DEACTIVATE = 5,
	STCE_EEH_PE_RESET_HOT = 6,
	STCE_EEH_PE_RESET_FUNDAMENTAL = 7,
	STCE_EEH_PE_CONFIGURE = 8,
	STCE_EEH_PE_INJECT_ERR = 9,
};

/* GET_STATE answers: VFIO_EEH_PE_STATE_* */
enum stce_eeh_state {
	STCE_EEH_PE_STATE_NORMAL = 0,
	STCE_EEH_PE_STATE_RESET = 1,	/* never on PowerNV: see docs/pe.md */
	STCE_EEH_PE_STATE_STOPPED = 2,	/* MMIO and DMA frozen */
	STCE_EEH_PE_STATE_STOPPED_DMA = 4,	/* DMA frozen, MMIO works */
	STCE_EEH_PE_STATE_UNAVAIL = 5,	/* DMA works, MMIO frozen */
};

/* INJECT_ERR arguments (struct vfio_eeh_pe_err; asm/eeh.h values). */
#define STCE_EEH_ERR_TYPE_32	0
#define STCE_EEH_ERR_TYPE_64	1
#define STCE_EEH_ERR_FUNC_MAX	19

/*
 * One EEH operation, as VFIO_EEH_PE_OP runs it on PowerNV:
 *  DISABLE: no-op, 0.  ENABLE: unfreezes a frozen PE, 0.
 *  UNFREEZE_IO / UNFREEZE_DMA: thaw MMIO / DMA only, 0 (also when not
 *    frozen).  GET_STATE: an enum stce_eeh_state value (>= 0).
 *  RESET_HOT / RESET_FUNDAMENTAL: freeze the PE and assert reset (MMIO
 *    reads all-ones, DMA refused), 0.  RESET_DEACTIVATE: deassert it,
 *    reset the devices (stce_pe_reset_count() moves) and unfreeze, 0.
 *  CONFIGURE: 0.  INJECT_ERR: use stce_pe_eeh_inject() (-EINVAL here).
 * Anything else: -EINVAL.
 */
STCE_API
int stce_pe_eeh_op(struct stce_pe *pe, unsigned int op);

/*
 * INJECT_ERR: -ERANGE for a type other than 32/64-bit, -EINVAL for a
 * function above STCE_EEH_ERR_FUNC_MAX; otherwise the PE freezes at once (reason
 * STCE_EEH_FAULT_INJECTED, iova = @addr), 0.
 */
STCE_API
int stce_pe_eeh_inject(struct stce_pe *pe, unsigned int type,
		       unsigned int func, uint64_t addr, uint64_t mask);

enum stce_eeh_fault_reason {
	STCE_EEH_FAULT_NONE = 0,
	STCE_EEH_FAULT_NO_WINDOW,	/* iova outside every window */
	STCE_EEH_FAULT_EMPTY,		/* the entry grants nothing */
	STCE_EEH_FAULT_PERM,		/* the entry lacks READ or WRITE */
	STCE_EEH_FAULT_INJECTED,	/* stce_pe_eeh_inject() */
	STCE_EEH_FAULT_MEMORY,		/* the pinned page behind a live entry
					 * could not be reached (lost: see
					 * docs/prereg.md) */
};

struct stce_eeh_fault {
	enum stce_eeh_fault_reason reason;	/* of the first fault */
	uint64_t iova;		/* first faulting bus address */
	enum stce_dma_dir dir;	/* 0 for an injected error */
	uint64_t count;		/* faults since the PE was created */
};

/*
 * The first fault since the last unfreeze of DMA (reason NONE when the PE
 * has not faulted since), plus the running count.
 */
STCE_API
void stce_pe_eeh_fault(const struct stce_pe *pe, struct stce_eeh_fault *f);

/* Quick checks for device models. */
STCE_API
bool stce_pe_mmio_frozen(const struct stce_pe *pe);
STCE_API
bool stce_pe_dma_frozen(const struct stce_pe *pe);
/* A RESET_HOT or _FUNDAMENTAL not deactivated yet: the kernel blocks the
 * config space of the PE's devices meanwhile (EEH_PE_CFG_BLOCKED). */
STCE_API
bool stce_pe_reset_asserted(const struct stce_pe *pe);

/* Incremented by each RESET_DEACTIVATE: devices compare it to reset
 * themselves. */
STCE_API
uint64_t stce_pe_reset_count(const struct stce_pe *pe);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_PE_H */
