// SPDX-License-Identifier: MIT
/*
 * The sysfs entries VFIO programs look up to find a device's group and a
 * group's devices, answered from the topology:
 *
 *   readlink /sys/bus/pci/devices/<bdf>/iommu_group
 *       -> ../../../../kernel/iommu_groups/<N>   (as the kernel's link)
 *   opendir  /sys/kernel/iommu_groups            -> one entry a group
 *   opendir  /sys/kernel/iommu_groups/<N>/devices -> one entry a device
 *
 * A listing is a private DIR (our own object; readdir, closedir,
 * rewinddir and dirfd know it) built when it is opened; no file is ever
 * created. Every other path goes to libc.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spapr_tce/device.h>
#include <spapr_tce/topology.h>

#include "preload_internal.h"

#define GROUPS_DIR	"/sys/kernel/iommu_groups"
#define PCI_DEVICES	"/sys/bus/pci/devices/"
#define MAX_OPEN_DIRS	64

struct fake_dir {
	unsigned int pos, nr;
	struct dirent ent;
	struct {
		char name[32];
		unsigned char type;
	} entries[];
};

static pthread_mutex_t dirs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_dir *dirs[MAX_OPEN_DIRS];
static _Atomic unsigned int nr_dirs;

static const struct stce_topology *topology(void)
{
	struct stce_host *h;

	h = preload_host();
	return h ? stce_platform_topology(stce_host_platform(h)) : NULL;
}

/* "<prefix><N><rest>": N, or -1. */
static long number_after(const char *path, const char *prefix,
			 const char **rest)
{
	const char *p = path + strlen(prefix);
	char *end;
	long n;

	if (strncmp(path, prefix, strlen(prefix)) || *p < '0' || *p > '9')
		return -1;
	n = strtol(p, &end, 10);
	if (n < 0 || n > 0x7fffffff || (p[0] == '0' && end - p > 1))
		return -1;
	*rest = end;
	return n;
}

bool sysfs_readlink(const char *path, char *buf, size_t len, ssize_t *ret)
{
	const struct stce_topology *topo;
	const struct stce_topo_device *dev;
	char name[32], target[96];
	const char *slash;
	size_t n;

	if (!path || strncmp(path, PCI_DEVICES, strlen(PCI_DEVICES)))
		return false;
	slash = strchr(path + strlen(PCI_DEVICES), '/');
	if (!slash || strcmp(slash, "/iommu_group"))
		return false;
	n = (size_t)(slash - path) - strlen(PCI_DEVICES);
	if (n >= sizeof(name))
		return false;
	memcpy(name, path + strlen(PCI_DEVICES), n);
	name[n] = 0;
	topo = topology();
	dev = topo ? stce_topology_find_device(topo, name) : NULL;
	if (!dev)
		return false;
	n = (size_t)snprintf(target, sizeof(target),
			     "../../../../kernel/iommu_groups/%u", dev->group);
	if (n > len)
		n = len;
	memcpy(buf, target, n);
	*ret = (ssize_t)n;
	return true;
}

static struct fake_dir *dir_new(unsigned int nr)
{
	struct fake_dir *d = calloc(1, sizeof(*d) + (nr + 2) * sizeof(d->entries[0]));

	if (!d)
		return NULL;
	strcpy(d->entries[0].name, ".");
	strcpy(d->entries[1].name, "..");
	d->entries[0].type = d->entries[1].type = DT_DIR;
	d->nr = 2;
	return d;
}

static void dir_add(struct fake_dir *d, const char *name, unsigned char type)
{
	snprintf(d->entries[d->nr].name, sizeof(d->entries[0].name), "%s", name);
	d->entries[d->nr++].type = type;
}

static struct fake_dir *list_groups(const struct stce_topology *topo)
{
	struct fake_dir *d = dir_new(topo->nr_pes);
	char n[16];

	for (unsigned int i = 0; d && i < topo->nr_pes; i++) {
		snprintf(n, sizeof(n), "%u", topo->pes[i].group);
		dir_add(d, n, DT_DIR);
	}
	return d;
}

static struct fake_dir *list_devices(const struct stce_topology *topo,
				     unsigned int group)
{
	struct fake_dir *d = dir_new(topo->nr_devices);

	for (unsigned int i = 0; d && i < topo->nr_devices; i++)
		if (topo->devices[i].group == group)
			dir_add(d, topo->devices[i].name, DT_LNK);
	return d;
}

static bool dir_register(struct fake_dir *d)
{
	bool ok = false;

	pthread_mutex_lock(&dirs_lock);
	for (unsigned int i = 0; i < MAX_OPEN_DIRS && !ok; i++) {
		if (dirs[i])
			continue;
		dirs[i] = d;
		atomic_fetch_add(&nr_dirs, 1);
		ok = true;
	}
	pthread_mutex_unlock(&dirs_lock);
	return ok;
}

bool sysfs_opendir(const char *path, DIR **out)
{
	const struct stce_topology *topo;
	struct fake_dir *d;
	const char *rest;
	long group;

	if (!path || strncmp(path, GROUPS_DIR, strlen(GROUPS_DIR)))
		return false;
	group = number_after(path, GROUPS_DIR "/", &rest);
	if (strcmp(path, GROUPS_DIR) && strcmp(path, GROUPS_DIR "/") &&
	    (group < 0 || (strcmp(rest, "/devices") && strcmp(rest, "/devices/"))))
		return false;
	topo = topology();
	if (!topo)
		return false;
	if (group >= 0 && !stce_topology_find_pe(topo, (unsigned int)group))
		return false;	/* not a group of ours: the real sysfs */
	d = group >= 0 ? list_devices(topo, (unsigned int)group)
		       : list_groups(topo);
	if (!d) {
		*out = NULL;
		errno = ENOMEM;
		return true;
	}
	if (!dir_register(d)) {
		free(d);
		*out = NULL;
		errno = EMFILE;
		return true;
	}
	*out = (DIR *)d;
	return true;
}

bool sysfs_is_dir(DIR *dir)
{
	bool found = false;

	if (!atomic_load(&nr_dirs) || !dir)
		return false;
	pthread_mutex_lock(&dirs_lock);
	for (unsigned int i = 0; i < MAX_OPEN_DIRS && !found; i++)
		found = dirs[i] == (struct fake_dir *)dir;
	pthread_mutex_unlock(&dirs_lock);
	return found;
}

struct dirent *sysfs_readdir(DIR *dir)
{
	struct fake_dir *d = (struct fake_dir *)dir;

	if (d->pos >= d->nr)
		return NULL;	/* end: errno untouched */
	memset(&d->ent, 0, sizeof(d->ent));
	d->ent.d_ino = 1000 + d->pos;
	d->ent.d_off = d->pos + 1;
	d->ent.d_reclen = sizeof(d->ent);
	d->ent.d_type = d->entries[d->pos].type;
	snprintf(d->ent.d_name, sizeof(d->ent.d_name), "%s",
		 d->entries[d->pos].name);
	d->pos++;
	return &d->ent;
}

void sysfs_rewinddir(DIR *dir)
{
	((struct fake_dir *)dir)->pos = 0;
}

int sysfs_closedir(DIR *dir)
{
	pthread_mutex_lock(&dirs_lock);
	for (unsigned int i = 0; i < MAX_OPEN_DIRS; i++) {
		if (dirs[i] != (struct fake_dir *)dir)
			continue;
		dirs[i] = NULL;
		atomic_fetch_sub(&nr_dirs, 1);
	}
	pthread_mutex_unlock(&dirs_lock);
	free(dir);
	return 0;
}
