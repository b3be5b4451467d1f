// SPDX-License-Identifier: MIT
/*
 * Descriptor-indexed tables: chunk allocation and the walk (fdtab.h).
 */
#include "common/alloc.h"
#include "common/fdtab.h"

/* See common/fdtab.h. */
_Atomic uintptr_t *stce_fdtab_slot(struct stce_fdtab *t, int fd)
{
	_Atomic uintptr_t *chunk, *expected = NULL;
	_Atomic uintptr_t *slot = stce_fdtab_peek(t, fd);

	if (slot || fd < 0 || (unsigned int)fd >= STCE_FDTAB_MAX)
		return slot;
	chunk = stce_zalloc(STCE_FDTAB_CHUNK * sizeof(*chunk));
	if (!chunk)
		return NULL;
	/* Two threads may make the same chunk: the first one stays. */
	if (!atomic_compare_exchange_strong(&t->dir[fd >> STCE_FDTAB_CHUNK_SHIFT],
					    &expected, chunk))
		stce_free(chunk);
	return stce_fdtab_peek(t, fd);
}

/* See common/fdtab.h. */
int stce_fdtab_next(const struct stce_fdtab *t, int fd)
{
	if (fd < 0)
		fd = 0;
	while ((unsigned int)fd < STCE_FDTAB_MAX) {
		_Atomic uintptr_t *chunk = atomic_load_explicit(
			&t->dir[fd >> STCE_FDTAB_CHUNK_SHIFT], memory_order_acquire);

		if (!chunk) {
			fd = (fd | (STCE_FDTAB_CHUNK - 1)) + 1;
			continue;
		}
		if (atomic_load_explicit(&chunk[fd & (STCE_FDTAB_CHUNK - 1)],
					 memory_order_acquire))
			return fd;
		fd++;
	}
	return -1;
}

/* See common/fdtab.h. */
void stce_fdtab_destroy(struct stce_fdtab *t)
{
	for (unsigned int i = 0; i < STCE_FDTAB_DIR; i++)
		stce_free(atomic_exchange(&t->dir[i], NULL));
}
