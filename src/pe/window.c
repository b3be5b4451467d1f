// SPDX-License-Identifier: MIT
/*
 * A PE's DMA windows: what DMA sees is win[], each slot an immutable
 * struct pe_window published with one store and freed only after a grace
 * period of the PE (dma.c's readers load it inside their section). Every
 * change runs under pe->lock; several windows changing together are
 * bracketed by win_seq so that a DMA sees all of them or none. The
 * platform's own mappings in its default window are here too: they are
 * that window's entries.
 */
#include <errno.h>
#include <string.h>

#include <spapr_tce/pe.h>

#include "common/alloc.h"
#include "common/common.h"
#include "pe/pe_internal.h"

/* Writers of several windows at once bracket the stores with this (the
 * count is odd in between: dma.c's reader retries). */
static void win_seq_begin(struct stce_pe *pe)
{
	atomic_fetch_add_explicit(&pe->win_seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void win_seq_end(struct stce_pe *pe)
{
	atomic_fetch_add_explicit(&pe->win_seq, 1, memory_order_release);
}

/* See pe_internal.h: @w describes @t's window, before it is published. */
void pe_window_fill(struct pe_window *w, struct stce_table *t, bool pe_owned)
{
	w->table = t;
	w->start = stce_table_bus_offset(t);
	w->last = w->start + (stce_table_window_size(t) - 1);
	w->page_shift = stce_table_page_shift(t);
	w->pe_owned = pe_owned;
}

/* See pe_internal.h: window @num off the bus, its DMAs waited out, then
 * freed (its table too when the PE made it); the platform window is kept. */
void pe_window_unpublish(struct stce_pe *pe, unsigned int num)
{
	struct pe_window *w = atomic_load(&pe->win[num]);

	stce_assert_held(&pe->lock);
	if (!w)
		return;
	atomic_store(&pe->win[num], NULL);
	pe_synchronize(pe);
	if (w == &pe->platform_win)
		return;
	if (w->pe_owned)
		stce_table_destroy(w->table);
	stce_free(w);
}

/* See pe_internal.h: every window off the bus in one step no DMA can
 * split, one grace period, then freed as pe_window_unpublish() does. */
void pe_windows_unpublish_all(struct stce_pe *pe)
{
	struct pe_window *w[STCE_PE_MAX_WINDOWS];

	stce_assert_held(&pe->lock);
	win_seq_begin(pe);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		w[i] = atomic_load(&pe->win[i]);
		atomic_store_explicit(&pe->win[i], NULL, memory_order_relaxed);
	}
	win_seq_end(pe);
	pe_synchronize(pe);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		if (!w[i] || w[i] == &pe->platform_win)
			continue;
		if (w[i]->pe_owned)
			stce_table_destroy(w[i]->table);
		stce_free(w[i]);
	}
}

/* ---- Checks and programming -------------------------------------- */

static uint64_t window_base(const struct stce_pe *pe, unsigned int num)
{
	return num ? pe->caps.ddw_base : pe->caps.dma32_start;
}

#ifdef STCE_DEBUG_CHECKS
/* Published window @num of @pe where its slot and its table say. */
static bool window_ok(const struct stce_pe *pe, unsigned int num,
		      const struct pe_window *w)
{
	if (!w->table || w->last < w->start ||
	    w->start != window_base(pe, num) ||
	    w->page_shift != stce_table_page_shift(w->table))
		return false;
	return w == &pe->platform_win || num < pe->caps.max_windows;
}

/* See pe_internal.h. */
bool pe_windows_ok(const struct stce_pe *pe)
{
	if (atomic_load(&pe->win_seq) & 1)
		return false;
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		struct pe_window *w = atomic_load(&pe->win[i]);
		bool platform = w == &pe->platform_win;

		/* Platform-owned: its window in slot 0 and nothing else. */
		if (pe->user_owned ? platform : (i ? w != NULL : !platform))
			return false;
		if (w && !window_ok(pe, i, w))
			return false;
	}
	return true;
}
#endif

/* Window @num of @size must not run into the other window's base. */
static bool window_fits(const struct stce_pe *pe, unsigned int num,
			uint64_t size)
{
	uint64_t base = window_base(pe, num);

	if (!stce_range_fits(base, size))
		return false;
	if (num == 0)
		return pe->caps.ddw_base - base >= size;
	return true;
}

static bool page_shift_ok(const struct stce_pe *pe, unsigned int page_shift)
{
	if (page_shift >= 64 || !((pe->caps.pgsizes >> page_shift) & 1))
		return false;
	return !(page_shift == 24 && pe->caps.refuse_16m);
}

