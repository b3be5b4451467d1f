/* SPDX-License-Identifier: MIT */
/*
 * Internal: how pre-registered regions (prereg.c) and v1 pins (pin.c)
 * share mlock(). mlock is not reference counted by the kernel, so a page
 * locked by both must stay locked until both are done with it:
 *
 *  - a region mlock()s its range and is published under the pin lock, and
 *    munlock()s it (skipping v1-pinned pages) under the pin lock after it
 *    was unpublished;
 *  - a v1 page whose last reference goes is munlock()ed, under the pin
 *    lock, only if no published region covers it.
 *
 * Lock order: the registration mutex, then the pin lock.
 */
#ifndef STCE_PREREG_INTERNAL_H
#define STCE_PREREG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * mlock/munlock as raw syscalls: sanitizer runtimes intercept the libc
 * wrappers and turn them into no-ops, and the tests check VmLck.
 */
static inline int stce_sys_mlock(uint64_t addr, uint64_t len)
{
	return (int)syscall(SYS_mlock, (uintptr_t)addr, (size_t)len);
}

static inline int stce_sys_munlock(uint64_t addr, uint64_t len)
{
	return (int)syscall(SYS_munlock, (uintptr_t)addr, (size_t)len);
}

void stce_pin_lock(void);
void stce_pin_unlock(void);

/*
 * munlock() [start, start + size) (host page aligned) except the host
 * pages v1 pins hold. Pin lock held. Safe on ranges the user unmapped.
 */
void stce_pin_munlock_region_locked(uint64_t start, uint64_t size,
				    unsigned int host_shift);

/* True when a published region (live or released) covers @addr. */
bool stce_prereg_covers(uint64_t addr);

/* munlock() that survives holes: falls back to one host page at a time. */
void stce_munlock_range(uint64_t start, uint64_t size, unsigned int host_shift);

#endif /* STCE_PREREG_INTERNAL_H */
