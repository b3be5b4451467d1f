/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: pre-registered memory (the TCE-v2 model) and per-map pinning
 * (the TCE-v1 model). The process-level store of the kernel's mm_iommu_*.
 *
 * A region is a user range [ua, ua + size) that was faulted in for writing,
 * pinned (a reference held by src/hostmem: <spapr_tce/hostmem.h>; no
 * mlock, so the program's own mlock and MADV_DONTNEED are untouched) and
 * charged to the locked_vm account (size / host page pages). Its "host
 * physical address" range is one piece of hostmem hpas, normally the ua
 * range itself; the device reaches the pinned pages through them wherever
 * the program moves its mappings (docs/prereg.md).
 *
 * Every region has:
 *  - users: registrations holding it (the kernel's "used"). Registering the
 *    exact same range again returns the same region with one more user;
 *    each registration is dropped with one put/unregister.
 *  - mapped: live mappings (TCEs) pointing into it, counted by the owner of
 *    the TCE tables with stce_prereg_mapped_inc()/_dec() (_add()/_sub()
 *    for batches) and dropped for cleared TCEs by
 *    stce_prereg_release_tces(). Lock-free.
 *  - page_shift: the largest IOMMU page that may map it: the backing page
 *    (the emulated host page, or the hugetlbfs page where the memory is
 *    hugetlbfs), further limited by the alignment of ua and size, as the
 *    kernel computes it.
 *
 * Regions never overlap. A region can be *released*: its last user went
 * with stce_prereg_put_deferred() while mappings remained. It then stays
 * pinned, charged and findable by hpa (so the remaining mappings can be
 * cleared and counted down) and, as long as it has mappings, by user
 * address too (new maps work, as on the kernel, which keeps the region
 * registered); it is unpinned and un-charged by the mapped_dec() that
 * removes its last mapping (where the kernel leaks it). Registering its
 * exact range again revives it.
 *
 * Lookups (stce_prereg_lookup, stce_prereg_find_hpa) are lock-free,
 * allocation-free and O(log n) in range indexes that register/unregister
 * change one leaf of under a mutex (100,000 regions work; docs/prereg.md
 * has the costs and how readers are protected from reclamation).
 *
 * Address-space contract: lookups answer from the registered range, as
 * the kernel's do from its pins, whatever the program did to its mappings
 * since; translation gives the hpa, never a dereference. Registering and
 * unregistering need no file descriptor.
 *
 * fork: a child starts with no regions, no v1 pins and nothing charged
 * (the kernel's belong to the parent's mm); objects of the parent must not
 * be used in the child.
 *
 * Every function returns 0 or a negative errno unless documented otherwise.
 */
#ifndef SPAPR_TCE_PREREG_H
#define SPAPR_TCE_PREREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spapr_tce/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct stce_region;

/*
 * Register [ua, ua + size) and return its region in *@out with one user.
 *  -EINVAL: size 0, ua or size not aligned to the host page, the range
 *           wraps, or it overlaps a registered region without being
 *           exactly the same range.
 *  -ENOMEM: over RLIMIT_MEMLOCK (see account.h) or out of memory.
 *  -EFAULT: the first page cannot be pinned for writing (a hole, a
 *           read-only or PROT_NONE page).
 *  N > 0:   the kernel's answer when only the first N host pages could be
 *           pinned: nothing is registered or charged, no errno.
 * The exact same range again (the region is shared: another container of
 * the process) returns 0, the same region, and one more user; no second
 * charge. Detecting a second registration in one container (-EBUSY) is the
 * container's job: compare the returned handle with its own list.
 * On any error nothing is charged, pinned or recorded.
 */
STCE_API
int stce_prereg_register(uint64_t ua, uint64_t size, struct stce_region **out);

/*
 * Drop one user of @region. When it is the last user: -EBUSY (and nothing
 * changes) if the region still has mappings; otherwise the region is
 * unpinned, un-charged and freed.
 */
STCE_API
int stce_prereg_put(struct stce_region *region);

/*
 * Drop one user of @region; never fails. When it is the last user and
 * mappings remain, the region is *released* (see above): it is torn down
 * by the stce_prereg_mapped_dec() that removes its last mapping. This is
 * what VFIO's UNREGISTER of a mapped region (answered 0 by the kernel)
 * needs, without the kernel's leak.
 */
STCE_API
void stce_prereg_put_deferred(struct stce_region *region);

/*
 * C-API convenience: stce_prereg_put() on the region registered at exactly
 * [ua, ua + size). -ENOENT when no (unreleased) region has that range.
 */
STCE_API
int stce_prereg_unregister(uint64_t ua, uint64_t size);

/*
 * Find the region that holds all of [ua, ua + size) and count one mapping
 * in it (as stce_prereg_mapped_inc()), so that the returned pointer stays
 * valid; drop it with stce_prereg_mapped_dec(). -EINVAL when no region
 * holds the whole range (not registered, runs past a region's end, spans
 * two regions, size 0 or wraps) or the region is released or being torn
 * down: what the kernel's v2 MAP answers. Lock-free.
 */
STCE_API
int stce_prereg_lookup(uint64_t ua, uint64_t size, struct stce_region **out);

/*
 * Translate @ua inside @region (which the caller holds) for an IOMMU page
 * of (1 << @page_shift) bytes: *@hpa = the pinned page's host physical
 * address (hpa - ua is the same all over a region). -EINVAL
 * when [ua, ua + page) is not inside the region or @page_shift is larger
 * than the region's page_shift (v2 MAP answers -EINVAL; a v1 caller maps
 * the latter to -EPERM). No lock, no allocation.
 */
STCE_API
int stce_prereg_ua_to_hpa(const struct stce_region *region, uint64_t ua,
			  unsigned int page_shift, uint64_t *hpa);

/*
 * The region (live or released) whose pinned range holds @hpa, or NULL.
 * For clearing a TCE: the caller holds a mapping in the region it looks
 * for, which is what keeps the returned pointer valid. Lock-free.
 */
STCE_API
struct stce_region *stce_prereg_find_hpa(uint64_t hpa);

/*
 * Count one more mapping in @region, which the caller already holds (a
 * user or a mapping). -ENXIO when the region is being torn down. Lock-free.
 */
STCE_API
int stce_prereg_mapped_inc(struct stce_region *region);

/*
 * Count one mapping less. If this was the last mapping of a released
 * region, the region is unpinned, un-charged and freed here (the one case
 * where this takes the registration mutex and makes syscalls).
 */
STCE_API
void stce_prereg_mapped_dec(struct stce_region *region);

/*
 * Batched mapped counts: @n mappings more / less in one atomic operation
 * (a hypercall batch mapping 512 pages of one region). The caller must
 * already hold a mapping in @region, so it can neither be torn down nor
 * reach zero meanwhile; _sub() removing the last mappings of a released
 * region tears it down as stce_prereg_mapped_dec() does. @n 0 is a no-op.
 */
STCE_API
void stce_prereg_mapped_add(struct stce_region *region, uint64_t n);
STCE_API
void stce_prereg_mapped_sub(struct stce_region *region, uint64_t n);

/*
 * Drop the mapping each live TCE of @tces[0 .. @n) holds in the region
 * its address lies in: TCEs just taken out of a table, after the flush
 * that covers them (<spapr_tce/table.h> has the format). The one release
 * of v2 mappings, for MAP/UNMAP and the hypercalls alike: consecutive
 * TCEs of one region cost one lookup and one stce_prereg_mapped_sub(),
 * so a batch cleared from one region moves its counter once, not once a
 * TCE. Entries that are not live, and addresses in no region, are
 * skipped. Removing the last mappings of a released region tears it down
 * (as stce_prereg_mapped_dec()); otherwise lock-free. @n 0 is a no-op.
 */
STCE_API
void stce_prereg_release_tces(const uint64_t *tces, unsigned int n);
/* stce_prereg_release_tces() of one TCE (an UNMAP_DMA of one page). */
STCE_API
void stce_prereg_release_tce(uint64_t tce);

/* Read-only accessors (the counts are snapshots). */
STCE_API
uint64_t stce_region_ua(const struct stce_region *region);
STCE_API
uint64_t stce_region_size(const struct stce_region *region);
STCE_API
unsigned int stce_region_page_shift(const struct stce_region *region);
STCE_API
uint64_t stce_region_mapped(const struct stce_region *region);
STCE_API
unsigned long stce_region_users(const struct stce_region *region);
STCE_API
bool stce_region_released(const struct stce_region *region);

/* Regions pinned now, released ones included (the audit figure). */
STCE_API
size_t stce_prereg_count(void);

/*
 * True when every byte of [ua, ua + size) is mapped in the process now
 * (one msync(MS_ASYNC) syscall: no data is touched). A snapshot: the user
 * can still unmap right after.
 */
STCE_API
bool stce_prereg_range_mapped(uint64_t ua, uint64_t size);

/*
 * ---- TCE-v1: pin per map ------------------------------------------------
 *
 * The v1 container pins the memory of each MAP and unpins it per cleared
 * TCE. Pinning is a src/hostmem reference per emulated host page plus a
 * reference count per host page (one per IOMMU page that lies in it: a 64K
 * page mapped by sixteen 4K TCEs holds sixteen). Nothing is charged here:
 * v1 charges its whole window at ENABLE.
 */

/*
 * Pin [ua, ua + size) for IOMMU pages of (1 << page_shift) bytes and put
 * the hpa of @ua (the TCE address; contiguous over the range) in *@hpa
 * (may be NULL).
 *  -EINVAL: size 0, ua or size not aligned to the IOMMU page, wrap, or a
 *           page shift outside 12..30.
 *  -EFAULT: some page cannot be pinned (not mapped readable, and writable
 *           when @write).
 *  -EPERM:  the IOMMU page is larger than the page backing the memory.
 *  -ENOMEM: out of memory.
 * All or nothing.
 */
STCE_API
int stce_pin_range(uint64_t ua, uint64_t size, unsigned int page_shift,
		   bool write, uint64_t *hpa);

/*
 * Drop the references stce_pin_range() took for hpas [hpa, hpa + size)
 * (any sub-range of IOMMU pages, e.g. one cleared TCE). @dirty: the pages
 * were mapped writable; each IOMMU page counts one in
 * stce_pin_dirty_count(). A host page whose last reference goes is
 * unpinned. -EINVAL for bad arguments, -ENOENT when some page in the range
 * is not pinned (nothing is changed then).
 */
STCE_API
int stce_unpin_range(uint64_t hpa, uint64_t size, unsigned int page_shift,
		     bool dirty);

/* Host pages pinned by v1 now (the audit figure). */
STCE_API
uint64_t stce_pin_pages(void);

/* IOMMU pages unpinned dirty since the process started (monotonic). */
STCE_API
uint64_t stce_pin_dirty_count(void);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_PREREG_H */
