/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: byte sizes as people write them ("64K", "1T"), for options
 * and files: the topology format reads them, the spapr-tce CLI reads and
 * prints them, an emulator's command line can do the same.
 */
#ifndef SPAPR_TCE_SIZE_H
#define SPAPR_TCE_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include <spapr_tce/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parse a byte count: decimal or 0x-hex digits with an optional binary
 * suffix K, M, G, T, P or E (upper or lower case, an optional trailing
 * "B" or "iB"). -EINVAL for anything else, including an empty string or
 * trailing junk; -ERANGE when the value does not fit in 64 bits. *out is
 * written only on success.
 */
STCE_API
int stce_parse_size(const char *text, uint64_t *out);

/*
 * Format a byte count the short way when it is an exact multiple of a
 * binary unit ("64K", "2G", "4096" otherwise) into buf. Returns buf.
 */
STCE_API
const char *stce_format_size(uint64_t bytes, char *buf, size_t len);

/*
 * The shift of a size that is a power of two (a page or a window: 12 for
 * 4K), or -EINVAL for any other size, 0 included.
 */
STCE_API
int stce_size_shift(uint64_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_SIZE_H */
