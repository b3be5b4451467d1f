/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: the process's locked_vm account and the emulated host page.
 *
 * The kernel charges memory that VFIO pins (pre-registered regions, TCE
 * tables, the v1 window at ENABLE) to mm->locked_vm, counted in system
 * pages, and refuses a charge that would take it past RLIMIT_MEMLOCK
 * unless the caller has CAP_IPC_LOCK. This module is that account for the
 * whole process: one counter, in emulated host pages.
 *
 * The emulated host page ("system page") is 64K by default, as POWER hosts
 * run; 4K can be selected while nothing depends on it (nothing charged,
 * nothing pinned). It is the unit of registration alignment, pinning and
 * of this account.
 *
 * Limit rule, as the kernel's account_locked_vm(): RLIMIT_MEMLOCK is read
 * with getrlimit() on every charge, converted to pages by rounding down
 * (bytes >> host page shift); a charge that takes the total above it fails
 * with -ENOMEM unless the calling thread's *effective* capability set holds
 * CAP_IPC_LOCK (read with capget(2)). An exempt charge is still counted.
 *
 * Thread-safe: a small mutex serialises charges (not a hot path); the
 * readers are atomic loads.
 */
#ifndef SPAPR_TCE_ACCOUNT_H
#define SPAPR_TCE_ACCOUNT_H

#include <stdint.h>

#include <spapr_tce/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* log2 of the emulated host page: 16 (64K, the default) or 12 (4K). */
STCE_API
unsigned int stce_host_page_shift(void);

static inline uint64_t stce_host_page_size(void)
{
	return 1ULL << stce_host_page_shift();
}

/*
 * Switch the emulated host page. @shift must be 12 or 16 and not smaller
 * than the real page of this machine (-EINVAL otherwise). -EBUSY while
 * anything is charged or anything depends on the page size (a registered
 * region, a v1-pinned page). Setting the current value is always 0.
 */
STCE_API
int stce_set_host_page_shift(unsigned int shift);

/*
 * Pages to charge for @bytes: rounded *up* to whole host pages. Tables are
 * charged as stce_account_bytes_to_pages(stce_table_size(...)); the table
 * formula always gives a multiple of the host page, so this equals the
 * kernel's "size >> PAGE_SHIFT" for every size a table can have.
 */
STCE_API
uint64_t stce_account_bytes_to_pages(uint64_t bytes);

/*
 * Add @npages to the account. -ENOMEM when the new total would exceed
 * RLIMIT_MEMLOCK (see above) or overflow; the account is then unchanged.
 * Charging 0 pages is 0.
 */
STCE_API
int stce_account_charge(uint64_t npages);

/*
 * Take @npages off the account. Every successful charge has exactly one
 * un-charge of the same amount; un-charging more than is charged is a
 * bug (asserted in debug builds, clamped to 0 otherwise).
 */
STCE_API
void stce_account_uncharge(uint64_t npages);

/* The current total in host pages (the audit figure, VmLck / host page). */
STCE_API
uint64_t stce_account_locked_pages(void);

/*
 * The limit a charge would be checked against now, in host pages:
 * UINT64_MAX when unlimited (RLIM_INFINITY) or when the caller has
 * CAP_IPC_LOCK.
 */
STCE_API
uint64_t stce_account_limit_pages(void);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_ACCOUNT_H */
