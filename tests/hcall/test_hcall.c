// SPDX-License-Identifier: MIT
/* Guest TCE hypercalls: every return code, batches, guest view, sub-pages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hcall_test.h"

#define LIST	(60 * MB)	/* guest physical of the TCE list page */
#define P64K	(64 * KB)

static int setup(void **state)
{
	*state = hfx_setup(1);
	return 0;
}

static int setup_2levels(void **state)
{
	*state = hfx_setup(2);
	return 0;
}

static int teardown(void **state)
{
	struct hfx *f = *state;
	uint64_t before = f->locked_before;

	hfx_teardown(f);
	/* Every charge returned, every region gone. */
	assert_int_equal(stce_account_locked_pages(), before);
	assert_int_equal(stce_prereg_count(), 0);
	return 0;
}

static uint64_t get(struct hfx *f, uint64_t liobn, uint64_t ioba)
{
	uint64_t tce = 0xbad;

	assert_int_equal(stce_h_get_tce(f->g, liobn, ioba, &tce), STCE_H_SUCCESS);
	return tce;
}

static uint64_t hwget(struct hfx *f, unsigned int num, uint64_t iova)
{
	struct stce_table *t = hfx_hw(f, num);
	uint64_t idx;

	assert_int_equal(stce_table_index(t, iova, &idx), 0);
	return stce_table_get(t, idx);
}

/* ---- H_PUT_TCE / H_GET_TCE ---------------------------------------------- */

static void put_get_clear(void **state)
{
	struct hfx *f = *state;
	uint64_t ioba = DDW + 5 * P64K, tce = 7 * P64K | RW;

	assert_int_equal(stce_h_put_tce(f->g, LIOBN, ioba, tce, 0), STCE_H_SUCCESS);
	assert_int_equal(get(f, LIOBN, ioba), tce);
	assert_int_equal(hwget(f, 1, ioba), hfx_hwtce(f, 7 * P64K, RW));
	assert_int_equal(hfx_mapped(f), 1);
	/* Read-only mapping replaces it: flushed, old mapping dropped. */
	uint64_t flushes = stce_table_flush_count(hfx_hw(f, 1));

	assert_int_equal(stce_h_put_tce(f->g, LIOBN, ioba, 8 * P64K | STCE_TCE_READ, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(hwget(f, 1, ioba), hfx_hwtce(f, 8 * P64K, STCE_TCE_READ));
	assert_int_equal(stce_table_flush_count(hfx_hw(f, 1)), flushes + 1);
	assert_int_equal(hfx_mapped(f), 1);
	/* Clear. */
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, ioba, 0, 0), STCE_H_SUCCESS);
	assert_int_equal(get(f, LIOBN, ioba), 0);
	assert_int_equal(hwget(f, 1, ioba), 0);
	assert_int_equal(hfx_mapped(f), 0);
	/* Never written: 0. */
	assert_int_equal(get(f, LIOBN, DDW), 0);
}

static void unknown_liobn(void **state)
{
	struct hfx *f = *state;
	uint64_t tce = 1;

	assert_int_equal(stce_h_put_tce(f->g, 0x999, DDW, RW, 0), STCE_H_TOO_HARD);
	assert_int_equal(stce_h_put_tce_indirect(f->g, 0x999, DDW, LIST, 1, 0),
			 STCE_H_TOO_HARD);
	assert_int_equal(stce_h_stuff_tce(f->g, 0x999, DDW, 0, 1, 0), STCE_H_TOO_HARD);
	assert_int_equal(stce_h_get_tce(f->g, 0x999, DDW, &tce), STCE_H_TOO_HARD);
	assert_int_equal(tce, 1);
}

static void ioba_checks(void **state)
{
	struct hfx *f = *state;
	uint64_t end = DDW + RAM, tce;

	/* Unaligned, below the table, past its end, wrapping. */
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW + 4096, RW, 0), STCE_H_PARAMETER);
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW - P64K, RW, 0), STCE_H_PARAMETER);
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, end, RW, 0), STCE_H_PARAMETER);
	assert_int_equal(stce_h_get_tce(f->g, LIOBN, end, &tce), STCE_H_PARAMETER);
	assert_int_equal(stce_h_get_tce(f->g, LIOBN, DDW + 1, &tce), STCE_H_PARAMETER);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, end - P64K, 0, 2, 0),
			 STCE_H_PARAMETER);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, UINT64_MAX, 0),
			 STCE_H_PARAMETER);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, end - P64K, LIST, 2, 0),
			 STCE_H_PARAMETER);
	/* The last entry is fine; an empty stuff is a success. */
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, end - P64K, RW, 0), STCE_H_SUCCESS);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, end - P64K, 0, 1, 0), STCE_H_SUCCESS);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 0, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
}

