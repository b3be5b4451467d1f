// SPDX-License-Identifier: MIT
/*
 * The QEMU integration test's guest program. It runs in a pSeries guest
 * (Debian's Linux 6.12 under qemu-system-ppc64 -M pseries) whose PCI device
 * is spapr-tce's DMA test device, passed through by QEMU's vfio-pci under
 * the preload library, and drives that device as a user-space driver on a
 * POWER guest does: through the guest kernel's own VFIO.
 *
 *   bind      the device to the guest's vfio-pci (driver_override)
 *   container sPAPR TCE v2: the pSeries guest kernel offers v2 with a DDW
 *             created through RTAS (ibm,create-pe-dma-window), one level
 *   32-bit    memory registered and mapped in the default window: FILL,
 *             COPY, CHECKSUM, the data checked
 *   DDW       a 64-bit window (at 1 << 59 on QEMU's pSeries PHB): the same
 *             commands across both windows
 *   INTx      interrupts through an eventfd, unmasked after each
 *   EEH       a DMA past the DDW's end: the PE is frozen (MMIO reads
 *             all-ones, GET_STATE stopped), thawed, reset, and works again
 *   teardown  unmap, remove the DDW, unregister
 *
 * One line per step on stdout; "guest: OK" at the end, or "FAILED: ..."
 * and exit status 1. The registers come from include/spapr_tce/device.h;
 * the VFIO helpers are the examples' (examples/vfio-example.h), which use
 * only libc and <linux/vfio.h>. Built static for ppc64le by run.sh.
 */
#include "vfio-example.h"

#include <dirent.h>
#include <sys/utsname.h>

#include <spapr_tce/device.h>

/* The examples' register names are device.h's. */
_Static_assert(REG_SRC == STCE_DMATEST_REG_SRC && REG_CMD == STCE_DMATEST_REG_CMD &&
	       REG_STATUS == STCE_DMATEST_REG_STATUS && REG_ERROR == STCE_DMATEST_REG_ERROR &&
	       REG_IRQS == STCE_DMATEST_REG_IRQS && DEV_ID == STCE_DMATEST_ID &&
	       CMD_IRQ == STCE_DMATEST_CMD_IRQ, "examples/vfio-example.h and device.h disagree");

#define MEM		(2u << 20)	/* registered: buffers A and B */
#define HALF		(MEM / 2)
#define DDW_SIZE	(256ULL << 20)
#define INTX_ROUNDS	3

struct guest {
	int container, group;
	struct vfio_dev dev;
	uint8_t *a, *b;		/* the two halves of the registered memory */
	uint64_t a32, b32;	/* their bus addresses in the 32-bit window */
	uint64_t a64, b64;	/* and in the DDW */
	uint64_t ddw_start;
	uint32_t ddw_shift;
};

/* ---- sysfs: find the device and give it to vfio-pci ------------------ */

static unsigned long sysfs_hex(const char *dev, const char *attr)
{
	char path[320], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	f = fopen(path, "r");
	CHECK(f, "open %s", path);
	CHECK(fgets(buf, sizeof(buf), f), "read %s", path);
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static void sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	CHECK(fd >= 0, "open %s", path);
	CHECK(write(fd, val, strlen(val)) == (ssize_t)strlen(val), "write '%s' to %s", val, path);
	close(fd);
}

static const char *link_base(const char *dev, const char *attr)
{
	static char link[256];
	char path[320];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return NULL;
	link[n] = 0;
	return strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
}

/* The first DMA test device (vendor:device of the default topology). */
static void find_device(char *name, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;

	CHECK(d, "opendir /sys/bus/pci/devices");
	name[0] = 0;
	while ((de = readdir(d)) && !name[0])
		if (de->d_name[0] != '.' &&
		    sysfs_hex(de->d_name, "vendor") == STCE_DMATEST_VENDOR &&
		    sysfs_hex(de->d_name, "device") == STCE_DMATEST_DEVICE)
			snprintf(name, len, "%s", de->d_name);
	closedir(d);
	CHECK(name[0], "no %04x:%04x device in the guest", STCE_DMATEST_VENDOR,
	      STCE_DMATEST_DEVICE);
}

/* driver_override, unbind, reprobe: the device ends up on vfio-pci (left
 * alone when it is there already). */
