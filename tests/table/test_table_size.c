// SPDX-License-Identifier: MIT
/*
 * The table-size formula against the charges a real POWER host (Linux
 * 6.12, PowerNV PHB4, 64K pages) was seen to make, and against values
 * worked by hand for a 4K-page host.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <spapr_tce/table.h>

#define K 1024ULL
#define M (1024 * K)
#define G (1024 * M)
#define T (1024 * G)

struct worked {
	uint64_t window;
	unsigned int page_shift;
	unsigned int levels;
	uint64_t bytes;
};

/* spec/kernel-spec.md, "Observed charges". */
static const struct worked observed_64k[] = {
	{ 2 * G, 12, 1, 8388608 },
	{ 1 * G, 16, 1, 262144 },
	{ 1 * G, 16, 2, 393216 },
	{ 1 * T, 16, 2, 268566528 },
	{ 256 * G, 21, 2, 2228224 },
	{ 16 * G, 12, 2, 67239936 },
	{ 16 * T, 16, 2, 4295229440ULL },
	{ 1 * M, 12, 1, 131072 },
	{ 64 * K, 16, 1, 131072 },
	/* 64G of 64K pages, 3 levels: the 16640 kB seen in VmLck. */
	{ 64 * G, 16, 3, 16640 * K },
};

/* Worked by hand from the formula with 4K host pages. */
static const struct worked worked_4k[] = {
	{ 2 * G, 12, 1, 8388608 },		/* one 4 MiB chunk, twice */
	{ 1 * G, 16, 2, 2 * (128 * K + 4 * K) },	/* leaves + one pointer chunk */
	{ 64 * K, 16, 1, 2 * 4096 },		/* one entry, one 4K chunk */
	{ 1 * M, 12, 1, 2 * 4096 },		/* 256 entries fit a 4K chunk */
};

static void matches_the_kernel_64k(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(observed_64k) / sizeof(observed_64k[0]); i++) {
		const struct worked *w = &observed_64k[i];

		assert_int_equal(stce_table_size(w->page_shift, w->window, w->levels),
				 w->bytes);
		assert_int_equal(stce_table_size_hp(w->page_shift, w->window,
						    w->levels, 16), w->bytes);
	}
}

static void matches_hand_worked_4k(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(worked_4k) / sizeof(worked_4k[0]); i++) {
		const struct worked *w = &worked_4k[i];

		assert_int_equal(stce_table_size_hp(w->page_shift, w->window,
						    w->levels, 12), w->bytes);
	}
}

static void refuses_what_no_table_can_be(void **state)
{
	(void)state;
	assert_int_equal(stce_table_size(12, 2 * G, 0), 0);
	assert_int_equal(stce_table_size(12, 2 * G, 6), 0);
	assert_int_equal(stce_table_size(12, 3 * G, 1), 0);	/* not 2^n */
	assert_int_equal(stce_table_size(12, 0, 1), 0);
	assert_int_equal(stce_table_size(16, 32 * K, 1), 0);	/* < a page */
	assert_int_equal(stce_table_size(13, 2 * G, 1), 0);	/* 8K pages */
	assert_int_equal(stce_table_size(64, 2 * G, 1), 0);
	assert_int_equal(stce_table_size_hp(12, 2 * G, 1, 11), 0);
	assert_int_equal(stce_table_size_hp(12, 2 * G, 1, 31), 0);
	/* The largest window a uint64_t holds still has a size. */
	assert_true(stce_table_size(30, 1ULL << 63, 3) > 0);
}

static void chunk_shift_follows_levels(void **state)
{
	(void)state;
	/* 2^19 entries in one level: a 4 MiB chunk. */
	assert_int_equal(stce_table_chunk_shift(12, 2 * G, 1, 16), 22);
	/* 2^14 entries over 2 levels: 2^7 each, raised to a host page. */
	assert_int_equal(stce_table_chunk_shift(16, 1 * G, 2, 16), 16);
	assert_int_equal(stce_table_chunk_shift(16, 1 * G, 2, 12), 12);
	/* 2^24 entries over 3 levels: 8 bits each, rounded up: 2^8*8. */
	assert_int_equal(stce_table_chunk_shift(16, 1 * T, 3, 12), 12);
	assert_int_equal(stce_table_chunk_shift(16, 16 * T, 3, 12), 13);
	assert_int_equal(stce_table_chunk_shift(16, 1 * G, 0, 16), -EINVAL);
	assert_int_equal(stce_table_chunk_shift(16, 1 * G, 6, 16), -EINVAL);
	assert_int_equal(stce_table_chunk_shift(17, 1 * G, 1, 16), -EINVAL);
	assert_int_equal(stce_table_chunk_shift(16, 1 * G + 1, 1, 16), -EINVAL);
	assert_int_equal(stce_table_chunk_shift(16, 1 * G, 1, 40), -EINVAL);
}

static void page_shift_helper(void **state)
{
	static const unsigned int good[] = { 12, 16, 21, 24, 28, 30 };

	(void)state;
	for (unsigned int s = 0; s < 80; s++) {
		int expect = 0;

		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			expect |= good[i] == s;
		assert_int_equal(stce_page_shift_supported(s), expect);
	}
}

static void tce_encoding(void **state)
{
	uint64_t tce = stce_tce_make(0x12340000, STCE_TCE_READ | STCE_TCE_WRITE);

	(void)state;
	assert_int_equal(tce, 0x12340003);
	assert_int_equal(stce_tce_addr(tce), 0x12340000);
	assert_int_equal(stce_tce_perm(tce), 3);
	assert_true(stce_tce_live(tce));
	assert_false(stce_tce_live(0x12340000));
	assert_int_equal(stce_tce_make(0x1000, 0x7), 0x1003);	/* stray bit dropped */
	assert_int_equal(stce_tce_perm(stce_tce_make(0x1000, STCE_TCE_WRITE)),
			 STCE_TCE_WRITE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_the_kernel_64k),
		cmocka_unit_test(matches_hand_worked_4k),
		cmocka_unit_test(refuses_what_no_table_can_be),
		cmocka_unit_test(chunk_shift_follows_levels),
		cmocka_unit_test(page_shift_helper),
		cmocka_unit_test(tce_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