static void put_tce_validation(void **state)
{
	struct hfx *f = *state;
	uint64_t other = (uint64_t)(uintptr_t)hfx_map(P64K * 4);

	/* Not aligned to the guest page (64K). */
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW, 4096 | RW, 0), STCE_H_TOO_HARD);
	/* Outside the memory map. */
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW, RAM | RW, 0), STCE_H_TOO_HARD);
	/* In the memory map but not pre-registered. */
	assert_int_equal(stce_guest_add_memory(f->g, 1ULL << 32, 4 * P64K, other), 0);
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW, (1ULL << 32) | RW, 0),
			 STCE_H_TOO_HARD);
	assert_int_equal(stce_guest_remove_memory(f->g, 1ULL << 32, 4 * P64K), 0);
	munmap((void *)(uintptr_t)other, 4 * P64K);
	/* Nothing of it reached either table. */
	assert_int_equal(get(f, LIOBN, DDW), 0);
	assert_int_equal(hwget(f, 1, DDW), 0);
	assert_int_equal(hfx_mapped(f), 0);

	/* An emulated-device LIOBN (no hardware): the same guest checks. */
	assert_int_equal(stce_guest_create_tce_table(f->g, 0x300, 16, 0, 16), 0);
	assert_int_equal(stce_h_put_tce(f->g, 0x300, 0, 4096 | RW, 0), STCE_H_TOO_HARD);
	assert_int_equal(stce_h_put_tce(f->g, 0x300, 0, RAM | RW, 0), STCE_H_TOO_HARD);
	assert_int_equal(get(f, 0x300, 0), 0);
	assert_int_equal(stce_h_put_tce(f->g, 0x300, 0, P64K | RW, 0), STCE_H_SUCCESS);
	assert_int_equal(get(f, 0x300, 0), P64K | RW);
	assert_int_equal(hfx_mapped(f), 0);
	assert_int_equal(stce_guest_remove_tce_table(f->g, 0x300), 0);

	/* A "poison" value: no permission, any address: kept in the guest
	 * view only. */
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW, 0xdead0000ULL, 0), STCE_H_SUCCESS);
	assert_int_equal(get(f, LIOBN, DDW), 0xdead0000ULL);
	assert_int_equal(hwget(f, 1, DDW), 0);
	assert_int_equal(hfx_mapped(f), 0);
}

/* ---- H_PUT_TCE_INDIRECT ------------------------------------------------- */

static void indirect_checks(void **state)
{
	struct hfx *f = *state;
	uint64_t tces[1] = { RW };

	hfx_list(f, LIST, tces, 1);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 513, 0),
			 STCE_H_PARAMETER);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST + 8, 1, 0),
			 STCE_H_PARAMETER);
	/* The list outside guest memory. */
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, RAM, 1, 0),
			 STCE_H_TOO_HARD);
	/* Order: the list size is checked before the range. */
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW - P64K, LIST, 513, 0),
			 STCE_H_PARAMETER);
	/* An empty list is a success. */
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 0, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 1, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(get(f, LIOBN, DDW), RW);
	assert_int_equal(hwget(f, 1, DDW), hfx_hwtce(f, 0, RW));
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 1, 0), STCE_H_SUCCESS);
}

static void fill(uint64_t *tces, unsigned int n, uint64_t first_gpa)
{
	for (unsigned int i = 0; i < n; i++)
		tces[i] = (first_gpa + i * P64K) | RW;
}

static void check_nothing(struct hfx *f, uint64_t ioba, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(get(f, LIOBN, ioba + i * P64K), 0);
		assert_int_equal(hwget(f, 1, ioba + i * P64K), 0);
	}
	assert_int_equal(hfx_mapped(f), 0);
}

/* 512 TCEs with one bad in the middle: nothing is applied. */
static void indirect_one_bad(void **state)
{
	struct hfx *f = *state;
	uint64_t tces[512];

	fill(tces, 512, 0);
	tces[256] = (3 * P64K + 4096) | RW;	/* unaligned */
	hfx_list(f, LIST, tces, 512);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 512, 0),
			 STCE_H_TOO_HARD);
	check_nothing(f, DDW, 512);

	tces[256] = (2 * RAM) | STCE_TCE_READ;	/* no memory there */
	hfx_list(f, LIST, tces, 512);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 512, 0),
			 STCE_H_TOO_HARD);
	check_nothing(f, DDW, 512);

	/* A clearing TCE whose address has no memory: H_PARAMETER. */
	tces[256] = 2 * RAM;
	hfx_list(f, LIST, tces, 512);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 512, 0),
			 STCE_H_PARAMETER);
	check_nothing(f, DDW, 512);

	/* Fixed: all 512 go in, in one flushless batch. */
	tces[256] = 256 * P64K | RW;
	hfx_list(f, LIST, tces, 512);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 512, 0),
			 STCE_H_SUCCESS);
	for (unsigned int i = 0; i < 512; i++) {
		assert_int_equal(get(f, LIOBN, DDW + i * P64K), tces[i]);
		assert_int_equal(hwget(f, 1, DDW + i * P64K),
				 hfx_hwtce(f, i * P64K, RW));
	}
	assert_int_equal(hfx_mapped(f), 512);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 512, 0), STCE_H_SUCCESS);
	check_nothing(f, DDW, 512);
}

