// SPDX-License-Identifier: MIT
/*
 * The sPAPR TCE container: groups, windows, pre-registration, ENABLE.
 *
 * On PowerNV both flavours run the same window model (as Linux has since
 * the dynamic-window work): the container creates its tables itself,
 * charging each one to locked_vm before it is allocated, and the default
 * 32-bit window is "pending" until the first MAP, UNMAP or TCE_CREATE
 * needs it. v1 adds ENABLE's whole-window charge and pins per map; v2 adds
 * registration and user-created windows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>

#include "common/alloc.h"
#include "common/common.h"
#include "common/lockdep.h"
#include "container/container_internal.h"

/* ---- life cycle ---------------------------------------------------- */

/*
 * The tables' kill hook: the TCE cache of every PE the table is
 * programmed in must forget the cleared entries before their pages go.
 */
static void container_kill(void *ctx, const struct stce_table *t,
			   uint64_t index, uint64_t count)
{
	const struct container_window *k = ctx;
	unsigned int shift = k->page_shift;
	struct stce_container *c = k->c;
	/* A window's bus addresses start at its table's bus offset. */
	uint64_t iova = k->bus_offset + (index << shift);
	uint64_t mask = atomic_load(&c->group_mask);

	for (; mask; mask &= mask - 1) {
		unsigned int i = (unsigned int)__builtin_ctzll(mask);
		struct stce_pe *pe = atomic_load(&c->groups[i]);

		if (pe)
			stce_pe_tce_kill_range_ordered(pe, iova,
						       count << shift);
	}
}

/* See <spapr_tce/container.h>. */
int stce_container_create(unsigned int type, unsigned int flags,
			  struct stce_container **out)
{
	return stce_container_create_in(type, flags, NULL, out);
}

/* See <spapr_tce/container.h>. */
int stce_container_create_in(unsigned int type, unsigned int flags,
			     struct stce_grace *grace,
			     struct stce_container **out)
{
	struct stce_container *c;

