// SPDX-License-Identifier: MIT
/* Pre-registered regions: every errno path, sharing, release, audits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/alloc.h"
#include "prereg/prereg_internal.h"
#include <sys/syscall.h>
#include <unistd.h>

#include <spapr_tce/hostmem.h>
#include <spapr_tce/table.h>

#include "../lib/prereg_test.h"
#include "../lib/unpriv.h"

/* After every test: nothing charged, pinned or registered. */
static int audit(void **state)
{
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	assert_int_equal(stce_pin_pages(), 0);
	assert_int_equal(stce_hostmem_pinned_bytes(), 0);
	assert_int_equal(stce_host_page_shift(), 16);
	stce_fault_arm(STCE_FAULT_ALLOC, 0);
	stce_fault_arm(STCE_FAULT_PIN, 0);
	return 0;
}

static void test_register_basic(void **state)
{
	uint64_t ua = map_anon(16 * MB);
	long lck = vmlck_kb();
	struct stce_region *r;

	assert_int_equal(stce_prereg_register(ua, 16 * MB, &r), 0);
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_account_locked_pages(), 256);
	/* Pinned is a reference, not residency: nothing mlocked. */
	assert_int_equal(vmlck_kb(), lck);
	assert_int_equal(stce_hostmem_pinned_bytes(), 16 * MB);
	assert_int_equal(stce_region_ua(r), ua);
	assert_int_equal(stce_region_size(r), 16 * MB);
	assert_int_equal(stce_region_page_shift(r), 16);
	assert_int_equal(stce_region_users(r), 1);
	assert_int_equal(stce_region_mapped(r), 0);
	assert_false(stce_region_released(r));
	assert_true(stce_prereg_range_mapped(ua, 16 * MB));
	assert_int_equal(stce_prereg_put(r), 0);
	assert_int_equal(vmlck_kb(), lck);
	unmap(ua, 16 * MB);
}

static void test_register_einval(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	struct stce_region *r = NULL;

	assert_int_equal(stce_prereg_register(ua, 0, &r), -EINVAL);
	assert_int_equal(stce_prereg_register(ua + 4096, HP, &r), -EINVAL);
	assert_int_equal(stce_prereg_register(ua, HP + 4096, &r), -EINVAL);
	assert_int_equal(stce_prereg_register(ua, 4096, &r), -EINVAL);
	/* Wraps past 2^64. */
	assert_int_equal(stce_prereg_register(UINT64_MAX - HP + 1, 2 * HP, &r),
			 -EINVAL);
	assert_null(r);
	assert_int_equal(stce_account_locked_pages(), 0);
	unmap(ua, 4 * HP);
}

static void test_register_efault(void **state)
{
	uint64_t ua = map_anon(4 * HP), ro;
	struct stce_region *r;

	/*
	 * A hole in the middle: the kernel answers how many pages it could
	 * pin (here 1), registering and charging nothing; -EFAULT when not
	 * even the first one (observed on Linux 6.12, docs/prereg.md).
	 */
	unmap(ua + HP, HP);
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 1);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_hostmem_pinned_bytes(), 0);
	/* Not mapped at all. */
	assert_int_equal(stce_prereg_register(ua + HP, HP, &r), -EFAULT);
	/* Read-only memory cannot be pinned for writing. */
	ro = map_aligned(2 * HP, HP, PROT_READ);
	assert_int_equal(stce_prereg_register(ro, 2 * HP, &r), -EFAULT);
	/* Writable, then read-only or PROT_NONE: the writable pages. */
	assert_int_equal(mprotect((void *)(uintptr_t)ro, HP,
				  PROT_READ | PROT_WRITE), 0);
	assert_int_equal(stce_prereg_register(ro, 2 * HP, &r), 1);
	assert_int_equal(mprotect((void *)(uintptr_t)ro + HP, HP, PROT_NONE), 0);
	assert_int_equal(stce_prereg_register(ro, 2 * HP, &r), 1);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	/* What is mapped still registers. */
	assert_int_equal(stce_prereg_register(ua + 2 * HP, 2 * HP, &r), 0);
	assert_int_equal(stce_prereg_put(r), 0);
	unmap(ro, 2 * HP);
	unmap(ua, 4 * HP);
}