/* Live mappings counted in the region registered at @ua. */
static uint64_t region_mapped(uint64_t ua)
{
	struct stce_region *r;
	uint64_t n;

	if (stce_prereg_lookup(ua, 64 * KB, &r))
		return UINT64_MAX;
	n = stce_region_mapped(r) - 1;
	stce_prereg_mapped_dec(r);
	return n;
}

/*
 * One list going back and forth between two memory slots backed by two
 * registered regions, with a clear in the middle: each entry gets the
 * hardware address of its own slot and region, each region counts its
 * own mappings; one page past the second slot refuses the whole list.
 */
static void indirect_spans_slots_and_regions(void **state)
{
	struct hfx *f = *state;
	uint64_t gpa2 = 1ULL << 32, size2 = 16 * P64K, tces[40];
	uint8_t *ram2 = hfx_map(size2);
	uint64_t ua2 = (uint64_t)(uintptr_t)ram2;

	assert_int_equal(stce_container_register(f->c, ua2, size2), 0);
	assert_int_equal(stce_guest_add_memory(f->g, gpa2, size2, ua2), 0);
	for (unsigned int i = 0; i < 40; i++) {
		bool second = (i >= 10 && i < 20) || i >= 30;

		tces[i] = (second ? gpa2 + (i % 10) * P64K : i * P64K) | RW;
	}
	tces[20] = 0;
	hfx_list(f, LIST, tces, 40);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 40, 0),
			 STCE_H_SUCCESS);
	for (unsigned int i = 0; i < 40; i++) {
		bool second = (i >= 10 && i < 20) || i >= 30;
		uint64_t hw = second ? stce_tce_make(ua2 + (i % 10) * P64K, RW) :
				       hfx_hwtce(f, i * P64K, RW);

		assert_int_equal(get(f, LIOBN, DDW + i * P64K), tces[i]);
		assert_int_equal(hwget(f, 1, DDW + i * P64K), i == 20 ? 0 : hw);
	}
	assert_int_equal(hfx_mapped(f), 19);
	assert_int_equal(region_mapped(ua2), 20);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 40, 0), STCE_H_SUCCESS);
	check_nothing(f, DDW, 40);
	assert_int_equal(region_mapped(ua2), 0);

	/* The last page one past the second slot: nothing at all changes. */
	tces[39] = (gpa2 + size2) | RW;
	hfx_list(f, LIST, tces, 40);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 40, 0),
			 STCE_H_TOO_HARD);
	check_nothing(f, DDW, 40);
	assert_int_equal(region_mapped(ua2), 0);

	assert_int_equal(stce_guest_remove_memory(f->g, gpa2, size2), 0);
	assert_int_equal(stce_container_unregister(f->c, ua2, size2), 0);
	munmap(ram2, size2);
}

/*
 * Slots and regions that overlap without lining up: slot A (24 pages)
 * holds region R1 (16 pages) and the start of R2, slot B (8 pages) the
 * rest of R2. One list walks forward across R1 -> R2 inside slot A,
 * across A -> B inside R2, then back into A inside R2 and back into R1:
 * each entry gets its own slot's address and each region counts its own
 * (fails when the range one compare an entry checks is taken wider than
 * the slot or the run on either side). A page just below slot B, or
 * just past slot A, is in no slot: it refuses the whole list.
 */
static void indirect_slots_and_runs_overlap(void **state)
{
	struct hfx *f = *state;
	uint64_t gpa_a = 1ULL << 32, gpa_b = 1ULL << 33, tces[40], ua[40];
	uint8_t *ram2 = hfx_map(32 * P64K);
	uint64_t ua2 = (uint64_t)(uintptr_t)ram2;

	assert_int_equal(stce_container_register(f->c, ua2, 16 * P64K), 0);
	assert_int_equal(stce_container_register(f->c, ua2 + 16 * P64K,
						 16 * P64K), 0);
	assert_int_equal(stce_guest_add_memory(f->g, gpa_a, 24 * P64K, ua2), 0);
	assert_int_equal(stce_guest_add_memory(f->g, gpa_b, 8 * P64K,
					       ua2 + 24 * P64K), 0);
	for (unsigned int i = 0; i < 40; i++) {
		/* Page of ram2: 0..23 (A), 24..31 (B), 20..23, 0..3 (A). */
		uint64_t pg = i < 32 ? i : i < 36 ? i - 12 : i - 36;

		tces[i] = (pg < 24 || i >= 32 ? gpa_a + pg * P64K :
			   gpa_b + (pg - 24) * P64K) | RW;
		ua[i] = ua2 + pg * P64K;
	}
	hfx_list(f, LIST, tces, 40);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 40, 0),
			 STCE_H_SUCCESS);
	for (unsigned int i = 0; i < 40; i++)
		assert_int_equal(hwget(f, 1, DDW + i * P64K),
				 stce_tce_make(ua[i], RW));
	assert_int_equal(region_mapped(ua2), 20);
	assert_int_equal(region_mapped(ua2 + 16 * P64K), 20);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 40, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(region_mapped(ua2), 0);
	assert_int_equal(region_mapped(ua2 + 16 * P64K), 0);

	/* Slot B's first page, then the page below it (no memory there). */
	tces[0] = gpa_b | RW;
	tces[1] = (gpa_b - P64K) | RW;
	hfx_list(f, LIST, tces, 2);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 2, 0),
			 STCE_H_TOO_HARD);
	check_nothing(f, DDW, 2);
	/* Inside R2 in slot A, then the page past slot A (R2 goes on). */
	tces[0] = (gpa_a + 16 * P64K) | RW;
	tces[1] = (gpa_a + 24 * P64K) | RW;
	hfx_list(f, LIST, tces, 2);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 2, 0),
			 STCE_H_TOO_HARD);
	check_nothing(f, DDW, 2);
	assert_int_equal(region_mapped(ua2 + 16 * P64K), 0);

	assert_int_equal(stce_guest_remove_memory(f->g, gpa_b, 8 * P64K), 0);
	assert_int_equal(stce_guest_remove_memory(f->g, gpa_a, 24 * P64K), 0);
	assert_int_equal(stce_container_unregister(f->c, ua2 + 16 * P64K,
						   16 * P64K), 0);
	assert_int_equal(stce_container_unregister(f->c, ua2, 16 * P64K), 0);
	munmap(ram2, 32 * P64K);
}

