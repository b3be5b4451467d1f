/* SPDX-License-Identifier: MIT */
/*
 * What the iommufd files share. Internal.
 *
 * core.c: context, objects, domains, devices, attach/detach.
 * ioas.c: IOAS mappings (areas) and the pins they hold.
 * ioctl.c: the /dev/iommu ABI, the legacy container ioctls, the device
 * descriptor hooks.
 *
 * Everything below is protected by the context's lock; the functions
 * that take the context assert it (common/lockdep.h), those that only
 * see an IOAS or a device rely on their callers, which do.
 */
#ifndef STCE_IOMMUFD_INTERNAL_H
#define STCE_IOMMUFD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>

#include "common/lockdep.h"

enum iofd_type {
	IOFD_IOAS = 1,
	IOFD_HWPT,
	IOFD_DEVICE,
};

struct iofd_obj {
	enum iofd_type type;
	uint32_t id;
};

/*
 * A user reference on one pre-registered region, taken through the
 * domain's container (so the region is pinned and charged once however
 * many ABIs and mappings use it). @refs: the mappings using it.
 */
struct iofd_pin {
	uint64_t ua;
	uint64_t size;
	unsigned int refs;
	bool owned;		/* we registered it: we unregister it */
};

/* One IOAS mapping: [iova, iova + length) -> [ua, ua + length). */
struct iofd_area {
	uint64_t iova;
	uint64_t length;
	uint64_t ua;
	uint32_t flags;
	struct iofd_pin **pins;
	unsigned int nr_pins;
};

struct iofd_ioas;

/*
 * The sPAPR TCE domain: a strict (or, for the legacy path, kernel-mode)
 * v2 container whose first group is a private "shadow" PE with the
 * devices' capabilities: the windows exist - created, charged, table
 * allocated - before any real PE joins, so a PE only ever joins a
 * complete domain. The shadow never does DMA.
 */
struct iofd_domain {
	struct iofd_obj obj;		/* the HWPT */
	struct iofd_ioas *ioas;
	struct stce_container *c;
	struct stce_pe *shadow;
	unsigned int nr_attached;
};

struct iofd_ioas {
	struct iofd_obj obj;
	struct iofd_domain *dom;
	struct iofd_area **areas;	/* sorted by iova */
	unsigned int nr_areas, areas_cap;
	struct iofd_pin **pins;
	unsigned int nr_pins, pins_cap;
};

struct iofd_device {
	struct iofd_obj obj;
	struct stce_pe *pe;
	struct iofd_domain *dom;	/* attached to, or NULL */
};

#define IOFD_COMPAT_MAX_GROUPS	64

struct stce_iommufd {
	pthread_mutex_t lock;
	atomic_uint refs;
	struct iofd_obj **objs;		/* id = index + 1 */
	uint32_t nr_slots;
	/* The legacy container path. */
	struct iofd_ioas *compat_ioas;
	struct stce_pe *compat_pes[IOFD_COMPAT_MAX_GROUPS];
	unsigned int nr_compat;
	bool compat_set;		/* VFIO_SET_IOMMU done */
};

/* core.c */
struct iofd_obj *iofd_get(struct stce_iommufd *ictx, uint32_t id,
			  enum iofd_type type);
int iofd_install(struct stce_iommufd *ictx, struct iofd_obj *obj,
		 enum iofd_type type);
void iofd_remove(struct stce_iommufd *ictx, struct iofd_obj *obj);
int iofd_ioas_alloc_locked(struct stce_iommufd *ictx, struct iofd_ioas **out);
int iofd_domain_create(struct stce_iommufd *ictx, struct iofd_ioas *ioas,
		       struct stce_pe *pe, unsigned int mode,
		       const struct iommu_hwpt_spapr_tce *geom);
void iofd_domain_destroy(struct stce_iommufd *ictx, struct iofd_domain *d);

/* Domain modes. */
#define IOFD_DOMAIN_GEOMETRY	0	/* strict, windows from geom */
#define IOFD_DOMAIN_LEGACY	1	/* kernel answers, windows by TCE_CREATE */

/* ioas.c */
int iofd_ioas_map_locked(struct iofd_ioas *ioas, uint32_t flags, uint64_t ua,
			 uint64_t length, uint64_t *iova);
int iofd_ioas_unmap_locked(struct iofd_ioas *ioas, uint64_t iova,
			   uint64_t length, uint64_t *unmapped);
struct iofd_area *iofd_area_exact(struct iofd_ioas *ioas, uint64_t iova,
				  uint64_t length);
void iofd_ioas_free(struct iofd_ioas *ioas);

#endif /* STCE_IOMMUFD_INTERNAL_H */
