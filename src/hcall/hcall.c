// SPDX-License-Identifier: MIT
/*
 * H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE, H_GET_TCE: the hot path.
 *
 * One call:
 *  1. enters the guest's grace read-side section, finds the LIOBN (binary
 *     search of an immutable array), the memory map and the attachment
 *     set; enters each attached container's read-side section and checks
 *     that its window is still the table it was attached to (a window
 *     removed under an attachment is skipped: nothing of it is left to
 *     keep in step);
 *  2. validates every TCE before touching anything (KVM's
 *     kvmppc_tce_validate for the whole list first): guest page
 *     alignment, guest-physical -> user address through the memory map,
 *     user address -> pre-registered region; each region found is held
 *     by one mapping from its lookup until the call ends, so it cannot go
 *     between validation and use;
 *  3. counts the new mappings in their regions (one atomic add per region
 *     per batch), exchanges the hardware entries of every attached window
 *     with one stce_table_xchg_range() each (STCE_XCHG_NOALLOC unless the
 *     caller is the slow path), then stores the guest view;
 *  4. if live entries were replaced: flushes each table concerned (the
 *     kill hook waits out the PEs' DMA) and only then drops their
 *     mappings with prereg's release, the one MAP/UNMAP uses (one atomic
 *     subtract per region run).
 * No lock, no allocation, no pin, no syscall on the way (a flush waits
 * for DMA readers; it is needed only when live entries are replaced).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <spapr_tce/container.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>

#include "common/common.h"
#include "hcall/hcall_internal.h"

/* Hardware entries exchanged at once (one flush covers them). */
#define HC_BATCH	512u
#define HC_NO_RUN	0xffff

struct hc_ctx {
	struct stce_guest *g;
	struct stce_grace_guard guard;
	struct hc_table *lt;
	const struct hc_memmap *mem;
	const struct hc_slot *slot;	/* the last slot used */
	const struct hc_attach_set *set;
	unsigned int nr;		/* windows in set */
	unsigned int max_shift;		/* largest live hardware page */
	struct stce_table *tbl[STCE_HCALL_MAX_TABLES];	/* NULL: stale */
	struct stce_container_guard cguard[STCE_HCALL_MAX_TABLES];
	unsigned int flags;
};

/* Enter the read-side sections; H_TOO_HARD for an unknown LIOBN. */
static long ctx_begin(struct hc_ctx *x, struct stce_guest *g, uint64_t liobn,
		      unsigned int flags)
{
	x->g = g;
	x->flags = flags;
	x->slot = NULL;
	x->nr = 0;
	x->max_shift = 0;
	stce_grace_read_lock(&g->grace, &x->guard);
	x->lt = hc_find_liobn(atomic_load_explicit(&g->liobns,
						   memory_order_acquire), liobn);
	if (stce_unlikely(!x->lt)) {
		stce_grace_read_unlock(&g->grace, &x->guard);
		return STCE_H_TOO_HARD;
	}
	x->mem = atomic_load_explicit(&g->mem, memory_order_acquire);
	x->set = atomic_load_explicit(&x->lt->atts, memory_order_acquire);
	if (!x->set)
		return STCE_H_SUCCESS;
	x->nr = x->set->nr;
	for (unsigned int k = 0; k < x->nr; k++) {
		const struct hc_window *w = &x->set->w[k];
		struct stce_table *t;

		stce_container_read_lock(w->c, &x->cguard[k]);
		t = stce_container_window_table(w->c, w->num);
		/* Removed (or replaced) since it was attached: skip it. */
		if (t != w->t || stce_table_page_shift(t) != w->shift ||
		    stce_table_bus_offset(t) != w->bus_offset) {
			stce_container_read_unlock(w->c, &x->cguard[k]);
			t = NULL;
		} else if (w->shift > x->max_shift) {
			x->max_shift = w->shift;
		}
		x->tbl[k] = t;
	}
	return STCE_H_SUCCESS;
}

static void ctx_end(struct hc_ctx *x)
{
	for (unsigned int k = 0; k < x->nr; k++)
		if (x->tbl[k])
			stce_container_read_unlock(x->set->w[k].c, &x->cguard[k]);
	stce_grace_read_unlock(&x->g->grace, &x->guard);
}

static bool ctx_has_hw(const struct hc_ctx *x)
{
	return x->max_shift != 0;
}

