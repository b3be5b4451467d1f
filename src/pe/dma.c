// SPDX-License-Identifier: MIT
/*
 * Device DMA through a PE: translation, permission checks, the faults
 * that freeze it (recorded by eeh.c's pe_freeze), and the grace periods
 * that keep a cleared TCE from reaching a released page.
 *
 * Every DMA runs inside a read-side section of the PE's grace period
 * (src/common/grace.h): it loads windows and TCEs and copies inside it.
 * stce_pe_tce_kill() and unsetting a window wait out a grace period, so
 * once they return no DMA can still use a TCE cleared before the call,
 * and every copy of the DMAs that did happens before the caller releases
 * the pages.
 *
 * A TCE holds a host physical address (src/hostmem): the copy goes to
 * where the pinned page is now, fault-safely (stce_hostmem_copy: with
 * nothing moved, one relaxed load and a `rep movsb`). A page that cannot
 * be reached is an IOMMU fault (STCE_EEH_FAULT_MEMORY), never a crash. A
 * move of pinned pages (the program's munmap, mremap...) sets a state
 * word and waits for every PE's DMAs in flight; a DMA that sees the word
 * inside its section leaves it, waits for the move, and starts again.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <sched.h>
#include <string.h>

#include <spapr_tce/hostmem.h>
#include <spapr_tce/pe.h>

#include "common/common.h"
#include "hostmem/hostmem_dma.h"
#include "pe/pe_internal.h"

/* A section that translates bus addresses [@lo, @hi] only. */
static inline void read_lock(struct stce_pe *pe, struct stce_dma_guard *g,
			     uint64_t lo, uint64_t hi)
{
	struct stce_grace_guard gg;

	stce_grace_read_lock_range(&pe->grace, &gg, lo, hi);
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

/*
 * Enter the DMA's read-side section at a moment when no move of pinned
 * pages is under way (a move waits for the sections that began before it
 * announced itself; those that began after see the word and back off).
 */
static inline unsigned int dma_enter(struct stce_pe *pe,
				     struct stce_dma_guard *g, uint64_t iova,
				     size_t len)
{
	/* A DMA that wraps past 2^64 faults there: it reads up to the top. */
	uint64_t last = iova + (len - 1) < iova ? UINT64_MAX : iova + (len - 1);

	for (;;) {
		unsigned int st;

		read_lock(pe, g, iova, last);
		st = stce_hostmem_dma_state();
		if (stce_likely(!(st & HM_STATE_MOVING)))
			return st;
		read_unlock(pe, g);
		stce_hostmem_wait_moves();
	}
}

/* See pe_internal.h: every DMA section open at the call has ended. */
void pe_synchronize(struct stce_pe *pe)
{
	stce_grace_synchronize(&pe->grace);
}

/*
 * The TCE-cache kill is a grace period of the DMAs open at the call; each
 * DMA's section carries its bus address range, so a kill waits only for
 * those that may have loaded one of the cleared TCEs (grace.h).
 * @ordered: the caller fenced already.
 */
static void kill_range(struct stce_pe *pe, uint64_t iova, uint64_t len,
		       bool ordered)
{
	uint64_t last = UINT64_MAX;

	if (len && iova + (len - 1) >= iova)
		last = iova + (len - 1);
	else
		iova = 0;
	if (ordered)
		stce_grace_synchronize_range_ordered(&pe->grace, iova, last);
	else
		stce_grace_synchronize_range(&pe->grace, iova, last);
}

/* See <spapr_tce/pe.h>. */
void stce_pe_tce_kill_range(struct stce_pe *pe, uint64_t iova, uint64_t len)
{
	kill_range(pe, iova, len, false);
}

/* See <spapr_tce/pe.h>: the caller fenced (a table's kill hook). */
void stce_pe_tce_kill_range_ordered(struct stce_pe *pe, uint64_t iova,
				    uint64_t len)
{
	kill_range(pe, iova, len, true);
}

/* Every DMA open at the call, whatever its range. */
void stce_pe_tce_kill(struct stce_pe *pe)
{
	stce_pe_tce_kill_range(pe, 0, 0);
}

/* Grace periods of this PE's DMA domain completed so far, kills included. */
uint64_t stce_pe_kill_count(const struct stce_pe *pe)
{
	return stce_grace_periods(&pe->grace);
}

/* DMA is refused while frozen or held in reset (stce_pe_dma_frozen()). */
static inline bool dma_blocked(const struct stce_pe *pe)
{
	return atomic_load_explicit(&pe->eeh, memory_order_acquire) &
	       (PE_EEH_DMA_FROZEN | PE_EEH_RESET);
}

/*
 * The windows for one DMA: a consistent set, never one window of a change
 * made with stce_pe_set_windows() and not the other (the set's sequence
 * count is odd while it changes, and moves when it is done).
 */
static inline void load_windows(struct stce_pe *pe,
				struct pe_window **win)
{
	unsigned int seq;

	for (;;) {
		seq = atomic_load_explicit(&pe->win_seq, memory_order_acquire);
		for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
			win[i] = atomic_load_explicit(&pe->win[i],
						      memory_order_acquire);
		atomic_thread_fence(memory_order_acquire);
		if (!(seq & 1) &&
		    seq == atomic_load_explicit(&pe->win_seq,
						memory_order_relaxed))
			return;
		sched_yield();
	}
}

/* The first window covering @iova among those loaded for this DMA. */
static inline const struct pe_window *
window_of(struct pe_window *const *win, uint64_t iova)
{
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		const struct pe_window *w = win[i];

		if (w && iova >= w->start && iova <= w->last)
			return w;
	}
	return NULL;
}

