/* SPDX-License-Identifier: MIT */
/* Helpers the PE, device and iommufd tests share. */
#ifndef STCE_PE_TEST_UTIL_H
#define STCE_PE_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/pe.h>
#include <spapr_tce/table.h>

/* A PE with the PHB4 defaults, owned by the platform. */
static inline struct stce_pe *tu_pe(unsigned int group)
{
	struct stce_pe_caps caps;
	struct stce_pe *pe = NULL;

	stce_pe_caps_default(&caps);
	if (stce_pe_create(&caps, group, &pe))
		abort();
	return pe;
}

/* Build a table for window @num of @pe (not programmed). */
static inline struct stce_table *tu_table(struct stce_pe *pe, unsigned int num,
					  unsigned int page_shift,
					  uint64_t size, unsigned int levels)
{
	struct stce_table_params p;
	struct stce_table *t = NULL;

	if (stce_pe_table_params(pe, num, page_shift, size, levels, &p) ||
	    stce_table_create(&p, &t))
		abort();
	return t;
}

/* Map @page at @iova in @t with @perm; returns the old TCE. */
static inline uint64_t tu_map(struct stce_table *t, uint64_t iova, void *page,
			      uint64_t perm)
{
	uint64_t index, tce = stce_tce_make((uint64_t)(uintptr_t)page, perm);

	if (stce_table_index(t, iova, &index) ||
	    stce_table_xchg(t, index, &tce, NULL, 0))
		abort();
	return tce;
}

static inline void *tu_pages(size_t page_size, size_t n)
{
	void *p = aligned_alloc(page_size, page_size * n);

	if (!p)
		abort();
	memset(p, 0, page_size * n);
	return p;
}

#endif /* STCE_PE_TEST_UTIL_H */