static void test_register_shared(void **state)
{
	uint64_t ua = map_anon(MB);
	struct stce_region *a, *b;

	assert_int_equal(stce_prereg_register(ua, MB, &a), 0);
	assert_int_equal(stce_prereg_register(ua, MB, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(stce_region_users(a), 2);
	assert_int_equal(stce_account_locked_pages(), 16);	/* once */
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_prereg_put(b), 0);
	assert_int_equal(stce_region_users(a), 1);
	assert_int_equal(stce_account_locked_pages(), 16);
	assert_int_equal(stce_prereg_unregister(ua, MB), 0);
	unmap(ua, MB);
}

static void test_register_overlap(void **state)
{
	uint64_t base = map_anon(8 * HP), ua = base + 2 * HP;
	struct stce_region *r, *x, *left, *right;

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_register(ua + HP, 4 * HP, &x), -EINVAL);
	assert_int_equal(stce_prereg_register(ua - HP, 2 * HP, &x), -EINVAL);
	assert_int_equal(stce_prereg_register(ua + HP, HP, &x), -EINVAL);
	assert_int_equal(stce_prereg_register(ua, 2 * HP, &x), -EINVAL);
	assert_int_equal(stce_prereg_register(ua, 5 * HP, &x), -EINVAL);
	assert_int_equal(stce_prereg_register(base, 8 * HP, &x), -EINVAL);
	assert_int_equal(stce_prereg_register(ua + 3 * HP, HP, &x), -EINVAL);
	assert_int_equal(stce_account_locked_pages(), 4);
	/* Neighbours that touch without overlapping are fine. */
	assert_int_equal(stce_prereg_register(base, 2 * HP, &left), 0);
	assert_int_equal(stce_prereg_register(ua + 4 * HP, 2 * HP, &right), 0);
	assert_int_equal(stce_prereg_count(), 3);
	assert_int_equal(stce_prereg_put(left), 0);
	assert_int_equal(stce_prereg_put(r), 0);
	assert_int_equal(stce_prereg_put(right), 0);
	unmap(base, 8 * HP);
}

static void test_unregister_enoent(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	struct stce_region *r;

	assert_int_equal(stce_prereg_unregister(ua, 4 * HP), -ENOENT);
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_unregister(ua, 2 * HP), -ENOENT);
	assert_int_equal(stce_prereg_unregister(ua + HP, 3 * HP), -ENOENT);
	assert_int_equal(stce_prereg_unregister(ua, 0), -ENOENT);
	assert_int_equal(stce_prereg_unregister(UINT64_MAX - HP + 1, 2 * HP),
			 -ENOENT);
	assert_int_equal(stce_prereg_unregister(ua, 4 * HP), 0);
	assert_int_equal(stce_prereg_unregister(ua, 4 * HP), -ENOENT);
	unmap(ua, 4 * HP);
}

static void test_unregister_ebusy(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	struct stce_region *r, *m, *shared;

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_lookup(ua, HP, &m), 0);
	assert_ptr_equal(m, r);
	assert_int_equal(stce_region_mapped(r), 1);
	assert_int_equal(stce_prereg_unregister(ua, 4 * HP), -EBUSY);
	assert_int_equal(stce_prereg_put(r), -EBUSY);
	assert_int_equal(stce_region_users(r), 1);
	assert_int_equal(stce_account_locked_pages(), 4);

	/* Not the last user: dropping one is fine even while mapped. */
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &shared), 0);
	assert_int_equal(stce_prereg_put(shared), 0);
	assert_int_equal(stce_prereg_put(r), -EBUSY);

	stce_prereg_mapped_dec(m);
	assert_int_equal(stce_region_mapped(r), 0);
	assert_int_equal(stce_prereg_unregister(ua, 4 * HP), 0);
	unmap(ua, 4 * HP);
}

static void test_lookup(void **state)
{
	uint64_t base = map_anon(8 * HP), ua = base + HP;
	struct stce_region *r, *next, *m;

	assert_int_equal(stce_prereg_lookup(ua, HP, &m), -EINVAL);	/* none */
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_register(ua + 4 * HP, HP, &next), 0);

	assert_int_equal(stce_prereg_lookup(ua, 4 * HP, &m), 0);
	assert_ptr_equal(m, r);
	assert_int_equal(stce_prereg_lookup(ua + HP, 4096, &m), 0);
	assert_int_equal(stce_prereg_lookup(ua + 4 * HP - 4096, 4096, &m), 0);
	assert_ptr_equal(m, r);
	assert_int_equal(stce_region_mapped(r), 3);
	stce_prereg_mapped_dec(r);
	stce_prereg_mapped_dec(r);
	stce_prereg_mapped_dec(r);

	/* Runs past the end (into the next region), starts before, etc. */
	assert_int_equal(stce_prereg_lookup(ua + 4 * HP - 4096, 8192, &m),
			 -EINVAL);
	assert_int_equal(stce_prereg_lookup(ua + HP, 4 * HP, &m), -EINVAL);
	assert_int_equal(stce_prereg_lookup(ua - 4096, 8192, &m), -EINVAL);
	assert_int_equal(stce_prereg_lookup(base, HP, &m), -EINVAL);
	assert_int_equal(stce_prereg_lookup(ua + 5 * HP, HP, &m), -EINVAL);
	assert_int_equal(stce_prereg_lookup(ua, 0, &m), -EINVAL);
	assert_int_equal(stce_prereg_lookup(ua, UINT64_MAX, &m), -EINVAL);
	assert_int_equal(stce_region_mapped(r), 0);
	assert_int_equal(stce_region_mapped(next), 0);

	assert_int_equal(stce_prereg_lookup(ua + 4 * HP, HP, &m), 0);
	assert_ptr_equal(m, next);
	stce_prereg_mapped_dec(m);
	assert_int_equal(stce_prereg_put(r), 0);
	assert_int_equal(stce_prereg_put(next), 0);
	unmap(base, 8 * HP);
}