/* kvmppc_ioba_validate: aligned, and [ioba, +npages) inside the table. */
static bool ioba_ok(const struct hc_table *lt, uint64_t ioba, uint64_t npages)
{
	uint64_t idx = ioba >> lt->page_shift;

	if (ioba & ((1ULL << lt->page_shift) - 1))
		return false;
	if (idx < lt->offset || idx + npages < idx)
		return false;
	return idx - lt->offset + npages <= lt->size;
}

/* Guest-physical [gpa, gpa + len) to a user address: one slot only. */
static bool gpa_to_ua(struct hc_ctx *x, uint64_t gpa, uint64_t len,
		      uint64_t *ua)
{
	const struct hc_slot *s = x->slot;

	if (!s || gpa - s->gpa >= s->size) {
		s = hc_find_slot(x->mem, gpa);
		if (!s)
			return false;
		x->slot = s;
	}
	if (s->size - (gpa - s->gpa) < len)
		return false;
	*ua = s->ua + (gpa - s->gpa);
	return true;
}

/* Branch-free, so that it vectorises: a map's old entries are all 0.
 * The OR of the values, masked once: one vector OR an entry pair. */
static bool any_live(const uint64_t *tces, unsigned int n)
{
	uint64_t all = 0;

#pragma GCC unroll 4
	for (unsigned int i = 0; i < n; i++)
		all |= tces[i];
	return stce_tce_live(all);
}

/* The guest view of @n entries from @view on: relaxed stores (atomics
 * are not vectorised: unrolled, the loop's own cost is a quarter). */
static void view_store(_Atomic uint64_t *view, const uint64_t *tces,
		       unsigned int n)
{
#pragma GCC unroll 4
	for (unsigned int i = 0; i < n; i++)
		atomic_store_explicit(&view[i], tces[i], memory_order_relaxed);
}

/*
 * Ask for the guest view's lines of @n entries from @view, to be
 * written. The view is stored after the call's exchanges: a store that
 * misses there holds up the next locked instruction (this call's flush
 * or the next call's section) until its line arrives; a prefetch is not
 * ordered with locked instructions, so asked for before the exchanges
 * the lines arrive while they run. A call's first 512 entries only:
 * more would not stay in the cache.
 */
static void view_prefetch(_Atomic uint64_t *view, uint64_t n)
{
	if (n > HC_BATCH)
		n = HC_BATCH;
	for (uint64_t i = 0; i < n; i += 8)
		__builtin_prefetch((const void *)&view[i], 1);
}

/* ---- putting a batch ------------------------------------------------ */

struct hc_run {
	struct stce_region *r;
	uint64_t rua, rlim;	/* guest pages start in [rua, rua + rlim] */
	uint64_t delta;		/* hpa - ua in this region */
	uint64_t live;		/* mapping TCEs of the call in this run */
	uint64_t count;		/* scratch: mappings of one sub-batch */
	bool hold;		/* the lookup's mapping is still ours to drop */
};

struct hc_put {
	uint64_t entry;		/* absolute bus page of tces[0] */
	unsigned int n;
	const uint64_t *tces;	/* guest TCEs: copy, for a list */
	const uint64_t *list;	/* the guest's list (big-endian), not yet read */
	uint64_t copy[STCE_HCALL_MAX_INDIRECT];	/* the list's TCEs, read once */
	uint64_t ua[STCE_HCALL_MAX_INDIRECT];
	uint64_t hpa[STCE_HCALL_MAX_INDIRECT];
	uint16_t run_of[STCE_HCALL_MAX_INDIRECT];
	struct hc_run runs[STCE_HCALL_MAX_INDIRECT];
	unsigned int nr_runs;
	bool direct;		/* validation fills hw[0] (one window, same page) */
	/* per window: new values in, old values out */
	uint64_t hw[STCE_HCALL_MAX_TABLES][HC_BATCH];
	uint64_t hwua[STCE_HCALL_MAX_TABLES][HC_BATCH];
};

/* Drop the lookup holds of every run. */
static void put_unhold(struct hc_put *p)
{
	for (unsigned int i = 0; i < p->nr_runs; i++)
		if (p->runs[i].hold)
			stce_prereg_mapped_dec(p->runs[i].r);
	p->nr_runs = 0;
}

