/* SPDX-License-Identifier: MIT */
/*
 * Read-only audits of a container's tables, for the fuzzers, the
 * fault-injection walk and the stress test (tests/lib/invariants.c).
 * Marked "(tests)" in docs/architecture.md's layer table: only the
 * harness includes it, and audit.c is built into the test library only.
 * Nothing here changes state and nothing is on a hot path.
 */
#ifndef STCE_CONTAINER_AUDIT_H
#define STCE_CONTAINER_AUDIT_H

#include <stdint.h>

#include <spapr_tce/container.h>

struct container_audit_entry {
	unsigned int window;	/* slot */
	unsigned int page_shift;
	uint64_t iova;		/* bus address of the entry's page */
	uint64_t tce;		/* live */
	uint64_t ua;		/* the userspace view */
};

/* Return non-zero to stop the walk (that value is returned). */
typedef int (*container_audit_fn)(void *ctx,
				  const struct container_audit_entry *e);

/*
 * Call @fn for every live TCE of every window in bus addresses
 * [@first, @last], under the container's lock (windows cannot come or
 * go; MAP/UNMAP may still run). -E2BIG when more than @max_entries
 * entries (live or not) would have to be read.
 */
int container_audit_range(struct stce_container *c, uint64_t first,
			  uint64_t last, uint64_t max_entries,
			  container_audit_fn fn, void *ctx);

#endif /* STCE_CONTAINER_AUDIT_H */