static void test_ua_to_hpa(void **state)
{
	uint64_t ua = map_anon(4 * HP), hpa = 0;
	struct stce_region *r;

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua + HP + 4096, 12, &hpa), 0);
	assert_int_equal(hpa, ua + HP + 4096);
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua + 3 * HP, 16, &hpa), 0);
	assert_int_equal(hpa, ua + 3 * HP);
	/* An IOMMU page larger than the 64K backing page. */
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua, 21, &hpa), -EINVAL);
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua, 17, &hpa), -EINVAL);
	/* Outside, or a page that runs past the end. */
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua - 4096, 12, &hpa), -EINVAL);
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua + 4 * HP, 12, &hpa),
			 -EINVAL);
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua + 4 * HP - 4096, 16, &hpa),
			 -EINVAL);
	assert_int_equal(stce_prereg_put(r), 0);
	unmap(ua, 4 * HP);
}

/* With 4K host pages, 4K-backed memory refuses 64K IOMMU pages (the
 * kernel's "4K pages cannot be mapped by 64K IOMMU pages"). */
static void test_4k_host_pages(void **state)
{
	uint64_t ua = map_anon(4 * HP), hpa;
	struct stce_region *r;

	assert_int_equal(stce_set_host_page_shift(12), 0);
	assert_int_equal(stce_prereg_register(ua + 4096, 4096, &r), 0);
	assert_int_equal(stce_account_locked_pages(), 1);
	assert_int_equal(stce_region_page_shift(r), 12);
	assert_int_equal(stce_set_host_page_shift(16), -EBUSY);
	assert_int_equal(stce_prereg_put(r), 0);

	/* 64K-aligned and sized, but backed by 4K pages. */
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_account_locked_pages(), 64);
	assert_int_equal(stce_region_page_shift(r), 12);
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua, 16, &hpa), -EINVAL);
	assert_int_equal(stce_prereg_ua_to_hpa(r, ua, 12, &hpa), 0);
	assert_int_equal(stce_prereg_put(r), 0);
	assert_int_equal(stce_set_host_page_shift(16), 0);
	unmap(ua, 4 * HP);
}

/* The region's page shift is also bounded by the alignment of ua|size. */
static void test_page_shift_alignment(void **state)
{
	uint64_t ua = map_aligned(4 * MB, 2 * MB, PROT_READ | PROT_WRITE);
	struct stce_region *r;

	assert_int_equal(stce_prereg_register(ua + HP, HP, &r), 0);
	assert_int_equal(stce_region_page_shift(r), 16);
	assert_int_equal(stce_prereg_put(r), 0);
	/* 2M-aligned anonymous memory is still backed by small pages. */
	assert_int_equal(stce_prereg_register(ua, 2 * MB, &r), 0);
	assert_int_equal(stce_region_page_shift(r), 16);
	assert_int_equal(stce_prereg_put(r), 0);
	unmap(ua, 4 * MB);
}

static void test_find_hpa(void **state)
{
	uint64_t base = map_anon(6 * HP), ua = base + HP;
	struct stce_region *r;

	assert_null(stce_prereg_find_hpa(ua));
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_ptr_equal(stce_prereg_find_hpa(ua), r);
	assert_ptr_equal(stce_prereg_find_hpa(ua + 4 * HP - 1), r);
	assert_ptr_equal(stce_prereg_find_hpa(ua + 2 * HP + 123), r);
	assert_null(stce_prereg_find_hpa(ua - 1));
	assert_null(stce_prereg_find_hpa(ua + 4 * HP));
	assert_null(stce_prereg_find_hpa(0));
	assert_null(stce_prereg_find_hpa(UINT64_MAX));
	assert_int_equal(stce_prereg_put(r), 0);
	assert_null(stce_prereg_find_hpa(ua));
	unmap(base, 6 * HP);
}