/*
 * A new run for the guest page at @ua: look its region up (the lookup's
 * mapping holds it until the call ends) and check that it may be mapped
 * with pages of (1 << @max_shift). A region's pinned range is one piece
 * (prereg.h), so hpa - ua is constant inside it: asked once a run.
 */
static bool put_new_run(struct hc_put *p, uint64_t ua, uint64_t pgsz,
			unsigned int max_shift)
{
	struct hc_run *run = &p->runs[p->nr_runs];
	struct stce_region *r;
	uint64_t hpa;

	if (stce_prereg_lookup(ua, pgsz, &r))
		return false;
	if (stce_prereg_ua_to_hpa(r, ua, max_shift, &hpa)) {
		stce_prereg_mapped_dec(r);
		return false;
	}
	run->r = r;
	run->rua = stce_region_ua(r);
	run->rlim = stce_region_size(r) - pgsz;
	run->delta = hpa - ua;
	run->live = 0;
	run->count = 0;
	run->hold = true;
	p->nr_runs++;
	return true;
}

/* The validation answers: KVM's codes (see put_validate()). */
static long put_fail(struct hc_put *p, long ret)
{
	put_unhold(p);
	return ret;
}

/*
 * The direct path's state between two misses: the slot (a page at gpa
 * fits when gpa - sgpa < sfit; ua is gpa + sdelta), the run (pages start
 * in [rua, rua + rlim], hpa is ua + rdelta; its first entry and the
 * clearing TCEs since, which give its count) and, for the loop's one
 * compare, where both hold (gpa - glo <= glim; hpa is gpa + hdelta).
 */
struct dv_state {
	uint64_t sgpa, sfit, sdelta;
	uint64_t rua, rlim, rdelta;
	unsigned int start, clears;
	uint64_t glo, glim, hdelta;
};

/*
 * A mapping TCE at @gpa (aligned) of entry @i outside the state's range:
 * find its slot and its run as needed (a new run closes the last one's
 * count) and work the range out again. Out of line, so that the loop
 * keeps only what the common entry needs in registers.
 */
static __attribute__((noinline))
long direct_miss(struct hc_ctx *x, struct hc_put *p, struct dv_state *st,
		 uint64_t gpa, unsigned int i)
{
	uint64_t pgsz = 1ULL << x->lt->page_shift, ua, back, fwd;

	if (gpa - st->sgpa >= st->sfit) {
		const struct hc_slot *s;

		if (!gpa_to_ua(x, gpa, pgsz, &ua))
			return STCE_H_TOO_HARD;
		s = x->slot;
		st->sgpa = s->gpa;
		st->sfit = s->size - pgsz + 1;	/* size >= pgsz here */
		st->sdelta = s->ua - s->gpa;
		/*
		 * The hardware page must be aligned in user memory too: gpa
		 * is, so ua is exactly when the slot's offset is; asked
		 * once a slot.
		 */
		if (st->sdelta & (pgsz - 1))
			return STCE_H_TOO_HARD;
	}
	ua = gpa + st->sdelta;
	/* ua below rua wraps past rlim: rua + rlim cannot overflow. */
	if (ua - st->rua > st->rlim) {
		struct hc_run *run;

		if (p->nr_runs)
			p->runs[p->nr_runs - 1].live = i - st->start - st->clears;
		if (!put_new_run(p, ua, pgsz, x->max_shift))
			return STCE_H_TOO_HARD;
		run = &p->runs[p->nr_runs - 1];
		st->rua = run->rua;
		st->rlim = run->rlim;
		st->rdelta = run->delta;
		st->start = i;
		st->clears = 0;
	}
	/* Where both hold around gpa: distances from it, so nothing wraps. */
	back = gpa - st->sgpa < ua - st->rua ? gpa - st->sgpa : ua - st->rua;
	fwd = st->sfit - 1 - (gpa - st->sgpa);
	if (st->rlim - (ua - st->rua) < fwd)
		fwd = st->rlim - (ua - st->rua);
	st->glo = gpa - back;
	st->glim = back + fwd;
	st->hdelta = st->sdelta + st->rdelta;
	return STCE_H_SUCCESS;
}