/*
 * What to do with each translated piece (host physical address, length):
 * 0 to go on, -EFAULT when the memory behind it cannot be reached (an
 * IOMMU fault; *@done: the bytes of the piece moved before the first that
 * failed, which names the faulting page of a run), or another errno.
 */
typedef int (*dma_emit_fn)(void *ctx, uint64_t hpa, size_t n, size_t *done);

static int dma_fault(struct stce_pe *pe, enum stce_eeh_fault_reason r,
		     uint64_t iova, unsigned int dir)
{
	pe_freeze(pe, r, iova, (enum stce_dma_dir)dir);
	return -EIO;
}

/* The piece at @iova could not be moved: a memory fault, or @ret. */
static int emit_fault(struct stce_pe *pe, int ret, uint64_t iova,
		      unsigned int dir)
{
	if (ret != -EFAULT)
		return ret;
	return dma_fault(pe, STCE_EEH_FAULT_MEMORY, iova, dir);
}

/* A run of whole pages from @at failed after @done bytes: at that page. */
static int run_fault(struct stce_pe *pe, int ret, uint64_t at, size_t done,
		     unsigned int shift, unsigned int dir)
{
	return emit_fault(pe, ret, at + (((uint64_t)done >> shift) << shift),
			  dir);
}

/* A TCE that does not grant @dir (a single permission bit): why. */
static int tce_fault(struct stce_pe *pe, uint64_t tce, uint64_t iova,
		     unsigned int dir)
{
	return dma_fault(pe, stce_tce_live(tce) ? STCE_EEH_FAULT_PERM :
						  STCE_EEH_FAULT_EMPTY,
			 iova, dir);
}

/*
 * The pages from @p on that continue the piece whose next host address is
 * *@next and grant @dir: the first page that does not (or @end), its TCE
 * in *@tce. One load, one test, one add a page: the TCE of a page that
 * continues the piece is *@next with @dir set (the other permission bit
 * does not matter), so one exclusive-or checks address and permission.
 */
static inline __attribute__((always_inline)) const _Atomic uint64_t *
piece_end(const _Atomic uint64_t *p, const _Atomic uint64_t *end,
	  unsigned int dir, uint64_t pg, uint64_t *next, uint64_t *tce)
{
	uint64_t other = STCE_TCE_PERM_MASK & ~(uint64_t)dir;
	uint64_t want = *next | dir;

	for (; p < end; p++) {
		uint64_t t = stce_tce_load(p);

		if ((t ^ want) & ~other) {
			*tce = t;
			break;
		}
		want += pg;
	}
	*next = want & ~(uint64_t)dir;
	return p;
}

