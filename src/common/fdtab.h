/* SPDX-License-Identifier: MIT */
/*
 * A table of word-sized values indexed by descriptor number, for any
 * number a process can hold (up to STCE_FDTAB_MAX, Linux's default
 * fs.nr_open, 1 << 20): a fixed directory of chunks, each made on the
 * first store into it and kept until the table is destroyed.
 *
 * Lookups are two dependent loads and take no lock (the hot paths look
 * descriptors up). A missing chunk reads as 0, the empty value.
 */
#ifndef STCE_FDTAB_H
#define STCE_FDTAB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define STCE_FDTAB_CHUNK_SHIFT	10
#define STCE_FDTAB_CHUNK	(1u << STCE_FDTAB_CHUNK_SHIFT)
#define STCE_FDTAB_MAX		(1u << 20)
#define STCE_FDTAB_DIR		(STCE_FDTAB_MAX >> STCE_FDTAB_CHUNK_SHIFT)

struct stce_fdtab {
	_Atomic uintptr_t *_Atomic dir[STCE_FDTAB_DIR];
};

/* The slot of @fd, or NULL when out of range or never stored into. */
static inline _Atomic uintptr_t *stce_fdtab_peek(const struct stce_fdtab *t,
						 int fd)
{
	_Atomic uintptr_t *chunk;

	if (fd < 0 || (unsigned int)fd >= STCE_FDTAB_MAX)
		return NULL;
	chunk = atomic_load_explicit(&t->dir[fd >> STCE_FDTAB_CHUNK_SHIFT],
				     memory_order_acquire);
	return chunk ? &chunk[fd & (STCE_FDTAB_CHUNK - 1)] : NULL;
}

/* The value at @fd (0: empty). */
static inline uintptr_t stce_fdtab_get(const struct stce_fdtab *t, int fd)
{
	_Atomic uintptr_t *slot = stce_fdtab_peek(t, fd);

	return slot ? atomic_load_explicit(slot, memory_order_acquire) : 0;
}

/* The slot of @fd, making its chunk: NULL past STCE_FDTAB_MAX or when
 * the chunk cannot be allocated. */
_Atomic uintptr_t *stce_fdtab_slot(struct stce_fdtab *t, int fd);

/* The first descriptor >= @fd with a non-empty value, or -1. */
int stce_fdtab_next(const struct stce_fdtab *t, int fd);

/* Free the chunks (the values are the caller's). */
void stce_fdtab_destroy(struct stce_fdtab *t);

#endif /* STCE_FDTAB_H */
