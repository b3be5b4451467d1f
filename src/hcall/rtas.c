// SPDX-License-Identifier: MIT
/*
 * The pSeries dynamic DMA window RTAS services, on a container:
 * ibm,query-pe-dma-window, ibm,create-pe-dma-window,
 * ibm,remove-pe-dma-window, ibm,reset-pe-dma-window.
 *
 * A guest PHB has two LIOBNs, one a window. A window is "enabled" when
 * its LIOBN exists in the guest: creating one is TCE_CREATE on the
 * container plus the guest table plus the attachment; removing one is
 * the reverse (the guest table first, so no hypercall writes a window
 * being removed). The argument and return layouts are QEMU's. All of it
 * runs under the guest's lock: RTAS calls are rare and may sleep.
 */
#include <errno.h>

#include <spapr_tce/container.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/table.h>

#include "common/common.h"
#include "hcall/hcall_internal.h"

/* The largest window the query reports, in pages (QEMU's answer). */
#define RTAS_LARGEST_BLOCK	0x80000000u

/* The largest table chunk we want: the kernel's largest allocation. */
#define RTAS_MAX_CHUNK_SHIFT	24

static struct hc_phb *phb_by_buid(struct stce_guest *g, uint64_t buid)
{
	for (unsigned int i = 0; i < g->nr_phbs; i++)
		if (g->phbs[i].buid == buid)
			return &g->phbs[i];
	return NULL;
}

static struct hc_phb *phb_by_liobn(struct stce_guest *g, uint64_t liobn,
				   unsigned int *win)
{
	for (unsigned int i = 0; i < g->nr_phbs; i++)
		for (unsigned int w = 0; w < 2; w++)
			if (g->phbs[i].liobn[w] == liobn) {
				*win = w;
				return &g->phbs[i];
			}
	return NULL;
}

static bool liobn_enabled(struct stce_guest *g, uint64_t liobn)
{
	return hc_find_liobn_locked(g, liobn) != NULL;
}

static unsigned int phb_active(struct stce_guest *g, const struct hc_phb *phb)
{
	return liobn_enabled(g, phb->liobn[0]) + liobn_enabled(g, phb->liobn[1]);
}

static uint64_t rtas_buid(const uint32_t *args)
{
	return ((uint64_t)args[1] << 32) | args[2];
}

static int rtas_status(uint32_t nret, uint32_t *rets, int status)
{
	if (nret)
		rets[0] = (uint32_t)status;
	return status;
}

/* The page sizes of @pgsizes (a mask of 1 << shift) in LoPAPR bits. */
static uint32_t ddw_pgmask(uint64_t pgsizes)
{
	static const struct { unsigned int shift; uint32_t bit; } map[] = {
		{ 12, STCE_RTAS_DDW_PGSIZE_4K },
		{ 16, STCE_RTAS_DDW_PGSIZE_64K },
		{ 21, STCE_RTAS_DDW_PGSIZE_2M },
		{ 24, STCE_RTAS_DDW_PGSIZE_16M },
		{ 25, STCE_RTAS_DDW_PGSIZE_32M },
		{ 26, STCE_RTAS_DDW_PGSIZE_64M },
		{ 27, STCE_RTAS_DDW_PGSIZE_128M },
		{ 28, STCE_RTAS_DDW_PGSIZE_256M },
		{ 34, STCE_RTAS_DDW_PGSIZE_16G },
	};
	uint32_t mask = 0;

	for (unsigned int i = 0; i < STCE_ARRAY_SIZE(map); i++)
		if (pgsizes & (1ULL << map[i].shift))
			mask |= map[i].bit;
	return mask;
}

/* See <spapr_tce/hcall.h>. */
unsigned int stce_rtas_window_levels(const struct stce_pe_caps *caps,
				     unsigned int page_shift, uint64_t size)
{
	for (unsigned int levels = 1; levels <= caps->max_levels; levels++) {
		int cs = stce_table_chunk_shift(page_shift, size, levels,
						caps->host_page_shift);

		if (cs >= 0 && cs <= RTAS_MAX_CHUNK_SHIFT)
			return levels;
	}
	return caps->max_levels;
}

/*
 * Enable @liobn on a new container window: TCE_CREATE, the guest table,
 * the attachment; all or nothing. *@start gets the bus address.
 */
