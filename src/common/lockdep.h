/* SPDX-License-Identifier: MIT */
/*
 * Asserted lock contracts, in the spirit of the kernel's
 * lockdep_assert_held(). Internal: not installed.
 *
 * A function named *_locked, or whose contract says "caller holds L",
 * starts with stce_assert_held(&L); one that takes L itself, and would
 * deadlock if entered with it, may start with stce_assert_not_held(&L).
 * A broken contract aborts with the lock, the function and the line.
 *
 * Who owns a mutex: glibc records the owning thread's kernel TID in every
 * pthread_mutex_t it locks (the __owner word of the public layout that
 * PTHREAD_MUTEX_INITIALIZER fills: set after acquiring, cleared before
 * releasing, also across pthread_cond_wait), so the assert compares that
 * word with the caller's TID. No wrapper type and no change at the lock
 * and unlock calls: any pthread_mutex_t, static ones included, can be
 * asserted. The word is read with a relaxed atomic load: a thread that
 * does not hold the lock may read it while another thread takes it, and
 * only its own TID can never appear there. Lock elision
 * (GLIBC_TUNABLES=glibc.elision.enable=1) skips the record; the checks
 * are then wrong and must not be used with it. tests/common/test_lockdep.c
 * pins these facts down.
 *
 * The checks exist in debug builds (STCE_DEBUG_CHECKS, common/debug.h);
 * a release build (make bench, make all) compiles every one of them to
 * nothing.
 */
#ifndef STCE_LOCKDEP_H
#define STCE_LOCKDEP_H

#include <pthread.h>
#include <stdbool.h>

#include "common/debug.h"

#if defined(STCE_DEBUG_CHECKS) && defined(__GLIBC__)
#define STCE_LOCKDEP 1

#include <unistd.h>

/* True when the calling thread holds @m (see above for how it is known). */
static inline bool stce_lock_held(const pthread_mutex_t *m)
{
	return __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) ==
	       gettid();
}

#define stce_assert_held(m)						\
	(stce_lock_held(m) ? (void)0 :					\
	 stce_debug_fail("lock not held", #m, __func__, __FILE__, __LINE__))
#define stce_assert_not_held(m)						\
	(!stce_lock_held(m) ? (void)0 :					\
	 stce_debug_fail("lock already held", #m, __func__, __FILE__,	\
			 __LINE__))

#else

/* sizeof: the argument stays type-checked and "used", and is not run. */
#define stce_assert_held(m)		((void)sizeof(m))
#define stce_assert_not_held(m)		((void)sizeof(m))

#endif

#endif /* STCE_LOCKDEP_H */
