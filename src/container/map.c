// SPDX-License-Identifier: MIT
/*
 * MAP_DMA and UNMAP_DMA: the container's hot path. No lock and no
 * allocation: the window is read inside a grace read-side section (so a
 * concurrent TCE_REMOVE waits for us before it frees the table), TCEs are
 * written in batches with stce_table_xchg_range(), and every page a batch
 * replaced is released only after the kill hook has run.
 *
 * The checks run in the kernel's order, because callers see which error
 * comes first: enabled (-EPERM, stce_container_check(), the one check the
 * VFIO layer makes too), a direction with unknown bits (-EINVAL), the
 * pending default window, the window holding iova (-ENXIO), size and
 * vaddr alignment (-EINVAL), an empty direction (-EINVAL), iova alignment
 * (+1 in kernel mode).
 */
#include <errno.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>

#include "common/common.h"
#include "container/container_internal.h"

/* TCEs written per exchange batch: one H_PUT_TCE_INDIRECT's worth. */
#define MAP_BATCH	512

struct map_request {
	struct stce_container *c;
	struct stce_table *t;
	unsigned int page_shift;
	uint64_t perm;		/* TCE bits */
	uint64_t vaddr;
	uint64_t index;		/* first entry */
	uint64_t pages;
};

/*
 * Releasing what cleared entries pointed to, after the flush that covers
 * them. v2 drops mappings from their regions through prereg's one
 * release (stce_prereg_release_tces: consecutive entries almost always
 * share a region, and a run costs one atomic subtraction, not one an
 * entry on a counter line every vCPU and mapping thread would fight
 * over); a clear hands entries over one at a time, so they are gathered
 * here first. v1 unpins page by page.
 */
struct release_buf {
	struct stce_container *c;
	unsigned int page_shift;
	unsigned int n;
	uint64_t tces[MAP_BATCH];
};

static void unpin_tce(unsigned int page_shift, uint64_t tce)
{
	stce_unpin_range(stce_tce_addr(tce), 1ULL << page_shift, page_shift,
			 tce & STCE_TCE_WRITE);
}

