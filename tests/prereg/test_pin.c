// SPDX-License-Identifier: MIT
/*
 * TCE-v1 pin-per-map: references, dirty count, errno paths, pages shared
 * with regions. Pinned bytes are src/hostmem's references; VmLck (the
 * kernel's mlock) never moves: pinning is not residency.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <spapr_tce/hostmem.h>

#include "common/alloc.h"
#include "../lib/prereg_test.h"

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

static void test_pin_basic(void **state)
{
	uint64_t ua = map_anon(MB), dirty = stce_pin_dirty_count(), off;
	long lck = vmlck_kb();

	assert_int_equal(stce_pin_range(ua, MB, 12, true, NULL), 0);
	assert_int_equal(stce_pin_pages(), 16);
	assert_int_equal(stce_hostmem_pinned_bytes(), (1024) * KB);
	assert_int_equal(stce_account_locked_pages(), 0);	/* v1: no charge */
	/* Unpin one TCE at a time, as clearing a table does. */
	for (off = 0; off < MB; off += 4096)
		assert_int_equal(stce_unpin_range(ua + off, 4096, 12,
						  off < MB / 2), 0);
	assert_int_equal(stce_pin_pages(), 0);
	assert_int_equal(stce_pin_dirty_count(), dirty + 128);
	assert_int_equal(vmlck_kb(), lck);
	unmap(ua, MB);
}

/* Sixteen 4K TCEs in one 64K page hold sixteen references. */
static void test_pin_refcount(void **state)
{
	uint64_t ua = map_anon(2 * HP);
	long lck = vmlck_kb();

	assert_int_equal(stce_pin_range(ua, HP, 12, false, NULL), 0);
	assert_int_equal(stce_pin_range(ua + 4096, 4096, 12, false, NULL), 0);
	assert_int_equal(stce_pin_pages(), 1);
	/* 17 references: unpinning the 64K run leaves one. */
	assert_int_equal(stce_unpin_range(ua, HP, 12, false), 0);
	assert_int_equal(stce_pin_pages(), 1);
	assert_int_equal(stce_hostmem_pinned_bytes(), (64) * KB);
	assert_int_equal(stce_unpin_range(ua + 4096, 4096, 12, false), 0);
	assert_int_equal(stce_pin_pages(), 0);
	assert_int_equal(vmlck_kb(), lck);
	/* A 64K IOMMU page: one reference. */
	assert_int_equal(stce_pin_range(ua, 2 * HP, 16, true, NULL), 0);
	assert_int_equal(stce_pin_pages(), 2);
	assert_int_equal(stce_unpin_range(ua + HP, HP, 16, true), 0);
	assert_int_equal(stce_unpin_range(ua, HP, 12, false), -ENOENT);
	assert_int_equal(stce_unpin_range(ua, HP, 16, true), 0);
	unmap(ua, 2 * HP);
}

static void test_pin_einval(void **state)
{
	uint64_t ua = map_anon(2 * HP);

	assert_int_equal(stce_pin_range(ua, 4096, 11, true, NULL), -EINVAL);
	assert_int_equal(stce_pin_range(ua, 1ULL << 31, 31, true, NULL), -EINVAL);
	assert_int_equal(stce_pin_range(ua, 0, 12, true, NULL), -EINVAL);
	assert_int_equal(stce_pin_range(ua + 512, 4096, 12, true, NULL), -EINVAL);
	assert_int_equal(stce_pin_range(ua, 4096 + 512, 12, true, NULL), -EINVAL);
	assert_int_equal(stce_pin_range(UINT64_MAX - 4095, 8192, 12, true, NULL),
			 -EINVAL);
	assert_int_equal(stce_unpin_range(ua, 0, 12, true), -EINVAL);
	assert_int_equal(stce_unpin_range(ua + 512, 4096, 12, true), -EINVAL);
	assert_int_equal(stce_unpin_range(ua, 4096, 40, true), -EINVAL);
	assert_int_equal(stce_pin_pages(), 0);
	unmap(ua, 2 * HP);
}

static void test_pin_efault_eperm(void **state)
{
	uint64_t ua = map_anon(4 * HP), ro = map_aligned(HP, HP, PROT_READ), big;

	unmap(ua + HP, HP);
	assert_int_equal(stce_pin_range(ua, 4 * HP, 12, true, NULL), -EFAULT);
	assert_int_equal(stce_pin_range(ua + HP, 4096, 12, false, NULL), -EFAULT);
	/* Read-only memory: only for a device that reads. */
	assert_int_equal(stce_pin_range(ro, HP, 12, true, NULL), -EFAULT);
	assert_int_equal(stce_pin_range(ro, HP, 12, false, NULL), 0);
	assert_int_equal(stce_unpin_range(ro, HP, 12, false), 0);
	/* An IOMMU page larger than the backing 64K page. */
	big = map_aligned(4 * HP, 2 * HP, PROT_READ | PROT_WRITE);
	assert_int_equal(stce_pin_range(big, 2 * HP, 17, true, NULL), -EPERM);
	assert_int_equal(stce_pin_range(big, 4 * HP, 17, false, NULL), -EPERM);
	assert_int_equal(stce_pin_pages(), 0);
	unmap(big, 4 * HP);
	unmap(ro, HP);
	unmap(ua, 4 * HP);
}

