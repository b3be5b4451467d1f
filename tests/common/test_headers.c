// SPDX-License-Identifier: MIT
/*
 * The public headers compile on their own in strict ISO C11 (no GNU
 * extensions, no internal include path) and declare what they promise.
 */
#include <spapr_tce/spapr_tce.h>

int main(void)
{
	/* One symbol of each layer, so a missing declaration fails to build. */
	typedef void (*fn)(void);
	fn symbols[] = {
		(fn)stce_table_create, (fn)stce_account_charge,
		(fn)stce_prereg_register, (fn)stce_pe_create,
		(fn)stce_topology_default, (fn)stce_device_create,
		(fn)stce_container_create, (fn)stce_host_create,
		(fn)stce_hostmem_pin, (fn)stce_parse_size,
	};

	for (unsigned int i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
		if (!symbols[i])
			return 1;
	return 0;
}
