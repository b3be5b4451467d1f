// SPDX-License-Identifier: MIT
/*
 * A PE's life: create (its host page held, its platform window built and
 * on the bus, its DMA grace domain known to hostmem) and destroy, and the
 * getters of what never changes. The other concerns each have a file:
 * capabilities (caps.c), windows (window.c), ownership (owner.c), EEH
 * (eeh.c), and the DMA side with its grace periods (dma.c).
 */
#include <errno.h>

#include <spapr_tce/pe.h>

#include "account/hostpage.h"
#include "common/alloc.h"
#include "hostmem/hostmem_dma.h"
#include "pe/pe_internal.h"

/* Platform-owned, with the default window of @caps on the bus; the host
 * page held first and let go on any failure. */
int stce_pe_create(const struct stce_pe_caps *caps, unsigned int group,
		   struct stce_pe **out)
{
	struct stce_table_params p = { 0 };
	struct stce_pe *pe;
	int ret;

	if (stce_pe_caps_check(caps))
		return -EINVAL;
	/* The PE's host page is the process's for as long as the PE lives. */
	ret = stce_host_page_hold_at(caps->host_page_shift);
	if (ret)
		return ret;
	ret = -ENOMEM;
	pe = stce_zalloc(sizeof(*pe));
	if (!pe)
		goto unhold;
	pe->group = group;
	pe->caps = *caps;
	p.bus_offset = caps->dma32_start;
	p.window_size = caps->dma32_size;
	p.page_shift = caps->dma32_page_shift;
	p.levels = pe_buildable_levels(caps->dma32_page_shift, caps->dma32_size,
				       caps->host_page_shift);
	p.host_page_shift = caps->host_page_shift;
	ret = stce_table_create(&p, &pe->platform);
	if (ret) {
		stce_free(pe);
		goto unhold;
	}
	pe_window_fill(&pe->platform_win, pe->platform, true);
	stce_grace_init(&pe->grace);
	/* A move of pinned pages waits for this PE's DMAs (src/hostmem). */
	ret = stce_hostmem_dma_domain_add(&pe->grace);
	if (ret) {
		stce_table_destroy(pe->platform);
		stce_free(pe);
		goto unhold;
	}
	pthread_mutex_init(&pe->lock, NULL);
	pthread_mutex_init(&pe->fault_lock, NULL);
	atomic_store(&pe->win[0], &pe->platform_win);
	pe_assert(pe);
	*out = pe;
	return 0;
unhold:
	stce_host_page_unhold();
	return ret;
}

/* Every window off the bus first (DMAs waited out), the host page let go
 * last. NULL is a no-op. */
void stce_pe_destroy(struct stce_pe *pe)
{
	if (!pe)
		return;
	pthread_mutex_lock(&pe->lock);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
		pe_window_unpublish(pe, i);
	pthread_mutex_unlock(&pe->lock);
	stce_table_destroy(pe->platform);
	pthread_mutex_destroy(&pe->lock);
	stce_hostmem_dma_domain_del(&pe->grace);
	stce_grace_destroy(&pe->grace);
	pthread_mutex_destroy(&pe->fault_lock);
	stce_free(pe);
	stce_host_page_unhold();
}

/* Fixed at create: no lock. */
unsigned int stce_pe_group(const struct stce_pe *pe)
{
	return pe->group;
}

/* Fixed at create: no lock. */
void stce_pe_get_caps(const struct stce_pe *pe, struct stce_pe_caps *caps)
{
	*caps = pe->caps;
}
