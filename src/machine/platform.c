// SPDX-License-Identifier: MIT
/*
 * A topology instantiated: one PE per topology PE, one DMA test device per
 * topology device, every PE on the topology's host page.
 */
#include <errno.h>

#include <spapr_tce/topology.h>

#include "common/alloc.h"
#include "machine/machine_internal.h"

struct stce_platform {
	struct stce_topology topo;
	struct stce_pe *pes[STCE_TOPO_MAX_PES];
	struct stce_device *devices[STCE_TOPO_MAX_DEVICES];
};

/* See machine_internal.h: @pe's caps on @topo's host page. */
void machine_pe_caps(const struct stce_topology *topo,
		     const struct stce_topo_pe *pe, struct stce_pe_caps *caps)
{
	*caps = pe->caps;
	/* The machine has one host page: its PEs make it the process's
	 * (pe.h). */
	caps->host_page_shift = topo->host_page_shift;
}

/* Devices first (they point at their PEs), then the PEs. NULL: no-op. */
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

/* Every PE, then every device of @topo; undone in full on a failure. */
int stce_platform_create(const struct stce_topology *topo,
			 struct stce_platform **out)
{
	struct stce_platform *plat = stce_zalloc(sizeof(*plat));
	int ret = 0;

	if (!plat)
		return -ENOMEM;
	plat->topo = *topo;
	for (unsigned int i = 0; i < topo->nr_pes; i++)
		machine_pe_caps(topo, &topo->pes[i], &plat->topo.pes[i].caps);
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

/* The platform's copy of its topology (its PEs' caps on its host page). */
const struct stce_topology *stce_platform_topology(
	const struct stce_platform *plat)
{
	return &plat->topo;
}

/* How many PEs the topology declared. */
unsigned int stce_platform_nr_pes(const struct stce_platform *plat)
{
	return plat->topo.nr_pes;
}

/* PE @i in declaration order, NULL past the end. */
struct stce_pe *stce_platform_pe(const struct stce_platform *plat,
				 unsigned int i)
{
	return i < plat->topo.nr_pes ? plat->pes[i] : NULL;
}

/* How many devices the topology declared. */
unsigned int stce_platform_nr_devices(const struct stce_platform *plat)
{
	return plat->topo.nr_devices;
}

/* Device @i in declaration order, NULL past the end. */
struct stce_device *stce_platform_device(const struct stce_platform *plat,
					 unsigned int i)
{
	return i < plat->topo.nr_devices ? plat->devices[i] : NULL;
}

/* The PE of IOMMU group @group, or NULL. */
struct stce_pe *stce_platform_find_pe(const struct stce_platform *plat,
				      unsigned int group)
{
	for (unsigned int i = 0; i < plat->topo.nr_pes; i++)
		if (plat->pes[i] && stce_pe_group(plat->pes[i]) == group)
			return plat->pes[i];
	return NULL;
}

/* The device at PCI address @name ("dddd:bb:dd.f"), or NULL. */
struct stce_device *stce_platform_find_device(
	const struct stce_platform *plat, const char *name)
{
	const struct stce_device_desc *d =
		stce_topology_find_device(&plat->topo, name);

	if (!d)
		return NULL;
	return plat->devices[d - plat->topo.devices];
}
