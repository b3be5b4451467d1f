// SPDX-License-Identifier: MIT
/*
 * Table geometry: how big a table is and how it is cut into levels. The
 * numbers must be the kernel's, because the owner charges locked_vm with
 * them before the table exists, and users compare those charges with what
 * a POWER host reports.
 */
#include <errno.h>

#include <spapr_tce/table.h>

#include "common/common.h"
#include "table/table_internal.h"

static bool host_page_shift_valid(unsigned int host_page_shift)
{
	return host_page_shift >= 12 && host_page_shift <= 30;
}

/* See table/table_internal.h. */
int stce_table_check_geometry(unsigned int page_shift, uint64_t window_size,
			      unsigned int levels, unsigned int host_page_shift)
{
	if (!stce_page_shift_supported(page_shift))
		return -EINVAL;
	if (!host_page_shift_valid(host_page_shift))
		return -EINVAL;
	if (levels == 0 || levels > STCE_TABLE_MAX_LEVELS)
		return -EINVAL;
	if (!stce_is_pow2(window_size) || stce_ilog2(window_size) < page_shift)
		return -EINVAL;
	return 0;
}

/* See <spapr_tce/table.h>. */
int stce_table_chunk_shift(unsigned int page_shift, uint64_t window_size,
			   unsigned int levels, unsigned int host_page_shift)
{
	unsigned int entries_shift, per_level;
	int ret;

	ret = stce_table_check_geometry(page_shift, window_size, levels,
					host_page_shift);
	if (ret)
		return ret;

	entries_shift = stce_ilog2(window_size) - page_shift;
	per_level = (entries_shift + levels - 1) / levels;
	/* A chunk is never smaller than a host page: it is what gets pinned. */
	return (int)stce_max64(per_level + 3, host_page_shift);
}

/* See <spapr_tce/table.h>: stce_table_size() for @host_page_shift. */
uint64_t stce_table_size_hp(unsigned int page_shift, uint64_t window_size,
			    unsigned int levels, unsigned int host_page_shift)
{
	uint64_t level_bytes, chunk_bytes, bytes = 0;
	unsigned int entries_shift;
	int chunk_shift;

	chunk_shift = stce_table_chunk_shift(page_shift, window_size, levels,
					     host_page_shift);
	if (chunk_shift < 0)
		return 0;

	entries_shift = stce_ilog2(window_size) - page_shift;
	chunk_bytes = 1ULL << chunk_shift;
	/* The leaves first, then each level of pointers above them. */
	level_bytes = stce_max64(4096, 1ULL << (entries_shift + 3));
	for (unsigned int level = 0; level < levels; level++) {
		bytes += stce_round_up(level_bytes, chunk_bytes);
		level_bytes = stce_max64(level_bytes / chunk_bytes * 8,
					 chunk_bytes);
	}
	/* Once for the hardware table, once for the userspace view. */
	return 2 * bytes;
}

/* See <spapr_tce/table.h>. */
uint64_t stce_table_size(unsigned int page_shift, uint64_t window_size,
			 unsigned int levels)
{
	return stce_table_size_hp(page_shift, window_size, levels,
				  STCE_HOST_PAGE_SHIFT_DEFAULT);
}