/*
 * Each thread keeps its last hit of stce_prereg_lookup() and of
 * stce_prereg_find_hpa(): a region torn down and registered again
 * smaller at the same address must not be answered from it (the old
 * region is freed: ASan would see the stale hit's read too).
 */
static void test_last_hit_refreshed(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	struct stce_region *r1, *r2, *got;

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r1), 0);
	assert_int_equal(stce_prereg_lookup(ua + 3 * HP, HP, &got), 0);
	assert_ptr_equal(got, r1);
	assert_ptr_equal(stce_prereg_find_hpa(ua + 3 * HP), r1);
	/* A hit counts its mapping as a search does. */
	assert_int_equal(stce_prereg_lookup(ua + 3 * HP, HP, &got), 0);
	assert_int_equal(stce_region_mapped(r1), 2);
	stce_prereg_mapped_dec(got);
	stce_prereg_mapped_dec(got);
	assert_int_equal(stce_prereg_put(r1), 0);

	assert_int_equal(stce_prereg_register(ua, 2 * HP, &r2), 0);
	assert_int_equal(stce_prereg_lookup(ua + 3 * HP, HP, &got), -EINVAL);
	assert_null(stce_prereg_find_hpa(ua + 3 * HP));
	assert_int_equal(stce_prereg_lookup(ua, HP, &got), 0);
	assert_ptr_equal(got, r2);
	assert_ptr_equal(stce_prereg_find_hpa(ua + HP), r2);
	stce_prereg_mapped_dec(got);
	assert_int_equal(stce_prereg_put(r2), 0);
	/* Gone: neither lookup answers from its last hit. */
	assert_int_equal(stce_prereg_lookup(ua, HP, &got), -EINVAL);
	assert_null(stce_prereg_find_hpa(ua + HP));
	unmap(ua, 4 * HP);
}

/* A fork child has no registrations: the forking thread's last hits are
 * the parent's and must not answer there. */
static void test_last_hit_fork(void **state)
{
	uint64_t ua = map_anon(2 * HP);
	struct stce_region *r, *got;
	int status;
	pid_t pid;

	assert_int_equal(stce_prereg_register(ua, 2 * HP, &r), 0);
	assert_int_equal(stce_prereg_lookup(ua, HP, &got), 0);
	assert_ptr_equal(stce_prereg_find_hpa(ua), r);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(stce_prereg_lookup(ua, HP, &got) != -EINVAL ? 1 :
		      stce_prereg_find_hpa(ua) ? 2 : 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	stce_prereg_mapped_dec(got);
	assert_int_equal(stce_prereg_put(r), 0);
	unmap(ua, 2 * HP);
}

static void test_mapped_inc_dec(void **state)
{
	uint64_t ua = map_anon(2 * HP);
	struct stce_region *r;
	int i;

	assert_int_equal(stce_prereg_register(ua, 2 * HP, &r), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(stce_prereg_mapped_inc(r), 0);
	assert_int_equal(stce_region_mapped(r), 100);
	assert_int_equal(stce_prereg_put(r), -EBUSY);
	for (i = 0; i < 100; i++)
		stce_prereg_mapped_dec(r);
	assert_int_equal(stce_prereg_put(r), 0);
	unmap(ua, 2 * HP);
}

/*
 * VFIO's UNREGISTER of a mapped region: the user goes now, the region stays
 * pinned, charged and findable for its mappings (by hpa, and by ua for new
 * maps), and goes with its last mapping.
 */
static void test_deferred_release(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	long lck = vmlck_kb();
	struct stce_region *r, *m;

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_lookup(ua, HP, &m), 0);
	assert_int_equal(stce_prereg_mapped_inc(m), 0);
	stce_prereg_put_deferred(r);

	assert_true(stce_region_released(r));
	assert_int_equal(stce_region_users(r), 0);
	assert_int_equal(stce_region_mapped(r), 2);
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_account_locked_pages(), 4);
	assert_int_equal(vmlck_kb(), lck);
	assert_int_equal(stce_hostmem_pinned_bytes(), 4 * HP);
	/* New maps still find it while it is mapped (as on the kernel,
	 * which keeps it registered); it has no user to unregister... */
	assert_int_equal(stce_prereg_lookup(ua, HP, &m), 0);
	assert_ptr_equal(m, r);
	assert_int_equal(stce_region_mapped(r), 3);
	stce_prereg_mapped_dec(m);
	assert_int_equal(stce_prereg_unregister(ua, 4 * HP), -ENOENT);
	/* ...but an overlapping range still meets the pinned region. */
	assert_int_equal(stce_prereg_register(ua + HP, HP, &m), -EINVAL);
	/* Clearing the old TCEs finds it by hpa. */
	assert_ptr_equal(stce_prereg_find_hpa(ua + HP), r);

	stce_prereg_mapped_dec(stce_prereg_find_hpa(ua));
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_account_locked_pages(), 4);
	stce_prereg_mapped_dec(stce_prereg_find_hpa(ua + 3 * HP));
	/* The last mapping went: unpinned, un-charged, gone. */
	assert_int_equal(stce_prereg_count(), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(vmlck_kb(), lck);
	assert_null(stce_prereg_find_hpa(ua));
	unmap(ua, 4 * HP);
}

