/* SPDX-License-Identifier: MIT */
#ifndef STCE_SIZE_H
#define STCE_SIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a byte count: decimal or 0x-hex digits with an optional binary
 * suffix K, M, G, T, P or E (upper or lower case, an optional trailing
 * "B" or "iB"). -EINVAL for anything else, including an empty string or
 * trailing junk; -ERANGE when the value does not fit in 64 bits.
 */
int stce_parse_size(const char *text, uint64_t *out);

/*
 * Format a byte count the short way when it is an exact multiple of a
 * binary unit ("64K", "2G", "4096" otherwise) into buf. Returns buf.
 */
const char *stce_format_size(uint64_t bytes, char *buf, size_t len);

#endif /* STCE_SIZE_H */
