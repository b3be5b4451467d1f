// SPDX-License-Identifier: MIT
/*
 * Read-only audits of a guest (hcall_audit.h). Under the guest's lock:
 * LIOBNs and attachment sets cannot change meanwhile; hypercalls may run
 * (the view entries read are each one atomic load).
 */
#include <errno.h>
#include <string.h>

#include <spapr_tce/container.h>

#include "hcall/hcall_audit.h"
#include "hcall/hcall_internal.h"

/* See hcall_audit.h. */
int hcall_audit_liobn(struct stce_guest *g, uint64_t liobn,
		      struct hcall_audit_liobn *out)
{
	const struct hc_attach_set *set;
	struct hc_table *t;
	int ret = -ENOENT;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&g->lock);
	t = hc_find_liobn_locked(g, liobn);
	if (!t)
		goto unlock;
	out->page_shift = t->page_shift;
	out->offset = t->offset;
	out->size = t->size;
	out->charged = t->charged;
	out->nr_binds = t->nr_binds;
	set = atomic_load(&t->atts);
	for (unsigned int k = 0; set && k < set->nr; k++) {
		const struct hc_window *w = &set->w[k];
		struct hcall_audit_window *a = &out->w[k];

		a->c = w->c;
		a->num = w->num;
		a->t = w->t;
		/* A table pointer read outside the container's grace
		 * section is compared, never dereferenced. */
		a->stale = stce_container_window_table(w->c, w->num) != w->t;
		out->nr_windows++;
	}
	ret = 0;
unlock:
	pthread_mutex_unlock(&g->lock);
	return ret;
}

/* See hcall_audit.h. */
int hcall_audit_view(struct stce_guest *g, uint64_t liobn, uint64_t first,
		     uint64_t n, uint64_t *out)
{
	struct hc_table *t;
	int ret = -ENOENT;

	pthread_mutex_lock(&g->lock);
	t = hc_find_liobn_locked(g, liobn);
	if (!t)
		goto unlock;
	ret = -ERANGE;
	if (first > t->size || n > t->size - first)
		goto unlock;
	for (uint64_t i = 0; i < n; i++)
		out[i] = atomic_load_explicit(&t->view[first + i],
					      memory_order_relaxed);
	ret = 0;
unlock:
	pthread_mutex_unlock(&g->lock);
	return ret;
}

/* See hcall_audit.h. */
size_t hcall_audit_liobns(struct stce_guest *g, uint64_t *out, size_t max)
{
	struct hc_liobns *l;
	size_t nr;

	pthread_mutex_lock(&g->lock);
	l = atomic_load(&g->liobns);
	nr = l ? l->nr : 0;
	for (size_t i = 0; i < nr && i < max; i++)
		out[i] = l->t[i]->liobn;
	pthread_mutex_unlock(&g->lock);
	return nr;
}

/* See hcall_audit.h. */
uint64_t hcall_audit_charged(struct stce_guest *g)
{
	struct hc_liobns *l;
	uint64_t sum = 0;

	pthread_mutex_lock(&g->lock);
	l = atomic_load(&g->liobns);
	for (size_t i = 0; l && i < l->nr; i++)
		sum += l->t[i]->charged;
	pthread_mutex_unlock(&g->lock);
	return sum;
}
