/* SPDX-License-Identifier: MIT */
/*
 * What pe.c (windows, ownership, EEH) and dma.c (translation, grace
 * periods) share. Internal.
 */
#ifndef STCE_PE_INTERNAL_H
#define STCE_PE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <spapr_tce/pe.h>

#include "common/grace.h"

/*
 * A window as DMA sees it: immutable once published, freed only after a
 * grace period, so a reader that loaded the pointer inside its read-side
 * section may use it until the section ends.
 */
struct pe_window {
	struct stce_table *table;
	uint64_t start;
	uint64_t last;		/* start + size - 1 (the window may end at 2^64) */
	unsigned int page_shift;
	bool pe_owned;		/* created by the PE: freed on unset */
};

/* eeh bits */
#define PE_EEH_DMA_FROZEN	0x1u
#define PE_EEH_MMIO_FROZEN	0x2u
#define PE_EEH_RESET		0x4u	/* reset asserted */

struct stce_pe {
	/* Read by every DMA: keep together. */
	struct pe_window *_Atomic win[STCE_PE_MAX_WINDOWS];
	/* Odd while several windows change together (see dma.c ctx_load). */
	_Atomic unsigned int win_seq;
	_Atomic unsigned int eeh;

	unsigned int group;
	struct stce_pe_caps caps;

	pthread_mutex_t lock;		/* windows, ownership, EEH ops */
	bool user_owned;
	struct stce_table *platform;	/* the platform's default table */
	struct pe_window platform_win;	/* never freed while the PE lives */


	pthread_mutex_t fault_lock;	/* leaf: the fault record */
	enum stce_eeh_fault_reason fault_reason;
	uint64_t fault_iova;
	enum stce_dma_dir fault_dir;
	_Atomic uint64_t fault_count;
	_Atomic uint64_t reset_count;

	/* DMA read-side sections; a kill is one grace period. */
	struct stce_grace grace;
};

/* dma.c */
void pe_synchronize(struct stce_pe *pe);
void pe_freeze(struct stce_pe *pe, enum stce_eeh_fault_reason reason,
	       uint64_t iova, enum stce_dma_dir dir);

#endif /* STCE_PE_INTERNAL_H */
