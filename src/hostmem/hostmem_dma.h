/* SPDX-License-Identifier: MIT */
/*
 * What the DMA layer (src/pe/dma.c) needs from src/hostmem beyond
 * <spapr_tce/hostmem.h>: the "anything moving?" word it checks once per
 * DMA, and the registry of DMA grace domains that a move waits out.
 */
#ifndef STCE_HOSTMEM_DMA_H
#define STCE_HOSTMEM_DMA_H

#include <stdatomic.h>
#include <stdbool.h>

#include "common/grace.h"

#define HM_STATE_MOVED		0x1u	/* some pinned pages are not at their hpa */
#define HM_STATE_MOVING		0x2u	/* a move is under way: DMA backs off */

extern _Atomic unsigned int stce_hostmem_state;

/*
 * Checked by a DMA inside its read-side section, before it resolves any
 * address: HM_STATE_MOVING means leave the section, wait with
 * stce_hostmem_wait_moves() and start again.
 */
static inline unsigned int stce_hostmem_dma_state(void)
{
	return atomic_load_explicit(&stce_hostmem_state, memory_order_seq_cst);
}

/* Wait (outside any DMA section) until no move is under way. */
void stce_hostmem_wait_moves(void);

/*
 * A grace domain whose read-side sections are DMAs: a move waits for a
 * grace period of each before it changes a mapping. -ENOMEM.
 */
int stce_hostmem_dma_domain_add(struct stce_grace *g);
void stce_hostmem_dma_domain_del(struct stce_grace *g);

#endif /* STCE_HOSTMEM_DMA_H */
