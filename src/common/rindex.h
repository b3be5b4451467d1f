/* SPDX-License-Identifier: MIT */
/*
 * A range index: disjoint ranges [start, start + len) each with a value,
 * found by any address inside them. Lookups are lock-free and O(log n)
 * (two binary searches); updates are serialised by the caller's lock.
 *
 * Shape: a directory (sorted by first address) of leaves of at most
 * STCE_RINDEX_LEAF entries each. Both are immutable once published except
 * for an entry's value: an insert copies the one leaf it lands in (two if
 * it splits) and the directory, publishes the new directory with one
 * atomic store and frees the old pieces after a grace period of @grace.
 * The directory copy is the O(n / STCE_RINDEX_LEAF) part of an insert:
 * 25 KiB at 100,000 ranges, a few microseconds.
 *
 * A remove never allocates and never fails: it clears the value in place
 * (readers then miss the range) and the next insert near it drops the
 * entry for good. Ranges never overlap, tombstones included: an insert
 * drops the tombstones its range meets.
 *
 * With a NULL @grace (an index only ever read under the writer's lock),
 * old pieces are freed at once.
 */
#ifndef STCE_RINDEX_H
#define STCE_RINDEX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/grace.h"

#define STCE_RINDEX_LEAF	64

struct stce_rindex_dir;

struct stce_rindex {
	struct stce_rindex_dir *_Atomic dir;
	struct stce_grace *grace;	/* readers' grace period, or NULL */
	size_t live;			/* ranges with a value (writer side) */
};

/* An empty index whose readers are covered by @grace (may be NULL). */
void stce_rindex_init(struct stce_rindex *x, struct stce_grace *grace);

/* Free everything (no reader may remain). */
void stce_rindex_destroy(struct stce_rindex *x);

/*
 * The value of the range holding @addr, or NULL; *@start and *@len (may be
 * NULL) get the range. Lock-free: call inside a read-side section of the
 * index's grace (or under the writer's lock).
 */
void *stce_rindex_find(struct stce_rindex *x, uint64_t addr, uint64_t *start,
		       uint64_t *len);

/*
 * The live range with the lowest start among those meeting
 * [@start, @start + @len) (@len 0 means up to 2^64), or NULL. Same rules
 * as stce_rindex_find().
 */
void *stce_rindex_first(struct stce_rindex *x, uint64_t start, uint64_t len,
			uint64_t *s, uint64_t *l);

/*
 * Add [@start, @start + @len) with @val (not NULL). The caller makes sure
 * no live range meets it. -ENOMEM (nothing changed). Writer's lock held;
 * waits for a grace period of the index when it replaced pieces.
 */
int stce_rindex_insert(struct stce_rindex *x, uint64_t start, uint64_t len,
		       void *val);

/*
 * Drop the live range starting exactly at @start (no-op when none). Never
 * allocates. Readers may still see the old value until a grace period has
 * passed: the caller waits for one before it frees what the value points
 * to. When nothing is left, the index gives its memory back (after a grace
 * period).
 */
void stce_rindex_remove(struct stce_rindex *x, uint64_t start);

/*
 * Replace the value of the live range starting exactly at @start (one
 * atomic store; readers see the old or the new value). -ENOENT.
 */
int stce_rindex_set(struct stce_rindex *x, uint64_t start, void *val);

/*
 * Cut the live range starting at @start in two at @at (inside it): the
 * first part keeps its value, [@at, end) gets @val. Readers see the old
 * range or the two parts, never neither. -ENOENT, -ENOMEM (unchanged).
 */
int stce_rindex_split(struct stce_rindex *x, uint64_t start, uint64_t at,
		      void *val);

/*
 * Set the length of the live range starting at @start to @len (not 0; not
 * into the next range). Readers may see either length: safe when they
 * only look up addresses inside both. -ENOENT.
 */
int stce_rindex_shrink(struct stce_rindex *x, uint64_t start, uint64_t len);

/* Live ranges (writer side). */
static inline size_t stce_rindex_count(const struct stce_rindex *x)
{
	return x->live;
}

/*
 * fork child: forget every range without touching the pieces (they stay
 * reachable from @x's hidden list, never freed: the parent's threads may
 * have been changing them when the process was copied).
 */
void stce_rindex_abandon(struct stce_rindex *x);

#endif /* STCE_RINDEX_H */
