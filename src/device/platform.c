// SPDX-License-Identifier: MIT
/*
 * A topology instantiated: one PE per topology PE, one DMA test device per
 * topology device.
 */
#include <errno.h>

#include <spapr_tce/device.h>

#include "common/alloc.h"

struct stce_platform {
	struct stce_topology topo;
	struct stce_pe *pes[STCE_TOPO_MAX_PES];
	struct stce_device *devices[STCE_TOPO_MAX_DEVICES];
};

void stce_platform_destroy(struct stce_platform *plat)
{
	if (!plat)
		return;
	for (unsigned int i = 0; i < plat->topo.nr_devices; i++)
		stce_device_destroy(plat->devices[i]);
	for (unsigned int i = 0; i < plat->topo.nr_pes; i++)
		stce_pe_destroy(plat->pes[i]);
	stce_free(plat);
}

int stce_platform_create(const struct stce_topology *topo,
			 struct stce_platform **out)
{
	struct stce_platform *plat = stce_zalloc(sizeof(*plat));
	int ret = 0;

	if (!plat)
		return -ENOMEM;
	plat->topo = *topo;
	/* The machine has one host page, the topology's: every PE gets it
	 * (and its PEs make it the process's, pe.h). */
	for (unsigned int i = 0; i < topo->nr_pes; i++)
		plat->topo.pes[i].caps.host_page_shift = topo->host_page_shift;
	for (unsigned int i = 0; i < topo->nr_pes && !ret; i++)
		ret = stce_pe_create(&plat->topo.pes[i].caps,
				     topo->pes[i].group, &plat->pes[i]);
	for (unsigned int i = 0; i < topo->nr_devices && !ret; i++) {
		struct stce_pe *pe = stce_platform_find_pe(plat,
							   topo->devices[i].group);

		ret = pe ? stce_device_create(&topo->devices[i], pe,
					      &plat->devices[i]) : -EINVAL;
	}
	if (ret) {
		stce_platform_destroy(plat);
		return ret;
	}
	*out = plat;
	return 0;
}

const struct stce_topology *stce_platform_topology(
	const struct stce_platform *plat)
{
	return &plat->topo;
}

unsigned int stce_platform_nr_pes(const struct stce_platform *plat)
{
	return plat->topo.nr_pes;
}

struct stce_pe *stce_platform_pe(const struct stce_platform *plat,
				 unsigned int i)
{
	return i < plat->topo.nr_pes ? plat->pes[i] : NULL;
}

unsigned int stce_platform_nr_devices(const struct stce_platform *plat)
{
	return plat->topo.nr_devices;
}

struct stce_device *stce_platform_device(const struct stce_platform *plat,
					 unsigned int i)
{
	return i < plat->topo.nr_devices ? plat->devices[i] : NULL;
}

struct stce_pe *stce_platform_find_pe(const struct stce_platform *plat,
				      unsigned int group)
{
	for (unsigned int i = 0; i < plat->topo.nr_pes; i++)
		if (plat->pes[i] && stce_pe_group(plat->pes[i]) == group)
			return plat->pes[i];
	return NULL;
}

struct stce_device *stce_platform_find_device(
	const struct stce_platform *plat, const char *name)
{
	const struct stce_topo_device *d =
		stce_topology_find_device(&plat->topo, name);

	if (!d)
		return NULL;
	return plat->devices[d - plat->topo.devices];
}