/* A list that replaces live entries and clears others. */
static void indirect_replace_and_clear(void **state)
{
	struct hfx *f = *state;
	uint64_t tces[8];
	uint64_t flushes;

	fill(tces, 8, 0);
	hfx_list(f, LIST, tces, 8);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 8, 0),
			 STCE_H_SUCCESS);
	flushes = stce_table_flush_count(hfx_hw(f, 1));
	fill(tces, 8, 100 * P64K);
	tces[2] = 0;
	tces[5] = 0x3550000ULL;	/* poison, inside memory */
	hfx_list(f, LIST, tces, 8);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 8, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(stce_table_flush_count(hfx_hw(f, 1)), flushes + 1);
	assert_int_equal(hfx_mapped(f), 6);
	assert_int_equal(get(f, LIOBN, DDW + 5 * P64K), 0x3550000ULL);
	assert_int_equal(hwget(f, 1, DDW + 5 * P64K), 0);
	assert_int_equal(hwget(f, 1, DDW + 7 * P64K), hfx_hwtce(f, 107 * P64K, RW));
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 8, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
}

/* ---- H_STUFF_TCE ------------------------------------------------------ */

static void stuff(void **state)
{
	struct hfx *f = *state;
	uint64_t tces[512];

	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, RW, 1, 0), STCE_H_PARAMETER);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, STCE_TCE_READ, 1, 0),
			 STCE_H_PARAMETER);
	fill(tces, 512, 0);
	hfx_list(f, LIST, tces, 512);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW + 512 * P64K, LIST,
						 512, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 512);
	/* Stuff more than a batch: 1024 entries, the first 512 never set. */
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0xabc0000ULL, 1024, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
	for (unsigned int i = 0; i < 1024; i += 97) {
		assert_int_equal(get(f, LIOBN, DDW + i * P64K), 0xabc0000ULL);
		assert_int_equal(hwget(f, 1, DDW + i * P64K), 0);
	}
}

/* ---- missing levels: the fast path refuses, the slow path allocates ---- */

static void noalloc_then_slow_path(void **state)
{
	struct hfx *f = *state;
	uint64_t before = stce_table_allocated_bytes(hfx_hw(f, 1)), tces[4];

	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW, RW, 0), STCE_H_TOO_HARD);
	assert_int_equal(get(f, LIOBN, DDW), 0);
	assert_int_equal(hfx_mapped(f), 0);
	fill(tces, 4, 0);
	hfx_list(f, LIST, tces, 4);
	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 4, 0),
			 STCE_H_TOO_HARD);
	check_nothing(f, DDW, 4);
	assert_int_equal(stce_table_allocated_bytes(hfx_hw(f, 1)), before);
	/* Clearing never needs a level. */
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 4, 0), STCE_H_SUCCESS);

	assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN, DDW, LIST, 4,
						 STCE_HCALL_MAY_ALLOC), STCE_H_SUCCESS);
	assert_true(stce_table_allocated_bytes(hfx_hw(f, 1)) > before);
	assert_int_equal(hfx_mapped(f), 4);
	/* The level exists now: the fast path works. */
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW + 4 * P64K, 4 * P64K | RW, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 5, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
}

/* ---- a guest page of 64K on a hardware window of 4K pages -------------- */

