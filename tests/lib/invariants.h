/* SPDX-License-Identifier: MIT */
/*
 * The invariant checker the fuzzers, the fault-injection walk and the
 * stress test share. Read-only: it looks at containers, regions, pins and
 * the locked_vm account and says what does not add up.
 *
 * What it checks (inv_check):
 *  - every live TCE it finds lies in a range a MAP asked for: the latest
 *    successful MAP that covers its bus address wrote it, so its address
 *    and userspace view are that map's vaddr plus the offset, and its
 *    permission bits are exactly the map's direction (never more);
 *  - v2: every live TCE points into a pre-registered region (live or
 *    released) that holds the whole IOMMU page, and every region's mapped
 *    count is exactly the number of live TCEs pointing into it;
 *  - v1: the host pages pinned are exactly the host pages live v1 TCEs
 *    point into;
 *  - every region lies in one of the caller's buffers (so the regions
 *    found are all of them: stce_prereg_count() agrees);
 *  - locked_vm is exactly the tables' charges + ENABLE's + the regions'.
 * inv_check_teardown: nothing charged, registered or pinned is left.
 *
 * Map records are clipped to the window that held their iova when they
 * were made (inv_record_map does that), as a MAP never writes outside it.
 */
#ifndef STCE_TEST_INVARIANTS_H
#define STCE_TEST_INVARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spapr_tce/container.h>

#define INV_MAX_RECORDS	512

struct inv_record {
	uint64_t first, last;	/* bus addresses, inclusive, clipped */
	uint64_t iova;		/* as asked */
	uint64_t vaddr;
	unsigned int dir;	/* STCE_MAP_* */
	bool ok;		/* the MAP returned 0 */
};

struct inv_container {
	struct stce_container *c;
	struct inv_record rec[INV_MAX_RECORDS];
	unsigned int nr;
	/*
	 * Records were dropped (too many) or never kept: walk every window
	 * whole and skip the per-map checks.
	 */
	bool untracked;
};

struct inv_buffer {
	uint64_t addr, size;
};

/* Start tracking @c (no record yet). */
void inv_container_init(struct inv_container *ic, struct stce_container *c);

/*
 * Record a MAP that was just made on ic->c: [iova, iova + size) with
 * vaddr and dir, and what it returned. A record whose iova lies in no
 * window covers nothing.
 */
void inv_record_map(struct inv_container *ic, uint64_t vaddr, uint64_t iova,
		    uint64_t size, unsigned int dir, int ret);

/*
 * Check every invariant over @cs (every container alive in the process:
 * regions are global, so a container left out makes the counts disagree).
 * @max_walk bounds the entries read per container when it is untracked
 * (the checks that need the walk are skipped past it). 0 when everything
 * holds, else -1 with the first problem in @why.
 */
int inv_check(struct inv_container *const *cs, unsigned int n,
	      const struct inv_buffer *bufs, unsigned int nbufs,
	      uint64_t max_walk, char *why, size_t whylen);

/*
 * inv_check, with @other_charged more locked_vm pages expected (charged
 * by objects the checker does not know: a guest's TCE tables).
 */
int inv_check_charged(struct inv_container *const *cs, unsigned int n,
		      const struct inv_buffer *bufs, unsigned int nbufs,
		      uint64_t max_walk, uint64_t other_charged, char *why,
		      size_t whylen);

/* After teardown: locked_vm, regions and v1 pins are all 0. */
int inv_check_teardown(char *why, size_t whylen);

/* A fingerprint of every live TCE (bus address, TCE, view) of @c: equal
 * before and after a call that must not have changed the tables. */
uint64_t inv_tce_hash(struct stce_container *c, uint64_t max_walk);

#endif /* STCE_TEST_INVARIANTS_H */
