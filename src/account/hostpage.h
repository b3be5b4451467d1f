/* SPDX-License-Identifier: MIT */
/*
 * The emulated host page's holds, the library's interface for the layers
 * above account (not public API). Objects whose layout depends on the host
 * page (pre-registered regions, v1 pin records) hold it while they live, so
 * that stce_set_host_page_shift() cannot change it under them. A PE holds
 * the page its capabilities name (stce_host_page_hold_at): that is how a
 * topology's host_page becomes the process's.
 */
#ifndef STCE_ACCOUNT_HOSTPAGE_H
#define STCE_ACCOUNT_HOSTPAGE_H

/* Take one hold and return the host page shift it pins. */
unsigned int stce_host_page_hold(void);

/*
 * Take one hold on host page @shift, switching to it first when nothing
 * holds the page or is charged. -EINVAL: @shift is not 12 or 16, or is
 * below this machine's real page. -EBUSY: the page is another one and
 * something depends on it (a hold - a PE of another host page, a
 * registered region, a pinned page - or a charge).
 */
int stce_host_page_hold_at(unsigned int shift);

/* Drop one hold taken by stce_host_page_hold() or _hold_at(). */
void stce_host_page_unhold(void);

#endif /* STCE_ACCOUNT_HOSTPAGE_H */
