// SPDX-License-Identifier: MIT
/*
 * /proc/self/status with the emulated locked_vm in VmLck. The real file
 * is read through open(2) and fdopen, never fopen: the preload library
 * interposes fopen to call this, and must not see itself again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <spapr_tce/account.h>
#include <spapr_tce/vfio.h>

FILE *stce_proc_status_open(void)
{
	FILE *in, *out;
	char line[512];
	int fd, err;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	in = fdopen(fd, "r");
	if (!in) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	out = tmpfile();
	if (!out) {
		err = errno;
		fclose(in);
		errno = err;
		return NULL;
	}
	while (fgets(line, sizeof(line), in)) {
		if (!strncmp(line, "VmLck:", 6))
			fprintf(out, "VmLck:\t%8llu kB\n",
				(unsigned long long)(stce_account_locked_pages() *
						     stce_host_page_size() / 1024));
		else
			fputs(line, out);
	}
	fclose(in);
	rewind(out);
	return out;
}