	if (type != STCE_IOMMU_V1 && type != STCE_IOMMU_V2)
		return -EINVAL;
	if (flags & ~STCE_CONTAINER_KERNEL_QUIRKS)
		return -EINVAL;
	c = stce_zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->type = type;
	c->flags = flags;
	stce_grace_init(&c->own_grace);
	c->grace = grace ? grace : &c->own_grace;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

/* See <spapr_tce/container.h>. */
unsigned int stce_container_type(const struct stce_container *c)
{
	return c->type;
}

/* See <spapr_tce/container.h>. */
unsigned int stce_container_nr_groups(const struct stce_container *c)
{
	return c->nr_groups;
}

/*
 * The flavour first (the kernel's ioctl switch answers -ENOTTY for the
 * other flavour's requests before anything else), then the state the
 * request needs. Groups and enabled are read without the lock: a
 * function that then takes it checks again what may have changed.
 */
/* See <spapr_tce/container.h>. */
int stce_container_check(const struct stce_container *c, unsigned int op)
{
	bool v2 = container_v2(c);

	switch (op) {
	case STCE_CONTAINER_OP_ENABLE:
	case STCE_CONTAINER_OP_DISABLE:
		return v2 ? -ENOTTY : 0;
	case STCE_CONTAINER_OP_REGISTER:
	case STCE_CONTAINER_OP_UNREGISTER:
		return v2 ? 0 : -ENOTTY;
	case STCE_CONTAINER_OP_MAP:
	case STCE_CONTAINER_OP_UNMAP:
		/* Acquire: a v2 MAP that sees the registration sees its region. */
		return atomic_load_explicit(&c->enabled, memory_order_acquire) ?
		       0 : -EPERM;
	case STCE_CONTAINER_OP_CREATE_WINDOW:
	case STCE_CONTAINER_OP_REMOVE_WINDOW:
		if (!v2)
			return -ENOTTY;
		return atomic_load(&c->nr_groups) ? 0 : -ENXIO;
	case STCE_CONTAINER_OP_GET_INFO:
		return atomic_load(&c->nr_groups) ? 0 : -ENXIO;
	case STCE_CONTAINER_OP_EEH:
		return atomic_load(&c->nr_groups) ? 0 : -ENODEV;
	default:
		return -EINVAL;
	}
}

/* See container_internal.h. */
struct stce_pe *container_first_pe(struct stce_container *c)
{
	stce_assert_held(&c->lock);
	for (unsigned int i = 0; i < CONTAINER_MAX_GROUPS; i++) {
		struct stce_pe *pe = atomic_load(&c->groups[i]);

		if (pe)
			return pe;
	}
	return NULL;
}

/* ---- windows ------------------------------------------------------- */

static int find_free_window(struct stce_container *c)
{
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
		if (!atomic_load(&c->tables[i]) && !(c->removing & (1u << i)))
			return (int)i;
	return -ENOSPC;
}

static void unset_everywhere(struct stce_container *c, unsigned int num)
{
	for (unsigned int i = 0; i < CONTAINER_MAX_GROUPS; i++) {
		struct stce_pe *pe = atomic_load(&c->groups[i]);

		if (pe && stce_pe_window_table(pe, num))
			stce_pe_unset_window(pe, num);
	}
}

/*
 * The kernel's table geometry (KERNEL_QUIRKS): a table holds at least one
 * host page of TCEs, so a window's real extent is never below
 * host_page / 8 IOMMU pages (a 64K window of 64K pages reaches 512M), and
 * a window smaller than one page is taken and charged as one page.
 */
static void kernel_window_sizes(struct stce_container *c, struct stce_pe *pe,
				unsigned int page_shift, uint64_t window_size,
				uint64_t *table_window, uint64_t *charge_window)
{
	struct stce_pe_caps caps;
	uint64_t min_entries;

	*table_window = *charge_window = window_size;
	if (!container_quirks(c) || !stce_is_pow2(window_size) ||
	    page_shift >= 64)
		return;
	stce_pe_get_caps(pe, &caps);
	min_entries = 1ULL << (caps.host_page_shift - 3);
	if (page_shift + stce_ilog2(min_entries) >= 64)
		return;
	*charge_window = stce_max64(window_size, 1ULL << page_shift);
	*table_window = stce_max64(window_size, min_entries << page_shift);
}

/*
 * The largest chunk the platform allocates in one piece: the kernel's
 * largest page order, 16 MiB with 64K pages and with 4K pages alike
 * (Debian's 6.12 ppc64el kernels, both flavours measured on the oracle:
 * 8G of 4K pages in one level works, 16G does not); a level that needs
 * more fails with -ENOMEM after the charge, as on the kernel.
 */
#define MAX_CHUNK_SHIFT	24

/*
 * The allocation's own checks, in the kernel's order: the 55-bit rule
 * (-EINVAL, stce_table_create() makes it too), then, in kernel mode, the
 * largest chunk the platform can allocate (-ENOMEM).
 */
static int table_fits_platform(struct stce_container *c,
			       const struct stce_table_params *p)
{
	int chunk = stce_table_chunk_shift(p->page_shift, p->window_size,
					   p->levels, p->host_page_shift);

	if (chunk < 0)
		return chunk;
	if ((unsigned int)(chunk - 3) * p->levels + p->page_shift >= 55)
		return -EINVAL;
	if (container_quirks(c) && chunk > MAX_CHUNK_SHIFT)
		return -ENOMEM;
	return 0;
}

/*
 * Charge, build and program one table. The order is the kernel's: the
 * PE's checks, then the charge, then the allocation (with its own
 * checks); unlike the kernel we return the charge when a later step fails.
 */
static int create_window_locked(struct stce_container *c,
				unsigned int page_shift, uint64_t window_size,
				unsigned int levels, uint64_t *start)
{
	struct stce_table_params params;
	struct stce_table *t;
	struct stce_pe *pe0;
	uint64_t pages, table_window, charge_window;
	int num, ret;

	stce_assert_held(&c->lock);
	pe0 = container_first_pe(c);
	/* The last group may have left since the caller looked. */
	if (!pe0)
		return -ENXIO;
	num = find_free_window(c);
	if (num < 0)
		return num;
	kernel_window_sizes(c, pe0, page_shift, window_size, &table_window,
			    &charge_window);
	ret = stce_pe_table_params(pe0, (unsigned int)num, page_shift,
				   table_window, levels, &params);
	if (ret)
		return ret;
	pages = stce_account_bytes_to_pages(
		stce_table_size_hp(page_shift, charge_window, levels,
				   params.host_page_shift));
	if (!pages)
		return -EINVAL;
	ret = stce_account_charge(pages);
	if (ret)
		return ret;

	ret = table_fits_platform(c, &params);
	if (ret)
		goto uncharge;
	params.flags |= STCE_TABLE_USERSPACE_VIEW;
	ret = stce_table_create(&params, &t);
	if (ret)
		goto uncharge;
	c->win[num] = (struct container_window){
		.c = c, .bus_offset = stce_table_bus_offset(t),
		.window_size = stce_table_window_size(t),
		.entries = stce_table_entries(t),
		.page_shift = stce_table_page_shift(t),
	};
	stce_table_set_kill(t, container_kill, &c->win[num]);
	for (unsigned int i = 0; i < CONTAINER_MAX_GROUPS; i++) {
		struct stce_pe *pe = atomic_load(&c->groups[i]);

		if (!pe)
			continue;
		ret = stce_pe_set_window(pe, (unsigned int)num, t);
		if (ret)
			goto unset;
	}
	c->charged_pages[num] = pages;
	atomic_store(&c->tables[num], t);
	if (start)
		*start = params.bus_offset;
	return 0;

unset:
	unset_everywhere(c, (unsigned int)num);
	stce_table_destroy(t);
uncharge:
	stce_account_uncharge(pages);
	return ret;
}

/* See container_internal.h. */
int container_create_default_window(struct stce_container *c)
{
	struct stce_pe_caps caps;
	int ret = 0;

	if (!atomic_load(&c->def_window_pending))
		return 0;
	pthread_mutex_lock(&c->lock);
	if (!atomic_load(&c->def_window_pending))
		goto unlock;
	if (!c->nr_groups) {
		ret = -ENODEV;
		goto unlock;
	}
	stce_pe_get_caps(container_first_pe(c), &caps);
	ret = create_window_locked(c, caps.dma32_page_shift, caps.dma32_size,
				   1, NULL);
	if (!ret)
		atomic_store(&c->def_window_pending, false);
unlock:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* See <spapr_tce/container.h>. */
int stce_container_create_window(struct stce_container *c,
				 unsigned int page_shift, uint64_t window_size,
				 unsigned int levels, uint64_t *start)
{
	int ret = stce_container_check(c, STCE_CONTAINER_OP_CREATE_WINDOW);

	if (ret)
		return ret;
	ret = container_create_default_window(c);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	ret = create_window_locked(c, page_shift, window_size, levels, start);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* ---- the windows, for a hypervisor ---------------------------------- */

/*
 * The guard is the grace guard's public face (as the DMA guard is the
 * PE's): the same three fields, copied, so that the container's grace
 * stays private and a section costs what the grace's inline one costs.
 */
/* See <spapr_tce/container.h>. */
void stce_container_read_lock(struct stce_container *c,
			      struct stce_container_guard *guard)
{
	struct stce_grace_guard gg;

	stce_grace_read_lock(c->grace, &gg);
	*guard = (struct stce_container_guard){ gg.slot, gg.idx, gg.held };
}

/* See <spapr_tce/container.h>. */
void stce_container_read_unlock(struct stce_container *c,
				struct stce_container_guard *guard)
{
	struct stce_grace_guard gg = { guard->slot, guard->idx, guard->held };

	stce_grace_read_unlock(c->grace, &gg);
	guard->held = false;
}

/* See <spapr_tce/container.h>. */
struct stce_table *stce_container_window_table(struct stce_container *c,
					       unsigned int num)
{
	if (num >= STCE_PE_MAX_WINDOWS)
		return NULL;
	return atomic_load_explicit(&c->tables[num], memory_order_acquire);
}

/* See <spapr_tce/container.h>. */
int stce_container_find_window(struct stce_container *c, uint64_t bus_start,
			       unsigned int page_shift, uint64_t bytes,
			       unsigned int *num, struct stce_table **table)
{
	int ret = container_create_default_window(c);

	/* Without a group there is no window: the answer below. */
	if (ret && ret != -ENODEV)
		return ret;
	ret = -EINVAL;
	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		struct stce_table *t = atomic_load(&c->tables[i]);

		if (!t || stce_table_page_shift(t) > page_shift ||
		    stce_table_bus_offset(t) != bus_start ||
		    stce_table_window_size(t) < bytes)
			continue;
		*num = i;
		*table = t;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static int window_holding(struct stce_container *c, uint64_t addr)
{
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		struct stce_table *t = atomic_load(&c->tables[i]);
		uint64_t index;

		if (t && !stce_table_index(t, addr, &index))
			return (int)i;
	}
	return -EINVAL;
}

/*
 * Take window @num away: unpublish it, wait until no MAP or UNMAP can
 * still use it, clear it (pages released after the kill), unset it from
 * every PE, free it, return its charge.
 *
 * The wait drops the lock: in an owner's grace (stce_container_create_in)
 * a reader inside the owner's section may be about to take it (the first
 * MAP makes the pending default window; the VFIO host runs REGISTER and
 * TCE_CREATE inside its section). The slot stays reserved (removing)
 * until the window is gone, so no TCE_CREATE takes it meanwhile.
 */
static void remove_window_locked(struct stce_container *c, unsigned int num)
{
	struct stce_table *t;

	stce_assert_held(&c->lock);
	t = atomic_exchange(&c->tables[num], NULL);
	c->removing |= 1u << num;
	pthread_mutex_unlock(&c->lock);
	stce_grace_synchronize(c->grace);
	pthread_mutex_lock(&c->lock);
	container_clear(c, t, 0, stce_table_entries(t), true);
	unset_everywhere(c, num);
	stce_table_destroy(t);
	stce_account_uncharge(c->charged_pages[num]);
	c->charged_pages[num] = 0;
	c->removing &= ~(1u << num);
}

/* See <spapr_tce/container.h>. */
int stce_container_remove_window(struct stce_container *c, uint64_t addr)
{
	int num, ret = stce_container_check(c, STCE_CONTAINER_OP_REMOVE_WINDOW);

	if (ret)
		return ret;
	/* The pending default window goes without ever existing. */
	if (addr == 0 && atomic_exchange(&c->def_window_pending, false))
		return 0;
	pthread_mutex_lock(&c->lock);
	num = window_holding(c, addr);
	if (num < 0)
		ret = num;
	else
		remove_window_locked(c, (unsigned int)num);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* ---- groups -------------------------------------------------------- */

static int group_slot(struct stce_container *c, const struct stce_pe *pe)
{
	for (unsigned int i = 0; i < CONTAINER_MAX_GROUPS; i++)
		if (atomic_load(&c->groups[i]) == pe)
			return (int)i;
	return -ENOENT;
}

static bool caps_compatible(const struct stce_pe *a, const struct stce_pe *b)
{
	struct stce_pe_caps ca, cb;

	stce_pe_get_caps(a, &ca);
	stce_pe_get_caps(b, &cb);
	return !memcmp(&ca, &cb, sizeof(ca));
}

/* Program every window into @pe in one step (none on failure). */
static int set_all_windows(struct stce_container *c, struct stce_pe *pe)
{
	struct stce_table *t[STCE_PE_MAX_WINDOWS];
	bool any = false;

	for (unsigned int num = 0; num < STCE_PE_MAX_WINDOWS; num++) {
		t[num] = atomic_load(&c->tables[num]);
		any |= t[num] != NULL;
	}
	return any ? stce_pe_set_windows(pe, t) : 0;
}

static int attach_locked(struct stce_container *c, struct stce_pe *pe)
{
	struct stce_pe *first;
	struct stce_pe_caps caps;
	int slot, ret;

	stce_assert_held(&c->lock);
	first = container_first_pe(c);
	stce_pe_get_caps(pe, &caps);
	/* v2 needs dynamic windows; v1 shares no tables among PEs. */
	if (container_v2(c) && caps.max_windows < 2)
		return -EINVAL;
	if (!container_v2(c) && c->nr_groups)
		return -EBUSY;
	if (group_slot(c, pe) >= 0)
		return -EBUSY;
	if (first && !caps_compatible(first, pe))
		return -EPERM;
	slot = group_slot(c, NULL);
	if (slot < 0)
		return -ENOSPC;

	ret = stce_pe_take_ownership(pe);
	if (ret)
		return ret;
	ret = set_all_windows(c, pe);
	if (ret) {
		stce_pe_release_ownership(pe);
		return ret;
	}
	if (!c->nr_groups && !atomic_load(&c->tables[0]))
		atomic_store(&c->def_window_pending, true);
	atomic_store(&c->groups[slot], pe);
	atomic_fetch_or(&c->group_mask, 1ULL << slot);
	c->nr_groups++;
	return 0;
}

/* See <spapr_tce/container.h>. */
bool stce_container_has_group(struct stce_container *c,
			      const struct stce_pe *pe)
{
	bool found;

	/* group_slot(c, NULL) would find a free slot. */
	if (!pe)
		return false;
	pthread_mutex_lock(&c->lock);
	found = group_slot(c, pe) >= 0;
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* See <spapr_tce/container.h>. */
int stce_container_caps(struct stce_container *c, struct stce_pe_caps *caps)
{
	struct stce_pe *pe;

	pthread_mutex_lock(&c->lock);
	pe = container_first_pe(c);
	if (pe)
		stce_pe_get_caps(pe, caps);
	pthread_mutex_unlock(&c->lock);
	return pe ? 0 : -ENXIO;
}

/* See <spapr_tce/container.h>. */
int stce_container_attach(struct stce_container *c, struct stce_pe *pe)
{
	int ret;

	pthread_mutex_lock(&c->lock);
	ret = attach_locked(c, pe);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static int detach_locked(struct stce_container *c, struct stce_pe *pe)
{
	int slot;

	stce_assert_held(&c->lock);
	slot = group_slot(c, pe);
	if (slot < 0)
		return slot;
	/*
	 * Releasing the PE takes every window off in one step and waits out
	 * its DMAs; only then may the kill hook stop covering it.
	 */
	stce_pe_release_ownership(pe);
	atomic_store(&c->groups[slot], NULL);
	atomic_fetch_and(&c->group_mask, ~(1ULL << slot));
	c->nr_groups--;
	return 0;
}

/* See <spapr_tce/container.h>. */
int stce_container_detach(struct stce_container *c, struct stce_pe *pe)
{
	int ret;

	pthread_mutex_lock(&c->lock);
	ret = detach_locked(c, pe);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* ---- GET_INFO, ENABLE ---------------------------------------------- */

/*
 * The caps are the first group's PE's, read under the lock
 * (stce_container_caps): the lock is the one thing of a const container
 * this call changes.
 */
/* See <spapr_tce/container.h>. */
int stce_container_get_info(const struct stce_container *c,
			    struct stce_container_info *info)
{
	struct stce_pe_caps caps;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_GET_INFO);

	if (ret)
		return ret;
	/* -ENXIO too when the last group left since the check. */
	ret = stce_container_caps((struct stce_container *)c, &caps);
	if (ret)
		return ret;
	memset(info, 0, sizeof(*info));
	info->dma32_window_start = (uint32_t)caps.dma32_start;
	info->dma32_window_size = (uint32_t)caps.dma32_size;
	if (container_v2(c) && caps.max_windows) {
		info->flags = 1;	/* VFIO_IOMMU_SPAPR_INFO_DDW */
		info->pgsizes = caps.pgsizes;
		info->max_dynamic_windows_supported = caps.max_windows;
		info->levels = caps.max_levels;
	}
	return 0;
}

/* See <spapr_tce/container.h>. */
int stce_container_enable(struct stce_container *c)
{
	struct stce_pe_caps caps;
	uint64_t pages;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_ENABLE);

	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	ret = -EBUSY;
	if (atomic_load(&c->enabled))
		goto unlock;
	ret = -ENODEV;
	if (!c->nr_groups)
		goto unlock;
	stce_pe_get_caps(container_first_pe(c), &caps);
	ret = -EPERM;
	if (!caps.dma32_size)
		goto unlock;
	/* The worst case: every page of the 32-bit window pinned. */
	pages = caps.dma32_size >> stce_host_page_shift();
	ret = stce_account_charge(pages);
	if (ret)
		goto unlock;
	c->enable_charged_pages = pages;
	atomic_store(&c->enabled, true);
unlock:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static void disable_locked(struct stce_container *c)
{
	stce_assert_held(&c->lock);
	if (!atomic_exchange(&c->enabled, false))
		return;
	stce_account_uncharge(c->enable_charged_pages);
	c->enable_charged_pages = 0;
}

/* See <spapr_tce/container.h>. */
int stce_container_disable(struct stce_container *c)
{
	int ret = stce_container_check(c, STCE_CONTAINER_OP_DISABLE);

	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	disable_locked(c);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* See <spapr_tce/container.h>. */
bool stce_container_enabled(const struct stce_container *c)
{
	return atomic_load(&c->enabled);
}

/* ---- registration (v2) --------------------------------------------- */

static int registered_index(const struct stce_container *c,
			    const struct stce_region *r)
{
	for (unsigned int i = 0; i < c->nr_registered; i++)
		if (c->registered[i] == r)
			return (int)i;
	return -ENOENT;
}

static int registered_add(struct stce_container *c, struct stce_region *r)
{
	if (c->nr_registered == c->registered_cap) {
		unsigned int cap = c->registered_cap ? 2 * c->registered_cap : 8;
		struct stce_region **grown = stce_zalloc(cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		if (c->nr_registered)
			memcpy(grown, c->registered,
			       c->nr_registered * sizeof(*grown));
		stce_free(c->registered);
		c->registered = grown;
		c->registered_cap = cap;
	}
	c->registered[c->nr_registered++] = r;
	return 0;
}

static void registered_del(struct stce_container *c, unsigned int i)
{
	c->registered[i] = c->registered[--c->nr_registered];
}

/* See <spapr_tce/container.h>. */
int stce_container_register(struct stce_container *c, uint64_t ua,
			    uint64_t size)
{
	struct stce_region *r;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_REGISTER);

	if (ret)
		return ret;
	/* The kernel fails a zero-sized region in its allocation. */
	if (!size && container_quirks(c))
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	ret = stce_prereg_register(ua, size, &r);
	/*
	 * Only the first N pages pinnable: the kernel answers N (nothing
	 * registered, errno untouched); strict mode calls it what it is.
	 */
	if (ret > 0 && !container_quirks(c))
		ret = -EFAULT;
	if (ret)
		goto unlock;
	if (registered_index(c, r) >= 0)
		ret = -EBUSY;
	else
		ret = registered_add(c, r);
	if (ret) {
		/* Our extra user of the region goes; it is not mapped by us. */
		stce_prereg_put_deferred(r);
		goto unlock;
	}
	atomic_store(&c->enabled, true);
unlock:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* The region this container registered at exactly [ua, ua + size). */
static int registered_find(const struct stce_container *c, uint64_t ua,
			   uint64_t size)
{
	for (unsigned int i = 0; i < c->nr_registered; i++)
		if (stce_region_ua(c->registered[i]) == ua &&
		    stce_region_size(c->registered[i]) == size)
			return (int)i;
	return -ENOENT;
}

/* See <spapr_tce/container.h>. */
int stce_container_unregister(struct stce_container *c, uint64_t ua,
			      uint64_t size)
{
	uint64_t page = stce_host_page_size();
	int i, ret = stce_container_check(c, STCE_CONTAINER_OP_UNREGISTER);

	if (ret)
		return ret;
	if (!stce_is_aligned(ua, page) || !stce_is_aligned(size, page))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	i = registered_find(c, ua, size);
	if (i < 0) {
		ret = i;
		goto unlock;
	}
	if (container_quirks(c)) {
		/* The kernel answers 0 and keeps the mappings usable. */
		stce_prereg_put_deferred(c->registered[i]);
	} else {
		ret = stce_prereg_put(c->registered[i]);
		if (ret)
			goto unlock;
	}
	registered_del(c, (unsigned int)i);
unlock:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* ---- stats, EEH, teardown ------------------------------------------ */

/* See <spapr_tce/container.h>. */
void stce_container_get_stats(struct stce_container *c,
			      struct stce_container_stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		struct stce_table *t = atomic_load(&c->tables[i]);
		struct stce_table_info info;

		if (!t)
			continue;
		stce_table_get_info(t, &info);
		s->window[i].start = info.bus_offset;
		s->window[i].size = info.window_size;
		s->window[i].page_shift = info.page_shift;
		s->window[i].levels = info.levels;
		s->window[i].charged_pages = c->charged_pages[i];
		s->window[i].allocated_bytes = info.allocated_bytes;
	}
	s->default_window_pending = atomic_load(&c->def_window_pending);
	s->enable_charged_pages = c->enable_charged_pages;
	s->nr_registered = c->nr_registered;
	pthread_mutex_unlock(&c->lock);
}

/* See <spapr_tce/container.h>. */
int stce_container_eeh_inject(struct stce_container *c, unsigned int type,
			      unsigned int func, uint64_t addr, uint64_t mask)
{
	struct stce_pe *pe;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_EEH);

	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	pe = container_first_pe(c);
	ret = pe ? stce_pe_eeh_inject(pe, type, func, addr, mask) : -ENODEV;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* See <spapr_tce/container.h>. */
int stce_container_eeh_op(struct stce_container *c, unsigned int op)
{
	struct stce_pe *pe;
	int ret = stce_container_check(c, STCE_CONTAINER_OP_EEH);

	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	pe = container_first_pe(c);
	ret = pe ? stce_pe_eeh_op(pe, op) : -ENODEV;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* See <spapr_tce/container.h>. */
void stce_container_destroy(struct stce_container *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < CONTAINER_MAX_GROUPS; i++) {
		struct stce_pe *pe = atomic_load(&c->groups[i]);

		if (pe)
			detach_locked(c, pe);
	}
	for (unsigned int num = 0; num < STCE_PE_MAX_WINDOWS; num++)
		if (atomic_load(&c->tables[num]))
			remove_window_locked(c, num);
	/* Other containers may still map a shared region: never fails. */
	for (unsigned int i = 0; i < c->nr_registered; i++)
		stce_prereg_put_deferred(c->registered[i]);
	disable_locked(c);
	pthread_mutex_unlock(&c->lock);

	stce_free(c->registered);
	pthread_mutex_destroy(&c->lock);
	stce_grace_destroy(&c->own_grace);
	stce_free(c);
}