static void subpages(void **state)
{
	struct hfx *f = *state;
	uint64_t tces[40];

	/* The container's default window: 4K pages at bus 0. */
	assert_int_equal(stce_guest_create_tce_table(f->g, 0x200, 16, 0, RAM >> 16), 0);
	assert_int_equal(stce_guest_attach(f->g, 0x200, f->c, f->pe), 0);
	assert_non_null(hfx_hw(f, 0));
	assert_int_equal(stce_table_page_shift(hfx_hw(f, 0)), 12);

	assert_int_equal(stce_h_put_tce(f->g, 0x200, 3 * P64K, 9 * P64K | RW, 0),
			 STCE_H_SUCCESS);
	for (unsigned int j = 0; j < 16; j++)
		assert_int_equal(hwget(f, 0, 3 * P64K + j * 4096),
				 hfx_hwtce(f, 9 * P64K + j * 4096, RW));
	assert_int_equal(hwget(f, 0, 4 * P64K), 0);
	assert_int_equal(hfx_mapped(f), 16);
	/* 40 guest pages = 640 hardware entries: two exchange batches. */
	fill(tces, 40, 0);
	hfx_list(f, LIST, tces, 40);
	assert_int_equal(stce_h_put_tce_indirect(f->g, 0x200, 0, LIST, 40, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 640);
	assert_int_equal(hwget(f, 0, 39 * P64K + 15 * 4096),
			 hfx_hwtce(f, 39 * P64K + 15 * 4096, RW));
	assert_int_equal(get(f, 0x200, 39 * P64K), 39 * P64K | RW);
	assert_int_equal(stce_h_stuff_tce(f->g, 0x200, 0, 0, 40, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
	assert_int_equal(hwget(f, 0, 3 * P64K), 0);
	assert_int_equal(stce_guest_remove_tce_table(f->g, 0x200), 0);
}

/* Two LIOBN windows... one LIOBN on two groups' shared window: one write. */
static void two_groups_one_window(void **state)
{
	struct hfx *f = *state;
	struct stce_pe *pe2 = stce_platform_pe(f->plat, 1);

	assert_int_equal(stce_container_attach(f->c, pe2), 0);
	assert_int_equal(stce_guest_attach(f->g, LIOBN, f->c, pe2), 0);
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW, RW, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 1);	/* not 2: one table */
	assert_ptr_equal(stce_pe_window_table(pe2, 1), hfx_hw(f, 1));
	assert_int_equal(stce_guest_detach(f->g, f->c, pe2), 0);
	assert_int_equal(stce_guest_detach(f->g, f->c, pe2), -ENOENT);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 1, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
	/* Detaching the last group: the guest view only. */
	assert_int_equal(stce_guest_detach(f->g, f->c, f->pe), 0);
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW, RW, 0), STCE_H_SUCCESS);
	assert_int_equal(hwget(f, 1, DDW), 0);
	assert_int_equal(get(f, LIOBN, DDW), RW);
	assert_int_equal(hfx_mapped(f), 0);
	assert_int_equal(stce_container_detach(f->c, pe2), 0);
}

/* A window removed under an attachment is skipped, not written. */
static void window_removed_under_liobn(void **state)
{
	struct hfx *f = *state;

	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW, RW, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 1);
	assert_int_equal(stce_container_remove_window(f->c, DDW), 0);
	assert_int_equal(hfx_mapped(f), 0);
	assert_int_equal(stce_h_put_tce(f->g, LIOBN, DDW + P64K, RW, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, 2, 0), STCE_H_SUCCESS);
}

/* ---- configuration errors ----------------------------------------------- */

static void table_errors(void **state)
{
	struct hfx *f = *state;
	uint64_t locked = stce_account_locked_pages();

	assert_int_equal(stce_guest_create_tce_table(f->g, 1, 16, 0, 0), -EINVAL);
	assert_int_equal(stce_guest_create_tce_table(f->g, 1, 11, 0, 1), -EINVAL);
	assert_int_equal(stce_guest_create_tce_table(f->g, 1, 35, 0, 1), -EINVAL);
	assert_int_equal(stce_guest_create_tce_table(f->g, 1, 16, UINT64_MAX >> 16, 1),
			 -EINVAL);
	assert_int_equal(stce_guest_create_tce_table(f->g, LIOBN, 16, 0, 1), -EBUSY);
	assert_int_equal(stce_account_locked_pages(), locked);
	assert_int_equal(stce_guest_create_tce_table(f->g, 1, 12, 0, 65536), 0);
	/* 512K of TCEs = 8 host pages, plus one of tracking. */
	assert_int_equal(stce_account_locked_pages(), locked + 9);
	assert_int_equal(stce_guest_remove_tce_table(f->g, 1), 0);
	assert_int_equal(stce_account_locked_pages(), locked);
	assert_int_equal(stce_guest_remove_tce_table(f->g, 1), -ENOENT);
}

