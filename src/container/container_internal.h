/* SPDX-License-Identifier: MIT */
/*
 * What the container's files share. Internal.
 *
 * container.c: life cycle, groups, windows, registration, ENABLE.
 * map.c: MAP and UNMAP, the lock-free part.
 */
#ifndef STCE_CONTAINER_INTERNAL_H
#define STCE_CONTAINER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <spapr_tce/container.h>
#include <spapr_tce/prereg.h>

#include "common/grace.h"

/* Groups one container may hold (the kernel has no fixed bound). */
#define CONTAINER_MAX_GROUPS	64	/* one bit each in group_mask */

/*
 * Window @num's geometry beside its table: the kill hook's context
 * (stce_table_set_kill) and what MAP/UNMAP look a window up by, so that a
 * one-page call asks the table nothing. Written before the table is
 * published in tables[num] (a reader that loads the table sees it); fixed
 * while the table lives (its slot stays reserved until it is freed).
 */
struct container_window {
	struct stce_container *c;
	uint64_t bus_offset;
	uint64_t window_size;		/* bytes */
	uint64_t entries;
	unsigned int page_shift;
};

struct stce_container {
	unsigned int type;
	unsigned int flags;

	/*
	 * Read without the lock by MAP/UNMAP (inside a grace read-side
	 * section) and by the tables' kill hook.
	 */
	struct stce_table *_Atomic tables[STCE_PE_MAX_WINDOWS];
	struct stce_pe *_Atomic groups[CONTAINER_MAX_GROUPS];
	/* Bit i set while groups[i] holds a PE: the kill hook visits only
	 * those (a one-page UNMAP would otherwise load all 64 slots). */
	_Atomic uint64_t group_mask;
	atomic_bool enabled;		/* v1 ENABLE / v2 first REGISTER */
	atomic_bool def_window_pending;
	/*
	 * The lock-free readers' grace: own_grace, or the owner's
	 * (stce_container_create_in), whose sections then cover ours: a
	 * MAP or UNMAP made inside one enters a nested section, which costs
	 * no locked instruction.
	 */
	struct stce_grace *grace;
	struct stce_grace own_grace;

	/* Written under the lock; read without it by the ioctl layer and
	 * the window calls' first check. */
	atomic_uint nr_groups;
	struct container_window win[STCE_PE_MAX_WINDOWS];
	pthread_mutex_t lock;		/* everything below */
	uint64_t charged_pages[STCE_PE_MAX_WINDOWS];
	uint64_t enable_charged_pages;
	unsigned int removing;		/* windows being removed: not free */
	struct stce_region **registered;
	unsigned int nr_registered;
	unsigned int registered_cap;
};

static inline bool container_v2(const struct stce_container *c)
{
	return c->type == STCE_IOMMU_V2;
}

static inline bool container_quirks(const struct stce_container *c)
{
	return c->flags & STCE_CONTAINER_KERNEL_QUIRKS;
}

/* The first attached group's PE, or NULL. Lock held. */
struct stce_pe *container_first_pe(struct stce_container *c);

/* Create the pending default window if it is still pending. */
int container_create_default_window(struct stce_container *c);

/* Clear [index, index + count) of @t, releasing what was there. */
int container_clear(struct stce_container *c, struct stce_table *t,
		    uint64_t index, uint64_t count, bool exclusive);

#endif /* STCE_CONTAINER_INTERNAL_H */
