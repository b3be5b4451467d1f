/* SPDX-License-Identifier: MIT */
/*
 * Allocation and pinning go through these wrappers so that a test can make
 * the N-th call of one kind fail (fault injection) and check that every
 * caller unwinds to exactly the state it had before.
 */
#ifndef STCE_ALLOC_H
#define STCE_ALLOC_H

#include <stddef.h>

enum stce_fault_site {
	STCE_FAULT_ALLOC,	/* stce_zalloc() */
	STCE_FAULT_PIN,		/* mlock() of user memory */
	STCE_FAULT_NR_SITES,
};

/* Zeroed memory, or NULL. Release with stce_free(). */
void *stce_zalloc(size_t size);
void stce_free(void *p);

/*
 * Arm @site so that its @nth next call (1 = the very next one) fails.
 * 0 disarms. Returns nothing: the state is process-wide and meant for
 * single-threaded test set-up. Only in the test library (meson.build:
 * STCE_TEST_HOOKS); the shipped one never fails a site.
 */
void stce_fault_arm(enum stce_fault_site site, unsigned long nth);

/* How many calls @site has seen since the last arm (armed or not). */
unsigned long stce_fault_calls(enum stce_fault_site site);

/*
 * Called by each wrapped site: true when this call must fail. Cheap when
 * nothing is armed (one relaxed atomic load).
 */
int stce_fault_should_fail(enum stce_fault_site site);

#endif /* STCE_ALLOC_H */