/*
 * The one release of cleared v2 TCEs: each live TCE drops one mapping of
 * the region its address is in, runs split where regions meet (two
 * adjacent regions here), and what is not live or in no region is
 * skipped; the last mappings of a released region take it down.
 */
static void release_tces_check(bool one_by_one)
{
	uint64_t ua = map_anon(5 * HP), a = ua, b = ua + 2 * HP, nowhere = ua + 4 * HP;
	uint64_t rw = STCE_TCE_READ | STCE_TCE_WRITE;
	struct stce_region *ra, *rb;
	const uint64_t tces[] = {
		stce_tce_make(a, rw),
		0,
		a + HP,				/* its address, no permission */
		stce_tce_make(a + HP, STCE_TCE_READ),
		stce_tce_make(b, STCE_TCE_WRITE),
		stce_tce_make(a, STCE_TCE_READ),	/* back in the first */
		stce_tce_make(b + HP, rw),
		stce_tce_make(nowhere, rw),
	};

	assert_int_equal(stce_prereg_register(a, 2 * HP, &ra), 0);
	assert_int_equal(stce_prereg_register(b, 2 * HP, &rb), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(stce_prereg_mapped_inc(ra), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(stce_prereg_mapped_inc(rb), 0);

	stce_prereg_release_tces(tces, 0);
	assert_int_equal(stce_region_mapped(ra), 4);
	if (one_by_one)
		for (size_t i = 0; i < sizeof(tces) / sizeof(tces[0]); i++)
			stce_prereg_release_tce(tces[i]);
	else
		stce_prereg_release_tces(tces, sizeof(tces) / sizeof(tces[0]));
	assert_int_equal(stce_region_mapped(ra), 1);
	assert_int_equal(stce_region_mapped(rb), 0);

	/* A released region goes with its last mapping, here. */
	stce_prereg_put_deferred(ra);
	assert_true(stce_region_released(ra));
	assert_int_equal(stce_prereg_count(), 2);
	if (one_by_one)
		stce_prereg_release_tce(tces[3]);
	else
		stce_prereg_release_tces(&tces[3], 1);
	assert_int_equal(stce_prereg_count(), 1);
	assert_null(stce_prereg_find_hpa(a));
	assert_int_equal(stce_account_locked_pages(), 2);
	assert_int_equal(stce_prereg_put(rb), 0);
	unmap(ua, 5 * HP);
}

static void test_release_tces(void **state)
{
	release_tces_check(false);
}

/* stce_prereg_release_tce(), the one-page UNMAP's: the same, a TCE a call. */
static void test_release_tce(void **state)
{
	release_tces_check(true);
}

static void test_deferred_unmapped(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	struct stce_region *r, *s;

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &s), 0);
	stce_prereg_put_deferred(s);	/* not the last user */
	assert_int_equal(stce_prereg_count(), 1);
	assert_false(stce_region_released(r));
	stce_prereg_put_deferred(r);	/* last user, no mapping: gone now */
	assert_int_equal(stce_prereg_count(), 0);
	unmap(ua, 4 * HP);
}

/* Registering a released region's exact range again revives it. */
static void test_revive(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	struct stce_region *r, *m, *again;

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_lookup(ua, HP, &m), 0);
	stce_prereg_put_deferred(r);
	assert_true(stce_region_released(r));

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &again), 0);
	assert_ptr_equal(again, r);
	assert_false(stce_region_released(r));
	assert_int_equal(stce_region_users(r), 1);
	assert_int_equal(stce_account_locked_pages(), 4);	/* no new charge */
	assert_int_equal(stce_prereg_lookup(ua, HP, &m), 0);
	assert_int_equal(stce_region_mapped(r), 2);
	stce_prereg_mapped_dec(m);
	stce_prereg_mapped_dec(m);
	/* Live again: the last mapping going does not tear it down. */
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_prereg_put(r), 0);
	unmap(ua, 4 * HP);
}