static void attach_errors(void **state)
{
	struct hfx *f = *state;
	struct stce_container *v1;
	struct stce_pe *pe2 = stce_platform_pe(f->plat, 1);

	assert_int_equal(stce_guest_attach(f->g, 0x999, f->c, f->pe), -ENOENT);
	assert_int_equal(stce_guest_attach(f->g, LIOBN, f->c, f->pe), -EBUSY);
	/* A group of another container. */
	assert_int_equal(stce_guest_attach(f->g, LIOBN, f->c, pe2), -EINVAL);
	assert_int_equal(stce_container_create(STCE_IOMMU_V1, 0, &v1), 0);
	assert_int_equal(stce_guest_attach(f->g, LIOBN, v1, NULL), -EINVAL);
	stce_container_destroy(v1);
	/* No compatible window: other start; guest page below the hw page. */
	assert_int_equal(stce_guest_create_tce_table(f->g, 2, 16, (DDW >> 16) + 1, 4), 0);
	assert_int_equal(stce_guest_attach(f->g, 2, f->c, NULL), -EINVAL);
	assert_int_equal(stce_guest_create_tce_table(f->g, 3, 12, DDW >> 12, 4), 0);
	assert_int_equal(stce_guest_attach(f->g, 3, f->c, NULL), -EINVAL);
	/* Larger than the window. */
	assert_int_equal(stce_guest_create_tce_table(f->g, 4, 16, DDW >> 16,
						     2 * (RAM >> 16)), 0);
	assert_int_equal(stce_guest_attach(f->g, 4, f->c, NULL), -EINVAL);
	/* 16M guest pages on a 4K window: more than 512 sub-pages. */
	assert_int_equal(stce_guest_create_tce_table(f->g, 5, 24, 0, 4), 0);
	assert_int_equal(stce_guest_attach(f->g, 5, f->c, NULL), -EINVAL);
	assert_int_equal(stce_guest_detach(f->g, f->c, NULL), -ENOENT);
}

static void memory_map(void **state)
{
	struct hfx *f = *state;
	uint64_t ua = 0;

	assert_int_equal(stce_guest_add_memory(f->g, RAM, 0, f->ram_ua), -EINVAL);
	assert_int_equal(stce_guest_add_memory(f->g, RAM + 4096, P64K, f->ram_ua), -EINVAL);
	assert_int_equal(stce_guest_add_memory(f->g, RAM, P64K, f->ram_ua + 4096), -EINVAL);
	assert_int_equal(stce_guest_add_memory(f->g, RAM - P64K, 2 * P64K, f->ram_ua),
			 -EINVAL);	/* overlap */
	assert_int_equal(stce_guest_add_memory(f->g, UINT64_MAX - P64K + 1, 2 * P64K,
					       f->ram_ua), -EINVAL);	/* wrap */
	assert_int_equal(stce_guest_remove_memory(f->g, RAM, P64K), -ENOENT);
	assert_int_equal(stce_guest_gpa_to_ua(f->g, 5, &ua), 0);
	assert_int_equal(ua, f->ram_ua + 5);
	assert_int_equal(stce_guest_gpa_to_ua(f->g, RAM, &ua), -EFAULT);
	/* Slots below and above an existing one. */
	assert_int_equal(stce_guest_add_memory(f->g, RAM, P64K, f->ram_ua), 0);
	assert_int_equal(stce_guest_add_memory(f->g, 1ULL << 40, P64K, f->ram_ua), 0);
	assert_int_equal(stce_guest_gpa_to_ua(f->g, (1ULL << 40) + 8, &ua), 0);
	assert_int_equal(ua, f->ram_ua + 8);
	assert_int_equal(stce_guest_remove_memory(f->g, RAM, P64K), 0);
	assert_int_equal(stce_guest_gpa_to_ua(f->g, RAM, &ua), -EFAULT);
	assert_int_equal(stce_guest_remove_memory(f->g, 1ULL << 40, P64K), 0);
}

/* ---- RTAS dynamic DMA windows ------------------------------------------ */

#define BUID	0x800000020000000ULL

static void rtas_args(uint32_t *args, uint64_t buid)
{
	args[0] = 0;
	args[1] = (uint32_t)(buid >> 32);
	args[2] = (uint32_t)buid;
}

