/* SPDX-License-Identifier: MIT */
/*
 * Checks that only debug builds carry. Internal: not installed.
 *
 * STCE_DEBUG_CHECKS is defined when meson's debug option is on (the asan
 * and tsan trees of make check, and a plain meson setup: the build passes
 * -DSTCE_DEBUG) and NDEBUG is not; buildtype=release (make all, make
 * bench) leaves it undefined, and every check below and in lockdep.h
 * compiles to nothing there.
 *
 * stce_debug_assert(cond) states an object invariant at a state change,
 * as SQLite's assert_pager_state() does: a checker such as
 * container_assert(c) walks the object and is written as
 * stce_debug_assert(container_ok(c)), so a release build never calls it.
 */
#ifndef STCE_DEBUG_H
#define STCE_DEBUG_H

#if defined(STCE_DEBUG) && !defined(NDEBUG)
#define STCE_DEBUG_CHECKS 1

#include <stdio.h>
#include <stdlib.h>

/* Prints the broken check and where it is, then aborts. */
__attribute__((cold, noreturn)) static inline void
stce_debug_fail(const char *what, const char *cond, const char *func,
		const char *file, int line)
{
	fprintf(stderr, "%s:%d: %s: %s: %s\n", file, line, func, what, cond);
	abort();
}

#define stce_debug_assert(cond)						\
	((cond) ? (void)0 :						\
	 stce_debug_fail("invariant broken", #cond, __func__, __FILE__,	\
			 __LINE__))
#else
#define stce_debug_assert(cond)		((void)0)
#endif

#endif /* STCE_DEBUG_H */
