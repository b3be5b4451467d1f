// SPDX-License-Identifier: MIT
/*
 * The invariant checker: see invariants.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>

#include "container/container_audit.h"
#include "invariants.h"

#define INV_MAX_REGIONS	256
#define INV_FAILED_WALK	1024ULL	/* pages of a failed map walked */

static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

void inv_container_init(struct inv_container *ic, struct stce_container *c)
{
	ic->c = c;
	ic->nr = 0;
	ic->untracked = false;
}

void inv_record_map(struct inv_container *ic, uint64_t vaddr, uint64_t iova,
		    uint64_t size, unsigned int dir, int ret)
{
	struct stce_container_stats st;
	struct inv_record *r;

	if (ic->untracked)
		return;
	if (ic->nr == INV_MAX_RECORDS) {
		ic->untracked = true;
		return;
	}
	r = &ic->rec[ic->nr];
	*r = (struct inv_record){ .iova = iova, .vaddr = vaddr, .dir = dir,
				  .ok = ret == 0, .first = 1, .last = 0 };
	stce_container_get_stats(ic->c, &st);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		uint64_t wlast = st.window[i].start + (st.window[i].size - 1);

		if (!st.window[i].size || iova < st.window[i].start ||
		    iova > wlast || !size)
			continue;
		r->first = iova;
		r->last = size - 1 > wlast - iova ? wlast : iova + (size - 1);
		/*
		 * A failed map may be huge; only its start is walked (a
		 * stray entry past that still shows in the counts).
		 */
		if (!r->ok && (r->last - r->first) >> st.window[i].page_shift >=
			      INV_FAILED_WALK)
			r->last = r->first +
				  (INV_FAILED_WALK << st.window[i].page_shift) - 1;
	}
	/* A record covering nothing only matters if it succeeded: drop it. */
	if (r->first <= r->last)
		ic->nr++;
}

/* ---- the walk -------------------------------------------------------- */

struct region_count {
	struct stce_region *r;
	uint64_t live;
};

struct walk {
	/* the whole check */
	struct region_count regions[INV_MAX_REGIONS];
	unsigned int nr_regions;
	uint64_t *v1_pages;		/* host pages of live v1 TCEs */
	size_t nr_v1, cap_v1;
	unsigned int host_shift;
	char *why;
	size_t whylen;
	int bad;
	/* this container, this record */
	struct inv_container *ic;
	bool v2;
	unsigned int cur;		/* record being walked */
};

static struct region_count *region_slot(struct walk *w, struct stce_region *r)
{
	for (unsigned int i = 0; i < w->nr_regions; i++)
		if (w->regions[i].r == r)
			return &w->regions[i];
	if (w->nr_regions == INV_MAX_REGIONS)
		return NULL;
	w->regions[w->nr_regions] = (struct region_count){ r, 0 };
	return &w->regions[w->nr_regions++];
}

static int walk_fail(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
	w->bad = 1;
	return -EIO;
}

static const struct inv_record *latest_covering(const struct inv_container *ic,
						uint64_t iova, bool ok_only,
						unsigned int *at)
{
	for (unsigned int i = ic->nr; i-- > 0;) {
		const struct inv_record *r = &ic->rec[i];

		if (iova < r->first || iova > r->last || (ok_only && !r->ok))
			continue;
		if (at)
			*at = i;
		return r;
	}
	return NULL;
}

static unsigned int dir_perm(unsigned int dir)
{
	return (dir & STCE_MAP_READ ? STCE_TCE_READ : 0) |
	       (dir & STCE_MAP_WRITE ? STCE_TCE_WRITE : 0);
}

