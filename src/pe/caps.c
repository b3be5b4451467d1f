// SPDX-License-Identifier: MIT
/*
 * PE capabilities: the PowerNV PHB4 defaults, and the check that a set
 * makes sense together. The check's words are the topology parser's
 * error messages (docs/topology.md), so each problem has one sentence.
 */
#include <errno.h>
#include <string.h>

#include <spapr_tce/pe.h>

#include "common/common.h"
#include "pe/pe_internal.h"

/* The PowerNV PHB4 values of pe.h's STCE_PE_DEFAULT_*, 64K host pages. */
void stce_pe_caps_default(struct stce_pe_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->pgsizes = STCE_PE_DEFAULT_PGSIZES;
	caps->max_windows = STCE_PE_DEFAULT_MAX_WINDOWS;
	caps->max_levels = STCE_PE_DEFAULT_MAX_LEVELS;
	caps->dma32_start = 0;
	caps->dma32_size = STCE_PE_DEFAULT_DMA32_SIZE;
	caps->dma32_page_shift = 12;
	caps->ddw_base = STCE_PE_DEFAULT_DDW_BASE;
	caps->host_page_shift = STCE_HOST_PAGE_SHIFT_DEFAULT;
	caps->refuse_16m = true;
}

/* See pe_internal.h: the fewest levels above one first (smaller chunks),
 * then one level, then more. */
unsigned int pe_buildable_levels(unsigned int page_shift, uint64_t size,
				 unsigned int host_page_shift)
{
	static const unsigned int order[] = { 2, 1, 3, 4, 5 };

	for (unsigned int i = 0; i < STCE_ARRAY_SIZE(order); i++) {
		int cs = stce_table_chunk_shift(page_shift, size, order[i],
						host_page_shift);

		if (cs >= 0 &&
		    (unsigned int)(cs - 3) * order[i] + page_shift < 55)
			return order[i];
	}
	return 0;
}

/* The first rule @c breaks, in words (a topology error message), or NULL. */
const char *stce_pe_caps_problem(const struct stce_pe_caps *c)
{
	if (!c->pgsizes || (c->pgsizes & ~STCE_PAGE_SHIFTS_MASK))
		return "pgsizes must be a non-empty set of 4K 64K 2M 16M 256M 1G";
	if (c->max_windows < 1 || c->max_windows > STCE_PE_MAX_WINDOWS)
		return "max_windows must be 1 or 2";
	if (c->max_levels < 1 || c->max_levels > STCE_TABLE_MAX_LEVELS)
		return "max_levels must be 1..5";
	if (c->host_page_shift != 12 && c->host_page_shift != 16)
		return "host page must be 4K or 64K";
	if (!stce_page_shift_supported(c->dma32_page_shift))
		return "dma32_page must be 4K 64K 2M 16M 256M or 1G";
	if (!stce_is_pow2(c->dma32_size) ||
	    c->dma32_size < (1ULL << c->dma32_page_shift))
		return "dma32_size must be a power of two of at least one dma32_page";
	if (!stce_is_aligned(c->dma32_start, 1ULL << c->dma32_page_shift) ||
	    !stce_range_fits(c->dma32_start, c->dma32_size))
		return "dma32_start must be aligned to dma32_page";
	if (!stce_is_aligned(c->ddw_base, 1ULL << stce_ilog2(c->pgsizes)))
		return "ddw_base must be aligned to the largest page size";
	/* The default window must end before the DDW base. */
	if (c->ddw_base < c->dma32_start ||
	    c->ddw_base - c->dma32_start < c->dma32_size)
		return "the dma32 window runs into ddw_base";
	if (!pe_buildable_levels(c->dma32_page_shift, c->dma32_size,
				 c->host_page_shift))
		return "no TCE table can hold the dma32 window";
	return NULL;
}

/* -EINVAL exactly when stce_pe_caps_problem() names a problem. */
int stce_pe_caps_check(const struct stce_pe_caps *c)
{
	return stce_pe_caps_problem(c) ? -EINVAL : 0;
}
