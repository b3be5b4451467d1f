// SPDX-License-Identifier: MIT
/*
 * Print the sysfs and /dev/vfio a VFIO program sees for one device:
 * every entry's type, mode, size and link count, each link's target,
 * each attribute's content. Written against libc only, so the same
 * program runs on the real kernel (the oracle: static ppc64le, the
 * device from $VFIO_DEVICE0) and under the preload library: its output
 * there is tests/preload/sysfs-kernel.txt, here sysfs-spapr-tce.txt.
 *
 * Usage: sysfs_walk [DEVICE [GROUP]]   (default: $VFIO_DEVICE0, group 0)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Binary, volatile or large attributes: their stat only. */
static const char *const no_content[] = {
	"config", "rom", "vpd", "coresize", "initsize", "srcversion",
	"runtime_active_time", "runtime_suspended_time", NULL,
};

static bool skip_content(const char *name)
{
	for (int i = 0; no_content[i]; i++)
		if (!strcmp(name, no_content[i]))
			return true;
	return !strncmp(name, "resource", 8) && name[8];
}

/* Directories not descended into (the kernel's, not a VFIO program's). */
static bool skip_dir(const char *name)
{
	return !strcmp(name, "notes") || !strcmp(name, "sections") ||
	       !strcmp(name, "power") || !strcmp(name, "link") ||
	       !strcmp(name, "msi_irqs");
}

static void content(const char *path, int depth)
{
	char buf[2048];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	printf("%*s", depth * 2 + 2, "");
	if (fd < 0) {
		printf("open: %s\n", strerror(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		printf("read: %s\n", strerror(errno));
		return;
	}
	printf("= \"");
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			printf("\\n");
		else if (buf[i] < 32 || buf[i] > 126)
			printf("\\x%02x", (unsigned char)buf[i]);
		else
			putchar(buf[i]);
	}
	printf("\"\n");
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void entry(const char *path, const char *name, int depth, int max);

static void walk(const char *dir, int depth, int max)
{
	char *names[512], path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d) {
		printf("%*sopendir: %s\n", depth * 2, "", strerror(errno));
		return;
	}
	while ((de = readdir(d)) && n < 512)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), by_name);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		entry(path, names[i], depth, max);
		free(names[i]);
	}
}

static void entry(const char *path, const char *name, int depth, int max)
{
	struct stat st;
	char target[PATH_MAX];
	ssize_t n;

	if (lstat(path, &st)) {
		printf("%*s%s: %s\n", depth * 2, "", name, strerror(errno));
		return;
	}
	printf("%*s%s %s %04o", depth * 2, "", name,
	       S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" :
	       S_ISCHR(st.st_mode) ? "chr" : S_ISREG(st.st_mode) ? "file" : "?",
	       (unsigned int)(st.st_mode & 07777));
	if (S_ISREG(st.st_mode))
		printf(" size=%lld", (long long)st.st_size);
	if (S_ISDIR(st.st_mode))
		printf(" nlink=%lu", (unsigned long)st.st_nlink);
	if (S_ISCHR(st.st_mode))
		printf(" rdev=%u:%u", major(st.st_rdev), minor(st.st_rdev));
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		printf(" -> %s", target);
	}
	putchar('\n');
	if (S_ISREG(st.st_mode) && !skip_content(name))
		content(path, depth);
	if (S_ISDIR(st.st_mode) && depth < max && !skip_dir(name))
		walk(path, depth + 1, max);
}

static void show(const char *path, int max)
{
	char real[PATH_MAX];

	printf("== %s\n", path);
	if (realpath(path, real))
		printf("realpath %s\n", real);
	else
		printf("realpath: %s\n", strerror(errno));
	entry(path, ".", 0, max);
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : getenv("VFIO_DEVICE0");
	const char *group = argc > 2 ? argv[2] : "0";
	char p[PATH_MAX], real[PATH_MAX];

	if (!dev) {
		fprintf(stderr, "usage: sysfs_walk DEVICE [GROUP]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s", dev);
	show(p, 0);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/", dev);
	show(p, 3);
	if (realpath(p, real)) {	/* the root port, then the PCI root */
		*strrchr(real, '/') = 0;
		show(real, 1);
		*strrchr(real, '/') = 0;
		show(real, 1);
	}
	show("/sys/bus/pci", 1);
	show("/sys/bus/pci/devices", 1);
	show("/sys/bus/pci/drivers/vfio-pci", 1);
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%s", group);
	show(p, 2);
	show("/sys/module/vfio", 2);
	show("/sys/module/vfio_pci", 2);
	show("/sys/module/vfio_pci_core", 2);
	show("/sys/module/vfio_iommu_spapr_tce", 2);
	show("/sys/class/vfio", 1);
	show("/sys/class/vfio-dev", 1);
	snprintf(p, sizeof(p), "/sys/devices/virtual/vfio/%s", group);
	show(p, 1);
	show("/dev/vfio", 2);
	return 0;
}