/* One live TCE: where it points, and (tracked) which map wrote it. */
static int check_entry(void *ctx, const struct container_audit_entry *e)
{
	struct walk *w = ctx;
	uint64_t addr = stce_tce_addr(e->tce), page = 1ULL << e->page_shift;

	if (!w->ic->untracked) {
		const struct inv_record *r;
		unsigned int at = 0;

		/* Count each entry once: on the latest record covering it. */
		latest_covering(w->ic, e->iova, false, &at);
		if (at != w->cur)
			return 0;
		r = latest_covering(w->ic, e->iova, true, NULL);
		if (!r)
			return walk_fail(w, "live TCE %#llx at iova %#llx: no successful map covers it",
					 (unsigned long long)e->tce,
					 (unsigned long long)e->iova);
		if (stce_tce_perm(e->tce) & ~dir_perm(r->dir))
			return walk_fail(w, "TCE at iova %#llx grants %#llx, the map asked %#x",
					 (unsigned long long)e->iova,
					 (unsigned long long)stce_tce_perm(e->tce),
					 r->dir);
		if (stce_tce_perm(e->tce) != dir_perm(r->dir))
			return walk_fail(w, "TCE at iova %#llx grants %#llx, less than the map's %#x",
					 (unsigned long long)e->iova,
					 (unsigned long long)stce_tce_perm(e->tce),
					 r->dir);
		if (addr != r->vaddr + (e->iova - r->iova) || e->ua != addr)
			return walk_fail(w, "TCE at iova %#llx points to %#llx (view %#llx), the map asked %#llx",
					 (unsigned long long)e->iova,
					 (unsigned long long)addr,
					 (unsigned long long)e->ua,
					 (unsigned long long)(r->vaddr + (e->iova - r->iova)));
	}
	if (addr & (page - 1))
		return walk_fail(w, "TCE %#llx not aligned to its %#llx page",
				 (unsigned long long)e->tce,
				 (unsigned long long)page);
	if (w->v2) {
		struct stce_region *r = stce_prereg_find_hpa(addr);
		struct region_count *rc;

		if (!r)
			return walk_fail(w, "v2 TCE at iova %#llx points to %#llx: no region",
					 (unsigned long long)e->iova,
					 (unsigned long long)addr);
		if (addr + page - stce_region_ua(r) > stce_region_size(r))
			return walk_fail(w, "v2 TCE at iova %#llx: page %#llx runs past its region",
					 (unsigned long long)e->iova,
					 (unsigned long long)addr);
		rc = region_slot(w, r);
		if (!rc)
			return walk_fail(w, "more than %d regions", INV_MAX_REGIONS);
		rc->live++;
		return 0;
	}
	if (w->nr_v1 == w->cap_v1) {
		size_t cap = w->cap_v1 ? 2 * w->cap_v1 : 256;
		uint64_t *grown = realloc(w->v1_pages, cap * sizeof(*grown));

		if (!grown)
			return walk_fail(w, "out of memory");
		w->v1_pages = grown;
		w->cap_v1 = cap;
	}
	w->v1_pages[w->nr_v1++] = addr >> w->host_shift;
	return 0;
}

