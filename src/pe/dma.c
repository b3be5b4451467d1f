// SPDX-License-Identifier: MIT
/*
 * Device DMA through a PE: translation, permission checks, EEH freezes,
 * and the grace periods that keep a cleared TCE from reaching a released
 * page.
 *
 * Every DMA runs inside a read-side section of the PE's grace period
 * (src/common/grace.h): it loads windows and TCEs and copies inside it.
 * stce_pe_tce_kill() and unsetting a window wait out a grace period, so
 * once they return no DMA can still use a TCE cleared before the call,
 * and every copy of the DMAs that did happens before the caller releases
 * the pages.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>

#include <spapr_tce/pe.h>

#include "common/common.h"
#include "pe/pe_internal.h"

static inline void read_lock(struct stce_pe *pe, struct stce_dma_guard *g)
{
	struct stce_grace_guard gg;

	stce_grace_read_lock(&pe->grace, &gg);
	g->slot = gg.slot;
	g->idx = gg.idx;
	g->held = gg.held;
}

static inline void read_unlock(struct stce_pe *pe, struct stce_dma_guard *g)
{
	struct stce_grace_guard gg = { g->slot, g->idx, g->held };

	stce_grace_read_unlock(&pe->grace, &gg);
	g->held = false;
}

void pe_synchronize(struct stce_pe *pe)
{
	stce_grace_synchronize(&pe->grace);
}

void stce_pe_tce_kill(struct stce_pe *pe)
{
	pe_synchronize(pe);
}

uint64_t stce_pe_kill_count(const struct stce_pe *pe)
{
	return stce_grace_periods(&pe->grace);
}

void pe_freeze(struct stce_pe *pe, enum stce_eeh_fault_reason reason,
	       uint64_t iova, enum stce_dma_dir dir)
{
	atomic_fetch_or(&pe->eeh, PE_EEH_DMA_FROZEN | PE_EEH_MMIO_FROZEN);
	atomic_fetch_add(&pe->fault_count, 1);
	pthread_mutex_lock(&pe->fault_lock);
	if (pe->fault_reason == STCE_EEH_FAULT_NONE) {
		pe->fault_reason = reason;
		pe->fault_iova = iova;
		pe->fault_dir = dir;
	}
	pthread_mutex_unlock(&pe->fault_lock);
}

/* The windows of one DMA, loaded once inside the read-side section. */
struct dma_ctx {
	struct pe_window *win[STCE_PE_MAX_WINDOWS];
};

static inline void ctx_load(struct stce_pe *pe, struct dma_ctx *c)
{
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
		c->win[i] = atomic_load_explicit(&pe->win[i],
						 memory_order_acquire);
}

/*
 * Translate @iova for @dir: the process address of that byte and how many
 * bytes from it stay in the same IOMMU page. 0, or the fault reason.
 */
static inline enum stce_eeh_fault_reason
translate(const struct dma_ctx *c, uint64_t iova, unsigned int dir,
	  uint8_t **addr, uint64_t *avail)
{
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		const struct pe_window *w = c->win[i];
		uint64_t off, tce, page_mask;

		if (!w || iova < w->start || iova > w->last)
			continue;
		off = iova - w->start;
		tce = stce_table_get(w->table, off >> w->page_shift);
		if (stce_unlikely(!stce_tce_live(tce)))
			return STCE_EEH_FAULT_EMPTY;
		if (stce_unlikely((tce & dir) != dir))
			return STCE_EEH_FAULT_PERM;
		page_mask = (1ULL << w->page_shift) - 1;
		*addr = (uint8_t *)(uintptr_t)(stce_tce_addr(tce) +
					       (iova & page_mask));
		*avail = (page_mask + 1) - (iova & page_mask);
		return STCE_EEH_FAULT_NONE;
	}
	return STCE_EEH_FAULT_NO_WINDOW;
}

static int dma_copy(struct stce_pe *pe, uint64_t iova, uint8_t *buf,
		    size_t len, unsigned int dir)
{
	struct stce_dma_guard g;
	struct dma_ctx c;
	int ret = 0;

	if (!len)
		return 0;
	if (stce_unlikely(stce_pe_dma_frozen(pe)))
		return -EIO;
	read_lock(pe, &g);
	ctx_load(pe, &c);
	while (len) {
		enum stce_eeh_fault_reason r;
		uint64_t avail;
		uint8_t *addr;
		size_t n;

		r = translate(&c, iova, dir, &addr, &avail);
		if (stce_unlikely(r)) {
			pe_freeze(pe, r, iova, dir);
			ret = -EIO;
			break;
		}
		n = avail < len ? (size_t)avail : len;
		if (dir == STCE_DMA_READ)
			memcpy(buf, addr, n);
		else
			memcpy(addr, buf, n);
		buf += n;
		len -= n;
		/* Past 2^64 is outside every window. */
		if (len && iova + n < iova) {
			pe_freeze(pe, STCE_EEH_FAULT_NO_WINDOW, 0, dir);
			ret = -EIO;
			break;
		}
		iova += n;
	}
	read_unlock(pe, &g);
	return ret;
}

int stce_pe_dma_read(struct stce_pe *pe, uint64_t iova, void *buf,
		     size_t len)
{
	return dma_copy(pe, iova, buf, len, STCE_DMA_READ);
}

int stce_pe_dma_write(struct stce_pe *pe, uint64_t iova, const void *buf,
		      size_t len)
{
	return dma_copy(pe, iova, (uint8_t *)buf, len, STCE_DMA_WRITE);
}

int stce_pe_dma_map(struct stce_pe *pe, uint64_t iova, size_t len,
		    enum stce_dma_dir dir, struct stce_dma_span *spans,
		    unsigned int max_spans, unsigned int *nr_spans,
		    struct stce_dma_guard *g)
{
	unsigned int nr = 0;
	struct dma_ctx c;

	g->held = false;
	if (!len || !max_spans ||
	    (dir != STCE_DMA_READ && dir != STCE_DMA_WRITE))
		return -EINVAL;
	if (stce_unlikely(stce_pe_dma_frozen(pe)))
		return -EIO;
	read_lock(pe, g);
	ctx_load(pe, &c);
	while (len) {
		enum stce_eeh_fault_reason r;
		uint64_t avail;
		uint8_t *addr;
		size_t n;

		r = translate(&c, iova, dir, &addr, &avail);
		if (stce_unlikely(r)) {
			pe_freeze(pe, r, iova, dir);
			read_unlock(pe, g);
			return -EIO;
		}
		n = avail < len ? (size_t)avail : len;
		if (nr && (uint8_t *)spans[nr - 1].addr + spans[nr - 1].len ==
			  addr) {
			spans[nr - 1].len += n;
		} else if (nr == max_spans) {
			read_unlock(pe, g);
			return -E2BIG;
		} else {
			spans[nr].addr = addr;
			spans[nr].len = n;
			nr++;
		}
		len -= n;
		if (len && iova + n < iova) {
			pe_freeze(pe, STCE_EEH_FAULT_NO_WINDOW, 0, dir);
			read_unlock(pe, g);
			return -EIO;
		}
		iova += n;
	}
	*nr_spans = nr;
	return 0;
}

void stce_pe_dma_unmap(struct stce_pe *pe, struct stce_dma_guard *g)
{
	read_unlock(pe, g);
}
