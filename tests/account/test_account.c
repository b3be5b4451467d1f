// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include <spapr_tce/account.h>

#include "account/hostpage.h"
#include "../lib/unpriv.h"

/* This machine's page as the account sees it: fake_page when set, to try
 * a 64K-page machine (sysconf is interposed for the whole test program). */
static long fake_page;
extern long __sysconf(int name);

long sysconf(int name)
{
	if (name == _SC_PAGESIZE && fake_page)
		return fake_page;
	return __sysconf(name);
}

static int audit_zero(void **state)
{
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_host_page_shift(), 16);
	return 0;
}

static void test_default_page(void **state)
{
	assert_int_equal(stce_host_page_shift(), 16);
	assert_int_equal(stce_host_page_size(), 65536);
}

static void test_bytes_to_pages(void **state)
{
	assert_int_equal(stce_account_bytes_to_pages(0), 0);
	assert_int_equal(stce_account_bytes_to_pages(1), 1);
	assert_int_equal(stce_account_bytes_to_pages(65536), 1);
	assert_int_equal(stce_account_bytes_to_pages(65537), 2);
	assert_int_equal(stce_account_bytes_to_pages(8388608), 128);
	assert_int_equal(stce_account_bytes_to_pages(UINT64_MAX), 1ULL << 48);
	assert_int_equal(stce_set_host_page_shift(12), 0);
	assert_int_equal(stce_account_bytes_to_pages(65536), 16);
	assert_int_equal(stce_account_bytes_to_pages(4097), 2);
	assert_int_equal(stce_set_host_page_shift(16), 0);
}

static void test_charge_uncharge(void **state)
{
	assert_int_equal(stce_account_charge(0), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_account_charge(10), 0);
	assert_int_equal(stce_account_charge(5), 0);
	assert_int_equal(stce_account_locked_pages(), 15);
	stce_account_uncharge(0);
	stce_account_uncharge(5);
	assert_int_equal(stce_account_locked_pages(), 10);
	stce_account_uncharge(10);
}

/* Root (CAP_IPC_LOCK) is exempt from the limit but still counted; the
 * counter itself cannot wrap. */
static void test_charge_overflow(void **state)
{
	assert_int_equal(stce_account_limit_pages(), UINT64_MAX);
	assert_int_equal(stce_account_charge(UINT64_MAX - 5), 0);
	assert_int_equal(stce_account_charge(10), -ENOMEM);
	assert_int_equal(stce_account_locked_pages(), UINT64_MAX - 5);
	assert_int_equal(stce_account_charge(5), 0);
	stce_account_uncharge(UINT64_MAX);
}

static void test_set_page_shift(void **state)
{
	assert_int_equal(stce_set_host_page_shift(13), -EINVAL);
	assert_int_equal(stce_set_host_page_shift(0), -EINVAL);
	assert_int_equal(stce_set_host_page_shift(64), -EINVAL);
	assert_int_equal(stce_set_host_page_shift(16), 0);
	assert_int_equal(stce_set_host_page_shift(12), 0);
	assert_int_equal(stce_host_page_shift(), 12);
	assert_int_equal(stce_set_host_page_shift(16), 0);

	/* Busy while charged... */
	assert_int_equal(stce_account_charge(1), 0);
	assert_int_equal(stce_set_host_page_shift(12), -EBUSY);
	assert_int_equal(stce_set_host_page_shift(16), 0);	/* no change */
	stce_account_uncharge(1);

	/* ...and while something holds the page size. */
	assert_int_equal(stce_host_page_hold(), 16);
	assert_int_equal(stce_set_host_page_shift(12), -EBUSY);
	stce_host_page_unhold();
	assert_int_equal(stce_set_host_page_shift(12), 0);
	assert_int_equal(stce_set_host_page_shift(16), 0);
}

/* A hold at a given page (what a PE takes): it switches the page when it
 * can, and the page then stays until the last hold goes. */
