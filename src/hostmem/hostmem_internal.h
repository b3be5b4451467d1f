/* SPDX-License-Identifier: MIT */
/*
 * Inside src/hostmem: what hostmem.c (pins, moves, DMA), vma.c (what
 * backs an address) and hooks.c (the mapping calls) share. Internal.
 */
#ifndef STCE_HOSTMEM_INTERNAL_H
#define STCE_HOSTMEM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <spapr_tce/hostmem.h>

#include "common/rindex.h"
#include "hostmem/hostmem_dma.h"

/* The real page of this machine (4K on x86_64). */
uint64_t hm_page(void);

/* One VMA, as PROCMAP_QUERY or /proc/self/maps tells it. */
struct hm_vma {
	uint64_t start, end;
	bool read, write, shared;
	uint64_t page_size;	/* the VMA's kernel page (hugetlbfs page) */
	uint64_t inode;		/* of the file mapped, 0 if none */
};

/*
 * The VMA holding @addr: 0, -ENOENT (a hole), or -EIO (the maps file
 * cannot be read). Uses one /proc/self/maps descriptor kept open.
 */
int hm_vma_at(uint64_t addr, struct hm_vma *v);

/* fork child: forget the kept descriptors (they are the parent's). */
void hm_vma_forget(void);

/* Raw system calls; the hooks' interposers pass them straight through. */
long hm_sys(long nr, long a, long b, long c, long d, long e, long f);

/*
 * Every mapping change goes through one of these, under hm_lock. @a is
 * [start, start + len) of the user's call.
 */
extern pthread_mutex_t hm_lock;

/* Anything pinned at all (one relaxed load: the hooks' fast path). */
bool hm_anything_pinned(void);

/*
 * Pinned pages whose current place meets [start, start + len): true if
 * any. hm_lock held.
 */
bool hm_pinned_in(uint64_t start, uint64_t len);

/* Moves of what lies in [start, start + len), hm_lock held. */
enum hm_move_kind {
	HM_ASIDE,		/* into the library's area (munmap, MAP_FIXED) */
	HM_ASIDE_KEEP,		/* the same, the user's range stays (DONTNEED) */
};

/* Move the pinned pages in the range aside; 0 or -ENOMEM (then lost). */
int hm_move_aside(uint64_t start, uint64_t len, enum hm_move_kind kind);

/* The pinned pages in [old, old + len) now live at [new, new + len). */
void hm_follow(uint64_t old, uint64_t len, uint64_t new_addr);

/* The pinned pages in the range are gone (MADV_REMOVE). */
void hm_lose(uint64_t start, uint64_t len);

/*
 * Begin / end a change that moves pinned pages: DMA backs off meanwhile
 * and every DMA in flight has finished when hm_quiesce() returns.
 */
void hm_quiesce(void);
void hm_unquiesce(void);

/*
 * The pinned pieces (current places) in [start, start + len), in address
 * order, one at a time: *@pos is the next address to look from (start it
 * at @start). False when there are no more. hm_lock held.
 */
bool hm_next_pinned(uint64_t start, uint64_t len, uint64_t *pos,
		    uint64_t *piece, uint64_t *piece_len);

/* This thread runs a hook's own system calls. */
extern __thread int hm_in_hook;

#endif /* STCE_HOSTMEM_INTERNAL_H */