static int child_register_limit(void)
{
	uint64_t ua = map_anon(4 * MB);
	struct stce_region *r, *x;

	CHILD_CHECK(ua);
	/* RLIMIT_MEMLOCK 1 MiB = 16 pages of 64K. */
	CHILD_CHECK(stce_prereg_register(ua, MB, &r) == 0);
	CHILD_CHECK(stce_account_locked_pages() == 16);
	CHILD_CHECK(stce_prereg_register(ua + MB, HP, &x) == -ENOMEM);
	CHILD_CHECK(stce_account_locked_pages() == 16);
	CHILD_CHECK(stce_prereg_count() == 1);
	/* The same range again is shared, not charged: it passes. */
	CHILD_CHECK(stce_prereg_register(ua, MB, &x) == 0 && x == r);
	CHILD_CHECK(stce_prereg_put(x) == 0);
	CHILD_CHECK(stce_prereg_put(r) == 0);
	CHILD_CHECK(stce_prereg_register(ua, 2 * MB, &x) == -ENOMEM);
	CHILD_CHECK(stce_account_locked_pages() == 0);
	CHILD_CHECK(stce_prereg_count() == 0);

	/*
	 * The program's own mlock is its business: registering neither
	 * takes from the kernel's mlock limit nor lifts the program's lock.
	 */
	CHILD_CHECK(syscall(SYS_mlock, ua + MB, 512 * KB) == 0);
	CHILD_CHECK(stce_prereg_register(ua, 2 * MB, &x) == -ENOMEM);
	CHILD_CHECK(stce_prereg_register(ua, MB, &x) == 0);
	CHILD_CHECK(vmlck_kb() == 512);
	CHILD_CHECK(stce_prereg_put(x) == 0);
	CHILD_CHECK(stce_prereg_register(ua + MB, MB, &x) == 0);
	CHILD_CHECK(stce_prereg_put(x) == 0);
	CHILD_CHECK(vmlck_kb() == 512);
	syscall(SYS_munlock, ua + MB, 512 * KB);
	CHILD_CHECK(vmlck_kb() == 0);
	unmap(ua, 4 * MB);
	return 0;
}

static void test_limit_unprivileged(void **state)
{
	assert_int_equal(run_unprivileged(MB, child_register_limit), 0);
}

/* Each allocation or pin failing in turn leaves nothing behind. */
static void fault_walk(enum stce_fault_site site, uint64_t ua, uint64_t size)
{
	struct stce_region *r = NULL;
	size_t count = stce_prereg_count();
	uint64_t locked = stce_account_locked_pages();
	long lck = vmlck_kb();
	unsigned long nth;
	int ret;

	for (nth = 1;; nth++) {
		stce_fault_arm(site, nth);
		ret = stce_prereg_register(ua, size, &r);
		if (!ret)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_int_equal(stce_prereg_count(), count);
		assert_int_equal(stce_account_locked_pages(), locked);
		assert_int_equal(vmlck_kb(), lck);
		assert_null(stce_prereg_find_hpa(ua));
	}
	stce_fault_arm(site, 0);
	assert_true(nth > 1);	/* the site was met */
	assert_int_equal(stce_prereg_count(), count + 1);
	assert_int_equal(stce_prereg_put(r), 0);
}

static void test_fault_injection(void **state)
{
	uint64_t ua = map_anon(16 * HP);
	struct stce_region *regs[5];
	int i;

	fault_walk(STCE_FAULT_ALLOC, ua, 2 * HP);
	fault_walk(STCE_FAULT_PIN, ua, 2 * HP);
	/* With regions around (array reuse and growth paths too). */
	for (i = 0; i < 5; i++) {
		assert_int_equal(stce_prereg_register(ua + 2 * HP * i, HP,
						      &regs[i]), 0);
		fault_walk(STCE_FAULT_ALLOC, ua + 2 * HP * i + HP, HP);
		fault_walk(STCE_FAULT_PIN, ua + 2 * HP * i + HP, HP);
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(stce_prereg_put(regs[i]), 0);
	unmap(ua, 16 * HP);
}

/*
 * The user unmaps a registered range: the library never touches it;
 * lookups still answer from the recorded range, unregister un-charges.
 */
static void test_munmap_after_register(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	struct stce_region *r, *m;

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_prereg_lookup(ua, HP, &m), 0);
	unmap(ua + HP, HP);
	assert_false(stce_prereg_range_mapped(ua, 4 * HP));
	assert_true(stce_prereg_range_mapped(ua, HP));
	assert_true(stce_prereg_range_mapped(ua + 2 * HP + 12, 100));
	assert_false(stce_prereg_range_mapped(ua + HP + 4096, 4096));
	assert_false(stce_prereg_range_mapped(ua, 0));
	assert_ptr_equal(stce_prereg_find_hpa(ua + HP), r);
	stce_prereg_mapped_dec(m);
	unmap(ua, 4 * HP);
	assert_int_equal(stce_prereg_put(r), 0);	/* skips the hole */
	assert_int_equal(stce_account_locked_pages(), 0);
}

