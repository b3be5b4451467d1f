/* SPDX-License-Identifier: MIT */
/*
 * What the topology parser and the platform share. Internal to
 * src/machine.
 */
#ifndef STCE_MACHINE_INTERNAL_H
#define STCE_MACHINE_INTERNAL_H

#include <spapr_tce/topology.h>

/*
 * The capabilities a platform creates @pe of @topo with: its own, on the
 * machine's host page. The one place where the topology's host_page
 * reaches a PE: the parser checks each pe line with it, the platform
 * creates each PE with it.
 */
void machine_pe_caps(const struct stce_topology *topo,
		     const struct stce_topo_pe *pe, struct stce_pe_caps *caps);

#endif /* STCE_MACHINE_INTERNAL_H */