/*
 * put_validate() for the direct case (one window of the guest's page
 * size, one exchange batch), which is nearly every call: the same
 * checks and answers, in one pass that writes only the hardware entries
 * and their user addresses (p->ua, hpa and run_of stay unset: the
 * direct path never reads them). A mapping TCE inside the range where
 * the last slot and region run both hold (the usual list: one slot, one
 * region) costs its alignment test and one compare; the rest is
 * direct_miss(). An indirect list is read here, each entry once (copied
 * to p->copy for the guest view), rather than in a pass of its own.
 */
static inline __attribute__((always_inline))
long validate_direct(struct hc_ctx *x, struct hc_put *p, bool indirect)
{
	uint64_t amask = (1ULL << x->lt->page_shift) - 1;
	uint64_t *hw = p->hw[0], *hwua = p->hwua[0];
	const uint64_t *list = p->list;
	/* No slot (sfit 0) and no run yet (a page's ua is aligned, never
	 * 1; nor is its gpa, for the range). */
	struct dv_state st = { .sfit = 0, .rua = 1, .rlim = 0, .glo = 1,
			       .glim = 0 };
	uint64_t glo = 1, glim = 0, hdelta = 0, sdelta = 0;
	unsigned int n = p->n;

	p->nr_runs = 0;
	for (unsigned int i = 0; i < n; i++) {
		/* One load (the guest may be rewriting its list). */
		uint64_t tce = indirect ?
			be64toh(__atomic_load_n(&list[i], __ATOMIC_RELAXED)) :
			p->tces[i];
		uint64_t perm = stce_tce_perm(tce), gpa = stce_tce_addr(tce), ua;

		if (indirect)
			p->copy[i] = tce;

		/* Lists map (clears come as H_STUFF_TCE): keep the mapping
		 * TCE on the straight line. */
		if (stce_unlikely(!perm)) {
			if (indirect && !gpa_to_ua(x, gpa, 1, &ua))
				return put_fail(p, STCE_H_PARAMETER);
			st.clears++;
			hw[i] = 0;
			hwua[i] = 0;
			continue;
		}
		if (gpa & amask)
			return put_fail(p, STCE_H_TOO_HARD);
		if (stce_unlikely(gpa - glo > glim)) {
			if (direct_miss(x, p, &st, gpa, i) != STCE_H_SUCCESS)
				return put_fail(p, STCE_H_TOO_HARD);
			glo = st.glo;
			glim = st.glim;
			hdelta = st.hdelta;
			sdelta = st.sdelta;
		}
		/* hdelta is a multiple of the page (slot and region offsets
		 * both are): adding it to the TCE keeps its permission bits. */
		hw[i] = tce + hdelta;
		hwua[i] = gpa + sdelta;
	}
	if (p->nr_runs)
		p->runs[p->nr_runs - 1].live = n - st.start - st.clears;
	return STCE_H_SUCCESS;
}

/* Two instantiations: whether the list is read is known per call. */
static long put_validate_direct(struct hc_ctx *x, struct hc_put *p,
				bool indirect)
{
	if (indirect)
		return validate_direct(x, p, true);
	return validate_direct(x, p, false);
}

/*
 * Validate and translate every TCE (nothing is changed here). KVM's
 * answers: H_TOO_HARD for a mapping TCE it cannot translate;
 * H_PARAMETER for a clearing TCE of an indirect list whose address has
 * no memory (KVM finds that one while applying).
 */
static long put_validate(struct hc_ctx *x, struct hc_put *p, bool indirect)
{
	uint64_t pgsz = 1ULL << x->lt->page_shift;
	uint64_t hw_mask = (1ULL << x->max_shift) - 1;
	bool hw = ctx_has_hw(x);
	struct hc_run *run = NULL;

	if (p->direct)
		return put_validate_direct(x, p, indirect);
	p->nr_runs = 0;
	for (unsigned int i = 0; i < p->n; i++) {
		uint64_t tce = p->tces[i], gpa = stce_tce_addr(tce), ua;

		p->run_of[i] = HC_NO_RUN;
		if (!stce_tce_perm(tce)) {
			if (indirect && !gpa_to_ua(x, gpa, 1, &ua))
				return put_fail(p, STCE_H_PARAMETER);
			continue;
		}
		if (gpa & (pgsz - 1))
			return put_fail(p, STCE_H_TOO_HARD);
		if (!gpa_to_ua(x, gpa, pgsz, &ua))
			return put_fail(p, STCE_H_TOO_HARD);
		p->ua[i] = ua;
		if (!hw)
			continue;
		/* The hardware page must be aligned in user memory too. */
		if (ua & hw_mask)
			return put_fail(p, STCE_H_TOO_HARD);
		if (stce_unlikely(!run || ua - run->rua > run->rlim || ua < run->rua)) {
			if (!put_new_run(p, ua, pgsz, x->max_shift))
				return put_fail(p, STCE_H_TOO_HARD);
			run = &p->runs[p->nr_runs - 1];
		}
		p->hpa[i] = ua + run->delta;
		p->run_of[i] = (uint16_t)(p->nr_runs - 1);
		run->live++;
	}
	return STCE_H_SUCCESS;
}