/*
 * mremap moves a registered range: the old region keeps its recorded
 * address (as the kernel's pins outlive the mapping) and the new address
 * must be registered on its own (pinned and charged twice, as the kernel).
 */
static void test_mremap_after_register(void **state)
{
	uint64_t ua = map_anon(4 * HP), dst = map_anon(4 * HP), moved;
	struct stce_region *r, *r2;
	long lck = vmlck_kb();

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	moved = (uint64_t)(uintptr_t)mremap((void *)(uintptr_t)ua, 4 * HP,
					    4 * HP, MREMAP_MAYMOVE | MREMAP_FIXED,
					    (void *)(uintptr_t)dst);
	assert_int_equal(moved, dst);
	assert_false(stce_prereg_range_mapped(ua, 4 * HP));
	assert_true(stce_prereg_range_mapped(dst, 4 * HP));
	assert_null(stce_prereg_find_hpa(dst));
	assert_int_equal(stce_prereg_register(dst, 4 * HP, &r2), 0);
	assert_ptr_not_equal(r, r2);
	assert_int_equal(stce_account_locked_pages(), 8);
	assert_int_equal(stce_prereg_put(r), 0);
	assert_int_equal(stce_prereg_put(r2), 0);
	assert_int_equal(vmlck_kb(), lck);
	unmap(dst, 4 * HP);
}

/* 0..n-1 in a random order (Fisher-Yates from @seed). */
static void shuffled(int *order, int n, unsigned int seed)
{
	for (int i = 0; i < n; i++)
		order[i] = i;
	srand(seed);
	for (int i = n - 1; i > 0; i--) {
		int j = rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

static void test_many_regions(void **state)
{
	enum { N = 200 };
	uint64_t base = map_anon(2 * N * HP);
	struct stce_region *regs[N], *m;
	int order[N], i;

	shuffled(order, N, 7);
	for (i = 0; i < N; i++)
		assert_int_equal(stce_prereg_register(base + 2 * HP * order[i],
						      HP, &regs[order[i]]), 0);
	for (i = 0; i < N; i++) {
		uint64_t ua = base + 2 * HP * i;

		assert_ptr_equal(stce_prereg_find_hpa(ua + 5), regs[i]);
		assert_null(stce_prereg_find_hpa(ua + HP));
		assert_int_equal(stce_prereg_lookup(ua, HP, &m), 0);
		assert_ptr_equal(m, regs[i]);
		stce_prereg_mapped_dec(m);
	}
	/* Remove every other one, check, then the rest. */
	for (i = 0; i < N; i += 2)
		assert_int_equal(stce_prereg_put(regs[order[i]]), 0);
	for (i = 0; i < N; i++) {
		uint64_t ua = base + 2 * HP * order[i];

		if (i % 2)
			assert_ptr_equal(stce_prereg_find_hpa(ua), regs[order[i]]);
		else
			assert_null(stce_prereg_find_hpa(ua));
	}
	for (i = 1; i < N; i += 2)
		assert_int_equal(stce_prereg_put(regs[order[i]]), 0);
	unmap(base, 2 * N * HP);
}

/*
 * 100,000 regions (4K host pages, in random order, every other address so
 * that none touch): all found by address and by hpa, then removed in
 * another order, with churn (re-registration of removed ones) on the way.
 */
static void test_100k_regions(void **state)
{
	enum { N = 100000 };
	const uint64_t pg = 4096;
	uint64_t base;
	struct stce_region **regs = calloc(N, sizeof(*regs)), *m;
	int *order = calloc(N, sizeof(*order)), i;

	assert_int_equal(stce_set_host_page_shift(12), 0);
	base = map_aligned(2 * N * pg, HP, PROT_READ | PROT_WRITE);
	assert_true(base && regs && order);
	shuffled(order, N, 11);
	for (i = 0; i < N; i++)
		assert_int_equal(stce_prereg_register(base + 2 * pg * order[i],
						      pg, &regs[order[i]]), 0);
	assert_int_equal(stce_prereg_count(), N);
	for (i = 0; i < N; i += 7) {
		uint64_t ua = base + 2 * pg * i;

		assert_ptr_equal(stce_prereg_find_hpa(ua + 5), regs[i]);
		assert_null(stce_prereg_find_hpa(ua + pg));
		assert_int_equal(stce_prereg_lookup(ua, pg, &m), 0);
		assert_ptr_equal(m, regs[i]);
		stce_prereg_mapped_dec(m);
		assert_int_equal(stce_prereg_register(ua, 2 * pg, &m), -EINVAL);
	}
	for (i = 0; i < N; i += 2)
		assert_int_equal(stce_prereg_put(regs[i]), 0);
	for (i = 0; i < N; i += 4)	/* again, where dead entries lie */
		assert_int_equal(stce_prereg_register(base + 2 * pg * i, pg,
						      &regs[i]), 0);
	for (i = 0; i < N; i++) {
		uint64_t ua = base + 2 * pg * i;

		if (i % 2 && i % 4 != 0)
			assert_ptr_equal(stce_prereg_find_hpa(ua), regs[i]);
		else if (i % 4)
			assert_null(stce_prereg_find_hpa(ua));
	}
	for (i = 0; i < N; i++)
		if (i % 2 || i % 4 == 0)
			assert_int_equal(stce_prereg_put(regs[i]), 0);
	assert_int_equal(stce_prereg_count(), 0);
	assert_int_equal(stce_hostmem_pinned_bytes(), 0);
	unmap(base, 2 * N * pg);
	assert_int_equal(stce_set_host_page_shift(16), 0);
	free(regs);
	free(order);
}

/* Shared file-backed memory (tmpfs): page size read from smaps. */
static void test_shared_file_memory(void **state)
{
	int fd = memfd_create("stce-test", 0);
	struct stce_region *r;
	void *p;
	uint64_t ua;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(4 * HP)), 0);
	ua = map_anon(4 * HP);
	p = mmap((void *)(uintptr_t)ua, 4 * HP, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0);
	assert_ptr_equal(p, (void *)(uintptr_t)ua);
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_region_page_shift(r), 16);
	assert_int_equal(stce_prereg_put(r), 0);
	unmap(ua, 4 * HP);
	close(fd);
}