static void rtas(void **state)
{
	struct hfx *f = *state;
	uint64_t liobns[2] = { 0x80000000, 0x80000001 }, bad[2] = { 7, 7 };
	uint32_t args[5], rets[5];
	uint64_t start;

	/* This container has a DDW already; start from the reset state. */
	assert_int_equal(stce_guest_remove_tce_table(f->g, LIOBN), 0);
	assert_int_equal(stce_container_remove_window(f->c, DDW), 0);

	assert_int_equal(stce_guest_add_phb(f->g, BUID, f->c, bad), -EINVAL);
	bad[1] = 1ULL << 32;
	assert_int_equal(stce_guest_add_phb(f->g, BUID, f->c, bad), -EINVAL);
	assert_int_equal(stce_guest_add_phb(f->g, BUID, f->c, liobns), 0);
	assert_int_equal(stce_guest_add_phb(f->g, BUID, f->c, liobns), -EBUSY);
	/* The default window is enabled: 4K pages at 0. */
	assert_int_equal(stce_h_put_tce(f->g, liobns[0], 0, RW, 0), STCE_H_SUCCESS);
	assert_int_equal(hwget(f, 0, 0), hfx_hwtce(f, 0, RW));
	assert_int_equal(hfx_mapped(f), 1);

	rtas_args(args, BUID);
	assert_int_equal(stce_rtas_query_pe_dma_window(f->g, 2, args, 5, rets),
			 STCE_RTAS_PARAM_ERROR);
	assert_int_equal(rets[0], (uint32_t)STCE_RTAS_PARAM_ERROR);
	assert_int_equal(stce_rtas_query_pe_dma_window(f->g, 3, args, 4, rets),
			 STCE_RTAS_PARAM_ERROR);
	rtas_args(args, BUID + 1);
	assert_int_equal(stce_rtas_query_pe_dma_window(f->g, 3, args, 5, rets),
			 STCE_RTAS_PARAM_ERROR);
	rtas_args(args, BUID);
	assert_int_equal(stce_rtas_query_pe_dma_window(f->g, 3, args, 5, rets),
			 STCE_RTAS_SUCCESS);
	assert_int_equal(rets[0], 0);
	assert_int_equal(rets[1], 1);
	assert_int_equal(rets[2], 0x80000000u);
	/* 0x40211000: 4K 64K 2M 1G; 1G has no LoPAPR bit. */
	assert_int_equal(rets[3], STCE_RTAS_DDW_PGSIZE_4K | STCE_RTAS_DDW_PGSIZE_64K |
				  STCE_RTAS_DDW_PGSIZE_2M);
	assert_int_equal(rets[4], 0);

	/* create: arguments, page sizes, window below a page. */
	args[3] = 16;
	args[4] = 26;
	assert_int_equal(stce_rtas_create_pe_dma_window(f->g, 4, args, 4, rets),
			 STCE_RTAS_PARAM_ERROR);
	args[3] = 24;
	assert_int_equal(stce_rtas_create_pe_dma_window(f->g, 5, args, 4, rets),
			 STCE_RTAS_PARAM_ERROR);
	args[3] = 16;
	args[4] = 15;
	assert_int_equal(stce_rtas_create_pe_dma_window(f->g, 5, args, 4, rets),
			 STCE_RTAS_PARAM_ERROR);
	/* The container refuses a window past 2^64. */
	args[4] = 63;
	assert_int_equal(stce_rtas_create_pe_dma_window(f->g, 5, args, 4, rets),
			 STCE_RTAS_HW_ERROR);
	args[4] = 26;
	assert_int_equal(stce_rtas_create_pe_dma_window(f->g, 5, args, 4, rets),
			 STCE_RTAS_SUCCESS);
	assert_int_equal(rets[1], liobns[1]);
	start = ((uint64_t)rets[2] << 32) | rets[3];
	assert_int_equal(start, DDW);
	assert_int_equal(stce_h_put_tce(f->g, liobns[1], DDW + P64K, P64K | RW, 0),
			 STCE_H_SUCCESS);
	assert_int_equal(hwget(f, 1, DDW + P64K), hfx_hwtce(f, P64K, RW));
	assert_int_equal(hfx_mapped(f), 2);
	/* No window left. */
	assert_int_equal(stce_rtas_query_pe_dma_window(f->g, 3, args, 5, rets), 0);
	assert_int_equal(rets[1], 0);
	assert_int_equal(stce_rtas_create_pe_dma_window(f->g, 5, args, 4, rets),
			 STCE_RTAS_HW_ERROR);

	/* remove: arguments, unknown LIOBN, then the DDW. */
	args[0] = (uint32_t)liobns[1];
	assert_int_equal(stce_rtas_remove_pe_dma_window(f->g, 2, args, 1, rets),
			 STCE_RTAS_PARAM_ERROR);
	args[0] = 0x1234;
	assert_int_equal(stce_rtas_remove_pe_dma_window(f->g, 1, args, 1, rets),
			 STCE_RTAS_PARAM_ERROR);
	args[0] = (uint32_t)liobns[1];
	assert_int_equal(stce_rtas_remove_pe_dma_window(f->g, 1, args, 1, rets),
			 STCE_RTAS_SUCCESS);
	assert_int_equal(hfx_mapped(f), 1);	/* its mapping went with it */
	assert_null(hfx_hw(f, 1));
	assert_int_equal(stce_rtas_remove_pe_dma_window(f->g, 1, args, 1, rets),
			 STCE_RTAS_PARAM_ERROR);
	assert_int_equal(stce_h_put_tce(f->g, liobns[1], DDW, RW, 0), STCE_H_TOO_HARD);

	/* Remove the default window too; create takes its LIOBN and slot. */
	args[0] = (uint32_t)liobns[0];
	assert_int_equal(stce_rtas_remove_pe_dma_window(f->g, 1, args, 1, rets), 0);
	assert_int_equal(hfx_mapped(f), 0);
	rtas_args(args, BUID);
	args[3] = 16;
	args[4] = 26;
	assert_int_equal(stce_rtas_create_pe_dma_window(f->g, 5, args, 4, rets), 0);
	assert_int_equal(rets[1], liobns[0]);
	assert_int_equal(stce_h_put_tce(f->g, liobns[0], 0, RW, 0), STCE_H_SUCCESS);

	/* reset: arguments, then back to the default window alone. */
	assert_int_equal(stce_rtas_reset_pe_dma_window(f->g, 3, args, 2, rets),
			 STCE_RTAS_PARAM_ERROR);
	rtas_args(args, 5);
	assert_int_equal(stce_rtas_reset_pe_dma_window(f->g, 3, args, 1, rets),
			 STCE_RTAS_PARAM_ERROR);
	rtas_args(args, BUID);
	assert_int_equal(stce_rtas_reset_pe_dma_window(f->g, 3, args, 1, rets),
			 STCE_RTAS_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
	assert_int_equal(stce_table_page_shift(hfx_hw(f, 0)), 12);
	assert_null(hfx_hw(f, 1));
	assert_int_equal(get(f, liobns[0], 0), 0);
	assert_int_equal(stce_rtas_query_pe_dma_window(f->g, 3, args, 5, rets), 0);
	assert_int_equal(rets[1], 1);
}

/* ---- a whole guest: map all RAM, DMA, unmap all ------------------------ */

static void dma_command(struct stce_device *d, uint64_t cmd, uint64_t src,
			uint64_t dst, uint64_t len, uint64_t pattern)
{
	uint64_t status = 0;

	assert_int_equal(stce_device_mmio_write(d, 0, STCE_DMATEST_REG_SRC, 8, src), 0);
	assert_int_equal(stce_device_mmio_write(d, 0, STCE_DMATEST_REG_DST, 8, dst), 0);
	assert_int_equal(stce_device_mmio_write(d, 0, STCE_DMATEST_REG_LEN, 8, len), 0);
	assert_int_equal(stce_device_mmio_write(d, 0, STCE_DMATEST_REG_PATTERN, 8,
						pattern), 0);
	assert_int_equal(stce_device_mmio_write(d, 0, STCE_DMATEST_REG_CMD, 8, cmd), 0);
	assert_int_equal(stce_device_mmio_read(d, 0, STCE_DMATEST_REG_STATUS, 8,
					       &status), 0);
	assert_int_equal(status, STCE_DMATEST_STATUS_DONE);
}

static void whole_guest(void **state)
{
	struct hfx *f = *state;
	unsigned int pages = RAM >> 16;
	uint64_t tces[512], sum = 0;

	/* The lists live in the guest's own RAM: the last 8K of it. */
	for (unsigned int i = 0; i < pages; i += 512) {
		uint64_t list = RAM - 2 * 4096 + (i / 512) * 4096;

		fill(tces, 512, (uint64_t)i * P64K);
		hfx_list(f, list, tces, 512);
		assert_int_equal(stce_h_put_tce_indirect(f->g, LIOBN,
							 DDW + (uint64_t)i * P64K,
							 list, 512, 0),
				 STCE_H_SUCCESS);
	}
	assert_int_equal(hfx_mapped(f), pages);

	/* The device fills 1 MiB at guest 8M and copies it to guest 32M. */
	assert_int_equal(stce_device_config_write(f->dev, STCE_PCI_COMMAND, 2,
			 STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER), 0);
	dma_command(f->dev, STCE_DMATEST_CMD_FILL, 0, DDW + 8 * MB, MB, 0x5a);
	dma_command(f->dev, STCE_DMATEST_CMD_COPY, DDW + 8 * MB, DDW + 32 * MB, MB, 0);
	for (uint64_t i = 0; i < MB; i += 4099) {
		assert_int_equal(f->ram[8 * MB + i], 0x5a);
		assert_int_equal(f->ram[32 * MB + i], 0x5a);
	}
	dma_command(f->dev, STCE_DMATEST_CMD_CHECKSUM, DDW + 32 * MB, 0, MB, 0);
	assert_int_equal(stce_device_mmio_read(f->dev, 0, STCE_DMATEST_REG_RESULT, 8,
					       &sum), 0);
	assert_int_equal(sum, stce_dmatest_checksum(f->ram + 8 * MB, MB));

	/* Unmap everything in one call. */
	assert_int_equal(stce_h_stuff_tce(f->g, LIOBN, DDW, 0, pages, 0), STCE_H_SUCCESS);
	assert_int_equal(hfx_mapped(f), 0);
	for (unsigned int i = 0; i < pages; i += 33)
		assert_int_equal(hwget(f, 1, DDW + (uint64_t)i * P64K), 0);
	/* teardown() checks locked_vm and regions once all is gone. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(put_get_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_liobn, setup, teardown),
		cmocka_unit_test_setup_teardown(ioba_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(put_tce_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect_one_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(indirect_spans_slots_and_regions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(indirect_slots_and_runs_overlap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(indirect_replace_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(stuff, setup, teardown),
		cmocka_unit_test_setup_teardown(noalloc_then_slow_path, setup_2levels,
						teardown),
		cmocka_unit_test_setup_teardown(subpages, setup, teardown),
		cmocka_unit_test_setup_teardown(two_groups_one_window, setup, teardown),
		cmocka_unit_test_setup_teardown(window_removed_under_liobn, setup, teardown),
		cmocka_unit_test_setup_teardown(table_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(attach_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_map, setup, teardown),
		cmocka_unit_test_setup_teardown(rtas, setup, teardown),
		cmocka_unit_test_setup_teardown(whole_guest, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
