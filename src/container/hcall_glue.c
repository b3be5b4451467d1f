// SPDX-License-Identifier: MIT
/*
 * What the hypercall layer (src/hcall/) needs from a container's inside:
 * which windows it has and whether a PE is one of its groups. No
 * container semantics change here; everything takes the container lock
 * and is off the hot path (attach time, RTAS calls).
 */
#include <errno.h>

#include <spapr_tce/container.h>
#include <spapr_tce/table.h>

#include "container/container_internal.h"

bool hcall_container_v2(const struct stce_container *c)
{
	return container_v2(c);
}

bool hcall_container_has_group(struct stce_container *c,
			       const struct stce_pe *pe)
{
	bool found = false;

	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < CONTAINER_MAX_GROUPS && !found; i++)
		found = pe && atomic_load(&c->groups[i]) == pe;
	pthread_mutex_unlock(&c->lock);
	return found;
}

int hcall_container_find_window(struct stce_container *c, uint64_t bus_start,
				unsigned int page_shift, uint64_t bytes,
				unsigned int *num, struct stce_table **table)
{
	int ret = container_create_default_window(c);

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

int hcall_container_caps(struct stce_container *c, struct stce_pe_caps *caps)
{
	struct stce_pe *pe;
	int ret = -ENXIO;

	pthread_mutex_lock(&c->lock);
	pe = container_first_pe(c);
	if (pe) {
		stce_pe_get_caps(pe, caps);
		ret = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}
