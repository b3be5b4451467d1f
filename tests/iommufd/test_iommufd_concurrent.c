// SPDX-License-Identifier: MIT
/*
 * Atomic join under DMA: a device thread hammers window 0 and, as soon as
 * it sees the domain there, window 1, while the main thread attaches its
 * PE to the two-window domain. An attach only moves forward (platform ->
 * blocked -> joined), so once window 0 answers with the domain's memory,
 * window 1 must answer too; a fault there means the thread saw one window
 * attached and not the other.
 *
 * This is what the PE's all-windows-at-once primitive, stce_pe_set_windows()
 * (docs/iommufd.md), guarantees; programming the windows one at a time
 * fails it.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <spapr_tce/account.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>

#include "iommufd_test.h"

#define IOVA_A	0x10000ULL
#define IOVA_B	WIN1
#define ROUNDS	1500

struct race {
	struct stce_pe *pe;
	atomic_bool stop;
	atomic_uint saw_both;	/* rounds where the thread got both */
	atomic_uint half;	/* window 0 joined, window 1 not: the bug */
};

static void *device_thread(void *arg)
{
	struct race *r = arg;
	uint8_t a, b;

	while (!atomic_load(&r->stop)) {
		if (stce_pe_dma_read(r->pe, IOVA_A, &a, 1)) {
			/* Blocked (between owners): thaw and go on. */
			stce_pe_eeh_op(r->pe, STCE_EEH_PE_UNFREEZE_DMA);
			continue;
		}
		if (a != 0x11)
			continue;	/* the platform's page */
		if (stce_pe_dma_read(r->pe, IOVA_B, &b, 1) || b != 0x22)
			atomic_fetch_add(&r->half, 1);
		else
			atomic_fetch_add(&r->saw_both, 1);
		/* Joined: this round is done. */
		while (!atomic_load(&r->stop))
			sched_yield();
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_attach_race(void **state)
{
	struct iommu_hwpt_spapr_tce g = test_geometry();
	struct stce_pe *pe = tu_pe(0), *other = tu_pe(1);
	struct stce_iommufd *ictx;
	uint64_t mem = map_anon(4 * HP), done, iova;
	uint8_t *platform_page = (uint8_t *)(uintptr_t)(mem + 2 * HP);
	uint32_t ioas, dev, dev_other, hwpt, pt;
	unsigned int rounds = 0;
	double end = now() + 3.0;
	struct race r;

	(void)state;
	memset((void *)(uintptr_t)mem, 0x11, HP);
	memset((void *)(uintptr_t)(mem + HP), 0x22, HP);
	memset(platform_page, 0xaa, HP);
	assert_int_equal(stce_iommufd_create(&ictx), 0);
	assert_int_equal(stce_iommufd_ioas_alloc(ictx, &ioas), 0);
	assert_int_equal(stce_iommufd_bind(ictx, pe, &dev), 0);
	assert_int_equal(stce_iommufd_bind(ictx, other, &dev_other), 0);
	assert_int_equal(stce_iommufd_hwpt_alloc(ictx, dev, ioas, 0,
		IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), 0);
	iova = IOVA_A;
	assert_int_equal(stce_iommufd_map(ictx, ioas, FIXED_RW, mem, HP, &iova),
			 0);
	iova = IOVA_B;
	assert_int_equal(stce_iommufd_map(ictx, ioas, FIXED_RW, mem + HP, HP,
					  &iova), 0);
	/* Another group keeps the domain in use throughout. */
	pt = hwpt;
	assert_int_equal(stce_iommufd_attach(ictx, dev_other, &pt), 0);

	memset(&r, 0, sizeof(r));
	r.pe = pe;
	while (rounds < ROUNDS && now() < end) {
		pthread_t t;

		/* The platform maps A to its own page. */
		assert_int_equal(stce_pe_platform_map(pe, IOVA_A, platform_page,
						      STCE_TCE_READ), 0);
		stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_DMA);
		atomic_store(&r.stop, false);
		assert_int_equal(pthread_create(&t, NULL, device_thread, &r), 0);
		pt = hwpt;
		assert_int_equal(stce_iommufd_attach(ictx, dev, &pt), 0);
		/* Let the thread see the joined state before the round ends. */
		for (int i = 0; i < 1000 && atomic_load(&r.saw_both) +
		     atomic_load(&r.half) <= rounds; i++)
			sched_yield();
		atomic_store(&r.stop, true);
		pthread_join(t, NULL);
		assert_int_equal(stce_iommufd_detach(ictx, dev), 0);
		rounds++;
	}
	print_message("%u rounds, %u saw both windows, %u saw one\n", rounds,
		      atomic_load(&r.saw_both), atomic_load(&r.half));
	assert_int_equal(atomic_load(&r.half), 0);
	assert_true(atomic_load(&r.saw_both) > 0);

	assert_int_equal(stce_iommufd_unmap(ictx, ioas, 0, UINT64_MAX, &done),
			 0);
	stce_iommufd_put(ictx);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	stce_pe_destroy(pe);
	stce_pe_destroy(other);
	unmap(mem, 4 * HP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
