/* SPDX-License-Identifier: MIT */
/*
 * Read-only audits of a host, for the harness (fuzz/fuzz_vfio_ioctl.c,
 * tests/fault): the container IOMMU behind a descriptor, the IOMMUs the
 * open groups use. Marked "(tests)" in docs/architecture.md's layer
 * table; audit.c is built into the test library only. Nothing here
 * changes state. A container pointer returned stays valid only while
 * the caller keeps its descriptors (and groups) open.
 */
#ifndef STCE_VFIO_AUDIT_H
#define STCE_VFIO_AUDIT_H

#include <spapr_tce/container.h>
#include <spapr_tce/topology.h>
#include <spapr_tce/vfio.h>

/* Groups a host can have open at once (one a PE of the platform). */
#define VFIO_AUDIT_MAX_GROUPS	STCE_TOPO_MAX_PES

/* The IOMMU of container descriptor @fd (of an iommufd descriptor: its
 * compatibility IOAS's container): NULL when @fd is neither, or has no
 * IOMMU yet. */
struct stce_container *vfio_audit_fd_iommu(struct stce_host *host, int fd);

/*
 * The IOMMUs of the containers (or iommufd compat IOASes) @host's open
 * groups are set on, each once,
 * at most @max into @out (in PE order); returns how many. Under
 * host->lock: no group joins or leaves meanwhile.
 */
unsigned int vfio_audit_iommus(struct stce_host *host,
			       struct stce_container **out, unsigned int max);

#endif /* STCE_VFIO_AUDIT_H */