/* The live entries of @tces, taken out of a table of @page_shift pages. */
static void release_tces(struct stce_container *c, unsigned int page_shift,
			 const uint64_t *tces, unsigned int n)
{
	if (container_v2(c)) {
		stce_prereg_release_tces(tces, n);
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		if (stce_tce_live(tces[i]))
			unpin_tce(page_shift, tces[i]);
}

static void release_flush(struct release_buf *b)
{
	release_tces(b->c, b->page_shift, b->tces, b->n);
	b->n = 0;
}

static void release_cleared(void *ctx, const struct stce_cleared *e)
{
	struct release_buf *b = ctx;

	if (!container_v2(b->c)) {
		unpin_tce(b->page_shift, e->tce);
		return;
	}
	b->tces[b->n++] = e->tce;
	if (b->n == STCE_ARRAY_SIZE(b->tces))
		release_flush(b);
}

/* See container_internal.h. */
int container_clear(struct stce_container *c, struct stce_table *t,
		    uint64_t index, uint64_t count, bool exclusive)
{
	struct release_buf b;
	int ret;

	if (!count)
		return 0;
	b.c = c;
	b.page_shift = stce_table_page_shift(t);
	b.n = 0;
	if (exclusive)
		ret = stce_table_clear_exclusive(t, index, count,
						 release_cleared, &b, NULL);
	else
		ret = stce_table_clear(t, index, count, release_cleared, &b,
				       NULL);
	/* Every entry gathered here was flushed before it was handed over. */
	release_flush(&b);
	return ret;
}

/*
 * One entry (QEMU's UNMAP_DMA of one page): container_clear() without
 * its batches. The exchange takes the TCE out (and its user address); a
 * TCE that was there is flushed before what it pointed to is released.
 */
static int unmap_one(struct stce_container *c, struct stce_table *t,
		     uint64_t index)
{
	uint64_t tce = 0, ua = 0;
	int ret = stce_table_xchg(t, index, &tce, &ua, 0);

	if (ret || !tce)
		return ret;
	stce_table_flush_range_xchg(t, index, 1);
	if (container_v2(c))
		stce_prereg_release_tce(tce);
	else
		release_tces(c, stce_table_page_shift(t), &tce, 1);	/* v1 */
	return 0;
}

/* Mappings counted for a batch, region by region. */
struct map_runs {
	struct stce_region *r[MAP_BATCH];
	uint64_t n[MAP_BATCH];
	unsigned int nr;
};

/* Undo the mapping counts of a batch that was never written. */
static void unuse_batch(const struct map_request *m, uint64_t hpa,
			const struct map_runs *runs, unsigned int n)
{
	if (!container_v2(m->c)) {
		if (n)
			stce_unpin_range(hpa, (uint64_t)n << m->page_shift,
					 m->page_shift, false);
		return;
	}
	for (unsigned int i = 0; i < runs->nr; i++)
		stce_prereg_mapped_sub(runs->r[i], runs->n[i]);
}

/* A run of @len pages of @r ends: the lookup's hold becomes its first
 * mapping, so a one-page run moves the count no more. */
static void close_run(struct stce_region *r, unsigned int len,
		      struct map_runs *runs)
{
	stce_prereg_mapped_add(r, len - 1);
	runs->r[runs->nr] = r;
	runs->n[runs->nr++] = len;
}

/*
 * v2: translate each page of the batch through pre-registered memory.
 * The region is looked up again only when the batch crosses into another
 * one, and each region's mapping count moves once for its whole run: the
 * lookup's hold keeps the region alive while its run is counted, and is
 * itself the run's first mapping (a one-page MAP_DMA: one atomic
 * operation on the region, not three).
 */
static int prepare_v2(const struct map_request *m, uint64_t vaddr,
		      unsigned int n, uint64_t *tces, uint64_t *uas,
		      struct map_runs *runs)
{
	uint64_t page = 1ULL << m->page_shift, hpa;
	struct stce_region *r = NULL;
	unsigned int i, run_start = 0;
	int ret = 0;

	runs->nr = 0;
	for (i = 0; i < n; i++, vaddr += page) {
		if (!r || stce_prereg_ua_to_hpa(r, vaddr, m->page_shift, &hpa)) {
			if (r)
				close_run(r, i - run_start, runs);
			run_start = i;
			ret = stce_prereg_lookup(vaddr, page, &r);
			if (ret)
				break;
			ret = stce_prereg_ua_to_hpa(r, vaddr, m->page_shift,
						    &hpa);
			if (ret) {
				stce_prereg_mapped_dec(r);	/* the hold */
				break;
			}
		}
		tces[i] = stce_tce_make(hpa, m->perm);
		uas[i] = vaddr;
	}
	if (ret) {
		unuse_batch(m, 0, runs, 0);
		return ret;
	}
	close_run(r, i - run_start, runs);
	return 0;
}

/* v1: pin the batch's pages (all or nothing). */
static int prepare_v1(const struct map_request *m, uint64_t vaddr,
		      unsigned int n, uint64_t *tces, uint64_t *uas)
{
	uint64_t page = 1ULL << m->page_shift, hpa;
	int ret;

	/* The kernel pins for writing whatever the direction. */
	ret = stce_pin_range(vaddr, (uint64_t)n << m->page_shift,
			     m->page_shift, true, &hpa);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n; i++, vaddr += page, hpa += page) {
		tces[i] = stce_tce_make(hpa, m->perm);
		uas[i] = vaddr;
	}
	return 0;
}

/*
 * Write one batch: prepare its TCEs, exchange them in, and if any live
 * entry was replaced, flush before releasing what it pointed to.
 */