/* Hardware entries of window @w for guest entries [i0, i1). */
static unsigned int put_fill(const struct hc_ctx *x, struct hc_put *p,
			     const struct hc_window *w, unsigned int i0,
			     unsigned int i1, uint64_t *hw, uint64_t *hwua)
{
	unsigned int sub_shift = x->lt->page_shift - w->shift;
	uint64_t sub = 1ULL << sub_shift, step = 1ULL << w->shift;
	unsigned int m = 0;

	if (!sub_shift) {
		/* The common case: one hardware entry a guest entry. */
		for (unsigned int i = i0; i < i1; i++, m++) {
			uint64_t perm = stce_tce_perm(p->tces[i]);

			hw[m] = perm ? stce_tce_make(p->hpa[i], perm) : 0;
			hwua[m] = perm ? p->ua[i] : 0;
		}
		return m;
	}
	for (unsigned int i = i0; i < i1; i++) {
		uint64_t perm = stce_tce_perm(p->tces[i]);

		for (uint64_t j = 0; j < sub; j++, m++) {
			hw[m] = perm ? stce_tce_make(p->hpa[i] + j * step, perm) : 0;
			hwua[m] = perm ? p->ua[i] + j * step : 0;
		}
	}
	return m;
}

static uint64_t hw_index(const struct hc_ctx *x, const struct hc_window *w,
			 uint64_t entry)
{
	return ((entry << x->lt->page_shift) - w->bus_offset) >> w->shift;
}

/* Count the new mappings of guest entries [i0, i1) in their regions. */
static void put_count(const struct hc_ctx *x, struct hc_put *p,
		      unsigned int i0, unsigned int i1)
{
	uint64_t per_entry = 0;

	for (unsigned int k = 0; k < x->nr; k++)
		if (x->tbl[k])
			per_entry += 1ULL << (x->lt->page_shift - x->set->w[k].shift);
	if (i0 == 0 && i1 == p->n) {
		/*
		 * The whole call in one sub-batch: counted by validation.
		 * A run has a mapping TCE, so count >= 1: the lookup's
		 * hold becomes one of them (one atomic operation on the
		 * region's shared count less; a failure's release of all
		 * count mappings then takes the hold too).
		 */
		for (unsigned int r = 0; r < p->nr_runs; r++) {
			p->runs[r].count = p->runs[r].live * per_entry - 1;
			p->runs[r].hold = false;
		}
	} else {
		for (unsigned int i = i0; i < i1; i++)
			if (p->run_of[i] != HC_NO_RUN)
				p->runs[p->run_of[i]].count += per_entry;
	}
	for (unsigned int r = 0; r < p->nr_runs; r++) {
		stce_prereg_mapped_add(p->runs[r].r, p->runs[r].count);
		p->runs[r].count = 0;
	}
}

/*
 * Put back what windows [0, @upto) held before this sub-batch, then
 * release whatever that takes out: normally our own new entries (their
 * counts go with them), or another vCPU's if it raced on the entries.
 */
static void put_rollback(struct hc_ctx *x, struct hc_put *p, uint64_t entry,
			 unsigned int upto, unsigned int m[])
{
	for (unsigned int k = 0; k < upto; k++) {
		struct stce_table *t = x->tbl[k];

		if (!t || !m[k])
			continue;
		/* The leaves exist: this cannot fail. */
		stce_table_xchg_range(t, hw_index(x, &x->set->w[k], entry),
				      m[k], p->hw[k], p->hwua[k],
				      STCE_XCHG_NOALLOC);
		if (!any_live(p->hw[k], m[k]))
			continue;
		stce_table_flush_range(t, hw_index(x, &x->set->w[k], entry),
				       m[k]);
		stce_prereg_release_tces(p->hw[k], m[k]);
	}
}