/* The kernel's pre-charge checks of a window request, all -EINVAL. */
int stce_pe_table_params(const struct stce_pe *pe, unsigned int num,
			 unsigned int page_shift, uint64_t window_size,
			 unsigned int levels, struct stce_table_params *out)
{
	if (num >= pe->caps.max_windows)
		return -EINVAL;
	if (!page_shift_ok(pe, page_shift))
		return -EINVAL;
	if (levels < 1 || levels > pe->caps.max_levels)
		return -EINVAL;
	if (!stce_is_pow2(window_size) || window_size < (1ULL << page_shift))
		return -EINVAL;
	if (!window_fits(pe, num, window_size))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->bus_offset = window_base(pe, num);
	out->window_size = window_size;
	out->page_shift = page_shift;
	out->levels = levels;
	out->host_page_shift = pe->caps.host_page_shift;
	return 0;
}

/* Does @t fit window @num of this PE? */
static bool table_fits(const struct stce_pe *pe, unsigned int num,
		       const struct stce_table *t)
{
	struct stce_table_info info;

	stce_table_get_info(t, &info);
	return info.bus_offset == window_base(pe, num) &&
	       page_shift_ok(pe, info.page_shift) &&
	       info.levels <= pe->caps.max_levels &&
	       window_fits(pe, num, info.window_size);
}

static int set_window_locked(struct stce_pe *pe, unsigned int num,
			     struct stce_table *table, bool pe_owned)
{
	struct pe_window *w;

	stce_assert_held(&pe->lock);
	if (!pe->user_owned)
		return -EPERM;
	if (num >= pe->caps.max_windows || !table || !table_fits(pe, num, table))
		return -EINVAL;
	if (atomic_load(&pe->win[num]))
		return -EBUSY;
	w = stce_zalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	pe_window_fill(w, table, pe_owned);
	atomic_store(&pe->win[num], w);
	return 0;
}

/* An external table as window @num; the table stays the caller's. */
int stce_pe_set_window(struct stce_pe *pe, unsigned int num,
		       struct stce_table *table)
{
	int ret;

