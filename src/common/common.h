/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by every module. Internal: not installed.
 */
#ifndef STCE_COMMON_H
#define STCE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STCE_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define stce_likely(x)		__builtin_expect(!!(x), 1)
#define stce_unlikely(x)	__builtin_expect(!!(x), 0)

static inline bool stce_is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* log2 of a non-zero value, rounded down. */
static inline unsigned int stce_ilog2(uint64_t x)
{
	return 63u - (unsigned int)__builtin_clzll(x);
}

static inline bool stce_is_aligned(uint64_t x, uint64_t align)
{
	return (x & (align - 1)) == 0;
}

static inline uint64_t stce_round_up(uint64_t x, uint64_t align)
{
	return (x + align - 1) & ~(align - 1);
}

static inline uint64_t stce_max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * True when [start, start + size) does not wrap past 2^64. A range that
 * ends exactly at 2^64 is allowed.
 */
static inline bool stce_range_fits(uint64_t start, uint64_t size)
{
	return size == 0 || size - 1 <= UINT64_MAX - start;
}

#endif /* STCE_COMMON_H */