static void bind_vfio_pci(const char *dev)
{
	char path[320];
	const char *drv = link_base(dev, "driver");
	const char *group;

	if (!drv || strcmp(drv, "vfio-pci")) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", dev);
		sysfs_write(path, "vfio-pci");
		if (drv) {
			snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
				 dev);
			sysfs_write(path, dev);
		}
		sysfs_write("/sys/bus/pci/drivers_probe", dev);
		drv = link_base(dev, "driver");
	}
	CHECK(drv && !strcmp(drv, "vfio-pci"), "%s is bound to %s, not vfio-pci", dev,
	      drv ? drv : "nothing");
	group = link_base(dev, "iommu_group");
	CHECK(group, "%s has no IOMMU group", dev);
	setenv("VFIO_GROUP", group, 1);
	step("bind: %s (%04lx:%04lx, class %06lx) on vfio-pci, IOMMU group %s", dev,
	     sysfs_hex(dev, "vendor"), sysfs_hex(dev, "device"), sysfs_hex(dev, "class"),
	     group);
}

/* ---- the container ------------------------------------------------------ */

/* The largest IOMMU page the guest's own pages can back: the guest kernel
 * refuses to map a registered page with a larger IOMMU page (a 4K-page
 * guest has no 64K pages to give), as a host kernel does. */
static uint32_t pick_ddw_shift(uint64_t pgsizes)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t usable = pgsizes & (page | (page - 1));

	CHECK(usable, "DDW page sizes 0x%llx: none fits %llu-byte pages",
	      (unsigned long long)pgsizes, (unsigned long long)page);
	return 63 - (uint32_t)__builtin_clzll(usable);
}

/* Seconds since the guest kernel started. */
static double uptime(void)
{
	double t = 0;
	FILE *f = fopen("/proc/uptime", "r");

	if (f) {
		if (fscanf(f, "%lf", &t) != 1)
			t = 0;
		fclose(f);
	}
	return t;
}

static void get_info(struct guest *g, struct vfio_iommu_spapr_tce_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	CHECK(!ioctl(g->container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, info), "TCE_GET_INFO");
	CHECK(info->flags & VFIO_IOMMU_SPAPR_INFO_DDW, "no DDW in the guest's GET_INFO");
	CHECK(info->ddw.max_dynamic_windows_supported >= 2, "%u windows: no room for a DDW",
	      info->ddw.max_dynamic_windows_supported);
	g->ddw_shift = pick_ddw_shift(info->ddw.pgsizes);
	step("info: 32-bit window 0x%llx+0x%llx; DDW pgsizes 0x%llx, %u windows, %u level(s)",
	     (unsigned long long)info->dma32_window_start,
	     (unsigned long long)info->dma32_window_size,
	     (unsigned long long)info->ddw.pgsizes, info->ddw.max_dynamic_windows_supported,
	     info->ddw.levels);
}

static void map(struct guest *g, const uint8_t *va, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	CHECK(!ioctl(g->container, VFIO_IOMMU_MAP_DMA, &m), "MAP_DMA iova 0x%llx size 0x%llx",
	      (unsigned long long)iova, (unsigned long long)size);
}

static void unmap(struct guest *g, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = size };

	CHECK(!ioctl(g->container, VFIO_IOMMU_UNMAP_DMA, &u), "UNMAP_DMA iova 0x%llx",
	      (unsigned long long)iova);
}

static void register_memory(struct guest *g, int on)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)g->a, .size = MEM,
	};
	unsigned long req = on ? VFIO_IOMMU_SPAPR_REGISTER_MEMORY
			       : VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY;

	CHECK(!ioctl(g->container, req, &r), "%sREGISTER_MEMORY", on ? "" : "UN");
}

/* ---- device commands ---------------------------------------------------- */

static void fill_random(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void expect_done(struct guest *g, uint64_t status, const char *what)
{
	CHECK(status == STCE_DMATEST_STATUS_DONE, "%s: STATUS %llu, ERROR %llu", what,
	      (unsigned long long)status, (unsigned long long)rd(&g->dev, REG_ERROR));
}

static void expect_bytes(const uint8_t *p, uint8_t v, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i++)
		CHECK(p[i] == v, "%s: byte %zu is 0x%02x, not 0x%02x", what, i, p[i], v);
}

/* FILL B, COPY A to B, CHECKSUM A: source and destination bus addresses
 * given, so the same round runs inside one window or across both. */
