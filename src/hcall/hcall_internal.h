/* SPDX-License-Identifier: MIT */
/*
 * What the hypercall layer's files share. Internal.
 *
 * guest.c: the guest, its memory map, LIOBN tables, attachments.
 * hcall.c: H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE, H_GET_TCE.
 * rtas.c:  the dynamic DMA window RTAS services.
 *
 * Readers (hypercalls) run inside one read-side section of the guest's
 * grace (g->grace) and see only immutable objects: the memory map array,
 * the LIOBN array, a LIOBN's attachment set. Writers hold g->lock, build
 * a new object, publish it with one atomic store, wait for a grace period
 * and only then free the old one.
 */
#ifndef STCE_HCALL_INTERNAL_H
#define STCE_HCALL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spapr_tce/container.h>
#include <spapr_tce/hcall.h>

#include "common/grace.h"
#include "common/lockdep.h"

struct hc_slot {
	uint64_t gpa;
	uint64_t size;
	uint64_t ua;
};

/* Sorted by gpa, never overlapping. */
struct hc_memmap {
	size_t nr;
	struct hc_slot s[];
};

/* One hardware window a LIOBN writes (unique per set). */
struct hc_window {
	struct stce_container *c;
	unsigned int num;		/* container window number */
	struct stce_table *t;		/* the table when attached */
	unsigned int shift;		/* its IOMMU page shift */
	uint64_t bus_offset;		/* its bus start */
};

struct hc_attach_set {
	unsigned int nr;
	unsigned int max_sub_shift;	/* guest shift - smallest hw shift */
	unsigned int min_shift;		/* smallest hw page shift */
	struct hc_window w[];
};

/* A group attached to a LIOBN (writer side only, under g->lock). */
struct hc_binding {
	struct stce_container *c;
	struct stce_pe *pe;		/* NULL: the container's own */
	unsigned int num;
	struct stce_table *t;
};

struct hc_table {
	uint64_t liobn;
	unsigned int page_shift;
	uint64_t offset;		/* first bus page */
	uint64_t size;			/* pages */
	_Atomic uint64_t *view;		/* the guest view, size entries */
	size_t view_bytes;
	uint64_t charged;		/* locked_vm pages */
	struct hc_attach_set *_Atomic atts;	/* NULL: none */

	/* under g->lock */
	struct hc_binding binds[STCE_HCALL_MAX_BINDINGS];
	unsigned int nr_binds;
};

/* Sorted by LIOBN. */
struct hc_liobns {
	size_t nr;
	struct hc_table *t[];
};

struct hc_phb {
	uint64_t buid;
	struct stce_container *c;
	uint64_t liobn[2];
};

#define HC_MAX_PHBS	16

struct stce_guest {
	struct stce_grace grace;
	struct hc_memmap *_Atomic mem;
	struct hc_liobns *_Atomic liobns;

	pthread_mutex_t lock;		/* writers; the RTAS calls */
	struct hc_phb phbs[HC_MAX_PHBS];
	unsigned int nr_phbs;
};

/* Lookups, inside a read-side section. */
const struct hc_slot *hc_find_slot(const struct hc_memmap *m, uint64_t gpa);
struct hc_table *hc_find_liobn(const struct hc_liobns *l, uint64_t liobn);

/* g->lock held. */
struct hc_table *hc_find_liobn_locked(struct stce_guest *g, uint64_t liobn);
int hc_create_table_locked(struct stce_guest *g, uint64_t liobn,
			   unsigned int page_shift, uint64_t offset,
			   uint64_t size);
int hc_remove_table_locked(struct stce_guest *g, uint64_t liobn);
int hc_attach_locked(struct stce_guest *g, uint64_t liobn,
		     struct stce_container *c, struct stce_pe *pe);

#endif /* STCE_HCALL_INTERNAL_H */
