// SPDX-License-Identifier: MIT
/*
 * PEs: capabilities, DMA windows, ownership and EEH operations. The DMA
 * (reader) side and the grace periods are in dma.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/pe.h>

#include "account/account_internal.h"
#include "common/alloc.h"
#include "common/common.h"
#include "hostmem/hostmem_dma.h"
#include "pe/pe_internal.h"

void stce_pe_caps_default(struct stce_pe_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->pgsizes = STCE_PE_DEFAULT_PGSIZES;
	caps->max_windows = STCE_PE_DEFAULT_MAX_WINDOWS;
	caps->max_levels = STCE_PE_DEFAULT_MAX_LEVELS;
	caps->dma32_start = 0;
	caps->dma32_size = STCE_PE_DEFAULT_DMA32_SIZE;
	caps->dma32_page_shift = 12;
	caps->ddw_base = STCE_PE_DEFAULT_DDW_BASE;
	caps->host_page_shift = STCE_HOST_PAGE_SHIFT_DEFAULT;
	caps->refuse_16m = true;
}

/* Levels (1..5) with which a window of this geometry can be built, the
 * fewest above one first (smaller chunks), or 0. */
static unsigned int buildable_levels(unsigned int page_shift, uint64_t size,
				     unsigned int host_page_shift)
{
	static const unsigned int order[] = { 2, 1, 3, 4, 5 };

	for (unsigned int i = 0; i < STCE_ARRAY_SIZE(order); i++) {
		int cs = stce_table_chunk_shift(page_shift, size, order[i],
						host_page_shift);

		if (cs >= 0 &&
		    (unsigned int)(cs - 3) * order[i] + page_shift < 55)
			return order[i];
	}
	return 0;
}

const char *stce_pe_caps_problem(const struct stce_pe_caps *c)
{
	if (!c->pgsizes || (c->pgsizes & ~STCE_PAGE_SHIFTS_MASK))
		return "pgsizes must be a non-empty set of 4K 64K 2M 16M 256M 1G";
	if (c->max_windows < 1 || c->max_windows > STCE_PE_MAX_WINDOWS)
		return "max_windows must be 1 or 2";
	if (c->max_levels < 1 || c->max_levels > STCE_TABLE_MAX_LEVELS)
		return "max_levels must be 1..5";
	if (c->host_page_shift != 12 && c->host_page_shift != 16)
		return "host page must be 4K or 64K";
	if (!stce_page_shift_supported(c->dma32_page_shift))
		return "dma32_page must be 4K 64K 2M 16M 256M or 1G";
	if (!stce_is_pow2(c->dma32_size) ||
	    c->dma32_size < (1ULL << c->dma32_page_shift))
		return "dma32_size must be a power of two of at least one dma32_page";
	if (!stce_is_aligned(c->dma32_start, 1ULL << c->dma32_page_shift) ||
	    !stce_range_fits(c->dma32_start, c->dma32_size))
		return "dma32_start must be aligned to dma32_page";
	if (!stce_is_aligned(c->ddw_base, 1ULL << stce_ilog2(c->pgsizes)))
		return "ddw_base must be aligned to the largest page size";
	/* The default window must end before the DDW base. */
	if (c->ddw_base < c->dma32_start ||
	    c->ddw_base - c->dma32_start < c->dma32_size)
		return "the dma32 window runs into ddw_base";
	if (!buildable_levels(c->dma32_page_shift, c->dma32_size,
			      c->host_page_shift))
		return "no TCE table can hold the dma32 window";
	return NULL;
}

int stce_pe_caps_check(const struct stce_pe_caps *c)
{
	return stce_pe_caps_problem(c) ? -EINVAL : 0;
}

static void window_fill(struct pe_window *w, struct stce_table *t,
			bool pe_owned)
{
	w->table = t;
	w->start = stce_table_bus_offset(t);
	w->last = w->start + (stce_table_window_size(t) - 1);
	w->page_shift = stce_table_page_shift(t);
	w->pe_owned = pe_owned;
}

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
	p.levels = buildable_levels(caps->dma32_page_shift, caps->dma32_size,
				    caps->host_page_shift);
	p.host_page_shift = caps->host_page_shift;
	ret = stce_table_create(&p, &pe->platform);
	if (ret) {
		stce_free(pe);
		goto unhold;
	}
	window_fill(&pe->platform_win, pe->platform, true);
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
	*out = pe;
	return 0;
unhold:
	stce_host_page_unhold();
	return ret;
}