static void dma_round(struct guest *g, uint64_t a, uint64_t b, uint8_t pattern,
		      const char *where)
{
	uint64_t sum;

	memset(g->b, 0, HALF);
	expect_done(g, dma(&g->dev, STCE_DMATEST_CMD_FILL, 0, b, HALF, pattern), "FILL");
	expect_bytes(g->b, pattern, HALF, "FILL");
	fill_random(g->a, HALF, pattern);
	expect_done(g, dma(&g->dev, STCE_DMATEST_CMD_COPY, a, b, HALF, 0), "COPY");
	CHECK(!memcmp(g->a, g->b, HALF), "COPY: the destination differs from the source");
	expect_done(g, dma(&g->dev, STCE_DMATEST_CMD_CHECKSUM, a, 0, HALF, 0), "CHECKSUM");
	sum = rd(&g->dev, REG_RESULT);
	CHECK(sum == fnv1a(g->a, HALF), "CHECKSUM 0x%llx, the guest computes 0x%llx",
	      (unsigned long long)sum, (unsigned long long)fnv1a(g->a, HALF));
	step("dma %s: FILL 0x%02x, COPY and CHECKSUM (0x%016llx) of %u KiB checked", where,
	     pattern, (unsigned long long)sum, HALF >> 10);
}

/* ---- the steps ---------------------------------------------------------- */

static void window32(struct guest *g, const struct vfio_iommu_spapr_tce_info *info)
{
	CHECK(info->dma32_window_size >= MEM, "32-bit window of 0x%x bytes is too small",
	      info->dma32_window_size);
	g->a32 = info->dma32_window_start;
	g->b32 = g->a32 + HALF;
	/* The guest kernel creates the default window on this first MAP. */
	map(g, g->a, g->a32, HALF);
	map(g, g->b, g->b32, HALF);
	step("map 32-bit: A at 0x%llx, B at 0x%llx (%u KiB each, 4K pages)",
	     (unsigned long long)g->a32, (unsigned long long)g->b32, HALF >> 10);
	dma_round(g, g->a32, g->b32, 0x5a, "32-bit window");
}

static void window64(struct guest *g)
{
	struct vfio_iommu_spapr_tce_create c = {
		.argsz = sizeof(c), .page_shift = g->ddw_shift,
		.window_size = DDW_SIZE, .levels = 1,	/* pSeries offers one level */
	};

	CHECK(!ioctl(g->container, VFIO_IOMMU_SPAPR_TCE_CREATE, &c), "TCE_CREATE (DDW)");
	g->ddw_start = c.start_addr;
	CHECK(g->ddw_start >= (1ULL << 32), "DDW at 0x%llx, below 4 GiB",
	      (unsigned long long)g->ddw_start);
	g->a64 = g->ddw_start;
	g->b64 = g->ddw_start + HALF;
	map(g, g->a, g->a64, HALF);
	map(g, g->b, g->b64, HALF);
	step("ddw: TCE_CREATE %u KiB pages, %llu MiB: window at 0x%llx; A and B mapped",
	     (1u << g->ddw_shift) >> 10, (unsigned long long)(DDW_SIZE >> 20),
	     (unsigned long long)g->ddw_start);
	dma_round(g, g->a64, g->b64, 0xa5, "DDW");
	dma_round(g, g->a64, g->b32, 0x3c, "DDW to 32-bit window");
}

/* Each FILL raises INTA; irq_wait takes it from the eventfd, acknowledges
 * it at the device (IRQS) and unmasks, as a driver does with a level. */
static void intx(struct guest *g)
{
	int efd = irq_setup(&g->dev);

	wr(&g->dev, REG_IRQS, 0);
	for (int i = 0; i < INTX_ROUNDS; i++) {
		wr(&g->dev, REG_DST, g->b64);
		wr(&g->dev, REG_LEN, 4096);
		wr(&g->dev, REG_PATTERN, (uint64_t)i);
		wr(&g->dev, REG_CMD, STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ);
		irq_wait(&g->dev, efd);
		expect_bytes(g->b, (uint8_t)i, 4096, "FILL with interrupt");
	}
	CHECK(rd(&g->dev, REG_IRQS) == 0, "IRQS %llu after acknowledging every interrupt",
	      (unsigned long long)rd(&g->dev, REG_IRQS));
	close(efd);
	step("intx: %d interrupts through the eventfd, each acknowledged and unmasked",
	     INTX_ROUNDS);
}

static int pe_op(struct guest *g, uint32_t op)
{
	struct vfio_eeh_pe_op o = { .argsz = sizeof(o), .op = op };

	return ioctl(g->container, VFIO_EEH_PE_OP, &o);
}

static void expect_state(struct guest *g, int want, const char *when)
{
	int s = pe_op(g, VFIO_EEH_PE_GET_STATE);

	CHECK(s == want, "PE state %d %s, not %d", s, when, want);
}

