// SPDX-License-Identifier: MIT
#include <stdatomic.h>
#include <stdlib.h>

#include "common/alloc.h"

#ifdef STCE_TEST_HOOKS
struct fault_state {
	atomic_ulong armed_at;	/* 0: disarmed, else the call number that fails */
	atomic_ulong calls;
};

static struct fault_state fault_sites[STCE_FAULT_NR_SITES];

/* See common/alloc.h. */
void stce_fault_arm(enum stce_fault_site site, unsigned long nth)
{
	atomic_store(&fault_sites[site].calls, 0);
	atomic_store(&fault_sites[site].armed_at, nth);
}

/* See common/alloc.h. */
unsigned long stce_fault_calls(enum stce_fault_site site)
{
	return atomic_load(&fault_sites[site].calls);
}

/* See common/alloc.h. */
int stce_fault_should_fail(enum stce_fault_site site)
{
	struct fault_state *f = &fault_sites[site];
	unsigned long nth = atomic_load_explicit(&f->armed_at, memory_order_relaxed);
	unsigned long call = atomic_fetch_add_explicit(&f->calls, 1,
						       memory_order_relaxed) + 1;

	if (!nth || call != nth)
		return 0;
	/* One shot: a walk over N re-arms for every N. */
	atomic_store_explicit(&f->armed_at, 0, memory_order_relaxed);
	return 1;
}
#else
/* The shipped library has no switches: no site ever fails (meson.build
 * builds the armed version into the test library only). */
int stce_fault_should_fail(enum stce_fault_site site)
{
	return 0;
}
#endif

/* See common/alloc.h. */
void *stce_zalloc(size_t size)
{
	if (stce_fault_should_fail(STCE_FAULT_ALLOC))
		return NULL;
	return calloc(1, size);
}

/* Release what stce_zalloc() returned; NULL is a no-op. */
void stce_free(void *p)
{
	free(p);
}