/*
 * The piece that starts at *@p (its TCE @t, checked for @dir here) and
 * runs over the pages whose host addresses follow on, to @emit; *@p moves
 * past it and *@t is the TCE there. @tce and @iova: the run's first page
 * and bus address (for where a fault happened).
 */
static inline __attribute__((always_inline)) int
whole_piece(struct stce_pe *pe, const _Atomic uint64_t **p,
	    const _Atomic uint64_t *tce, const _Atomic uint64_t *end,
	    uint64_t *t, uint64_t iova, unsigned int shift, unsigned int dir,
	    dma_emit_fn emit, void *ctx)
{
	uint64_t base = stce_tce_addr(*t), next = base + (1ULL << shift);
	size_t done = 0;
	int ret;

	if (stce_unlikely((*t & dir) != dir))
		return tce_fault(pe, *t, iova + ((uint64_t)(*p - tce) << shift),
				 dir);
	*p = piece_end(*p + 1, end, dir, 1ULL << shift, &next, t);
	ret = emit(ctx, base, next - base, &done);
	if (stce_unlikely(ret))
		/* The piece ended at *@p and began (next - base) bytes before. */
		return run_fault(pe, ret, iova + ((uint64_t)(*p - tce) << shift) -
				 (next - base), done, shift, dir);
	return 0;
}

/*
 * @whole IOMMU pages of 1 << @shift from @tce on, the first at bus address
 * @iova: the lean loop. Pages whose host addresses follow each other go
 * to @emit as one piece; a page that does not grant @dir first hands on
 * the piece before it, then faults. The first piece may continue the one
 * handed on before this run (across a leaf chunk), so it goes to @emit;
 * each later one begins where the one before did not go on, so it goes
 * to @fresh, which need not check (a span list's append).
 */
static inline __attribute__((always_inline)) int
walk_whole(struct stce_pe *pe, const _Atomic uint64_t *tce, uint64_t whole,
	   uint64_t iova, unsigned int shift, unsigned int dir,
	   dma_emit_fn emit, dma_emit_fn fresh, void *ctx)
{
	const _Atomic uint64_t *p = tce, *end = tce + whole;
	uint64_t t = stce_tce_load(p);
	int ret;

	ret = whole_piece(pe, &p, tce, end, &t, iova, shift, dir, emit, ctx);
	while (stce_likely(!ret) && p < end)
		ret = whole_piece(pe, &p, tce, end, &t, iova, shift, dir,
				  fresh, ctx);
	return ret;
}

/* [@iova, +@len) lies inside one IOMMU page of @w. */
static inline bool in_one_page(const struct pe_window *w, uint64_t iova,
			       size_t len)
{
	return len <= (1ULL << w->page_shift) -
		      (iova & ((1ULL << w->page_shift) - 1));
}

/*
 * The TCE of @iova in @w for @dir, checked: its host address in *@hpa,
 * or the fault (empty, or without @dir) at @iova.
 */
static inline int one_page_tce(struct stce_pe *pe, const struct pe_window *w,
			       uint64_t iova, unsigned int dir, uint64_t *hpa)
{
	unsigned int shift = w->page_shift;
	const _Atomic uint64_t *run;
	uint64_t nr, tce;

	run = stce_table_leaf(w->table, (iova - w->start) >> shift, &nr);
	if (stce_unlikely(!run))
		return dma_fault(pe, STCE_EEH_FAULT_EMPTY, iova, dir);
	tce = stce_tce_load(run);
	if (stce_unlikely((tce & dir) != dir))
		return tce_fault(pe, tce, iova, dir);
	*hpa = stce_tce_addr(tce) + (iova & ((1ULL << shift) - 1));
	return 0;
}

