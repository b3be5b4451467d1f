/* SPDX-License-Identifier: MIT */
/*
 * Internal to spapr-tce: objects whose layout depends on the emulated host
 * page (pre-registered regions, v1 pin records) hold it while they live, so
 * that stce_set_host_page_shift() cannot change it under them.
 */
#ifndef STCE_ACCOUNT_INTERNAL_H
#define STCE_ACCOUNT_INTERNAL_H

/* Take one hold and return the host page shift it pins. */
unsigned int stce_host_page_hold(void);

/* Drop one hold taken by stce_host_page_hold(). */
void stce_host_page_unhold(void);

#endif /* STCE_ACCOUNT_INTERNAL_H */
