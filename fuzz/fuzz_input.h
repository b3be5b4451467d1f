/* SPDX-License-Identifier: MIT */
/*
 * Reading a fuzzer's input as a stream of choices. Past the end every
 * read gives 0, so any input decodes to a finite, valid program.
 */
#ifndef STCE_FUZZ_INPUT_H
#define STCE_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fuzz_bytes(struct fuzz_in *in, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	return (uint8_t)fuzz_bytes(in, 1);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_bytes(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	return fuzz_bytes(in, 8);
}

/* One of @n choices (n > 0). */
static inline unsigned int fuzz_pick(struct fuzz_in *in, unsigned int n)
{
	return fuzz_u8(in) % n;
}

static inline size_t fuzz_left(const struct fuzz_in *in)
{
	return in->n;
}

#endif /* STCE_FUZZ_INPUT_H */