/* Apply guest entries [i0, i1): hardware, then the guest view. */
static long put_apply(struct hc_ctx *x, struct hc_put *p, unsigned int i0,
		      unsigned int i1)
{
	unsigned int xflags = (x->flags & STCE_HCALL_MAY_ALLOC) ? 0u :
			      (unsigned int)STCE_XCHG_NOALLOC;

	/* Old user addresses serve only a rollback of another window. */
	if (x->nr == 1)
		xflags |= STCE_XCHG_NO_OLD_UA;
	uint64_t entry = p->entry + i0;
	unsigned int m[STCE_HCALL_MAX_TABLES] = { 0 };

	if (ctx_has_hw(x))
		put_count(x, p, i0, i1);
	for (unsigned int k = 0; k < x->nr; k++) {
		const struct hc_window *w = &x->set->w[k];

		if (!x->tbl[k])
			continue;
		if (p->direct)
			m[k] = i1 - i0;
		else
			m[k] = put_fill(x, p, w, i0, i1, p->hw[k], p->hwua[k]);
		if (stce_table_xchg_range(x->tbl[k], hw_index(x, w, entry), m[k],
					  p->hw[k], p->hwua[k], xflags)) {
			/* Nothing of window k changed: undo 0..k-1. */
			put_rollback(x, p, entry, k, m);
			/* Our counts for window k and later never
			 * reached a table: take them back. */
			for (unsigned int kk = k; kk < x->nr; kk++) {
				if (!x->tbl[kk])
					continue;
				/* A failed exchange left the direct
				 * path's new entries in hw[0]. */
				if (!p->direct)
					m[kk] = put_fill(x, p, &x->set->w[kk],
							 i0, i1, p->hw[kk],
							 p->hwua[kk]);
				stce_prereg_release_tces(p->hw[kk], m[kk]);
			}
			return STCE_H_TOO_HARD;
		}
	}
	view_store(x->lt->view + (entry - x->lt->offset), p->tces + i0,
		   i1 - i0);
	for (unsigned int k = 0; k < x->nr; k++) {
		if (!x->tbl[k] || !any_live(p->hw[k], m[k]))
			continue;
		stce_table_flush_range(x->tbl[k],
				       hw_index(x, &x->set->w[k], entry), m[k]);
		stce_prereg_release_tces(p->hw[k], m[k]);
	}
	return STCE_H_SUCCESS;
}

static long put_batch(struct hc_ctx *x, struct hc_put *p, bool indirect)
{
	unsigned int step;
	long ret;

	p->direct = false;
	if (ctx_has_hw(x) && x->nr == 1 &&
	    x->set->w[0].shift == x->lt->page_shift && p->n <= HC_BATCH)
		p->direct = true;
	view_prefetch(x->lt->view + (p->entry - x->lt->offset), p->n);
	if (p->list && !p->direct) {
		/* Read the list once: what is validated is what is applied. */
		for (unsigned int i = 0; i < p->n; i++)
			p->copy[i] = be64toh(p->list[i]);
	}
	ret = put_validate(x, p, indirect);
	if (ret != STCE_H_SUCCESS)
		return ret;
	/* Guest entries whose hardware entries fill one exchange batch. */
	step = ctx_has_hw(x) ? HC_BATCH >> (x->lt->page_shift - x->set->min_shift) :
			       p->n;
	if (!step)
		step = 1;
	for (unsigned int i = 0; i < p->n && ret == STCE_H_SUCCESS; i += step) {
		unsigned int end = i + step < p->n ? i + step : p->n;

		ret = put_apply(x, p, i, end);
	}
	put_unhold(p);
	return ret;
}

/* See <spapr_tce/hcall.h>. */
long stce_h_put_tce(struct stce_guest *g, uint64_t liobn, uint64_t ioba,
		    uint64_t tce, unsigned int flags)
{
	struct hc_put p;
	struct hc_ctx x;
	long ret;

	ret = ctx_begin(&x, g, liobn, flags);
	if (ret != STCE_H_SUCCESS)
		return ret;
	if (!ioba_ok(x.lt, ioba, 1)) {
		ret = STCE_H_PARAMETER;
		goto out;
	}
	p.entry = ioba >> x.lt->page_shift;
	p.n = 1;
	p.tces = &tce;
	p.list = NULL;
	ret = put_batch(&x, &p, false);
out:
	ctx_end(&x);
	return ret;
}