static int enable_window(struct stce_guest *g, struct hc_phb *phb,
			 uint64_t liobn, unsigned int page_shift,
			 uint64_t size, unsigned int levels, uint64_t *start)
{
	int ret;

	stce_assert_held(&g->lock);
	ret = stce_container_create_window(phb->c, page_shift, size, levels,
					   start);
	if (ret)
		return ret;
	ret = hc_create_table_locked(g, liobn, page_shift, *start >> page_shift,
				     size >> page_shift);
	if (ret)
		goto remove_window;
	ret = hc_attach_locked(g, liobn, phb->c, NULL);
	if (ret)
		goto remove_table;
	return 0;

remove_table:
	hc_remove_table_locked(g, liobn);
remove_window:
	stce_container_remove_window(phb->c, *start);
	return ret;
}

/* The guest table goes first, then the container window it was on. */
static int disable_window(struct stce_guest *g, struct hc_phb *phb,
			  uint64_t liobn)
{
	struct hc_table *t = hc_find_liobn_locked(g, liobn);
	uint64_t start;
	int ret;

	stce_assert_held(&g->lock);
	if (!t)
		return -ENOENT;
	start = t->offset << t->page_shift;
	ret = hc_remove_table_locked(g, liobn);
	if (ret)
		return ret;
	return stce_container_remove_window(phb->c, start);
}

/* See <spapr_tce/hcall.h>. */
int stce_guest_add_phb(struct stce_guest *g, uint64_t buid,
		       struct stce_container *c, const uint64_t liobn[2])
{
	struct stce_pe_caps caps;
	struct hc_phb *phb;
	int ret;

	if (!c || liobn[0] == liobn[1] || liobn[0] > UINT32_MAX ||
	    liobn[1] > UINT32_MAX || stce_container_type(c) != STCE_IOMMU_V2)
		return -EINVAL;
	ret = stce_container_caps(c, &caps);
	if (ret)
		return ret;
	pthread_mutex_lock(&g->lock);
	ret = -EBUSY;
	if (phb_by_buid(g, buid) || liobn_enabled(g, liobn[0]) ||
	    liobn_enabled(g, liobn[1]))
		goto unlock;
	for (unsigned int i = 0; i < g->nr_phbs; i++)
		for (unsigned int w = 0; w < 2; w++)
			if (g->phbs[i].liobn[w] == liobn[0] ||
			    g->phbs[i].liobn[w] == liobn[1])
				goto unlock;
	ret = -ENOSPC;
	if (g->nr_phbs == HC_MAX_PHBS)
		goto unlock;
	ret = hc_create_table_locked(g, liobn[0], caps.dma32_page_shift,
				     caps.dma32_start >> caps.dma32_page_shift,
				     caps.dma32_size >> caps.dma32_page_shift);
	if (ret)
		goto unlock;
	/* Attaching creates the container's pending default window. */
	ret = hc_attach_locked(g, liobn[0], c, NULL);
	if (ret) {
		hc_remove_table_locked(g, liobn[0]);
		goto unlock;
	}
	phb = &g->phbs[g->nr_phbs++];
	phb->buid = buid;
	phb->c = c;
	phb->liobn[0] = liobn[0];
	phb->liobn[1] = liobn[1];
unlock:
	pthread_mutex_unlock(&g->lock);
	return ret;
}

/* See <spapr_tce/hcall.h>. */
int stce_rtas_query_pe_dma_window(struct stce_guest *g, uint32_t nargs,
				  const uint32_t *args, uint32_t nret,
				  uint32_t *rets)
{
	struct stce_pe_caps caps;
	struct hc_phb *phb;
	unsigned int active;

	if (nargs != 3 || nret != 5)
		return rtas_status(nret, rets, STCE_RTAS_PARAM_ERROR);
	pthread_mutex_lock(&g->lock);
	phb = phb_by_buid(g, rtas_buid(args));
	if (!phb || stce_container_caps(phb->c, &caps)) {
		pthread_mutex_unlock(&g->lock);
		return rtas_status(nret, rets, STCE_RTAS_PARAM_ERROR);
	}
	active = phb_active(g, phb);
	pthread_mutex_unlock(&g->lock);
	rets[1] = caps.max_windows > active ? caps.max_windows - active : 0;
	rets[2] = RTAS_LARGEST_BLOCK;
	rets[3] = ddw_pgmask(caps.pgsizes);
	rets[4] = 0;	/* DMA migration: not supported */
	return rtas_status(nret, rets, STCE_RTAS_SUCCESS);
}

