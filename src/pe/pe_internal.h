/* SPDX-License-Identifier: MIT */
/*
 * What the files of a PE share. Internal to src/pe: pe.c (create,
 * destroy), caps.c, window.c, owner.c, eeh.c and dma.c (translation,
 * grace periods).
 */
#ifndef STCE_PE_INTERNAL_H
#define STCE_PE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <spapr_tce/pe.h>

#include "common/grace.h"
#include "common/lockdep.h"

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

/* caps.c: the levels (1..5) a table of this default window geometry is
 * built with, or 0 when none can hold it. */
unsigned int pe_buildable_levels(unsigned int page_shift, uint64_t size,
				 unsigned int host_page_shift);

/* window.c. Callers hold pe->lock (stce_pe_destroy() too, although no
 * other user is left: one contract, asserted). */
/* Describe @t's window in @w (not yet published). */
void pe_window_fill(struct pe_window *w, struct stce_table *t, bool pe_owned);
/* Take window @num off the bus and wait out the DMAs that may still use
 * it; free it unless it is the platform window. No window: a no-op. */
void pe_window_unpublish(struct stce_pe *pe, unsigned int num);
/* The same for every window, in one step a DMA cannot split. */
void pe_windows_unpublish_all(struct stce_pe *pe);

/*
 * window.c, debug builds: the window state is consistent (pe->lock held):
 * no multi-window change half done, a platform-owned PE has exactly its
 * platform window (slot 0), a user-owned one never has it, and each
 * published window sits at its slot's base with its table's geometry.
 * pe_assert() after every window or ownership change.
 */
#ifdef STCE_DEBUG_CHECKS
bool pe_windows_ok(const struct stce_pe *pe);
#endif
#define pe_assert(pe)	stce_debug_assert(pe_windows_ok(pe))

/* dma.c: one grace period of the PE's DMAs (a TCE kill). */
void pe_synchronize(struct stce_pe *pe);

/* eeh.c: freeze DMA and MMIO, and record the fault if it is the first
 * since the last thaw. Lock-free but for the leaf fault_lock: callable
 * from a DMA. */
void pe_freeze(struct stce_pe *pe, enum stce_eeh_fault_reason reason,
	       uint64_t iova, enum stce_dma_dir dir);

#endif /* STCE_PE_INTERNAL_H */