static void test_unpin_enoent(void **state)
{
	uint64_t ua = map_anon(2 * HP), dirty = stce_pin_dirty_count();

	assert_int_equal(stce_unpin_range(ua, 4096, 12, true), -ENOENT);
	assert_int_equal(stce_pin_range(ua, 4096, 12, true, NULL), 0);
	/* Partly pinned: nothing changes. */
	assert_int_equal(stce_unpin_range(ua, 8192, 12, true), -ENOENT);
	assert_int_equal(stce_unpin_range(ua + HP, 4096, 12, true), -ENOENT);
	assert_int_equal(stce_pin_pages(), 1);
	assert_int_equal(stce_pin_dirty_count(), dirty);
	assert_int_equal(stce_unpin_range(ua, 4096, 12, true), 0);
	assert_int_equal(stce_unpin_range(ua, 4096, 12, true), -ENOENT);
	assert_int_equal(stce_pin_dirty_count(), dirty + 1);
	unmap(ua, 2 * HP);
}

static void test_pin_fault_injection(void **state)
{
	uint64_t ua = map_anon(8 * HP);
	long lck = vmlck_kb();
	unsigned long nth;
	int ret;

	/* A page already pinned, so the unwind must keep it. */
	assert_int_equal(stce_pin_range(ua + 2 * HP, 4096, 12, true, NULL), 0);
	for (nth = 1;; nth++) {
		stce_fault_arm(STCE_FAULT_ALLOC, nth);
		ret = stce_pin_range(ua, 8 * HP, 12, true, NULL);
		if (!ret)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_int_equal(stce_pin_pages(), 1);
		assert_int_equal(stce_hostmem_pinned_bytes(), (64) * KB);
	}
	/* At least one allocation a new page (its record), all unwound. */
	assert_true(nth >= 8);
	assert_int_equal(stce_unpin_range(ua, 8 * HP, 12, true), 0);
	assert_int_equal(stce_pin_pages(), 1);

	stce_fault_arm(STCE_FAULT_PIN, 1);
	assert_int_equal(stce_pin_range(ua, 8 * HP, 12, true, NULL), -ENOMEM);
	assert_int_equal(stce_pin_pages(), 1);
	assert_int_equal(stce_hostmem_pinned_bytes(), (64) * KB);
	assert_int_equal(stce_unpin_range(ua + 2 * HP, 4096, 12, true), 0);
	assert_int_equal(vmlck_kb(), lck);
	unmap(ua, 8 * HP);
}

/* A page both a region and a v1 pin hold stays pinned until both let go,
 * in either order. */
static void test_pin_and_region_share_pages(void **state)
{
	uint64_t ua = map_anon(4 * HP);
	struct stce_region *r;
	long lck = vmlck_kb();

	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_pin_range(ua + HP, HP, 12, true, NULL), 0);
	assert_int_equal(stce_hostmem_pinned_bytes(), (256) * KB);
	assert_int_equal(stce_prereg_put(r), 0);
	assert_int_equal(stce_hostmem_pinned_bytes(), (64) * KB);	/* v1 keeps its page */
	assert_int_equal(stce_unpin_range(ua + HP, HP, 12, true), 0);
	assert_int_equal(vmlck_kb(), lck);

	assert_int_equal(stce_pin_range(ua + HP, HP, 12, true, NULL), 0);
	assert_int_equal(stce_prereg_register(ua, 4 * HP, &r), 0);
	assert_int_equal(stce_unpin_range(ua + HP, HP, 12, true), 0);
	assert_int_equal(stce_hostmem_pinned_bytes(), (256) * KB);	/* the region keeps it */
	assert_int_equal(stce_prereg_put(r), 0);
	assert_int_equal(vmlck_kb(), lck);
	unmap(ua, 4 * HP);
}

static void test_pin_holds_host_page(void **state)
{
	uint64_t ua = map_anon(HP);

	assert_int_equal(stce_pin_range(ua, 4096, 12, false, NULL), 0);
	assert_int_equal(stce_set_host_page_shift(12), -EBUSY);
	assert_int_equal(stce_unpin_range(ua, 4096, 12, false), 0);
	assert_int_equal(stce_set_host_page_shift(12), 0);
	/* 4K host pages: each 4K page is its own pinned page. */
	assert_int_equal(stce_pin_range(ua, 4 * 4096, 12, false, NULL), 0);
	assert_int_equal(stce_pin_pages(), 4);
	assert_int_equal(stce_unpin_range(ua, 4 * 4096, 12, false), 0);
	assert_int_equal(stce_set_host_page_shift(16), 0);
	unmap(ua, HP);
}

/* The user unmaps pinned memory: unpin still works, nothing touched. */
static void test_pin_munmap(void **state)
{
	uint64_t ua = map_anon(2 * HP);

	assert_int_equal(stce_pin_range(ua, 2 * HP, 12, true, NULL), 0);
	unmap(ua, 2 * HP);
	assert_int_equal(stce_unpin_range(ua, 2 * HP, 12, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pin_basic, audit),
		cmocka_unit_test_teardown(test_pin_refcount, audit),
		cmocka_unit_test_teardown(test_pin_einval, audit),
		cmocka_unit_test_teardown(test_pin_efault_eperm, audit),
		cmocka_unit_test_teardown(test_unpin_enoent, audit),
		cmocka_unit_test_teardown(test_pin_fault_injection, audit),
		cmocka_unit_test_teardown(test_pin_and_region_share_pages, audit),
		cmocka_unit_test_teardown(test_pin_holds_host_page, audit),
		cmocka_unit_test_teardown(test_pin_munmap, audit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
