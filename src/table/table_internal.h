/* SPDX-License-Identifier: MIT */
#ifndef STCE_TABLE_INTERNAL_H
#define STCE_TABLE_INTERNAL_H

#include <stdint.h>

/* The checks shared by the size formula and table creation. */
int stce_table_check_geometry(unsigned int page_shift, uint64_t window_size,
			      unsigned int levels,
			      unsigned int host_page_shift);

#endif /* STCE_TABLE_INTERNAL_H */