static void test_hugetlb(void **state)
{
	struct stce_region *r;
	uint64_t hpa;
	void *p;

	if (huge_pages_free() < 2) {
		printf("skip: no free 2M hugetlbfs pages (HugePages_Free)\n");
		skip();
	}
	p = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		skip();
	assert_int_equal(stce_prereg_register((uintptr_t)p, 4 * MB, &r), 0);
	assert_int_equal(stce_region_page_shift(r), 21);
	assert_int_equal(stce_prereg_ua_to_hpa(r, (uintptr_t)p, 21, &hpa), 0);
	assert_int_equal(stce_prereg_ua_to_hpa(r, (uintptr_t)p, 24, &hpa),
			 -EINVAL);
	assert_int_equal(stce_prereg_put(r), 0);
	/* A sub-range not aligned to 2M is limited by its alignment. */
	assert_int_equal(stce_prereg_register((uintptr_t)p + HP, HP, &r), 0);
	assert_int_equal(stce_region_page_shift(r), 16);
	assert_int_equal(stce_prereg_put(r), 0);
	munmap(p, 4 * MB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_register_basic, audit),
		cmocka_unit_test_teardown(test_register_einval, audit),
		cmocka_unit_test_teardown(test_register_efault, audit),
		cmocka_unit_test_teardown(test_register_shared, audit),
		cmocka_unit_test_teardown(test_register_overlap, audit),
		cmocka_unit_test_teardown(test_unregister_enoent, audit),
		cmocka_unit_test_teardown(test_unregister_ebusy, audit),
		cmocka_unit_test_teardown(test_lookup, audit),
		cmocka_unit_test_teardown(test_ua_to_hpa, audit),
		cmocka_unit_test_teardown(test_4k_host_pages, audit),
		cmocka_unit_test_teardown(test_page_shift_alignment, audit),
		cmocka_unit_test_teardown(test_find_hpa, audit),
		cmocka_unit_test_teardown(test_last_hit_refreshed, audit),
		cmocka_unit_test_teardown(test_last_hit_fork, audit),
		cmocka_unit_test_teardown(test_mapped_inc_dec, audit),
		cmocka_unit_test_teardown(test_deferred_release, audit),
		cmocka_unit_test_teardown(test_deferred_unmapped, audit),
		cmocka_unit_test_teardown(test_release_tces, audit),
		cmocka_unit_test_teardown(test_release_tce, audit),
		cmocka_unit_test_teardown(test_revive, audit),
		cmocka_unit_test_teardown(test_limit_unprivileged, audit),
		cmocka_unit_test_teardown(test_fault_injection, audit),
		cmocka_unit_test_teardown(test_munmap_after_register, audit),
		cmocka_unit_test_teardown(test_mremap_after_register, audit),
		cmocka_unit_test_teardown(test_many_regions, audit),
		cmocka_unit_test_teardown(test_100k_regions, audit),
		cmocka_unit_test_teardown(test_shared_file_memory, audit),
		cmocka_unit_test_teardown(test_hugetlb, audit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