/* See <spapr_tce/hcall.h>. */
long stce_h_put_tce_indirect(struct stce_guest *g, uint64_t liobn,
			     uint64_t ioba, uint64_t tce_list,
			     uint64_t npages, unsigned int flags)
{
	struct hc_put p;
	struct hc_ctx x;
	uint64_t ua;
	long ret;

	ret = ctx_begin(&x, g, liobn, flags);
	if (ret != STCE_H_SUCCESS)
		return ret;
	ret = STCE_H_PARAMETER;
	if (npages > STCE_HCALL_MAX_INDIRECT || (tce_list & 4095) ||
	    !ioba_ok(x.lt, ioba, npages))
		goto out;
	ret = STCE_H_TOO_HARD;
	if (!gpa_to_ua(&x, tce_list, 4096, &ua))
		goto out;
	/* put_batch() reads the list, once. */
	p.list = (const uint64_t *)(uintptr_t)ua;
	p.entry = ioba >> x.lt->page_shift;
	p.n = (unsigned int)npages;
	p.tces = p.copy;
	ret = put_batch(&x, &p, true);
out:
	ctx_end(&x);
	return ret;
}

/* ---- stuff and get ---------------------------------------------------- */

/* Clear [idx, idx + count) of window @k, releasing what was there. */
static void stuff_window(struct hc_ctx *x, unsigned int k, uint64_t idx,
			 uint64_t count)
{
	uint64_t tces[HC_BATCH];
	struct stce_table *t = x->tbl[k];

	while (count) {
		unsigned int n = count < HC_BATCH ? (unsigned int)count : HC_BATCH;

		/* In range (checked by the caller): 1 when any was live. */
		if (stce_table_take_range(t, idx, n, tces) > 0) {
			stce_table_flush_range(t, idx, n);
			stce_prereg_release_tces(tces, n);
		}
		idx += n;
		count -= n;
	}
}

/* See <spapr_tce/hcall.h>. */
long stce_h_stuff_tce(struct stce_guest *g, uint64_t liobn, uint64_t ioba,
		      uint64_t tce_value, uint64_t npages, unsigned int flags)
{
	_Atomic uint64_t *view;
	struct hc_ctx x;
	uint64_t entry;
	long ret;

	ret = ctx_begin(&x, g, liobn, flags);
	if (ret != STCE_H_SUCCESS)
		return ret;
	ret = STCE_H_PARAMETER;
	if (!ioba_ok(x.lt, ioba, npages))
		goto out;
	/* Only a value that grants nothing (a "poison" value) is allowed. */
	if (stce_tce_perm(tce_value))
		goto out;
	entry = ioba >> x.lt->page_shift;
	view = x.lt->view + (entry - x.lt->offset);
	view_prefetch(view, npages);
	for (unsigned int k = 0; k < x.nr && npages; k++) {
		const struct hc_window *w = &x.set->w[k];

		if (x.tbl[k])
			stuff_window(&x, k, hw_index(&x, w, entry),
				     npages << (x.lt->page_shift - w->shift));
	}
#pragma GCC unroll 4
	for (uint64_t i = 0; i < npages; i++)
		atomic_store_explicit(&view[i], tce_value, memory_order_relaxed);
	ret = STCE_H_SUCCESS;
out:
	ctx_end(&x);
	return ret;
}

/* See <spapr_tce/hcall.h>. */
long stce_h_get_tce(struct stce_guest *g, uint64_t liobn, uint64_t ioba,
		    uint64_t *tce)
{
	struct hc_ctx x;
	long ret;

	ret = ctx_begin(&x, g, liobn, 0);
	if (ret != STCE_H_SUCCESS)
		return ret;
	ret = STCE_H_PARAMETER;
	if (ioba_ok(x.lt, ioba, 1)) {
		uint64_t idx = (ioba >> x.lt->page_shift) - x.lt->offset;

		*tce = atomic_load_explicit(&x.lt->view[idx],
					    memory_order_relaxed);
		ret = STCE_H_SUCCESS;
	}
	ctx_end(&x);
	return ret;
}
