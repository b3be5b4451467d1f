// SPDX-License-Identifier: MIT
/*
 * The guest: memory map, LIOBN tables, attachments of container windows.
 *
 * Everything here is the writer side: under g->lock, build the next
 * immutable array (memory map, LIOBN list, attachment set), publish it
 * with one atomic store, wait for a grace period of g->grace (no
 * hypercall can still hold the old one) and free the old one.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/table.h>

#include "common/alloc.h"
#include "common/common.h"
#include "hcall/hcall_internal.h"

/* See <spapr_tce/hcall.h>. */
int stce_guest_create(struct stce_guest **out)
{
	struct stce_guest *g = stce_zalloc(sizeof(*g));

	if (!g)
		return -ENOMEM;
	stce_grace_init(&g->grace);
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return 0;
}

/* ---- memory map ---------------------------------------------------- */

/* See hcall_internal.h. */
const struct hc_slot *hc_find_slot(const struct hc_memmap *m, uint64_t gpa)
{
	size_t lo = 0, hi;

	if (!m)
		return NULL;
	hi = m->nr;
	/* The last slot starting at or below gpa. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->s[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || gpa - m->s[lo - 1].gpa >= m->s[lo - 1].size)
		return NULL;
	return &m->s[lo - 1];
}

static struct hc_memmap *memmap_alloc(size_t nr)
{
	struct hc_memmap *m = stce_zalloc(sizeof(*m) + nr * sizeof(m->s[0]));

	if (m)
		m->nr = nr;
	return m;
}

/* Publish @next as the memory map and free the old one after readers. */
static void memmap_publish_locked(struct stce_guest *g, struct hc_memmap *next)
{
	struct hc_memmap *old = atomic_exchange(&g->mem, next);

	stce_assert_held(&g->lock);
	stce_grace_synchronize(&g->grace);
	stce_free(old);
}

/* See <spapr_tce/hcall.h>. */
int stce_guest_add_memory(struct stce_guest *g, uint64_t gpa, uint64_t size,
			  uint64_t ua)
{
	uint64_t page = stce_host_page_size();
	struct hc_memmap *cur, *next;
	size_t nr, pos = 0;
	int ret = -EINVAL;

	if (!size || !stce_is_aligned(gpa | size | ua, page) ||
	    !stce_range_fits(gpa, size) || !stce_range_fits(ua, size))
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	cur = atomic_load(&g->mem);
	nr = cur ? cur->nr : 0;
	for (; pos < nr && cur->s[pos].gpa < gpa; pos++)
		;
	/* Neither the slot before nor the one after may overlap. */
	if (pos && cur->s[pos - 1].gpa + (cur->s[pos - 1].size - 1) >= gpa)
		goto unlock;
	if (pos < nr && gpa + (size - 1) >= cur->s[pos].gpa)
		goto unlock;
	ret = -ENOMEM;
	next = memmap_alloc(nr + 1);
	if (!next)
		goto unlock;
	if (pos)
		memcpy(next->s, cur->s, pos * sizeof(next->s[0]));
	next->s[pos] = (struct hc_slot){ gpa, size, ua };
	if (nr > pos)
		memcpy(&next->s[pos + 1], &cur->s[pos],
		       (nr - pos) * sizeof(next->s[0]));
	memmap_publish_locked(g, next);
	ret = 0;
unlock:
	pthread_mutex_unlock(&g->lock);
	return ret;
}

/* See <spapr_tce/hcall.h>. */
int stce_guest_remove_memory(struct stce_guest *g, uint64_t gpa,
			     uint64_t size)
{
	struct hc_memmap *cur, *next = NULL;
	size_t i, j = 0;
	int ret = -ENOENT;

	pthread_mutex_lock(&g->lock);
	cur = atomic_load(&g->mem);
	for (i = 0; cur && i < cur->nr; i++)
		if (cur->s[i].gpa == gpa && cur->s[i].size == size)
			break;
	if (!cur || i == cur->nr)
		goto unlock;
	if (cur->nr > 1) {
		ret = -ENOMEM;
		next = memmap_alloc(cur->nr - 1);
		if (!next)
			goto unlock;
		for (size_t k = 0; k < cur->nr; k++)
			if (k != i)
				next->s[j++] = cur->s[k];
	}
	memmap_publish_locked(g, next);
	ret = 0;
unlock:
	pthread_mutex_unlock(&g->lock);
	return ret;
}

/* See <spapr_tce/hcall.h>. */
int stce_guest_gpa_to_ua(struct stce_guest *g, uint64_t gpa, uint64_t *ua)
{
	struct stce_grace_guard guard;
	const struct hc_slot *s;
	int ret = -EFAULT;

	stce_grace_read_lock(&g->grace, &guard);
	s = hc_find_slot(atomic_load_explicit(&g->mem, memory_order_acquire),
			 gpa);
	if (s) {
		*ua = s->ua + (gpa - s->gpa);
		ret = 0;
	}
	stce_grace_read_unlock(&g->grace, &guard);
	return ret;
}

/* ---- LIOBN tables -------------------------------------------------- */

/* See hcall_internal.h. */
struct hc_table *hc_find_liobn(const struct hc_liobns *l, uint64_t liobn)
{
	size_t lo = 0, hi;

	if (!l)
		return NULL;
	hi = l->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v = l->t[mid]->liobn;

		if (v == liobn)
			return l->t[mid];
		if (v < liobn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* See hcall_internal.h. */
struct hc_table *hc_find_liobn_locked(struct stce_guest *g, uint64_t liobn)
{
	stce_assert_held(&g->lock);
	return hc_find_liobn(atomic_load(&g->liobns), liobn);
}

static struct hc_liobns *liobns_alloc(size_t nr)
{
	struct hc_liobns *l = stce_zalloc(sizeof(*l) + nr * sizeof(l->t[0]));

	if (l)
		l->nr = nr;
	return l;
}

/*
 * What KVM charges for a guest table: the pages of TCEs plus the pages of
 * the structure that tracks them (kvmppc_stt_pages()).
 */
static uint64_t table_charge(uint64_t size)
{
	uint64_t page = stce_host_page_size();
	uint64_t tce_pages = stce_round_up(size * 8, page) / page;
	uint64_t track = sizeof(struct hc_table) + tce_pages * sizeof(void *);

	return tce_pages + stce_round_up(track, page) / page;
}

static void table_free(struct hc_table *t)
{
	if (!t)
		return;
	if (t->view)
		munmap((void *)t->view, t->view_bytes);
	stce_free(atomic_load(&t->atts));
	stce_free(t);
}

/* See hcall_internal.h. */
int hc_create_table_locked(struct stce_guest *g, uint64_t liobn,
			   unsigned int page_shift, uint64_t offset,
			   uint64_t size)
{
	struct hc_liobns *cur = atomic_load(&g->liobns), *next;
	size_t nr = cur ? cur->nr : 0, pos = 0;
	struct hc_table *t;
	uint64_t charge;
	void *view;
	int ret;

	stce_assert_held(&g->lock);
	if (!size || page_shift < 12 || page_shift > 34 ||
	    offset + size < offset || offset + size > (UINT64_MAX >> page_shift))
		return -EINVAL;
	charge = table_charge(size);
	ret = stce_account_charge(charge);
	if (ret)
		return ret;
	ret = -ENOMEM;
	t = stce_zalloc(sizeof(*t));
	if (!t)
		goto uncharge;
	t->liobn = liobn;
	t->page_shift = page_shift;
	t->offset = offset;
	t->size = size;
	t->charged = charge;
	t->view_bytes = stce_round_up(size * 8, 4096);
	/* Reserved, not committed: pages appear on first write (KVM
	 * allocates its TCE pages on first use too). */
	view = mmap(NULL, t->view_bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (view == MAP_FAILED)
		goto free_table;
	t->view = view;

	if (hc_find_liobn(cur, liobn)) {
		ret = -EBUSY;
		goto free_table;
	}
	next = liobns_alloc(nr + 1);
	if (!next)
		goto free_table;
	for (; pos < nr && cur->t[pos]->liobn < liobn; pos++)
		next->t[pos] = cur->t[pos];
	next->t[pos] = t;
	for (size_t i = pos; i < nr; i++)
		next->t[i + 1] = cur->t[i];
	atomic_store(&g->liobns, next);
	stce_grace_synchronize(&g->grace);
	stce_free(cur);
	return 0;

free_table:
	table_free(t);
uncharge:
	stce_account_uncharge(charge);
	return ret;
}

/* See <spapr_tce/hcall.h>. */
int stce_guest_create_tce_table(struct stce_guest *g, uint64_t liobn,
				unsigned int page_shift, uint64_t offset,
				uint64_t size)
{
	int ret;

	pthread_mutex_lock(&g->lock);
	ret = hc_create_table_locked(g, liobn, page_shift, offset, size);
	pthread_mutex_unlock(&g->lock);
	return ret;
}

/* See hcall_internal.h. */
int hc_remove_table_locked(struct stce_guest *g, uint64_t liobn)
{
	struct hc_liobns *cur = atomic_load(&g->liobns), *next = NULL;
	struct hc_table *t = hc_find_liobn(cur, liobn);
	size_t j = 0;

	stce_assert_held(&g->lock);
	if (!t)
		return -ENOENT;
	if (cur->nr > 1) {
		next = liobns_alloc(cur->nr - 1);
		if (!next)
			return -ENOMEM;
		for (size_t i = 0; i < cur->nr; i++)
			if (cur->t[i] != t)
				next->t[j++] = cur->t[i];
	}
	atomic_store(&g->liobns, next);
	stce_grace_synchronize(&g->grace);
	stce_free(cur);
	stce_account_uncharge(t->charged);
	table_free(t);
	return 0;
}

/* See <spapr_tce/hcall.h>. */
int stce_guest_remove_tce_table(struct stce_guest *g, uint64_t liobn)
{
	int ret;

	pthread_mutex_lock(&g->lock);
	ret = hc_remove_table_locked(g, liobn);
	pthread_mutex_unlock(&g->lock);
	return ret;
}

/* ---- attachments --------------------------------------------------- */

/* The set of unique windows the bindings of @t name, or NULL for none. */
static int build_set(const struct hc_table *t, struct hc_attach_set **out)
{
	struct hc_window w[STCE_HCALL_MAX_BINDINGS];
	struct hc_attach_set *set;
	unsigned int nr = 0, min_shift = 64;

	for (unsigned int i = 0; i < t->nr_binds; i++) {
		const struct hc_binding *b = &t->binds[i];
		unsigned int k;

		for (k = 0; k < nr; k++)
			if (w[k].c == b->c && w[k].num == b->num)
				break;
		if (k < nr)
			continue;
		w[nr].c = b->c;
		w[nr].num = b->num;
		w[nr].t = b->t;
		w[nr].shift = stce_table_page_shift(b->t);
		w[nr].bus_offset = stce_table_bus_offset(b->t);
		if (w[nr].shift < min_shift)
			min_shift = w[nr].shift;
		nr++;
	}
	*out = NULL;
	if (!nr)
		return 0;
	if (nr > STCE_HCALL_MAX_TABLES)
		return -ENOSPC;
	set = stce_zalloc(sizeof(*set) + nr * sizeof(set->w[0]));
	if (!set)
		return -ENOMEM;
	set->nr = nr;
	set->min_shift = min_shift;
	set->max_sub_shift = t->page_shift - min_shift;
	memcpy(set->w, w, nr * sizeof(w[0]));
	*out = set;
	return 0;
}

/* Publish @t's new set; the old one is freed after a grace period. */
static void set_publish_locked(struct stce_guest *g, struct hc_table *t,
			       struct hc_attach_set *next, bool sync)
{
	struct hc_attach_set *old = atomic_exchange(&t->atts, next);

	stce_assert_held(&g->lock);
	if (sync)
		stce_grace_synchronize(&g->grace);
	stce_free(old);
}

/* See hcall_internal.h. */
int hc_attach_locked(struct stce_guest *g, uint64_t liobn,
		     struct stce_container *c, struct stce_pe *pe)
{
	struct hc_table *t = hc_find_liobn_locked(g, liobn);
	struct hc_attach_set *set;
	struct stce_table *hw;
	unsigned int num;
	int ret;

	stce_assert_held(&g->lock);
	if (!t)
		return -ENOENT;
	if (stce_container_type(c) != STCE_IOMMU_V2)
		return -EINVAL;
	if (pe && !stce_container_has_group(c, pe))
		return -EINVAL;
	ret = stce_container_find_window(c, t->offset << t->page_shift,
					 t->page_shift, t->size << t->page_shift,
					 &num, &hw);
	if (ret)
		return ret;
	/* At most one exchange batch (512) of hardware pages a guest page. */
	if (t->page_shift - stce_table_page_shift(hw) > 9)
		return -EINVAL;
	for (unsigned int i = 0; i < t->nr_binds; i++)
		if (t->binds[i].c == c && t->binds[i].pe == pe)
			return -EBUSY;
	if (t->nr_binds == STCE_HCALL_MAX_BINDINGS)
		return -ENOSPC;
	t->binds[t->nr_binds] = (struct hc_binding){ c, pe, num, hw };
	t->nr_binds++;
	ret = build_set(t, &set);
	if (ret) {
		t->nr_binds--;
		return ret;
	}
	set_publish_locked(g, t, set, true);
	return 0;
}

/* See <spapr_tce/hcall.h>. */
int stce_guest_attach(struct stce_guest *g, uint64_t liobn,
		      struct stce_container *c, struct stce_pe *pe)
{
	int ret;

	pthread_mutex_lock(&g->lock);
	ret = hc_attach_locked(g, liobn, c, pe);
	pthread_mutex_unlock(&g->lock);
	return ret;
}

/* Drop @t's bindings of (c, pe); true when any went. */
static bool unbind(struct hc_table *t, struct stce_container *c,
		   struct stce_pe *pe)
{
	unsigned int j = 0;
	bool found = false;

	for (unsigned int i = 0; i < t->nr_binds; i++) {
		if (t->binds[i].c == c && t->binds[i].pe == pe) {
			found = true;
			continue;
		}
		t->binds[j++] = t->binds[i];
	}
	t->nr_binds = j;
	return found;
}

/* See <spapr_tce/hcall.h>. */
int stce_guest_detach(struct stce_guest *g, struct stce_container *c,
		      struct stce_pe *pe)
{
	struct hc_liobns *l;
	bool found = false;

	pthread_mutex_lock(&g->lock);
	l = atomic_load(&g->liobns);
	for (size_t i = 0; l && i < l->nr; i++) {
		struct hc_table *t = l->t[i];
		struct hc_attach_set *set;

		if (!unbind(t, c, pe))
			continue;
		found = true;
		/* A subset of a valid set: cannot hit a limit. */
		if (build_set(t, &set)) {
			/* Out of memory: stop writing every window rather
			 * than keep the detached one. */
			t->nr_binds = 0;
			set = NULL;
		}
		/* The old sets are freed after one grace period below. */
		set = atomic_exchange(&t->atts, set);
		stce_grace_synchronize(&g->grace);
		stce_free(set);
	}
	pthread_mutex_unlock(&g->lock);
	return found ? 0 : -ENOENT;
}

/* ---- teardown ------------------------------------------------------ */

/* See <spapr_tce/hcall.h>. */
void stce_guest_destroy(struct stce_guest *g)
{
	struct hc_liobns *l;

	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	/* All at once: removing one by one could need memory. */
	l = atomic_exchange(&g->liobns, NULL);
	stce_grace_synchronize(&g->grace);
	for (size_t i = 0; l && i < l->nr; i++) {
		stce_account_uncharge(l->t[i]->charged);
		table_free(l->t[i]);
	}
	stce_free(l);
	memmap_publish_locked(g, NULL);
	pthread_mutex_unlock(&g->lock);
	pthread_mutex_destroy(&g->lock);
	stce_grace_destroy(&g->grace);
	stce_free(g);
}