	pthread_mutex_lock(&pe->lock);
	ret = set_window_locked(pe, num, table, false);
	pe_assert(pe);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* Check and allocate for every table first, then publish all in one step. */
int stce_pe_set_windows(struct stce_pe *pe,
			struct stce_table *const tables[STCE_PE_MAX_WINDOWS])
{
	struct pe_window *w[STCE_PE_MAX_WINDOWS] = { NULL };
	unsigned int num, n = 0;
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	if (!pe->user_owned) {
		ret = -EPERM;
		goto out;
	}
	for (num = 0; num < STCE_PE_MAX_WINDOWS; num++) {
		if (!tables[num])
			continue;
		n++;
		if (num >= pe->caps.max_windows ||
		    !table_fits(pe, num, tables[num])) {
			ret = -EINVAL;
			goto out;
		}
		if (atomic_load(&pe->win[num])) {
			ret = -EBUSY;
			goto out;
		}
	}
	if (!n) {
		ret = -EINVAL;
		goto out;
	}
	for (num = 0; num < STCE_PE_MAX_WINDOWS; num++) {
		if (!tables[num])
			continue;
		w[num] = stce_zalloc(sizeof(*w[num]));
		if (!w[num]) {
			ret = -ENOMEM;
			goto out;
		}
		pe_window_fill(w[num], tables[num], false);
	}
	win_seq_begin(pe);
	for (num = 0; num < STCE_PE_MAX_WINDOWS; num++)
		if (w[num])
			atomic_store_explicit(&pe->win[num], w[num],
					      memory_order_release);
	win_seq_end(pe);
	memset(w, 0, sizeof(w));
out:
	for (num = 0; num < STCE_PE_MAX_WINDOWS; num++)
		stce_free(w[num]);
	pe_assert(pe);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* Window @num off the bus; returns after its DMAs have finished. */
int stce_pe_unset_window(struct stce_pe *pe, unsigned int num)
{
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	if (!pe->user_owned)
		ret = -EPERM;
	else if (num >= pe->caps.max_windows || !atomic_load(&pe->win[num]))
		ret = -EINVAL;
	else
		pe_window_unpublish(pe, num);
	pe_assert(pe);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

static int create_window_locked(struct stce_pe *pe, unsigned int page_shift,
				uint64_t window_size, unsigned int levels,
				uint64_t *start)
{
	struct stce_table_params p;
	struct stce_table *t;
	unsigned int num;
	int ret;

	stce_assert_held(&pe->lock);
	if (!pe->user_owned)
		return -EPERM;
	for (num = 0; num < pe->caps.max_windows; num++)
		if (!atomic_load(&pe->win[num]))
			break;
	if (num == pe->caps.max_windows)
		return -ENOSPC;
	ret = stce_pe_table_params(pe, num, page_shift, window_size, levels,
				   &p);
	if (ret)
		return ret;
	ret = stce_table_create(&p, &t);
	if (ret)
		return ret;
	ret = set_window_locked(pe, num, t, true);
	if (ret) {
		stce_table_destroy(t);
		return ret;
	}
	if (start)
		*start = p.bus_offset;
	return 0;
}

/* A PE-owned table in the first free slot (-ENOSPC checked first). */
int stce_pe_create_window(struct stce_pe *pe, unsigned int page_shift,
			  uint64_t window_size, unsigned int levels,
			  uint64_t *start)
{
	int ret;

	pthread_mutex_lock(&pe->lock);
	ret = create_window_locked(pe, page_shift, window_size, levels, start);
	pe_assert(pe);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

static int find_window_locked(const struct stce_pe *pe, uint64_t addr)
{
	stce_assert_held(&pe->lock);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		struct pe_window *w = atomic_load(&pe->win[i]);

		if (w && addr >= w->start && addr <= w->last)
			return (int)i;
	}
	return -ENXIO;
}

/* The slot whose window covers @iova, under pe->lock, or -ENXIO. */
int stce_pe_find_window(const struct stce_pe *pe, uint64_t iova)
{
	struct stce_pe *mpe = (struct stce_pe *)pe;
	int ret;

	pthread_mutex_lock(&mpe->lock);
	ret = find_window_locked(pe, iova);
	pthread_mutex_unlock(&mpe->lock);
	return ret;
}

/* Window @num's table under pe->lock, or NULL: for owners, not DMA. */
struct stce_table *stce_pe_window_table(const struct stce_pe *pe,
					unsigned int num)
{
	struct stce_pe *mpe = (struct stce_pe *)pe;
	struct stce_table *t = NULL;
	struct pe_window *w;

	if (num >= STCE_PE_MAX_WINDOWS)
		return NULL;
	pthread_mutex_lock(&mpe->lock);
	w = atomic_load(&pe->win[num]);
	if (w)
		t = w->table;
	pthread_mutex_unlock(&mpe->lock);
	return t;
}

/* The PE-owned window around @addr off the bus and freed. */
int stce_pe_remove_window(struct stce_pe *pe, uint64_t addr)
{
	struct pe_window *w;
	int num, ret = 0;

	pthread_mutex_lock(&pe->lock);
	if (!pe->user_owned) {
		ret = -EPERM;
		goto out;
	}
	num = find_window_locked(pe, addr);
	if (num < 0) {
		ret = -EINVAL;
		goto out;
	}
	w = atomic_load(&pe->win[num]);
	if (!w->pe_owned) {
		ret = -EBUSY;
		goto out;
	}
	pe_window_unpublish(pe, (unsigned int)num);
out:
	pe_assert(pe);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* Every window removed, then the default window 0 made anew (1 level). */
int stce_pe_reset_windows(struct stce_pe *pe)
{
	const struct stce_pe_caps *c = &pe->caps;
	int ret;

	pthread_mutex_lock(&pe->lock);
	if (!pe->user_owned) {
		ret = -EPERM;
		goto out;
	}
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
		pe_window_unpublish(pe, i);
	ret = create_window_locked(pe, c->dma32_page_shift, c->dma32_size, 1,
				   NULL);
out:
	pe_assert(pe);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* ---- The platform's mappings -------------------------------------- */

/*
 * Set the platform window's entry at @iova to @addr with @perm (@map), or
 * clear it. The errnos in the kernel's order: -EPERM user-owned, -ENXIO
 * outside the window, then (a map) -EINVAL for @perm or @addr's alignment.
 * Replacing a live entry waits a grace period: the old page must be
 * unreachable when this returns.
 */
static int platform_set(struct stce_pe *pe, uint64_t iova, uint64_t addr,
			uint64_t perm, bool map)
{
	uint64_t index, tce = 0;
	int ret;

	pthread_mutex_lock(&pe->lock);
	if (pe->user_owned) {
		ret = -EPERM;
		goto out;
	}
	ret = stce_table_index(pe->platform, iova, &index);
	if (ret)
		goto out;
	if (map && (!(perm & STCE_TCE_PERM_MASK) ||
		    (perm & ~STCE_TCE_PERM_MASK) ||
		    !stce_is_aligned(addr, 1ULL << pe->platform_win.page_shift))) {
		ret = -EINVAL;
		goto out;
	}
	if (map)
		tce = stce_tce_make(addr, perm);
	ret = stce_table_xchg(pe->platform, index, &tce, NULL, 0);
	if (!ret && tce)
		pe_synchronize(pe);
out:
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* One entry of the platform's own window, while the platform owns the PE. */
int stce_pe_platform_map(struct stce_pe *pe, uint64_t iova, void *page,
			 uint64_t perm)
{
	return platform_set(pe, iova, (uint64_t)(uintptr_t)page, perm, true);
}

/* Clear the entry at @iova; a live one is waited out (one grace period). */
int stce_pe_platform_unmap(struct stce_pe *pe, uint64_t iova)
{
	return platform_set(pe, iova, 0, 0, false);
}