/*
 * [@iova, +@len) inside one IOMMU page of @w, the usual device transfer (4
 * KiB on 4K or 64K pages): one TCE, one piece, and nothing to keep for
 * after it but where a fault was. It saves the general walk's registers
 * and spills around the copy, which count: on a loop that streams memory
 * every store of the fixed path waits for the copy's stores to drain.
 */
static inline __attribute__((always_inline)) int
walk_one_page(struct stce_pe *pe, const struct pe_window *w, uint64_t iova,
	      size_t len, unsigned int dir, dma_emit_fn emit, void *ctx)
{
	uint64_t hpa;
	size_t done = 0;
	int ret = one_page_tce(pe, w, iova, dir, &hpa);

	if (stce_unlikely(ret))
		return ret;
	ret = emit(ctx, hpa, len, &done);
	if (stce_unlikely(ret))
		return emit_fault(pe, ret, iova, dir);
	return 0;
}

/*
 * Translate [@iova, @iova + @len) for @dir inside a read-side section and
 * hand the pieces to @emit, through the windows @win (a consistent set from
 * load_windows()). Per IOMMU page: TCE load, live and permission
 * check; whole pages whose host addresses follow each other go to @emit as
 * one piece (one copy for a run of contiguous pages, not one a page). The
 * TCEs come from the table's leaf chunks, one
 * walk per chunk run (stce_table_leaf), and a window lookup happens only
 * when a run ends. Inlined into each caller so that @emit is a direct
 * call. A fault in a run first hands on the pages before it (the bytes
 * before the faulting entry move, as they did page by page).
 */
static inline __attribute__((always_inline)) int
walk_windows(struct stce_pe *pe, struct pe_window *const *win, uint64_t iova,
	     size_t len, unsigned int dir, dma_emit_fn emit, dma_emit_fn fresh,
	     void *ctx)
{
	const struct pe_window *w = window_of(win, iova);

	if (stce_likely(w) && in_one_page(w, iova, len))
		return walk_one_page(pe, w, iova, len, dir, emit, ctx);
	for (;;) {
		const _Atomic uint64_t *run;
		uint64_t nr, mask;
		unsigned int shift;

		if (stce_unlikely(!w))
			return dma_fault(pe, STCE_EEH_FAULT_NO_WINDOW, iova,
					 dir);
		shift = w->page_shift;
		mask = (1ULL << shift) - 1;
		run = stce_table_leaf(w->table, (iova - w->start) >> shift,
				      &nr);
		if (stce_unlikely(!run))
			return dma_fault(pe, STCE_EEH_FAULT_EMPTY, iova, dir);
		/* The run lies inside the window: no lookup until its end. */
		for (uint64_t k = 0; k < nr;) {
			uint64_t tce, off = iova & mask, avail, whole;
			size_t n, done = 0;
			int ret;

			whole = off ? 0 : len >> shift;
			if (whole) {
				if (whole > nr - k)
					whole = nr - k;
				ret = walk_whole(pe, &run[k], whole, iova, shift,
						 dir, emit, fresh, ctx);
				if (stce_unlikely(ret))
					return ret;
				k += whole;
				len -= whole << shift;
				if (!len)
					return 0;
				/* Past 2^64 is outside every window. */
				if (stce_unlikely(__builtin_add_overflow(
					    iova, whole << shift, &iova)))
					return dma_fault(pe,
							 STCE_EEH_FAULT_NO_WINDOW,
							 0, dir);
				continue;
			}
			/* A piece that starts inside a page, or the last one. */
			tce = stce_tce_load(&run[k++]);
			avail = mask + 1 - off;
			n = avail < len ? (size_t)avail : len;
			if (stce_unlikely((tce & dir) != dir))
				return tce_fault(pe, tce, iova, dir);
			ret = emit(ctx, stce_tce_addr(tce) + off, n, &done);
			if (stce_unlikely(ret))
				return emit_fault(pe, ret, iova, dir);
			len -= n;
			if (!len)
				return 0;
			if (stce_unlikely(iova + n < iova))
				return dma_fault(pe, STCE_EEH_FAULT_NO_WINDOW,
						 0, dir);
			iova += n;
		}
		w = window_of(win, iova);
	}
}