/* Take window @num off the bus and wait out DMAs that may still use it. */
static void window_unpublish(struct stce_pe *pe, unsigned int num)
{
	struct pe_window *w = atomic_load(&pe->win[num]);

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

static void win_seq_begin(struct stce_pe *pe);
static void win_seq_end(struct stce_pe *pe);

/* Take every window off the bus in one step, then wait out the DMAs. */
static void windows_unpublish_all(struct stce_pe *pe)
{
	struct pe_window *w[STCE_PE_MAX_WINDOWS];

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

void stce_pe_destroy(struct stce_pe *pe)
{
	if (!pe)
		return;
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
		window_unpublish(pe, i);
	stce_table_destroy(pe->platform);
	pthread_mutex_destroy(&pe->lock);
	stce_hostmem_dma_domain_del(&pe->grace);
	stce_grace_destroy(&pe->grace);
	pthread_mutex_destroy(&pe->fault_lock);
	stce_free(pe);
	stce_host_page_unhold();
}

unsigned int stce_pe_group(const struct stce_pe *pe)
{
	return pe->group;
}

void stce_pe_get_caps(const struct stce_pe *pe, struct stce_pe_caps *caps)
{
	*caps = pe->caps;
}

bool stce_pe_user_owned(const struct stce_pe *pe)
{
	struct stce_pe *mpe = (struct stce_pe *)pe;
	bool owned;

	pthread_mutex_lock(&mpe->lock);
	owned = pe->user_owned;
	pthread_mutex_unlock(&mpe->lock);
	return owned;
}

/* ---- Windows ------------------------------------------------------- */

static uint64_t window_base(const struct stce_pe *pe, unsigned int num)
{
	return num ? pe->caps.ddw_base : pe->caps.dma32_start;
}

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

	if (!pe->user_owned)
		return -EPERM;
	if (num >= pe->caps.max_windows || !table || !table_fits(pe, num, table))
		return -EINVAL;
	if (atomic_load(&pe->win[num]))
		return -EBUSY;
	w = stce_zalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	window_fill(w, table, pe_owned);
	atomic_store(&pe->win[num], w);
	return 0;
}

int stce_pe_set_window(struct stce_pe *pe, unsigned int num,
		       struct stce_table *table)
{
	int ret;

	pthread_mutex_lock(&pe->lock);
	ret = set_window_locked(pe, num, table, false);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* Writers of several windows at once bracket the stores with this. */
static void win_seq_begin(struct stce_pe *pe)
{
	atomic_fetch_add_explicit(&pe->win_seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void win_seq_end(struct stce_pe *pe)
{
	atomic_fetch_add_explicit(&pe->win_seq, 1, memory_order_release);
}

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
		window_fill(w[num], tables[num], false);
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
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

int stce_pe_unset_window(struct stce_pe *pe, unsigned int num)
{
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	if (!pe->user_owned)
		ret = -EPERM;
	else if (num >= pe->caps.max_windows || !atomic_load(&pe->win[num]))
		ret = -EINVAL;
	else
		window_unpublish(pe, num);
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

int stce_pe_create_window(struct stce_pe *pe, unsigned int page_shift,
			  uint64_t window_size, unsigned int levels,
			  uint64_t *start)
{
	int ret;

	pthread_mutex_lock(&pe->lock);
	ret = create_window_locked(pe, page_shift, window_size, levels, start);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

static int find_window_locked(const struct stce_pe *pe, uint64_t addr)
{
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		struct pe_window *w = atomic_load(&pe->win[i]);

		if (w && addr >= w->start && addr <= w->last)
			return (int)i;
	}
	return -ENXIO;
}

int stce_pe_find_window(const struct stce_pe *pe, uint64_t iova)
{
	struct stce_pe *mpe = (struct stce_pe *)pe;
	int ret;

	pthread_mutex_lock(&mpe->lock);
	ret = find_window_locked(pe, iova);
	pthread_mutex_unlock(&mpe->lock);
	return ret;
}

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
	window_unpublish(pe, (unsigned int)num);
out:
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

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
		window_unpublish(pe, i);
	ret = create_window_locked(pe, c->dma32_page_shift, c->dma32_size, 1,
				   NULL);
out:
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* ---- Ownership ----------------------------------------------------- */

int stce_pe_take_ownership(struct stce_pe *pe)
{
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	if (pe->user_owned) {
		ret = -EBUSY;
		goto out;
	}
	window_unpublish(pe, 0);
	/* Off the bus and past the grace period: clear without a flush. */
	stce_table_clear(pe->platform, 0, stce_table_entries(pe->platform),
			 NULL, NULL, NULL);
	pe->user_owned = true;
out:
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

int stce_pe_release_ownership(struct stce_pe *pe)
{
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	if (!pe->user_owned) {
		ret = -EINVAL;
		goto out;
	}
	windows_unpublish_all(pe);
	pe->user_owned = false;
	atomic_store(&pe->win[0], &pe->platform_win);
out:
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

int stce_pe_platform_map(struct stce_pe *pe, uint64_t iova, void *page,
			 uint64_t perm)
{
	uint64_t addr = (uint64_t)(uintptr_t)page, index, tce;
	int ret;

	pthread_mutex_lock(&pe->lock);
	if (pe->user_owned) {
		ret = -EPERM;
		goto out;
	}
	ret = stce_table_index(pe->platform, iova, &index);
	if (ret)
		goto out;
	if (!(perm & STCE_TCE_PERM_MASK) || (perm & ~STCE_TCE_PERM_MASK) ||
	    !stce_is_aligned(addr, 1ULL << pe->platform_win.page_shift)) {
		ret = -EINVAL;
		goto out;
	}
	tce = stce_tce_make(addr, perm);
	ret = stce_table_xchg(pe->platform, index, &tce, NULL, 0);
	/* Replacing a live entry: the old page must be unreachable. */
	if (!ret && tce)
		pe_synchronize(pe);
out:
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

int stce_pe_platform_unmap(struct stce_pe *pe, uint64_t iova)
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
	ret = stce_table_xchg(pe->platform, index, &tce, NULL, 0);
	if (!ret && tce)
		pe_synchronize(pe);
out:
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* ---- EEH ----------------------------------------------------------- */

static void eeh_clear_fault(struct stce_pe *pe)
{
	pthread_mutex_lock(&pe->fault_lock);
	pe->fault_reason = STCE_EEH_FAULT_NONE;
	pe->fault_iova = 0;
	pe->fault_dir = 0;
	pthread_mutex_unlock(&pe->fault_lock);
}

static void eeh_thaw(struct stce_pe *pe, unsigned int bits)
{
	atomic_fetch_and(&pe->eeh, ~bits);
	if (bits & PE_EEH_DMA_FROZEN)
		eeh_clear_fault(pe);
}

static int eeh_get_state(const struct stce_pe *pe)
{
	unsigned int s = atomic_load(&pe->eeh);
	bool dma = !(s & PE_EEH_DMA_FROZEN), mmio = !(s & PE_EEH_MMIO_FROZEN);

	/*
	 * PowerNV reports a PE under reset by its freeze state (the kernel
	 * maps RESET_ACTIVE only from pSeries firmware).
	 */
	if (dma && mmio)
		return STCE_EEH_PE_STATE_NORMAL;
	if (!dma && !mmio)
		return STCE_EEH_PE_STATE_STOPPED;
	if (!dma)
		return STCE_EEH_PE_STATE_STOPPED_DMA;
	return STCE_EEH_PE_STATE_UNAVAIL;
}

int stce_pe_eeh_op(struct stce_pe *pe, unsigned int op)
{
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	switch (op) {
	case STCE_EEH_PE_DISABLE:
	case STCE_EEH_PE_CONFIGURE:
		break;
	case STCE_EEH_PE_ENABLE:
		/* The kernel's change of owner unfreezes a frozen PE. */
		if (!(atomic_load(&pe->eeh) & PE_EEH_RESET))
			eeh_thaw(pe, PE_EEH_DMA_FROZEN | PE_EEH_MMIO_FROZEN);
		break;
	case STCE_EEH_PE_UNFREEZE_IO:
		eeh_thaw(pe, PE_EEH_MMIO_FROZEN);
		break;
	case STCE_EEH_PE_UNFREEZE_DMA:
		eeh_thaw(pe, PE_EEH_DMA_FROZEN);
		break;
	case STCE_EEH_PE_GET_STATE:
		ret = eeh_get_state(pe);
		break;
	case STCE_EEH_PE_RESET_HOT:
	case STCE_EEH_PE_RESET_FUNDAMENTAL:
		atomic_fetch_or(&pe->eeh, PE_EEH_RESET | PE_EEH_DMA_FROZEN |
					  PE_EEH_MMIO_FROZEN);
		break;
	case STCE_EEH_PE_RESET_DEACTIVATE:
		if (atomic_fetch_and(&pe->eeh, ~PE_EEH_RESET) & PE_EEH_RESET)
			atomic_fetch_add(&pe->reset_count, 1);
		eeh_thaw(pe, PE_EEH_DMA_FROZEN | PE_EEH_MMIO_FROZEN);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

int stce_pe_eeh_inject(struct stce_pe *pe, unsigned int type,
		       unsigned int func, uint64_t addr, uint64_t mask)
{
	(void)mask;
	/* The kernel's eeh_pe_inject_err(): an unknown type is out of range. */
	if (type != STCE_EEH_ERR_TYPE_32 && type != STCE_EEH_ERR_TYPE_64)
		return -ERANGE;
	if (func > STCE_EEH_ERR_FUNC_MAX)
		return -EINVAL;
	pe_freeze(pe, STCE_EEH_FAULT_INJECTED, addr, 0);
	return 0;
}

void stce_pe_eeh_fault(const struct stce_pe *pe, struct stce_eeh_fault *f)
{
	struct stce_pe *mpe = (struct stce_pe *)pe;

	pthread_mutex_lock(&mpe->fault_lock);
	f->reason = pe->fault_reason;
	f->iova = pe->fault_iova;
	f->dir = pe->fault_dir;
	pthread_mutex_unlock(&mpe->fault_lock);
	f->count = atomic_load(&pe->fault_count);
}

bool stce_pe_mmio_frozen(const struct stce_pe *pe)
{
	return atomic_load(&pe->eeh) & (PE_EEH_MMIO_FROZEN | PE_EEH_RESET);
}

bool stce_pe_dma_frozen(const struct stce_pe *pe)
{
	return atomic_load(&pe->eeh) & (PE_EEH_DMA_FROZEN | PE_EEH_RESET);
}

bool stce_pe_reset_asserted(const struct stce_pe *pe)
{
	return atomic_load(&pe->eeh) & PE_EEH_RESET;
}

uint64_t stce_pe_reset_count(const struct stce_pe *pe)
{
	return atomic_load(&pe->reset_count);
}
