/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: guest TCE hypercalls, accelerated (the in-kernel path of
 * KVM's book3s_64_vio.c) and the pSeries dynamic DMA window RTAS calls.
 *
 * A *guest* (struct stce_guest, one per virtual machine) holds:
 *
 *  - a memory map: guest-physical slots [gpa, gpa + size) -> user address
 *    ua (KVM's memslots), declared by the embedding hypervisor;
 *  - guest-visible TCE tables by LIOBN (KVM_CREATE_SPAPR_TCE_64: page
 *    shift, offset and size in pages), each holding the guest's view: the
 *    TCE values the guest put, what H_GET_TCE returns;
 *  - attachments of container windows to LIOBNs (KVM_DEV_VFIO_GROUP_SET_
 *    SPAPR_TCE): a TCE the guest puts into a LIOBN is translated
 *    guest-physical -> user address (memory map) -> pinned page
 *    (pre-registered memory, <spapr_tce/prereg.h>) and written into the
 *    hardware table of every window attached, with the same mapped counts
 *    and release rules as the container's MAP/UNMAP;
 *  - optionally, PHBs for the RTAS dynamic DMA window services.
 *
 * The hypercalls take no lock, never allocate and never pin: lookups (LIOBN,
 * memory slot, pre-registered region) are O(log n) searches of immutable
 * arrays published atomically and reclaimed after grace periods; TCEs are
 * exchanged in batches (stce_table_xchg_range with STCE_XCHG_NOALLOC);
 * mapped counts move once per region per batch. Any number of vCPU threads
 * may call them at once, on the same or different LIOBNs. When a hardware
 * table level is missing the fast path answers H_TOO_HARD (as KVM's real
 * mode does) and changes nothing; the caller's slow path repeats the call
 * with STCE_HCALL_MAY_ALLOC, which may allocate the level.
 *
 * Return values: hypercalls return PAPR H_* codes (below); RTAS calls
 * return (and store in rets[0]) RTAS status codes; everything else returns
 * 0 or a negative errno.
 *
 * Lifetime rules (the caller's): a container attached to a LIOBN must
 * outlive the attachment (detach it, remove the LIOBN or destroy the guest
 * first); the user memory behind the memory map must stay mapped while
 * hypercalls may read it (the TCE lists of H_PUT_TCE_INDIRECT).
 */
#ifndef SPAPR_TCE_HCALL_H
#define SPAPR_TCE_HCALL_H

#include <stdint.h>

#include <spapr_tce/export.h>
#include <spapr_tce/container.h>
#include <spapr_tce/pe.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PAPR hypercall return codes (asm/hvcall.h values). */
#define STCE_H_SUCCESS		0
#define STCE_H_HARDWARE		(-1)
#define STCE_H_PARAMETER	(-4)
#define STCE_H_TOO_HARD		9999	/* KVM: let the slow path do it */

/* TCEs in one H_PUT_TCE_INDIRECT list (one 4K page of 8-byte TCEs). */
#define STCE_HCALL_MAX_INDIRECT	512

/* Hardware tables (unique windows) one LIOBN may be attached to. */
#define STCE_HCALL_MAX_TABLES	4

/* Groups (bindings) one LIOBN may be attached through. */
#define STCE_HCALL_MAX_BINDINGS	16

enum stce_hcall_flags {
	/*
	 * The slow path ("virtual mode"): a hardware table level that does
	 * not exist yet may be allocated. Without it such a call answers
	 * H_TOO_HARD having changed nothing.
	 */
	STCE_HCALL_MAY_ALLOC = 1u << 0,
};

struct stce_guest;

STCE_API
int stce_guest_create(struct stce_guest **out);

/*
 * Remove every LIOBN (guest views freed, their charge returned) and the
 * memory map. Hardware windows stay with their containers, mappings
 * included (the container clears them when its window goes). No hypercall
 * may run meanwhile. NULL is a no-op.
 */
STCE_API
void stce_guest_destroy(struct stce_guest *g);

/* ---- Memory map ---------------------------------------------------- */

/*
 * Declare guest-physical [gpa, gpa + size) to be at user address @ua.
 * -EINVAL: size 0, gpa, size or ua not aligned to the host page
 * (stce_host_page_size()), a wrapping range, or an overlap with a slot.
 * -ENOMEM. Hypercalls see the new map at once (lock-free readers).
 */
STCE_API
int stce_guest_add_memory(struct stce_guest *g, uint64_t gpa, uint64_t size,
			  uint64_t ua);

/* Remove the slot declared at exactly (gpa, size). -ENOENT. Existing TCEs
 * keep their pages (they hold the pre-registered region, not the slot). */
STCE_API
int stce_guest_remove_memory(struct stce_guest *g, uint64_t gpa,
			     uint64_t size);

/* The user address guest-physical @gpa is at: -EFAULT outside every slot. */
STCE_API
int stce_guest_gpa_to_ua(struct stce_guest *g, uint64_t gpa, uint64_t *ua);

/* ---- Guest TCE tables (LIOBNs) ------------------------------------- */

/*
 * KVM_CREATE_SPAPR_TCE_64: a guest table for @liobn translating bus pages
 * [offset, offset + size) of (1 << page_shift) bytes. Its guest view
 * (size * 8 bytes, reserved address space filled on first write) is
 * charged to locked_vm as KVM charges it. -EINVAL: size 0, page_shift
 * outside 12..34, offset + size past 2^64 >> page_shift. -ENOMEM (limit
 * or memory). -EBUSY: the LIOBN exists.
 */
STCE_API
int stce_guest_create_tce_table(struct stce_guest *g, uint64_t liobn,
				unsigned int page_shift, uint64_t offset,
				uint64_t size);

/*
 * Remove a guest table: hypercalls stop seeing it (they answer
 * H_TOO_HARD for it), its attachments go, its view is freed and its
 * charge returned. Hardware windows keep their entries (the container's).
 * -ENOENT.
 */
STCE_API
int stce_guest_remove_tce_table(struct stce_guest *g, uint64_t liobn);

/*
 * KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE: attach the window of v2 container @c
 * that is compatible with @liobn (IOMMU page not larger than the guest's,
 * same bus start, window not smaller) to @liobn, through the group of
 * @pe, which must be attached to @c; @pe NULL attaches on behalf of the
 * container itself (the RTAS layer does). Several groups may attach the
 * same window; it is written once. -ENOENT: no such LIOBN. -EINVAL: v1
 * container, @pe not a group of @c, or no compatible window. -EBUSY: this
 * (container, group) is attached to @liobn already. -ENOSPC: more than
 * STCE_HCALL_MAX_TABLES windows or STCE_HCALL_MAX_BINDINGS groups.
 * -ENOMEM.
 */
STCE_API
int stce_guest_attach(struct stce_guest *g, uint64_t liobn,
		      struct stce_container *c, struct stce_pe *pe);

/*
 * KVM_DEV_VFIO_GROUP_DEL: detach the group of @pe (NULL: the container's
 * own binding) of @c from every LIOBN; a window no other group is
 * attached through stops being written. On return no hypercall uses it.
 * Entries already in the hardware table stay (the container's).
 * -ENOENT when nothing was attached through it.
 */
STCE_API
int stce_guest_detach(struct stce_guest *g, struct stce_container *c,
		      struct stce_pe *pe);

/* ---- Hypercalls ------------------------------------------------------ */

/*
 * The TCE format the guest uses: guest-physical page address | WRITE 0x2
 * | READ 0x1 (STCE_TCE_*). A TCE without permission bits clears the
 * entry; its value is kept in the guest view (KVM lets a guest "poison"
 * entries that way).
 *
 * Common answers, in KVM's order: H_TOO_HARD for an unknown LIOBN;
 * H_PARAMETER for an @ioba not aligned to the LIOBN's page or a range
 * outside the table.
 */

/*
 * H_PUT_TCE: one TCE at @ioba. H_TOO_HARD (nothing changed) when a
 * mapping TCE's address is not aligned to the guest page, lies outside
 * the memory map, or is not in pre-registered memory usable at the
 * attached windows' page size; or when a table level is missing (without
 * STCE_HCALL_MAY_ALLOC).
 */
STCE_API
long stce_h_put_tce(struct stce_guest *g, uint64_t liobn, uint64_t ioba,
		    uint64_t tce, unsigned int flags);

/*
 * H_PUT_TCE_INDIRECT: @npages (<= 512) TCEs read from the list at guest
 * physical @tce_list (4K aligned, big-endian 64-bit entries as PAPR
 * defines them). H_PARAMETER: npages > 512 or tce_list not 4K aligned
 * (before the range check, as KVM). H_TOO_HARD: the list is outside the
 * memory map. Then every TCE is validated before any is applied: a bad
 * one answers as H_PUT_TCE would (H_TOO_HARD), or H_PARAMETER for a TCE
 * without permission bits whose address is outside the memory map (KVM
 * answers that one mid-way; here nothing is applied). The list is read
 * once, so a guest changing it meanwhile cannot make validated and
 * applied values differ. A call of 512 TCEs of the windows' page size is
 * all or nothing; when a hardware page is smaller than the guest's,
 * sub-batches of 512 hardware entries are applied in order and a missing
 * level may stop the call part-way with H_TOO_HARD (what was applied is
 * consistent; the slow path's repeat completes it), as KVM does.
 */
STCE_API
long stce_h_put_tce_indirect(struct stce_guest *g, uint64_t liobn,
			     uint64_t ioba, uint64_t tce_list,
			     uint64_t npages, unsigned int flags);

/*
 * H_STUFF_TCE: set @npages entries from @ioba to @tce_value, which may
 * not grant access (H_PARAMETER, after the range check): clears the
 * hardware entries (pages released after the flush) and stores the value
 * in the guest view. No limit on @npages.
 */
STCE_API
long stce_h_stuff_tce(struct stce_guest *g, uint64_t liobn, uint64_t ioba,
		      uint64_t tce_value, uint64_t npages, unsigned int flags);

/* H_GET_TCE: the guest view at @ioba in *@tce. */
STCE_API
long stce_h_get_tce(struct stce_guest *g, uint64_t liobn, uint64_t ioba,
		    uint64_t *tce);

/* ---- RTAS dynamic DMA windows ---------------------------------------- */

/* RTAS status codes. */
#define STCE_RTAS_SUCCESS	0
#define STCE_RTAS_HW_ERROR	(-1)
#define STCE_RTAS_PARAM_ERROR	(-3)

/* ibm,query-pe-dma-window page size bits (LoPAPR). */
#define STCE_RTAS_DDW_PGSIZE_4K		0x001
#define STCE_RTAS_DDW_PGSIZE_64K	0x002
#define STCE_RTAS_DDW_PGSIZE_16M	0x004
#define STCE_RTAS_DDW_PGSIZE_32M	0x008
#define STCE_RTAS_DDW_PGSIZE_64M	0x010
#define STCE_RTAS_DDW_PGSIZE_128M	0x020
#define STCE_RTAS_DDW_PGSIZE_256M	0x040
#define STCE_RTAS_DDW_PGSIZE_16G	0x080
#define STCE_RTAS_DDW_PGSIZE_2M		0x100

/*
 * A guest PHB backed by v2 container @c (with at least one group): the
 * guest sees its windows as @liobn[0] and @liobn[1] (32-bit values, as
 * RTAS returns them). Adding it enables the default window: the
 * container's window 0 (created if still pending) as guest table
 * liobn[0] with the PE's 32-bit window geometry, attached.
 * -EINVAL: bad arguments, v1 container, LIOBNs equal or above 32 bits.
 * -EBUSY: @buid or a LIOBN in use. -ENXIO: no group. -ENOMEM.
 */
STCE_API
int stce_guest_add_phb(struct stce_guest *g, uint64_t buid,
		       struct stce_container *c, const uint64_t liobn[2]);

/*
 * The RTAS services, QEMU's argument layout (@args / @rets are the RTAS
 * argument and return cells). Each stores its status in rets[0] (when
 * nret > 0) and returns it.
 *
 * ibm,query-pe-dma-window   args: config_addr, buid_hi, buid_lo (3)
 *   rets: status, windows available, largest block (pages), page size
 *   mask (STCE_RTAS_DDW_PGSIZE_*), migration mask (0) (5)
 * ibm,create-pe-dma-window  args: config_addr, buid_hi, buid_lo,
 *   page_shift, window_shift (5)
 *   rets: status, liobn, bus address hi, lo (4). A new container window
 *   (TCE_CREATE) and the LIOBN enabled on it, attached.
 * ibm,remove-pe-dma-window  args: liobn (1); rets: status (1). The LIOBN
 *   goes, then the container window (TCE_REMOVE: entries cleared, pages
 *   released).
 * ibm,reset-pe-dma-window   args: config_addr, buid_hi, buid_lo (3);
 *   rets: status (1). Every window removed, the default one re-created.
 *
 * PARAM_ERROR: wrong nargs/nret, unknown BUID or LIOBN, a page size the
 * PE does not have, window_shift < page_shift, removing a LIOBN that is
 * not enabled. HW_ERROR: no free LIOBN or window, or the container
 * refused the window (size, levels, locked_vm).
 */
/*
 * The levels ibm,create-pe-dma-window gives a window of @window_size bytes
 * of (1 << @page_shift) pages on a PE with @caps: the fewest whose chunks
 * the platform allocates in one piece (16 MiB), so that small windows are
 * one level, fully allocated at creation, and hypercalls never meet a
 * missing leaf. For hypervisors that size locked_vm ahead of the call.
 */
STCE_API
unsigned int stce_rtas_window_levels(const struct stce_pe_caps *caps,
				     unsigned int page_shift,
				     uint64_t window_size);

STCE_API
int stce_rtas_query_pe_dma_window(struct stce_guest *g, uint32_t nargs,
				  const uint32_t *args, uint32_t nret,
				  uint32_t *rets);
STCE_API
int stce_rtas_create_pe_dma_window(struct stce_guest *g, uint32_t nargs,
				   const uint32_t *args, uint32_t nret,
				   uint32_t *rets);
STCE_API
int stce_rtas_remove_pe_dma_window(struct stce_guest *g, uint32_t nargs,
				   const uint32_t *args, uint32_t nret,
				   uint32_t *rets);
STCE_API
int stce_rtas_reset_pe_dma_window(struct stce_guest *g, uint32_t nargs,
				  const uint32_t *args, uint32_t nret,
				  uint32_t *rets);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_HCALL_H */
