/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: the emulated machine. Its PCI topology - the host page, PHBs,
 * PEs (one IOMMU group each, with their DMA window capabilities) and
 * devices - read from a small text format (docs/topology.md) or built in:
 *
 *	host_page 64K
 *	phb 0
 *	pe 0 phb=0
 *	pe 1 phb=0
 *	device 0030:01:00.0 pe=0
 *	device 0030:02:00.0 pe=1
 *
 * One object a line; '#' starts a comment; keys are optional and default
 * to the PowerNV PHB4 values (stce_pe_caps_default()). A topology is plain
 * data; the platform (below) instantiates it: its PEs and devices, on the
 * topology's host page.
 */
#ifndef SPAPR_TCE_TOPOLOGY_H
#define SPAPR_TCE_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <spapr_tce/device.h>
#include <spapr_tce/export.h>
#include <spapr_tce/pe.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STCE_TOPO_MAX_PHBS	16
#define STCE_TOPO_MAX_PES	64
#define STCE_TOPO_MAX_DEVICES	256
#define STCE_TOPO_MAX_LINE	1024	/* bytes a line, newline excluded */

/* Where the preload library and the CLI read a topology from. */
#define STCE_TOPOLOGY_ENV	"SPAPR_TCE_TOPOLOGY"

struct stce_topo_phb {
	unsigned int index;
};

struct stce_topo_pe {
	unsigned int group;	/* IOMMU group number, unique */
	unsigned int phb;	/* index of its PHB */
	/*
	 * Its capabilities but the host page: caps.host_page_shift is not
	 * read (the parser leaves stce_pe_caps_default()'s). The machine has
	 * one host page, the topology's host_page_shift, and the platform
	 * creates every PE on it.
	 */
	struct stce_pe_caps caps;
	unsigned int line;	/* where it was declared (0: built in) */
};

struct stce_topology {
	unsigned int host_page_shift;	/* 12 or 16: the machine's host page */
	unsigned int nr_phbs, nr_pes, nr_devices;
	struct stce_topo_phb phbs[STCE_TOPO_MAX_PHBS];
	struct stce_topo_pe pes[STCE_TOPO_MAX_PES];
	struct stce_device_desc devices[STCE_TOPO_MAX_DEVICES];
};

/* The built-in topology shown above. -ENOMEM. */
STCE_API
int stce_topology_default(struct stce_topology **out);

/*
 * Parse @text (NUL-terminated). On a malformed input: -EINVAL and, when
 * @err is not NULL, a message naming the line and the problem, e.g.
 * "line 3: unknown key 'levels' for pe". -ENOMEM.
 */
STCE_API
int stce_topology_parse(const char *text, struct stce_topology **out,
			char *err, size_t errlen);

/*
 * Read and parse the file at @path: the errors of stce_topology_parse()
 * (the message then starts with the path), or a negative errno from
 * opening or reading it ("path: reason" in @err).
 */
STCE_API
int stce_topology_load(const char *path, struct stce_topology **out,
		       char *err, size_t errlen);

/* The file named by $SPAPR_TCE_TOPOLOGY when set and not empty, else the
 * built-in default. */
STCE_API
int stce_topology_from_env(struct stce_topology **out, char *err,
			   size_t errlen);

STCE_API
void stce_topology_free(struct stce_topology *topo);

/* Write @topo in the text format, every key spelled out (parses back to
 * the same topology). */
STCE_API
void stce_topology_write(const struct stce_topology *topo, FILE *f);

/* The PE of IOMMU group @group, the device at PCI address @name; NULL when
 * absent. */
STCE_API
const struct stce_topo_pe *stce_topology_find_pe(
	const struct stce_topology *topo, unsigned int group);
STCE_API
const struct stce_device_desc *stce_topology_find_device(
	const struct stce_topology *topo, const char *name);

/* Parse a PCI address "dddd:bb:dd.f" (hex; dd < 0x20, f < 8). -EINVAL. */
STCE_API
int stce_pci_addr_parse(const char *text, uint16_t *domain, uint8_t *bus,
			uint8_t *slot, uint8_t *function);

/* ---- Platform: a topology instantiated ----------------------------- */

struct stce_platform;

/*
 * Create every PE and device of @topo (copied: @topo may be freed). The
 * topology's host_page is every PE's, whatever the PEs' caps say (the
 * copy stce_platform_topology() returns has it in every PE's caps), and
 * so the process's emulated host page (account.h) while the platform
 * lives: -EBUSY when the process is on the other host page and cannot
 * leave it (another platform or PE of that page, memory registered,
 * pinned or charged); -EINVAL for a host page below this machine's real
 * page, or as stce_pe_create(); -ENOMEM.
 */
STCE_API
int stce_platform_create(const struct stce_topology *topo,
			 struct stce_platform **out);
STCE_API
void stce_platform_destroy(struct stce_platform *plat);

STCE_API
const struct stce_topology *stce_platform_topology(
	const struct stce_platform *plat);
STCE_API
unsigned int stce_platform_nr_pes(const struct stce_platform *plat);
STCE_API
struct stce_pe *stce_platform_pe(const struct stce_platform *plat,
				 unsigned int i);
STCE_API
unsigned int stce_platform_nr_devices(const struct stce_platform *plat);
STCE_API
struct stce_device *stce_platform_device(const struct stce_platform *plat,
					 unsigned int i);
/* NULL when absent. */
STCE_API
struct stce_pe *stce_platform_find_pe(const struct stce_platform *plat,
				      unsigned int group);
STCE_API
struct stce_device *stce_platform_find_device(
	const struct stce_platform *plat, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_TOPOLOGY_H */
