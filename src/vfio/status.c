// SPDX-License-Identifier: MIT
/*
 * /proc/self/status with the emulated locked_vm in VmLck. The real file
 * is read through open(2) and read(2), never fopen: the preload library
 * interposes fopen to call this, and must not see itself again. It is
 * read whole and closed before the result's file is made, so the call
 * needs one free descriptor, as the kernel's fopen does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spapr_tce/account.h>
#include <spapr_tce/vfio.h>

#define STATUS_MAX	16384	/* Linux's is about 1.5 KiB */

/* The real file in @buf (NUL-terminated): its length, or -1 with errno. */
static ssize_t read_status(char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n = 0;
	int fd, err;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	buf[len] = 0;
	return (ssize_t)len;
}

/* See <spapr_tce/vfio.h>. */
FILE *stce_proc_status_open(void)
{
	char *buf = malloc(STATUS_MAX), *line, *next;
	FILE *out = NULL;

	if (!buf)
		return NULL;
	if (read_status(buf, STATUS_MAX) < 0)
		goto out;
	out = tmpfile();
	if (!out)
		goto out;
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (!strncmp(line, "VmLck:", 6))
			fprintf(out, "VmLck:\t%8llu kB\n",
				(unsigned long long)(stce_account_locked_pages() *
						     stce_host_page_size() / 1024));
		else
			fwrite(line, 1, (size_t)(next - line), out);
	}
	rewind(out);
out:
	free(buf);
	return out;
}