static void test_hold_at(void **state)
{
	assert_int_equal(stce_host_page_hold_at(13), -EINVAL);
	assert_int_equal(stce_host_page_hold_at(20), -EINVAL);
	assert_int_equal(stce_host_page_hold_at(12), 0);
	assert_int_equal(stce_host_page_shift(), 12);
	assert_int_equal(stce_host_page_hold_at(12), 0);	/* same page: shared */
	assert_int_equal(stce_host_page_hold_at(16), -EBUSY);
	assert_int_equal(stce_set_host_page_shift(16), -EBUSY);
	assert_int_equal(stce_host_page_hold(), 12);
	stce_host_page_unhold();
	stce_host_page_unhold();
	assert_int_equal(stce_host_page_hold_at(16), -EBUSY);	/* one left */
	assert_int_equal(stce_host_page_shift(), 12);
	stce_host_page_unhold();
	/* Free again: the page does not go back by itself. */
	assert_int_equal(stce_host_page_shift(), 12);
	/* A charge alone pins the page too (its pages are of that size). */
	assert_int_equal(stce_account_charge(1), 0);
	assert_int_equal(stce_host_page_hold_at(16), -EBUSY);
	assert_int_equal(stce_host_page_hold_at(12), 0);
	stce_host_page_unhold();
	stce_account_uncharge(1);
	assert_int_equal(stce_host_page_hold_at(16), 0);
	assert_int_equal(stce_host_page_shift(), 16);
	stce_host_page_unhold();

	/* On a machine of 64K pages a 4K host page cannot be emulated. */
	fake_page = 65536;
	assert_int_equal(stce_host_page_hold_at(12), -EINVAL);
	assert_int_equal(stce_set_host_page_shift(12), -EINVAL);
	assert_int_equal(stce_host_page_hold_at(16), 0);
	stce_host_page_unhold();
	fake_page = 0;
}

static int child_limit(void)
{
	/* 1 MiB of RLIMIT_MEMLOCK: 16 pages of 64K. */
	CHILD_CHECK(stce_account_limit_pages() == 16);
	CHILD_CHECK(stce_account_charge(10) == 0);
	CHILD_CHECK(stce_account_charge(6) == 0);
	CHILD_CHECK(stce_account_charge(1) == -ENOMEM);
	CHILD_CHECK(stce_account_locked_pages() == 16);
	stce_account_uncharge(6);
	CHILD_CHECK(stce_account_charge(7) == -ENOMEM);
	CHILD_CHECK(stce_account_charge(6) == 0);
	stce_account_uncharge(16);

	/* The limit is re-read on every charge. */
	struct rlimit rl = { 65536 * 2 + 100, 65536 * 2 + 100 };

	CHILD_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	CHILD_CHECK(stce_account_limit_pages() == 2);	/* rounded down */
	CHILD_CHECK(stce_account_charge(3) == -ENOMEM);
	CHILD_CHECK(stce_account_charge(2) == 0);
	stce_account_uncharge(2);

	/* 4K host pages: the same bytes are 16 times the pages. */
	CHILD_CHECK(stce_set_host_page_shift(12) == 0);
	CHILD_CHECK(stce_account_limit_pages() == 32);
	CHILD_CHECK(stce_account_charge(33) == -ENOMEM);
	CHILD_CHECK(stce_account_charge(32) == 0);
	stce_account_uncharge(32);
	CHILD_CHECK(stce_account_locked_pages() == 0);
	return 0;
}

static void test_limit_unprivileged(void **state)
{
	assert_int_equal(run_unprivileged(1 << 20, child_limit), 0);
}

static int child_zero_limit(void)
{
	CHILD_CHECK(stce_account_limit_pages() == 0);
	CHILD_CHECK(stce_account_charge(1) == -ENOMEM);
	CHILD_CHECK(stce_account_charge(0) == 0);
	CHILD_CHECK(stce_account_locked_pages() == 0);
	return 0;
}

static void test_zero_limit_unprivileged(void **state)
{
	assert_int_equal(run_unprivileged(0, child_zero_limit), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_default_page, audit_zero),
		cmocka_unit_test_teardown(test_bytes_to_pages, audit_zero),
		cmocka_unit_test_teardown(test_charge_uncharge, audit_zero),
		cmocka_unit_test_teardown(test_charge_overflow, audit_zero),
		cmocka_unit_test_teardown(test_set_page_shift, audit_zero),
		cmocka_unit_test_teardown(test_hold_at, audit_zero),
		cmocka_unit_test_teardown(test_limit_unprivileged, audit_zero),
		cmocka_unit_test_teardown(test_zero_limit_unprivileged, audit_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
