// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/size.h>

#include "common/common.h"

static const char size_units[] = "KMGTPE";

static int unit_shift(const char *suffix, unsigned int *shift)
{
	const char *u;

	*shift = 0;
	if (!*suffix)
		return 0;
	u = strchr(size_units, toupper((unsigned char)*suffix));
	if (!u)
		return -EINVAL;
	*shift = 10 * (unsigned int)(u - size_units + 1);
	suffix++;
	if (!strcmp(suffix, "") || !strcmp(suffix, "B") ||
	    !strcmp(suffix, "iB"))
		return 0;
	return -EINVAL;
}

/* See <spapr_tce/size.h>. */
int stce_parse_size(const char *text, uint64_t *out)
{
	unsigned long long value;
	unsigned int shift;
	char *end;

	/* strtoull would accept a sign and leading blanks: refuse both. */
	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	/* Base 0 would read "010" as octal: only 0x switches the base. */
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		if (!isxdigit((unsigned char)text[2]))
			return -EINVAL;
		value = strtoull(text, &end, 16);
	} else {
		value = strtoull(text, &end, 10);
	}
	if (errno == ERANGE)
		return -ERANGE;
	if (end == text || unit_shift(end, &shift))
		return -EINVAL;
	if (shift && value > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)value << shift;
	return 0;
}

/* See <spapr_tce/size.h>. */
const char *stce_format_size(uint64_t bytes, char *buf, size_t len)
{
	int unit = -1;

	while (bytes && unit < 5 && !(bytes & 1023)) {
		bytes >>= 10;
		unit++;
	}
	if (unit < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)bytes,
			 size_units[unit]);
	return buf;
}

/* See <spapr_tce/size.h>. */
int stce_size_shift(uint64_t bytes)
{
	if (!stce_is_pow2(bytes))
		return -EINVAL;
	return (int)stce_ilog2(bytes);
}