static int map_batch(struct map_request *m, uint64_t done, unsigned int n)
{
	uint64_t tces[MAP_BATCH], uas[MAP_BATCH];
	struct map_runs runs;	/* not zeroed: 8 KiB a one-page call */
	uint64_t vaddr = m->vaddr + (done << m->page_shift);
	bool replaced = false;
	int ret;

	runs.nr = 0;
	if (container_v2(m->c))
		ret = prepare_v2(m, vaddr, n, tces, uas, &runs);
	else
		ret = prepare_v1(m, vaddr, n, tces, uas);
	if (ret)
		return ret;

	/* One page (QEMU's H_PUT_TCE each): the range's two passes over
	 * the leaves buy nothing. */
	if (n == 1)
		ret = stce_table_xchg(m->t, m->index + done, tces, uas, 0);
	else
		ret = stce_table_xchg_range(m->t, m->index + done, n, tces,
					    uas, 0);
	if (ret) {
		/* v1: tces[0] still holds the first pinned page's hpa. */
		unuse_batch(m, stce_tce_addr(tces[0]), &runs, n);
		return ret;
	}
	for (unsigned int i = 0; i < n && !replaced; i++)
		replaced = stce_tce_live(tces[i]);
	if (!replaced)
		return 0;
	stce_table_flush_range(m->t, m->index + done, n);
	release_tces(m->c, m->page_shift, tces, n);
	return 0;
}

/*
 * v2, one page (QEMU's H_PUT_TCE each): map_batch() without its batch
 * (no arrays of 512, no runs): the lookup's hold is the mapping.
 */
static int map_one_v2(struct map_request *m)
{
	uint64_t hpa, tce, ua = m->vaddr;
	struct stce_region *r;
	int ret;

	ret = stce_prereg_lookup(m->vaddr, 1ULL << m->page_shift, &r);
	if (ret)
		return ret;
	ret = stce_prereg_ua_to_hpa(r, m->vaddr, m->page_shift, &hpa);
	if (!ret) {
		tce = stce_tce_make(hpa, m->perm);
		ret = stce_table_xchg(m->t, m->index, &tce, &ua, 0);
	}
	if (ret) {
		stce_prereg_mapped_dec(r);	/* the hold */
		return ret;
	}
	if (!stce_tce_live(tce))
		return 0;
	stce_table_flush_range_xchg(m->t, m->index, 1);
	release_tces(m->c, m->page_shift, &tce, 1);
	return 0;
}

static int map_pages(struct map_request *m)
{
	uint64_t done = 0;
	int ret = 0;

	while (done < m->pages) {
		uint64_t left = m->pages - done;
		unsigned int n = left < MAP_BATCH ? (unsigned int)left : MAP_BATCH;

		ret = map_batch(m, done, n);
		if (ret)
			break;
		done += n;
	}
	/* Roll back: nothing of a failed call stays mapped. */
	if (ret && done)
		container_clear(m->c, m->t, m->index, done, false);
	return ret;
}

/*
 * The window holding @iova (its table, its geometry, and @iova's entry in
 * it, rounded down), once the pending default window exists. The caller
 * is inside a read-side section of c->grace.
 */
static int find_window(struct stce_container *c, uint64_t iova,
		       struct stce_table **out, const struct container_window **w,
		       uint64_t *index)
{
	int ret;

	/* Only the first MAP of a container finds it pending (acquire: one
	 * that sees it made sees its table). */
	if (atomic_load_explicit(&c->def_window_pending,
				 memory_order_acquire)) {
		ret = container_create_default_window(c);
		if (ret)
			return ret;
	}
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		/* Acquire: the geometry was written before the table. */
		struct stce_table *t = atomic_load_explicit(&c->tables[i],
							    memory_order_acquire);
		const struct container_window *g = &c->win[i];

		/* stce_table_index(), on the container's copy. */
		if (t && iova >= g->bus_offset &&
		    iova - g->bus_offset < g->window_size) {
			*index = (iova - g->bus_offset) >> g->page_shift;
			*out = t;
			*w = g;
			return 0;
		}
	}
	return -ENXIO;
}

/*
 * How many pages of window @w [iova, iova + size) covers, from @index
 * (iova's entry). Unaligned iova and a range running past the window end
 * are where the kernel answers oddly: +1, and 0 having touched only the
 * part inside the window.
 */