/* walk_windows() on the windows as they are now. */
static inline __attribute__((always_inline)) int
dma_walk(struct stce_pe *pe, uint64_t iova, size_t len, unsigned int dir,
	 dma_emit_fn emit, dma_emit_fn fresh, void *ctx)
{
	struct pe_window *win[STCE_PE_MAX_WINDOWS];

	load_windows(pe, win);
	return walk_windows(pe, win, iova, len, dir, emit, fresh, ctx);
}

struct copy_ctx {
	uint8_t *buf;
};

static inline int copy_to_buf(void *p, uint64_t hpa, size_t n, size_t *done)
{
	struct copy_ctx *c = p;
	int ret = stce_hostmem_copy_n(hpa, c->buf, n, false, done);

	c->buf += n;
	return ret;
}

static inline int copy_from_buf(void *p, uint64_t hpa, size_t n,
				size_t *done)
{
	struct copy_ctx *c = p;
	int ret = stce_hostmem_copy_n(hpa, c->buf, n, true, done);

	c->buf += n;
	return ret;
}

/*
 * One walk of [@iova, +@len) for @dir in a read-side section of its own:
 * the body of a read, a write and a fill.
 */
static inline __attribute__((always_inline)) int
dma_in_section(struct stce_pe *pe, uint64_t iova, size_t len,
	       unsigned int dir, dma_emit_fn emit, void *ctx)
{
	struct stce_dma_guard g;
	int ret;

	if (!len)
		return 0;
	if (stce_unlikely(dma_blocked(pe)))
		return -EIO;
	dma_enter(pe, &g, iova, len);
	ret = dma_walk(pe, iova, len, dir, emit, emit, ctx);
	read_unlock(pe, &g);
	return ret;
}

/* Memory to @buf through the windows, inside one read-side section. */
int stce_pe_dma_read(struct stce_pe *pe, uint64_t iova, void *buf,
		     size_t len)
{
	struct copy_ctx c = { buf };

	return dma_in_section(pe, iova, len, STCE_DMA_READ, copy_to_buf, &c);
}

/* @buf to memory through the windows, inside one read-side section. */
int stce_pe_dma_write(struct stce_pe *pe, uint64_t iova, const void *buf,
		      size_t len)
{
	struct copy_ctx c = { (uint8_t *)buf };

	return dma_in_section(pe, iova, len, STCE_DMA_WRITE, copy_from_buf,
			      &c);
}

/* A fill's byte. */
static inline int fill_mem(void *p, uint64_t hpa, size_t n, size_t *done)
{
	return stce_hostmem_fill(hpa, *(const int *)p, n, done);
}

/* @len bytes of @byte at @iova through the windows, in one section. */
int stce_pe_dma_fill(struct stce_pe *pe, uint64_t iova, int byte, size_t len)
{
	int c = byte & 0xff;

	return dma_in_section(pe, iova, len, STCE_DMA_WRITE, fill_mem, &c);
}

/*
 * A copy's source, translated ahead of its destination: up to COPY_RUNS
 * runs of contiguous host addresses (a longer source is copied a part at
 * a time, each part still inside the one section).
 */
#define COPY_RUNS	16

struct run_ctx {
	uint64_t hpa[COPY_RUNS];
	size_t len[COPY_RUNS];
	unsigned int nr;
	size_t total;
};

static inline int add_run(void *p, uint64_t hpa, size_t n, size_t *done)
{
	(void)done;	/* never -EFAULT */
	struct run_ctx *r = p;

	if (r->nr && r->hpa[r->nr - 1] + r->len[r->nr - 1] == hpa) {
		r->len[r->nr - 1] += n;
	} else {
		if (stce_unlikely(r->nr == COPY_RUNS))
			return -E2BIG;
		r->hpa[r->nr] = hpa;
		r->len[r->nr++] = n;
	}
	r->total += n;
	return 0;
}

