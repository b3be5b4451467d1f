/* SPDX-License-Identifier: MIT */
/*
 * What the examples share. Like the examples, it uses only libc and
 * <linux/vfio.h>: the same code drives a real sPAPR host's VFIO or
 * spapr-tce under LD_PRELOAD=libspapr-tce-preload.so.
 *
 * The device is the spapr-tce DMA test device (vendor 1014, device daa0):
 * its "datasheet" is the register list below - BAR0, little-endian, 4- or
 * 8-byte accesses - which the examples reach with pread/pwrite on the
 * device file at the BAR0 region's offset.
 */
#ifndef VFIO_EXAMPLE_H
#define VFIO_EXAMPLE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

/* DMA test device registers (BAR0). */
#define REG_ID		0x00
#define REG_SRC		0x08
#define REG_DST		0x10
#define REG_LEN		0x18
#define REG_PATTERN	0x20
#define REG_CMD		0x28
#define REG_STATUS	0x30
#define REG_RESULT	0x38
#define REG_IRQS	0x40
#define REG_ERROR	0x48
#define DEV_ID		0x53544345444d4131ULL	/* "STCEDMA1" */
#define CMD_COPY	1
#define CMD_FILL	2
#define CMD_CHECKSUM	3
#define CMD_IRQ		0x80000000u
#define STATUS_DONE	1
#define STATUS_ERROR	2
#define PCI_COMMAND	0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4

struct vfio_dev {
	int fd;
	uint64_t cfg_off;	/* config space region offset */
	uint64_t bar0_off;	/* BAR0 region offset */
	uint64_t bar0_size;
};

/* Every surprise ends the program with status 1 and says why. */
static inline void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void fail(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	printf("FAILED: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (errno %d: %s)\n", err, strerror(err));
	exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

static inline void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The IOMMU group: $VFIO_GROUP (a number), else 0. */
static inline int group_number(void)
{
	const char *g = getenv("VFIO_GROUP");

	return g && *g ? atoi(g) : 0;
}

/* The group's device, as real programs find it: sysfs. */
static inline const char *group_device(int group)
{
	static char name[256];
	char path[320], link[256];
	struct dirent *de;
	const char *slash;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", group);
	d = opendir(path);
	CHECK(d, "opendir %s", path);
	name[0] = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !name[0])
			snprintf(name, sizeof(name), "%s", de->d_name);
	closedir(d);
	CHECK(name[0], "no device in IOMMU group %d", group);
	/* And back: the device's iommu_group link names the group. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", name);
	n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0, "readlink %s", path);
	link[n] = 0;
	slash = strrchr(link, '/');
	CHECK(slash && atoi(slash + 1) == group, "%s -> %s, not group %d", path, link, group);
	return name;
}

/* Container + group, the group joined to it, the IOMMU type set. */
static inline void open_container(int type, int *container, int *group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int g = group_number();

	*container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	CHECK(*container >= 0, "open /dev/vfio/vfio");
	CHECK(ioctl(*container, VFIO_GET_API_VERSION) == VFIO_API_VERSION,
	      "VFIO_GET_API_VERSION");
	CHECK(ioctl(*container, VFIO_CHECK_EXTENSION, type) == 1,
	      "IOMMU type %d not supported", type);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	*group = open(path, O_RDWR | O_CLOEXEC);
	CHECK(*group >= 0, "open %s", path);
	CHECK(!ioctl(*group, VFIO_GROUP_GET_STATUS, &status), "GROUP_GET_STATUS");
	CHECK(status.flags & VFIO_GROUP_FLAGS_VIABLE, "group %d not viable", g);
	CHECK(!ioctl(*group, VFIO_GROUP_SET_CONTAINER, container), "GROUP_SET_CONTAINER");
	CHECK(!ioctl(*container, VFIO_SET_IOMMU, type), "SET_IOMMU(%d)", type);
	step("container: group %d (%s) in a %s container", g, path,
	     type == VFIO_SPAPR_TCE_v2_IOMMU ? "sPAPR TCE v2" : "sPAPR TCE v1");
}

static inline void region(int fd, unsigned int index, struct vfio_region_info *r)
{
	memset(r, 0, sizeof(*r));
	r->argsz = sizeof(*r);
	r->index = index;
	CHECK(!ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, r), "GET_REGION_INFO(%u)", index);
}