static int window_pages(struct stce_container *c,
			const struct container_window *w, uint64_t iova,
			uint64_t size, uint64_t index, uint64_t *pages)
{
	unsigned int shift = w->page_shift;
	uint64_t left;

	if (!stce_is_aligned(iova, 1ULL << shift))
		return container_quirks(c) ? 1 : -EINVAL;
	*pages = size >> shift;
	left = w->entries - index;
	if (*pages > left) {
		if (!container_quirks(c))
			return -ENXIO;
		*pages = left;
	}
	return 0;
}

static uint64_t dir_to_perm(unsigned int dir)
{
	return (dir & STCE_MAP_READ ? STCE_TCE_READ : 0) |
	       (dir & STCE_MAP_WRITE ? STCE_TCE_WRITE : 0);
}

/* See <spapr_tce/container.h>. */
int stce_container_map_checked(struct stce_container *c, uint64_t vaddr,
			       uint64_t iova, uint64_t size, unsigned int dir)
{
	struct map_request m = { .c = c, .vaddr = vaddr };
	const struct container_window *w;
	uint64_t mask;
	int ret;

	/* The VFIO layer passes MAP_DMA's flags: these bits are all it knows. */
	if (dir & ~(STCE_MAP_READ | STCE_MAP_WRITE))
		return -EINVAL;
	ret = find_window(c, iova, &m.t, &w, &m.index);
	if (ret)
		return ret;
	m.page_shift = w->page_shift;
	mask = (1ULL << m.page_shift) - 1;
	if ((size & mask) || (vaddr & mask) || !dir)
		return -EINVAL;
	if (!size && !container_quirks(c))
		return -EINVAL;
	ret = window_pages(c, w, iova, size, m.index, &m.pages);
	if (ret)
		return ret;
	/* A range that wraps is no registered memory (v2) and no memory of
	 * the process's that v1 could pin (the kernel's pin faults). */
	if (m.pages && !stce_range_fits(vaddr, m.pages << m.page_shift))
		return container_v2(c) ? -EINVAL : -EFAULT;
	m.perm = dir_to_perm(dir);
	if (m.pages == 1 && container_v2(c))
		return map_one_v2(&m);
	return map_pages(&m);
}

/* See <spapr_tce/container.h>. */
int stce_container_map(struct stce_container *c, uint64_t vaddr,
		       uint64_t iova, uint64_t size, unsigned int dir)
{
	struct stce_grace_guard guard;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_MAP);

	if (ret)
		return ret;
	/* Inside the owner's section (the VFIO host's): no barrier. */
	stce_grace_read_lock_nested(c->grace, &guard);
	ret = stce_container_map_checked(c, vaddr, iova, size, dir);
	stce_grace_read_unlock(c->grace, &guard);
	return ret;
}

/* See <spapr_tce/container.h>. */
int stce_container_unmap_checked(struct stce_container *c, uint64_t iova,
				 uint64_t size)
{
	const struct container_window *w;
	struct stce_table *t;
	uint64_t index, pages;
	int ret;

	ret = find_window(c, iova, &t, &w, &index);
	if (ret)
		return ret;
	if (size & ((1ULL << w->page_shift) - 1))
		return -EINVAL;
	if (!size && !container_quirks(c))
		return -EINVAL;
	ret = window_pages(c, w, iova, size, index, &pages);
	if (ret)
		return ret;
	if (pages == 1)
		return unmap_one(c, t, index);
	return container_clear(c, t, index, pages, false);
}

/* See <spapr_tce/container.h>. */
int stce_container_unmap(struct stce_container *c, uint64_t iova,
			 uint64_t size)
{
	struct stce_grace_guard guard;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_UNMAP);

	if (ret)
		return ret;
	stce_grace_read_lock_nested(c->grace, &guard);
	ret = stce_container_unmap_checked(c, iova, size);
	stce_grace_read_unlock(c->grace, &guard);
	return ret;
}
