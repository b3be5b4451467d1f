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
#include <stddef.h>
#include <stdint.h>

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

/*
 * The DMA's copies, with no bounce buffer on the common path (the rules
 * of stce_hostmem_copy in <spapr_tce/hostmem.h>), called inside the DMA's
 * read-side section: stce_hostmem_copy itself; a device's own move of @n
 * bytes from host physical @src to @dst (they may overlap); its fill of
 * @n bytes of @c at @hpa. 0, or -EFAULT when memory cannot be reached:
 * *@done says how many bytes from the start were moved before the first
 * that failed (a fault's page), *@src_fault whether it was the source's.
 */
int stce_hostmem_copy_n(uint64_t hpa, void *buf, size_t n, bool to_mem,
			size_t *done);
int stce_hostmem_move(uint64_t dst, uint64_t src, size_t n, size_t *done,
		      bool *src_fault);
int stce_hostmem_fill(uint64_t hpa, int c, size_t n, size_t *done);

/* Wait (outside any DMA section) until no move is under way. */
void stce_hostmem_wait_moves(void);

/*
 * A grace domain whose read-side sections are DMAs: a move waits for a
 * grace period of each before it changes a mapping. -ENOMEM.
 */
int stce_hostmem_dma_domain_add(struct stce_grace *g);
void stce_hostmem_dma_domain_del(struct stce_grace *g);

#endif /* STCE_HOSTMEM_DMA_H */