/* The device file, its config space and BAR0, bus mastering on. */
static inline void open_device(int group, struct vfio_dev *dev)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info cfg, bar0;
	const char *name = group_device(group_number());
	uint16_t cmd;

	dev->fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);
	CHECK(dev->fd >= 0, "GROUP_GET_DEVICE_FD(%s)", name);
	CHECK(!ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &info), "DEVICE_GET_INFO");
	CHECK(info.flags & VFIO_DEVICE_FLAGS_PCI, "not a PCI device");
	CHECK(info.num_regions > VFIO_PCI_CONFIG_REGION_INDEX, "no config region");
	region(dev->fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	region(dev->fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	CHECK(bar0.size >= 0x50 && (bar0.flags & VFIO_REGION_INFO_FLAG_WRITE),
	      "BAR0 too small or read-only");
	dev->cfg_off = cfg.offset;
	dev->bar0_off = bar0.offset;
	dev->bar0_size = bar0.size;
	CHECK(pread(dev->fd, &cmd, 2, (off_t)(dev->cfg_off + PCI_COMMAND)) == 2,
	      "config read");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	CHECK(pwrite(dev->fd, &cmd, 2, (off_t)(dev->cfg_off + PCI_COMMAND)) == 2,
	      "config write");
	step("device: %s, %u regions, %u irqs, BAR0 %llu bytes, bus master on",
	     name, info.num_regions, info.num_irqs, (unsigned long long)bar0.size);
}

static inline uint64_t rd(struct vfio_dev *dev, uint64_t reg)
{
	uint64_t v;

	CHECK(pread(dev->fd, &v, 8, (off_t)(dev->bar0_off + reg)) == 8,
	      "BAR0 read 0x%llx", (unsigned long long)reg);
	return v;
}

static inline void wr(struct vfio_dev *dev, uint64_t reg, uint64_t v)
{
	CHECK(pwrite(dev->fd, &v, 8, (off_t)(dev->bar0_off + reg)) == 8,
	      "BAR0 write 0x%llx", (unsigned long long)reg);
}

/* Program one DMA command and return its STATUS. */
static inline uint64_t dma(struct vfio_dev *dev, uint64_t cmd, uint64_t src,
		    uint64_t dst, uint64_t len, uint8_t pattern)
{
	wr(dev, REG_SRC, src);
	wr(dev, REG_DST, dst);
	wr(dev, REG_LEN, len);
	wr(dev, REG_PATTERN, pattern);
	wr(dev, REG_CMD, cmd);
	return rd(dev, REG_STATUS);
}

/* The device's checksum: 64-bit FNV-1a. */
static inline uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* size bytes aligned to align, touched. */
static inline uint8_t *alloc_aligned(size_t size, size_t align)
{
	uint8_t *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED, "mmap");
	p = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	memset(p, 0, size);
	return p;
}

/* VmLck of /proc/self/status in kB: what VFIO has charged to us. */
static inline long vmlck_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	CHECK(f, "fopen /proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* INTx through an eventfd: wire it, and wait for one interrupt. */
static inline int irq_setup(struct vfio_dev *dev)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_INTX_IRQ_INDEX };
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	CHECK(efd >= 0, "eventfd");
	CHECK(!ioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, &info), "GET_IRQ_INFO(INTx)");
	CHECK(info.count == 1 && (info.flags & VFIO_IRQ_INFO_EVENTFD), "no INTx");
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_INTX_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(efd));
	CHECK(!ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set), "SET_IRQS(INTx eventfd)");
	return efd;
}

static inline void irq_wait(struct vfio_dev *dev, int efd)
{
	struct vfio_irq_set unmask = {
		.argsz = sizeof(unmask),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1,
	};
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n;

	CHECK(poll(&p, 1, 5000) == 1, "no interrupt within 5 s");
	CHECK(read(efd, &n, sizeof(n)) == sizeof(n) && n == 1, "eventfd count");
	/* INTx is a level, automasked: acknowledge at the device (else the
	 * UNMASK signals again at once), then unmask for the next one. */
	wr(dev, REG_IRQS, 0);
	CHECK(!ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, &unmask), "SET_IRQS(unmask)");
}

#endif /* VFIO_EXAMPLE_H */
