// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <spapr_tce/size.h>

static void parses_plain_and_suffixed(void **state)
{
	static const struct { const char *text; uint64_t value; } ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "010", 10 }, { "0x1000", 4096 },
		{ "4K", 4096 }, { "64k", 65536 }, { "2M", 2ULL << 20 },
		{ "2G", 2ULL << 30 }, { "1T", 1ULL << 40 }, { "16T", 16ULL << 40 },
		{ "1P", 1ULL << 50 }, { "8E", 8ULL << 60 }, { "4KB", 4096 },
		{ "4KiB", 4096 }, { "0x10K", 16384 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 12345;

		assert_int_equal(stce_parse_size(ok[i].text, &v), 0);
		assert_int_equal(v, ok[i].value);
	}
}

static void refuses_junk(void **state)
{
	static const char *bad[] = {
		"", "K", "-1", " 4K", "+4", "4X", "4KK", "4Kb", "4 K", "0x",
		"0xg", "1.5G", "4KiBx",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;

		assert_int_equal(stce_parse_size(bad[i], &v), -EINVAL);
		assert_int_equal(v, 7);
	}
	assert_int_equal(stce_parse_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void refuses_overflow(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(stce_parse_size("16E", &v), -ERANGE);
	assert_int_equal(stce_parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(stce_parse_size("18014398509481984K", &v), -ERANGE);
	assert_int_equal(v, 7);
	assert_int_equal(stce_parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
}

static void formats_exact_units(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(stce_format_size(0, b, sizeof(b)), "0");
	assert_string_equal(stce_format_size(4096, b, sizeof(b)), "4K");
	assert_string_equal(stce_format_size(4097, b, sizeof(b)), "4097");
	assert_string_equal(stce_format_size(3ULL << 30, b, sizeof(b)), "3G");
	assert_string_equal(stce_format_size(1ULL << 59, b, sizeof(b)), "512P");
	assert_string_equal(stce_format_size(1ULL << 60, b, sizeof(b)), "1E");
}

static void shifts_powers_of_two_only(void **state)
{
	static const uint64_t bad[] = {
		0, 3, 4095, 4097, 3ULL << 20, (1ULL << 40) + 4096, UINT64_MAX,
	};

	(void)state;
	assert_int_equal(stce_size_shift(1), 0);
	assert_int_equal(stce_size_shift(4096), 12);
	assert_int_equal(stce_size_shift(64 << 10), 16);
	assert_int_equal(stce_size_shift(1ULL << 40), 40);
	assert_int_equal(stce_size_shift(1ULL << 63), 63);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(stce_size_shift(bad[i]), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_plain_and_suffixed),
		cmocka_unit_test(refuses_junk),
		cmocka_unit_test(refuses_overflow),
		cmocka_unit_test(formats_exact_units),
		cmocka_unit_test(shifts_powers_of_two_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
