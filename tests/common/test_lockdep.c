// SPDX-License-Identifier: MIT
/*
 * src/common/lockdep.h: the owner it reads is the calling thread's exactly
 * while that thread holds the mutex, and a broken contract aborts. A debug
 * build test (meson's debug option): release trees build no tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/lockdep.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t other = PTHREAD_MUTEX_INITIALIZER;

static void test_checks_exist(void **state)
{
#ifndef STCE_LOCKDEP
	fail_msg("a debug build must assert lock contracts");
#endif
}

#ifdef STCE_LOCKDEP
static void test_held_by_self(void **state)
{
	assert_false(stce_lock_held(&m));
	pthread_mutex_lock(&m);
	assert_true(stce_lock_held(&m));
	assert_false(stce_lock_held(&other));
	stce_assert_held(&m);
	stce_assert_not_held(&other);
	pthread_mutex_unlock(&m);
	assert_false(stce_lock_held(&m));
}

static pthread_mutex_t step = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_cv = PTHREAD_COND_INITIALIZER;
static int phase;

static void *holder(void *arg)
{
	pthread_mutex_lock(&m);
	pthread_mutex_lock(&step);
	phase = 1;
	pthread_cond_broadcast(&step_cv);
	while (phase != 2)
		pthread_cond_wait(&step_cv, &step);
	pthread_mutex_unlock(&step);
	pthread_mutex_unlock(&m);
	return NULL;
}

/* Held by another thread is not held by this one. */
static void test_held_by_other(void **state)
{
	pthread_t t;

	phase = 0;
	assert_int_equal(pthread_create(&t, NULL, holder, NULL), 0);
	pthread_mutex_lock(&step);
	while (phase != 1)
		pthread_cond_wait(&step_cv, &step);
	/* Across the wait, step is the waiter's again. */
	assert_true(stce_lock_held(&step));
	assert_false(stce_lock_held(&m));
	phase = 2;
	pthread_cond_broadcast(&step_cv);
	pthread_mutex_unlock(&step);
	pthread_join(t, NULL);
}

/* The broken contract aborts, in a child so the test survives it. */
static int child_status(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		fn();
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void not_held(void)
{
	stce_assert_held(&m);
}

static void held_twice(void)
{
	pthread_mutex_lock(&m);
	stce_assert_not_held(&m);
}

static void kept(void)
{
	pthread_mutex_lock(&m);
	stce_assert_held(&m);
	stce_assert_not_held(&other);
	pthread_mutex_unlock(&m);
}

static void test_broken_contract_aborts(void **state)
{
	int st;

	st = child_status(not_held);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	st = child_status(held_twice);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	st = child_status(kept);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void broken_invariant(void)
{
	int x = 1;

	stce_debug_assert(x == 2);
}

static void test_invariant_aborts(void **state)
{
	int st = child_status(broken_invariant);

	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks_exist),
#ifdef STCE_LOCKDEP
		cmocka_unit_test(test_held_by_self),
		cmocka_unit_test(test_held_by_other),
		cmocka_unit_test(test_broken_contract_aborts),
		cmocka_unit_test(test_invariant_aborts),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