/* Walk one container: every record's range, or every window. */
static int walk_container(struct walk *w, struct inv_container *ic,
			  uint64_t max_walk)
{
	int ret = 0;

	w->ic = ic;
	w->v2 = stce_container_type(ic->c) == STCE_IOMMU_V2;
	if (ic->untracked) {
		ret = container_audit_range(ic->c, 0, UINT64_MAX, max_walk,
					    check_entry, w);
		return ret == -E2BIG ? 1 : ret;
	}
	for (w->cur = 0; w->cur < ic->nr && !ret; w->cur++) {
		const struct inv_record *r = &ic->rec[w->cur];

		ret = container_audit_range(ic->c, r->first, r->last,
					    UINT64_MAX, check_entry, w);
	}
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t distinct(uint64_t *v, size_t n)
{
	size_t d = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (!i || v[i] != v[i - 1])
			v[d++] = v[i];
	return d;
}

/* Every region in the buffers, added to w->regions with what it counted. */
static int find_regions(struct walk *w, const struct inv_buffer *bufs,
			unsigned int nbufs)
{
	uint64_t hp = 1ULL << w->host_shift;

	for (unsigned int b = 0; b < nbufs; b++) {
		uint64_t a = bufs[b].addr & ~(hp - 1);

		while (a < bufs[b].addr + bufs[b].size) {
			struct stce_region *r = stce_prereg_find_hpa(a);

			if (!r) {
				a += hp;
				continue;
			}
			if (!region_slot(w, r))
				return walk_fail(w, "more than %d regions",
						 INV_MAX_REGIONS);
			a = stce_region_ua(r) + stce_region_size(r);
		}
	}
	return 0;
}

int inv_check(struct inv_container *const *cs, unsigned int n,
	      const struct inv_buffer *bufs, unsigned int nbufs,
	      uint64_t max_walk, char *why, size_t whylen)
{
	return inv_check_charged(cs, n, bufs, nbufs, max_walk, 0, why, whylen);
}

int inv_check_charged(struct inv_container *const *cs, unsigned int n,
		      const struct inv_buffer *bufs, unsigned int nbufs,
		      uint64_t max_walk, uint64_t other_charged, char *why,
		      size_t whylen)
{
	struct walk *w = calloc(1, sizeof(*w));
	uint64_t charged = other_charged, pins;
	bool complete = true;
	size_t nr_pages;
	int ret = 0;

	if (!w)
		return fail(why, whylen, "out of memory");
	w->why = why;
	w->whylen = whylen;
	w->host_shift = stce_host_page_shift();
	for (unsigned int i = 0; i < n && !w->bad; i++) {
		struct stce_container_stats st;

		ret = walk_container(w, cs[i], max_walk);
		if (ret > 0)
			complete = false;
		stce_container_get_stats(cs[i]->c, &st);
		for (unsigned int k = 0; k < STCE_PE_MAX_WINDOWS; k++)
			charged += st.window[k].charged_pages;
		charged += st.enable_charged_pages;
	}
	if (w->bad)
		goto out;
	if (find_regions(w, bufs, nbufs))
		goto out;
	for (unsigned int i = 0; i < w->nr_regions; i++) {
		struct region_count *rc = &w->regions[i];

		charged += stce_region_size(rc->r) >> w->host_shift;
		if (complete && stce_region_mapped(rc->r) != rc->live) {
			walk_fail(w, "region %#llx+%#llx: mapped %llu, live TCEs %llu",
				  (unsigned long long)stce_region_ua(rc->r),
				  (unsigned long long)stce_region_size(rc->r),
				  (unsigned long long)stce_region_mapped(rc->r),
				  (unsigned long long)rc->live);
			goto out;
		}
	}
	if (stce_prereg_count() != w->nr_regions) {
		walk_fail(w, "%zu regions pinned, %u found in the buffers",
			  stce_prereg_count(), w->nr_regions);
		goto out;
	}
	nr_pages = distinct(w->v1_pages, w->nr_v1);
	pins = stce_pin_pages();
	if (complete && pins != nr_pages) {
		walk_fail(w, "v1: %llu host pages pinned, live TCEs use %zu",
			  (unsigned long long)pins, nr_pages);
		goto out;
	}
	if (stce_account_locked_pages() != charged)
		walk_fail(w, "locked_vm %llu pages, tables + ENABLE + regions + others charge %llu",
			  (unsigned long long)stce_account_locked_pages(),
			  (unsigned long long)charged);
out:
	ret = w->bad ? -1 : 0;
	free(w->v1_pages);
	free(w);
	return ret;
}

int inv_check_teardown(char *why, size_t whylen)
{
	if (stce_account_locked_pages())
		return fail(why, whylen, "teardown: locked_vm %llu pages",
			    (unsigned long long)stce_account_locked_pages());
	if (stce_prereg_count())
		return fail(why, whylen, "teardown: %zu regions left",
			    stce_prereg_count());
	if (stce_pin_pages())
		return fail(why, whylen, "teardown: %llu v1 pages pinned",
			    (unsigned long long)stce_pin_pages());
	return 0;
}

static int hash_entry(void *ctx, const struct container_audit_entry *e)
{
	uint64_t *h = ctx;
	const uint64_t v[3] = { e->iova, e->tce, e->ua };

	for (unsigned int i = 0; i < 3; i++) {
		*h ^= v[i];
		*h *= 0x100000001b3ULL;	/* FNV-1a, a word at a time */
	}
	return 0;
}

uint64_t inv_tce_hash(struct stce_container *c, uint64_t max_walk)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	if (container_audit_range(c, 0, UINT64_MAX, max_walk, hash_entry, &h))
		return 0;
	return h;
}