/* The destination's pieces, each filled from the source runs in order. */
struct move_ctx {
	struct stce_pe *pe;
	const struct run_ctx *src;
	unsigned int i;		/* the source run being read */
	size_t off;		/* bytes of it already copied */
	uint64_t src_iova;	/* bus address of that point */
};

static inline int move_from_runs(void *p, uint64_t hpa, size_t n,
				 size_t *done)
{
	struct move_ctx *m = p;
	size_t at = 0;

	while (n) {
		size_t k = m->src->len[m->i] - m->off, part;
		bool src_fault;
		int ret;

		if (k > n)
			k = n;
		ret = stce_hostmem_move(hpa, m->src->hpa[m->i] + m->off, k,
					&part, &src_fault);
		if (stce_unlikely(ret)) {
			/* The source's memory: its fault, at its address. */
			if (ret == -EFAULT && src_fault)
				return dma_fault(m->pe, STCE_EEH_FAULT_MEMORY,
						 m->src_iova + part,
						 STCE_DMA_READ);
			*done = at + part;
			return ret;
		}
		at += k;
		hpa += k;
		n -= k;
		m->src_iova += k;
		m->off += k;
		if (m->off == m->src->len[m->i]) {
			m->i++;
			m->off = 0;
		}
	}
	return 0;
}

/*
 * A copy whose source and destination each lie inside one IOMMU page (a
 * device's 4 KiB COPY): two TCEs and one move, with none of the run
 * bookkeeping of the general copy (whose stores wait behind the last
 * copy's). The same checks in the same order as the general walk, source
 * first; 1 when it does not apply (nothing done, nothing recorded).
 */
static inline int copy_one_page(struct stce_pe *pe,
				struct pe_window *const *win, uint64_t dst,
				uint64_t src, size_t len)
{
	const struct pe_window *ws = window_of(win, src);
	const struct pe_window *wd = window_of(win, dst);
	uint64_t shpa, dhpa;
	size_t part;
	bool src_fault;
	int ret;

	if (!ws || !wd || !in_one_page(ws, src, len) ||
	    !in_one_page(wd, dst, len))
		return 1;
	ret = one_page_tce(pe, ws, src, STCE_DMA_READ, &shpa);
	if (!ret)
		ret = one_page_tce(pe, wd, dst, STCE_DMA_WRITE, &dhpa);
	if (ret)
		return ret;
	ret = stce_hostmem_move(dhpa, shpa, len, &part, &src_fault);
	if (stce_likely(!ret))
		return 0;
	if (ret == -EFAULT && src_fault)
		return dma_fault(pe, STCE_EEH_FAULT_MEMORY, src + part,
				 STCE_DMA_READ);
	return emit_fault(pe, ret, dst, STCE_DMA_WRITE);
}

/* @len bytes from @src to @dst through the windows, in one section. */
int stce_pe_dma_copy(struct stce_pe *pe, uint64_t dst, uint64_t src,
		     size_t len)
{
	uint64_t lo = src < dst ? src : dst, gap = (src < dst ? dst : src) - lo;
	struct pe_window *win[STCE_PE_MAX_WINDOWS];
	struct stce_dma_guard g;
	int ret = 0;

	if (!len)
		return 0;
	if (stce_unlikely(dma_blocked(pe)))
		return -EIO;
	/* One section over both ranges: announce what spans them. */
	dma_enter(pe, &g, lo, len > SIZE_MAX - gap ? SIZE_MAX : gap + len);
	/* Both sides through one set of windows, loaded once. */
	load_windows(pe, win);
	ret = copy_one_page(pe, win, dst, src, len);
	if (stce_likely(ret <= 0))
		goto out;
	ret = 0;
	while (len) {
		struct run_ctx r;	/* runs filled as the walk goes */
		struct move_ctx m = { pe, &r, 0, 0, src };
		size_t n = len;

		r.nr = 0;
		r.total = 0;

		ret = walk_windows(pe, win, src, len, STCE_DMA_READ, add_run,
				   add_run, &r);
		if (ret == -E2BIG)
			n = r.total;
		else if (ret)
			break;
		ret = walk_windows(pe, win, dst, n, STCE_DMA_WRITE,
				   move_from_runs, move_from_runs, &m);
		if (ret)
			break;
		src += n;
		dst += n;
		len -= n;
	}
out:
	read_unlock(pe, &g);
	return ret;
}