/* See <spapr_tce/hcall.h>. */
int stce_rtas_create_pe_dma_window(struct stce_guest *g, uint32_t nargs,
				   const uint32_t *args, uint32_t nret,
				   uint32_t *rets)
{
	unsigned int page_shift, window_shift, levels;
	struct stce_pe_caps caps;
	struct hc_phb *phb;
	uint64_t liobn = 0, start;
	int status = STCE_RTAS_PARAM_ERROR;

	if (nargs != 5 || nret != 4)
		return rtas_status(nret, rets, status);
	pthread_mutex_lock(&g->lock);
	phb = phb_by_buid(g, rtas_buid(args));
	if (!phb || stce_container_caps(phb->c, &caps))
		goto unlock;
	page_shift = args[3];
	window_shift = args[4];
	if (page_shift >= 64 || window_shift >= 64 ||
	    !(caps.pgsizes & (1ULL << page_shift)) || window_shift < page_shift)
		goto unlock;
	status = STCE_RTAS_HW_ERROR;
	if (phb_active(g, phb) >= caps.max_windows)
		goto unlock;
	if (!liobn_enabled(g, phb->liobn[0]))
		liobn = phb->liobn[0];
	else if (!liobn_enabled(g, phb->liobn[1]))
		liobn = phb->liobn[1];
	else
		goto unlock;
	levels = stce_rtas_window_levels(&caps, page_shift, 1ULL << window_shift);
	if (enable_window(g, phb, liobn, page_shift, 1ULL << window_shift,
			  levels, &start))
		goto unlock;
	rets[1] = (uint32_t)liobn;
	rets[2] = (uint32_t)(start >> 32);
	rets[3] = (uint32_t)start;
	status = STCE_RTAS_SUCCESS;
unlock:
	pthread_mutex_unlock(&g->lock);
	return rtas_status(nret, rets, status);
}

/* See <spapr_tce/hcall.h>. */
int stce_rtas_remove_pe_dma_window(struct stce_guest *g, uint32_t nargs,
				   const uint32_t *args, uint32_t nret,
				   uint32_t *rets)
{
	int status = STCE_RTAS_PARAM_ERROR;
	struct hc_phb *phb;
	unsigned int win;

	if (nargs != 1 || nret != 1)
		return rtas_status(nret, rets, status);
	pthread_mutex_lock(&g->lock);
	phb = phb_by_liobn(g, args[0], &win);
	if (!phb || !liobn_enabled(g, args[0]))
		goto unlock;
	status = disable_window(g, phb, args[0]) ? STCE_RTAS_HW_ERROR :
						   STCE_RTAS_SUCCESS;
unlock:
	pthread_mutex_unlock(&g->lock);
	return rtas_status(nret, rets, status);
}

/* See <spapr_tce/hcall.h>. */
int stce_rtas_reset_pe_dma_window(struct stce_guest *g, uint32_t nargs,
				  const uint32_t *args, uint32_t nret,
				  uint32_t *rets)
{
	int status = STCE_RTAS_PARAM_ERROR;
	struct stce_pe_caps caps;
	struct hc_phb *phb;
	uint64_t start;

	if (nargs != 3 || nret != 1)
		return rtas_status(nret, rets, status);
	pthread_mutex_lock(&g->lock);
	phb = phb_by_buid(g, rtas_buid(args));
	if (!phb || stce_container_caps(phb->c, &caps))
		goto unlock;
	status = STCE_RTAS_HW_ERROR;
	for (unsigned int w = 0; w < 2; w++)
		if (liobn_enabled(g, phb->liobn[w]) &&
		    disable_window(g, phb, phb->liobn[w]))
			goto unlock;
	/* The default window again: the PE's 32-bit geometry, one level. */
	if (enable_window(g, phb, phb->liobn[0], caps.dma32_page_shift,
			  caps.dma32_size, 1, &start))
		goto unlock;
	status = STCE_RTAS_SUCCESS;
unlock:
	pthread_mutex_unlock(&g->lock);
	return rtas_status(nret, rets, status);
}
