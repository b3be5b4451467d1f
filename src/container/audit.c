// SPDX-License-Identifier: MIT
/*
 * Read-only audits of a container's tables (container_audit.h), in the
 * test library only.
 */
#include <errno.h>

#include <spapr_tce/table.h>

#include "common/common.h"
#include "container/container_audit.h"
#include "container/container_internal.h"

/* Walk the live entries of @t that lie in [first, last] (bus addresses). */
static int audit_table(struct stce_table *t, unsigned int num, uint64_t first,
		       uint64_t last, uint64_t *budget,
		       container_audit_fn fn, void *ctx)
{
	uint64_t start = stce_table_bus_offset(t);
	uint64_t end = start + (stce_table_window_size(t) - 1);
	unsigned int shift = stce_table_page_shift(t);
	uint64_t from, to;

	if (last < start || first > end)
		return 0;
	from = (stce_max64(first, start) - start) >> shift;
	to = ((last < end ? last : end) - start) >> shift;
	for (uint64_t i = from; i <= to; i++) {
		struct container_audit_entry e;
		int ret;

		if (!*budget)
			return -E2BIG;
		--*budget;
		e.tce = stce_table_get(t, i);
		if (!stce_tce_live(e.tce))
			continue;
		e.window = num;
		e.page_shift = shift;
		e.iova = start + (i << shift);
		e.ua = stce_table_get_ua(t, i);
		ret = fn(ctx, &e);
		if (ret)
			return ret;
	}
	return 0;
}

/* See container_audit.h. */
int container_audit_range(struct stce_container *c, uint64_t first,
			  uint64_t last, uint64_t max_entries,
			  container_audit_fn fn, void *ctx)
{
	uint64_t budget = max_entries;
	int ret = 0;

	if (first > last)
		return 0;
	/* The lock keeps windows from being created or removed meanwhile. */
	pthread_mutex_lock(&c->lock);
	for (unsigned int num = 0; num < STCE_PE_MAX_WINDOWS && !ret; num++) {
		struct stce_table *t = atomic_load(&c->tables[num]);

		if (t)
			ret = audit_table(t, num, first, last, &budget, fn, ctx);
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}