/* Spans being built (the next one at @sp, none past @lim); the walk has
 * merged contiguous pages already. */
struct span_ctx {
	struct stce_dma_span *first, *sp, *lim;
};

/* A span of its own. */
static inline int new_span(struct span_ctx *c, uint8_t *addr, size_t n)
{
	if (stce_unlikely(c->sp == c->lim))
		return -E2BIG;
	c->sp->addr = addr;
	c->sp->len = n;
	c->sp++;
	return 0;
}

/* A piece adjacent to the last span (across a leaf chunk) extends it. */
static inline int add_one_span(struct span_ctx *c, uint8_t *addr, size_t n)
{
	struct stce_dma_span *last = c->sp - 1;

	if (c->sp != c->first && last->addr + last->len == addr) {
		last->len += n;
		return 0;
	}
	return new_span(c, addr, n);
}

/* A piece of pages that never moved: its host address is where it is. */
static inline int add_span(void *p, uint64_t hpa, size_t n, size_t *done)
{
	(void)done;	/* never -EFAULT */
	return add_one_span(p, (uint8_t *)(uintptr_t)hpa, n);
}

/* The same, for a piece the walk knows does not continue the last span. */
static inline int add_span_fresh(void *p, uint64_t hpa, size_t n,
				 size_t *done)
{
	(void)done;	/* never -EFAULT */
	return new_span(p, (uint8_t *)(uintptr_t)hpa, n);
}

/* Some pinned pages moved: a piece is where its pages are now, one span
 * or more. */
static inline int add_span_moved(void *p, uint64_t hpa, size_t n,
				 size_t *done)
{
	struct span_ctx *c = p;

	*done = 0;
	while (n) {
		void *addr;
		size_t run;
		int ret = stce_hostmem_resolve(hpa, n, &addr, &run);

		if (!ret)
			ret = add_one_span(c, addr, run);
		if (stce_unlikely(ret))
			return ret;
		hpa += run;
		n -= run;
		*done += run;
	}
	return 0;
}

/* Spans for [@iova, +@len); on success the section stays open in @g. */
int stce_pe_dma_map(struct stce_pe *pe, uint64_t iova, size_t len,
		    enum stce_dma_dir dir, struct stce_dma_span *spans,
		    unsigned int max_spans, unsigned int *nr_spans,
		    struct stce_dma_guard *g)
{
	struct span_ctx c = { spans, spans, spans + max_spans };
	int ret;

	g->held = false;
	if (!len || !max_spans ||
	    (dir != STCE_DMA_READ && dir != STCE_DMA_WRITE))
		return -EINVAL;
	if (stce_unlikely(dma_blocked(pe)))
		return -EIO;
	/* The walk per direction, and apart for moved pages (rare). */
	if (stce_unlikely(dma_enter(pe, g, iova, len) & HM_STATE_MOVED))
		ret = dma_walk(pe, iova, len, dir, add_span_moved,
			       add_span_moved, &c);
	else if (dir == STCE_DMA_READ)
		ret = dma_walk(pe, iova, len, STCE_DMA_READ, add_span,
			       add_span_fresh, &c);
	else
		ret = dma_walk(pe, iova, len, STCE_DMA_WRITE, add_span,
			       add_span_fresh, &c);
	if (stce_unlikely(ret)) {
		read_unlock(pe, g);
		return ret;
	}
	*nr_spans = (unsigned int)(c.sp - spans);
	return 0;
}

/* Close the read-side section stce_pe_dma_map() left open. */
void stce_pe_dma_unmap(struct stce_pe *pe, struct stce_dma_guard *g)
{
	read_unlock(pe, g);
}
