/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: host memory. What "pinned" means here and where a pinned
 * page is now.
 *
 * A pin is a reference the library holds on the pages of a user range (a
 * registered region, the pages of a v1 MAP), not residency: pinning faults
 * the range in for writing without changing a byte (MADV_POPULATE_WRITE)
 * and records it; nothing is mlock()ed, so the program's own mlock,
 * mlockall and MADV_DONTNEED behave as without registration.
 *
 * Every pinned range has a "host physical address" (hpa), assigned at pin
 * time: the user address itself, unless that address range already names
 * pinned pages that the program moved away (then a synthetic hpa at or
 * above STCE_HOSTMEM_SYNTHETIC_BASE, which no process address can be).
 * TCEs hold hpas. The module keeps, for the rare pages that moved, where
 * they are now; the DMA path resolves an hpa with one global "anything
 * moved?" check and copies fault-safely.
 *
 * The pages stay the pinned ones, whatever the program does, as long as
 * the calls that change mappings go through the hooks below (the preload
 * library interposes munmap, mremap, mmap/mmap64 with MAP_FIXED, madvise,
 * shmdt and syscall() for them; an emulator using the C API calls the
 * hooks from its own wrappers):
 *  - munmap, MAP_FIXED over, shmdt: the pinned pages are moved aside
 *    (mremap into a library-owned area, MADV_DONTFORK) instead of being
 *    dropped; the device keeps reaching them;
 *  - mremap: the device reaches the same pages at their new address;
 *  - MADV_DONTNEED (private mappings): the pinned pages are moved aside
 *    with MREMAP_DONTUNMAP, so the program's range reads zeros (or the
 *    file) and the device keeps the old pages, as on the kernel;
 *    MADV_FREE skips pinned pages (their contents stay);
 *  - MADV_REMOVE (hole punch): the pages are lost: DMA to them freezes the
 *    PE, as an IOMMU fault.
 * What the hooks cannot see (see docs/prereg.md) makes DMA fail as an IOMMU
 * fault, never crash and never write into another mapping the library knows.
 *
 * Every function returns 0 or a negative errno unless documented otherwise.
 */
#ifndef SPAPR_TCE_HOSTMEM_H
#define SPAPR_TCE_HOSTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Synthetic hpas start here (above every process address). */
#define STCE_HOSTMEM_SYNTHETIC_BASE	(1ULL << 63)

/*
 * Pin [ua, ua + size) (aligned to the real page) for writing (@write) or
 * reading, and return in *@hpa the host physical address of @ua (the
 * range's hpas are contiguous). -EINVAL: bad arguments. -EFAULT: some page
 * could not be faulted in (a hole, no permission): *@good then holds the
 * bytes from @ua that could (@good may be NULL). -ENOMEM. Nothing is
 * pinned on error.
 */
int stce_hostmem_pin(uint64_t ua, uint64_t size, bool write, uint64_t *hpa,
		     uint64_t *good);

/* The two halves of stce_hostmem_pin(), for callers that pin in pieces. */
int stce_hostmem_populate(uint64_t ua, uint64_t size, bool write,
			  uint64_t *good);

/*
 * Take a reference on [ua, ua + size) without faulting anything in, in
 * pieces of @granule bytes (each unpinned on its own later; @granule
 * divides @size; 0 means one piece). The hpas are contiguous: *@hpa is
 * the first. -EINVAL, -ENOMEM.
 */
int stce_hostmem_ref(uint64_t ua, uint64_t size, uint64_t granule,
		     uint64_t *hpa);

/*
 * Drop one reference on [hpa, hpa + size): whole pieces as they were
 * referenced.
 * Pages whose last reference goes are forgotten; those that had been moved
 * aside are unmapped.
 */
void stce_hostmem_unpin(uint64_t hpa, uint64_t size);

/*
 * What backs [ua, ua + size) now: -EFAULT when part of it is not mapped
 * readable (and writable with @write); otherwise *@page_shift gets the
 * smallest page backing it (a hugetlbfs mapping's page, else
 * @base_shift). No descriptor per call: PROCMAP_QUERY (Linux 6.11+) on one
 * /proc/self/maps descriptor, opened once, else parsing that file.
 */
int stce_hostmem_backing(uint64_t ua, uint64_t size, bool write,
			 unsigned int base_shift, unsigned int *page_shift);

/* ---- the hooks ------------------------------------------------------ */

/*
 * Each does what the system call does, keeping pinned pages alive the
 * kernel's way (see above), and answers as it: 0 or a negative errno.
 * Safe to call for any memory; one atomic load when nothing is pinned.
 * Not from a signal handler, and not between stce_pe_dma_map() and
 * stce_pe_dma_unmap() on the same thread (a move waits for the DMAs in
 * flight).
 */
int stce_hostmem_munmap(void *addr, size_t len);
int stce_hostmem_mremap(void *old_addr, size_t old_size, size_t new_size,
			int flags, void *new_addr, void **out);
int stce_hostmem_mmap(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off, void **out);
int stce_hostmem_madvise(void *addr, size_t len, int advice);
int stce_hostmem_shmdt(const void *addr);

/*
 * True on the thread that runs a hook's own system calls: an interposer
 * of the libc names passes those straight through.
 */
bool stce_hostmem_in_hook(void);

/* ---- the DMA side --------------------------------------------------- */

/*
 * Copy @n bytes to (@to_mem) or from the pinned memory at @hpa, as a
 * device would. 0, or -EFAULT when a byte could not be reached (the pages
 * were lost, or are not mapped): the caller turns that into an IOMMU
 * fault. A page the program protected (mprotect) is reached the way the
 * kernel's FOLL_FORCE does, through /proc/self/mem. No lock, no system
 * call and no allocation unless something faults or moved.
 */
int stce_hostmem_copy(uint64_t hpa, void *buf, size_t n, bool to_mem);

/*
 * The process address of [hpa, hpa + n) now, as far as it is contiguous:
 * *@addr and the bytes that follow there in *@run. -EFAULT: lost.
 */
int stce_hostmem_resolve(uint64_t hpa, size_t n, void **addr, size_t *run);

/* ---- audit ---------------------------------------------------------- */

/* Bytes pinned now (each byte once, however many references). */
uint64_t stce_hostmem_pinned_bytes(void);

/* Bytes of pinned pages living in the library's aside area now, per hpa
 * (pages that two hpas name count twice). */
uint64_t stce_hostmem_aside_bytes(void);

/* Pinned ranges whose pages were lost since the process started. */
uint64_t stce_hostmem_lost_count(void);

/* Moves of pinned pages (aside, or following an mremap) so far. */
uint64_t stce_hostmem_move_count(void);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_HOSTMEM_H */