static void eeh(struct guest *g)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	uint64_t outside = g->ddw_start + DDW_SIZE;
	double t;

	CHECK(ioctl(g->container, VFIO_CHECK_EXTENSION, VFIO_EEH) == 1, "no VFIO_EEH");
	CHECK(!pe_op(g, VFIO_EEH_PE_ENABLE), "EEH ENABLE");
	expect_state(g, VFIO_EEH_PE_STATE_NORMAL, "before the fault");

	/* The bad DMA: a page just past the DDW's end, outside every window. */
	wr(&g->dev, REG_DST, outside);
	wr(&g->dev, REG_LEN, 4096);
	wr(&g->dev, REG_CMD, STCE_DMATEST_CMD_FILL);
	CHECK(rd(&g->dev, REG_STATUS) == ~0ULL, "STATUS readable after the bad DMA");
	expect_state(g, VFIO_EEH_PE_STATE_STOPPED, "after the bad DMA");
	step("eeh: FILL at 0x%llx (past the DDW): PE frozen, MMIO reads all-ones",
	     (unsigned long long)outside);

	CHECK(!pe_op(g, VFIO_EEH_PE_UNFREEZE_IO), "UNFREEZE_IO");
	expect_state(g, VFIO_EEH_PE_STATE_STOPPED_DMA, "after UNFREEZE_IO");
	CHECK(rd(&g->dev, REG_STATUS) == STCE_DMATEST_STATUS_ERROR &&
	      rd(&g->dev, REG_ERROR) == EIO, "after UNFREEZE_IO: STATUS %llu, ERROR %llu",
	      (unsigned long long)rd(&g->dev, REG_STATUS),
	      (unsigned long long)rd(&g->dev, REG_ERROR));
	step("eeh: UNFREEZE_IO: DMA still stopped, the device reports the fault (ERROR EIO)");

	t = uptime();
	CHECK(!pe_op(g, VFIO_EEH_PE_RESET_HOT), "RESET_HOT");
	CHECK(!pe_op(g, VFIO_EEH_PE_RESET_DEACTIVATE), "RESET_DEACTIVATE");
	CHECK(!pe_op(g, VFIO_EEH_PE_CONFIGURE), "CONFIGURE");
	expect_state(g, VFIO_EEH_PE_STATE_NORMAL, "after the reset");
	t = uptime() - t;
	/* The PE reset reset the device: bus mastering back on. */
	CHECK(pwrite(g->dev.fd, &cmd, 2, (off_t)(g->dev.cfg_off + PCI_COMMAND)) == 2,
	      "config write");
	dma_round(g, g->a64, g->b32, 0x77, "after recovery");
	step("eeh: RESET_HOT, RESET_DEACTIVATE, CONFIGURE (%.1f s): PE normal, DMA works again", t);
}

static void teardown(struct guest *g)
{
	struct vfio_iommu_spapr_tce_remove r = { .argsz = sizeof(r), .start_addr = g->ddw_start };

	unmap(g, g->a64, MEM);
	unmap(g, g->a32, MEM);
	CHECK(!ioctl(g->container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &r), "TCE_REMOVE (DDW)");
	register_memory(g, 0);
	close(g->dev.fd);
	close(g->group);
	close(g->container);
	step("teardown: unmapped, DDW removed, memory unregistered, descriptors closed");
}

int main(void)
{
	struct vfio_iommu_spapr_tce_info info;
	struct guest g = { 0 };
	double start = uptime();
	struct utsname u;
	char name[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	step("guest: Linux %s %s, %ld KiB pages, up %.1f s", u.release, u.machine,
	     sysconf(_SC_PAGESIZE) >> 10, start);
	find_device(name, sizeof(name));
	bind_vfio_pci(name);
	open_container(VFIO_SPAPR_TCE_v2_IOMMU, &g.container, &g.group);
	step("iommu: v1 %d, v2 %d, EEH %d (VFIO_CHECK_EXTENSION)",
	     ioctl(g.container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU),
	     ioctl(g.container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU),
	     ioctl(g.container, VFIO_CHECK_EXTENSION, VFIO_EEH));
	get_info(&g, &info);
	open_device(g.group, &g.dev);
	CHECK(rd(&g.dev, REG_ID) == STCE_DMATEST_ID, "ID register 0x%llx",
	      (unsigned long long)rd(&g.dev, REG_ID));
	/* Registration wants whole host pages: 64 KiB covers both page sizes
	 * of POWER kernels (and the guest's own). */
	g.a = alloc_aligned(MEM, 64 << 10);
	g.b = g.a + HALF;
	register_memory(&g, 1);
	window32(&g, &info);
	window64(&g);
	intx(&g);
	eeh(&g);
	teardown(&g);
	/* What the host's trace must show: one MAP_DMA per guest TCE. */
	step("expect: map32=%u map64=%u", MEM >> 12, MEM >> g.ddw_shift);
	step("time: %.1f s in the guest program", uptime() - start);
	step("guest: OK");
	return 0;
}
