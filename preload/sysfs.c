// SPDX-License-Identifier: MIT
/*
 * The emulated POWER host's sysfs and /dev/vfio, as a VFIO program finds
 * them (checked on Linux 6.12 PowerNV with a device bound to vfio-pci:
 * tests/preload/sysfs-kernel.txt). Served wholly - never mixed with the
 * real host's entries:
 *
 *   /sys/bus/pci                 the emulated PCI bus: devices/ (a link a
 *                                root port and a device), drivers/vfio-pci,
 *                                slots/, the bus attributes
 *   /sys/devices/pci<dddd>:<bb>  each PCI root: a root port (<dddd>:00:00.0)
 *                                with the topology's devices below it
 *   /sys/kernel/iommu_groups     a directory a group: devices/, name,
 *                                reserved_regions, type
 *   /sys/module/vfio, vfio_pci, vfio_pci_core, vfio_iommu_spapr_tce
 *   /sys/class/vfio, /sys/devices/virtual/vfio, /sys/class/vfio-dev
 *   /dev/vfio (vfio, the groups, devices/vfio<N>), /dev/iommu
 *
 * This file only describes the tree (which nodes exist, their names,
 * modes, contents and link targets, from the topology); vfs.c walks and
 * serves it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <spapr_tce/device.h>
#include <spapr_tce/topology.h>

#include "vfs.h"

/* Character device numbers. The VFIO container is the misc device
 * 10:196 on every kernel; the group and device cdev majors are dynamic
 * there (246 for groups on the oracle's kernel): ours are fixed. */
#define VFIO_MISC_MINOR		196
#define IOMMU_MISC_MINOR	124
#define GROUP_MAJOR		246
#define CDEV_MAJOR		245

/* The PHB4 root port's ids (IBM POWER9 Host Bridge) and a device's IRQ. */
#define RP_VENDOR		0x1014
#define RP_DEVICE		0x04c1
#define RP_CLASS		0x060400
#define IRQ_BASE		44

/* Lines of `resource`: BARs, ROM and SR-IOV BARs; a bridge adds its
 * four windows. IORESOURCE_MEM | _MEM_64 | _SIZEALIGN for a 64-bit BAR. */
#define RESOURCE_LINES		13
#define BRIDGE_RESOURCE_LINES	17
#define RES_MEM			0x200ull
#define RES_MEM64_BAR		0x140200ull
#define RES_MEM64_PREF		0x102201ull	/* a bridge's 64-bit prefetchable window */

enum kind {
	K_NONE,
	K_BUS_PCI, K_PCI_DEVICES, K_PCI_DRIVERS, K_PCI_SLOTS, K_VFIO_PCI,
	K_LNK_BUS_RP, K_LNK_BUS_EP, K_LNK_DRV_EP,
	K_GROUPS, K_GROUP, K_GROUP_DEVICES, K_LNK_GROUP_EP,
	K_MODULE, K_MOD_HOLDERS, K_MOD_PARAMS, K_MOD_DRIVERS, K_LNK_MOD_HOLDER,
	K_CLASS_VFIO, K_LNK_CLASS_GROUP, K_VIRT_VFIO, K_VIRT_GROUP,
	K_CLASS_VFIODEV, K_LNK_CLASS_VFIODEV,
	K_PCI_ROOT, K_PCI_RP, K_PCI_EP, K_EP_VFIODEV, K_EP_VFIODEV_N,
	K_DEV_VFIO, K_DEV_VFIO_DEVICES, K_CHR_GROUP, K_CHR_CDEV, K_CHR_IOMMU,
	NR_KINDS
};

/* The modules, by instance; a static entry's `only` mask names them. */
enum { MOD_VFIO, MOD_PCI, MOD_CORE, MOD_SPAPR, NR_MODULES };
#define M_VFIO	(1u << MOD_VFIO)
#define M_PCI	(1u << MOD_PCI)
#define M_CORE	(1u << MOD_CORE)
#define M_SPAPR	(1u << MOD_SPAPR)
static const char *const module_names[NR_MODULES] = {
	"vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_spapr_tce",
};

/* Who holds whom (/sys/module/<m>/holders), as the modules depend. */
static const uint8_t holders[NR_MODULES][4] = {
	[MOD_VFIO] = { MOD_SPAPR + 1, MOD_PCI + 1, MOD_CORE + 1 },
	[MOD_CORE] = { MOD_PCI + 1 },
};

#define N(kind, inst)	VNODE(kind, inst, 0)

static const struct stce_device_desc *tdev(const struct vtree *t,
					   unsigned int i)
{
	return &t->topo->devices[i];
}

static unsigned int pe_group(const struct vtree *t, unsigned int pe)
{
	return t->topo->pes[pe].group;
}

/* The PCI domain of a PE's devices (its PHB's), 0 when it has none. */
static unsigned int pe_domain(const struct vtree *t, unsigned int pe)
{
	for (unsigned int i = 0; i < t->topo->nr_devices; i++)
		if (t->dev_pe[i] == pe)
			return t->topo->devices[i].domain;
	return 0;
}

/* ---- The PCI layout: roots, PHB addresses ------------------------- */

static int find_root(const struct vtree *t, uint16_t domain, uint8_t bus)
{
	for (unsigned int r = 0; r < t->nr_roots; r++)
		if (t->roots[r].domain == domain && t->roots[r].bus == bus)
			return (int)r;
	return -1;
}

static bool domain_has_device_at_rp(const struct stce_topology *topo,
				    uint16_t domain)
{
	for (unsigned int i = 0; i < topo->nr_devices; i++) {
		const struct stce_device_desc *d = &topo->devices[i];

		if (d->domain == domain && !d->bus && !d->slot && !d->function)
			return true;
	}
	return false;
}

static unsigned int pe_index(const struct stce_topology *topo,
			     unsigned int group)
{
	for (unsigned int i = 0; i < topo->nr_pes; i++)
		if (topo->pes[i].group == group)
			return i;
	return 0;
}

static void cache_ids(struct vtree *t, unsigned int i)
{
	struct stce_device *dev = stce_platform_device(t->plat, i);
	uint32_t v = 0;

	t->ids[i].vendor = tdev(t, i)->vendor_id;
	t->ids[i].device = tdev(t, i)->device_id;
	if (dev && !stce_device_config_read(dev, 0x08, 4, &v)) {
		t->ids[i].revision = (uint8_t)v;
		t->ids[i].class = v >> 8;
	}
	if (dev && !stce_device_config_read(dev, 0x2c, 4, &v)) {
		t->ids[i].sub_vendor = (uint16_t)v;
		t->ids[i].sub_device = (uint16_t)(v >> 16);
	}
}

/*
 * A domain is one PHB with a root port at dddd:00:00.0 and the devices
 * on the buses below it (no switches are modelled), as on PowerNV. A
 * topology device at dddd:00:00.0 takes the root port's place: then every
 * bus of that domain is a root of its own.
 */
void vtree_init(struct vtree *t, struct stce_platform *plat)
{
	const struct stce_topology *topo = stce_platform_topology(plat);

	memset(t, 0, sizeof(*t));
	t->topo = topo;
	t->plat = plat;
	t->page_size = 1u << topo->host_page_shift;
	clock_gettime(CLOCK_REALTIME, &t->time);
	for (unsigned int i = 0; i < topo->nr_devices; i++) {
		const struct stce_device_desc *d = &topo->devices[i];
		bool rp = !domain_has_device_at_rp(topo, d->domain);
		uint8_t bus = rp ? 0 : d->bus;
		int r = find_root(t, d->domain, bus);

		if (r < 0) {
			r = (int)t->nr_roots++;
			t->roots[r] = (struct vroot){ .domain = d->domain,
						      .bus = bus, .rp = rp };
		}
		if (d->bus > t->roots[r].max_bus)
			t->roots[r].max_bus = d->bus;
		t->dev_root[i] = (uint16_t)r;
		t->dev_under_rp[i] = rp && d->bus;
		t->dev_pe[i] = (uint16_t)pe_index(topo, d->group);
		cache_ids(t, i);
	}
}

/*
 * POWER9 numbers its PHBs' domains chip * 6 + PHB (so domain 0030 is
 * chip 8's first PHB), puts PHB registers - the device tree's pciex@
 * unit address - at 0x600c3c0000000 + (chip << 42) + (PHB << 20), and
 * its 32-bit MMIO windows at 0x600c000000000 + (chip << 42), a PHB
 * every 4 GiB (the last is our choice).
 */
static uint64_t phb_reg(uint16_t domain)
{
	return 0x600c3c0000000ull + ((uint64_t)(domain / 6) << 42) +
	       ((uint64_t)(domain % 6) << 20);
}

/* The PHB's 32-bit MMIO window, where its devices' BARs go. */
static uint64_t phb_mmio(uint16_t domain)
{
	return 0x000600c000000000ull + ((uint64_t)(domain / 6) << 42) +
	       ((uint64_t)(domain % 6) << 32);
}

/* Its 64-bit prefetchable window (256 GiB a PHB). */
static uint64_t phb_mmio64(uint16_t domain)
{
	return 0x0006000000000000ull + ((uint64_t)(domain / 6) << 42) +
	       ((uint64_t)(domain % 6) << 38);
}

static uint64_t bar0_start(const struct vtree *t, unsigned int i)
{
	const struct stce_device_desc *d = tdev(t, i);

	return phb_mmio(d->domain) +
	       ((uint64_t)((d->bus << 8) | (d->slot << 3) | d->function) << 16);
}

/* ---- Names ---------------------------------------------------------- */

static void name_dev(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	snprintf(buf, len, "%s", tdev(t, VNODE_INST(n))->name);
}

static void name_rp(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:00:00.0", t->roots[VNODE_INST(n)].domain);
}

static void name_root(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	const struct vroot *r = &t->roots[VNODE_INST(n)];

	snprintf(buf, len, "pci%04x:%02x", r->domain, r->bus);
}

static void name_group(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	snprintf(buf, len, "%u", pe_group(t, VNODE_INST(n)));
}

static void name_vfion(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	(void)t;
	snprintf(buf, len, "vfio%u", VNODE_INST(n));
}

static void name_module(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	(void)t;
	snprintf(buf, len, "%s", module_names[VNODE_INST(n) % NR_MODULES]);
}

static void name_holder(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	(void)t;
	snprintf(buf, len, "%s", module_names[(VNODE_INST(n) & 15) % NR_MODULES]);
}

/* ---- Parents -------------------------------------------------------- */

#define PARENT(fn, expr)						\
static vnode_t fn(const struct vtree *t, vnode_t n)			\
{									\
	(void)t;							\
	(void)n;							\
	return expr;							\
}
PARENT(up_bus_pci, N(K_BUS_PCI, 0))
PARENT(up_pci_devices, N(K_PCI_DEVICES, 0))
PARENT(up_pci_drivers, N(K_PCI_DRIVERS, 0))
PARENT(up_vfio_pci, N(K_VFIO_PCI, 0))
PARENT(up_groups, N(K_GROUPS, 0))
PARENT(up_group, N(K_GROUP, VNODE_INST(n)))
PARENT(up_group_devices, N(K_GROUP_DEVICES, t->dev_pe[VNODE_INST(n)]))
PARENT(up_module, N(K_MODULE, VNODE_INST(n)))
PARENT(up_holders, N(K_MOD_HOLDERS, VNODE_INST(n) >> 4))
PARENT(up_class_vfio, N(K_CLASS_VFIO, 0))
PARENT(up_virt_vfio, N(K_VIRT_VFIO, 0))
PARENT(up_class_vfiodev, N(K_CLASS_VFIODEV, 0))
PARENT(up_pci_root, N(K_PCI_ROOT, VNODE_INST(n)))
PARENT(up_ep_parent, t->dev_under_rp[VNODE_INST(n)] ?
		     N(K_PCI_RP, t->dev_root[VNODE_INST(n)]) :
		     N(K_PCI_ROOT, t->dev_root[VNODE_INST(n)]))
PARENT(up_ep, N(K_PCI_EP, VNODE_INST(n)))
PARENT(up_ep_vfiodev, N(K_EP_VFIODEV, VNODE_INST(n)))
PARENT(up_dev_vfio, N(K_DEV_VFIO, 0))
PARENT(up_dev_vfio_devices, N(K_DEV_VFIO_DEVICES, 0))

/* ---- Link targets --------------------------------------------------- */

PARENT(to_bus_pci, N(K_BUS_PCI, 0))
PARENT(to_vfio_pci, N(K_VFIO_PCI, 0))
PARENT(to_vfio_pci_module, N(K_MODULE, MOD_PCI))
PARENT(to_rp, N(K_PCI_RP, VNODE_INST(n)))
PARENT(to_ep, N(K_PCI_EP, VNODE_INST(n)))
PARENT(to_ep_group, N(K_GROUP, t->dev_pe[VNODE_INST(n)]))
PARENT(to_holder, N(K_MODULE, VNODE_INST(n) & 15))
PARENT(to_virt_group, N(K_VIRT_GROUP, VNODE_INST(n)))
PARENT(to_class_vfio, N(K_CLASS_VFIO, 0))
PARENT(to_class_vfiodev, N(K_CLASS_VFIODEV, 0))
PARENT(to_vfiodev_n, N(K_EP_VFIODEV_N, VNODE_INST(n)))

/* ---- Character devices ---------------------------------------------- */

static unsigned int rdev_container(const struct vtree *t, vnode_t n)
{
	(void)t;
	(void)n;
	return makedev(10, VFIO_MISC_MINOR);
}

/* Minors in the order the kernel would create them: PEs and devices in
 * the topology's order. */
static unsigned int rdev_group(const struct vtree *t, vnode_t n)
{
	(void)t;
	return makedev(GROUP_MAJOR, VNODE_INST(n));
}

static unsigned int rdev_cdev(const struct vtree *t, vnode_t n)
{
	(void)t;
	return makedev(CDEV_MAJOR, VNODE_INST(n));
}

static unsigned int rdev_iommu(const struct vtree *t, vnode_t n)
{
	(void)t;
	(void)n;
	return makedev(10, IOMMU_MISC_MINOR);
}

/* ---- Contents ------------------------------------------------------- */

/* snprintf into an attribute's buffer: the bytes written (never more
 * than fit). */
__attribute__((format(printf, 3, 4)))
static size_t emit(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return r < 0 ? 0 : (size_t)r < len ? (size_t)r : len - 1;
}

#define SHOW(fn, ...)							\
static size_t fn(const struct vtree *t, vnode_t n, char *buf, size_t len) \
{									\
	unsigned int i = VNODE_INST(n);					\
									\
	(void)t;							\
	(void)i;							\
	return emit(buf, len, __VA_ARGS__);				\
}
SHOW(ep_vendor, "0x%04x\n", t->ids[i].vendor)
SHOW(ep_device, "0x%04x\n", t->ids[i].device)
SHOW(ep_sub_vendor, "0x%04x\n", t->ids[i].sub_vendor)
SHOW(ep_sub_device, "0x%04x\n", t->ids[i].sub_device)
SHOW(ep_class, "0x%06x\n", t->ids[i].class)
SHOW(ep_revision, "0x%02x\n", t->ids[i].revision)
SHOW(ep_irq, "%u\n", IRQ_BASE + i)
SHOW(ep_modalias, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
     t->ids[i].vendor, t->ids[i].device, t->ids[i].sub_vendor,
     t->ids[i].sub_device, t->ids[i].class >> 16,
     (t->ids[i].class >> 8) & 0xff, t->ids[i].class & 0xff)
SHOW(rp_modalias, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
     RP_VENDOR, RP_DEVICE, RP_VENDOR, 0, RP_CLASS >> 16,
     (RP_CLASS >> 8) & 0xff, RP_CLASS & 0xff)
SHOW(rp_secondary, "%u\n", 1u)
SHOW(rp_subordinate, "%u\n", t->roots[i].max_bus ? t->roots[i].max_bus : 1u)
SHOW(group_name, "domain%u-pe%x\n", pe_domain(t, i), pe_group(t, i))
SHOW(virt_group_dev, "%u:%u\n", GROUP_MAJOR, i)
SHOW(virt_group_uevent, "MAJOR=%u\nMINOR=%u\nDEVNAME=vfio/%u\n",
     GROUP_MAJOR, i, pe_group(t, i))
SHOW(vfiodev_dev, "%u:%u\n", CDEV_MAJOR, i)
SHOW(vfiodev_uevent, "MAJOR=%u\nMINOR=%u\nDEVNAME=vfio/devices/vfio%u\n",
     CDEV_MAJOR, i, i)

/* The device-tree node name firmware gives a PCI function. */
static void of_name(const struct vtree *t, unsigned int i, char *buf,
		    size_t len)
{
	const struct stce_device_desc *d = tdev(t, i);

	if (d->function)
		snprintf(buf, len, "pci%x,%x@%x,%x", t->ids[i].vendor,
			 t->ids[i].device, d->slot, d->function);
	else
		snprintf(buf, len, "pci%x,%x@%x", t->ids[i].vendor,
			 t->ids[i].device, d->slot);
}

static size_t ep_devspec(const struct vtree *t, vnode_t n, char *buf,
			 size_t len)
{
	unsigned int i = VNODE_INST(n);
	char name[48];

	of_name(t, i, name, sizeof(name));
	return emit(buf, len, "/pciex@%llx%s/%s\n",
		    (unsigned long long)phb_reg(tdev(t, i)->domain),
		    t->dev_under_rp[i] ? "/pci@0" : "", name);
}

SHOW(rp_devspec, "/pciex@%llx/pci@0\n",
     (unsigned long long)phb_reg(t->roots[i].domain))

/* A PCI function's uevent: its driver, device-tree node and ids. */
struct uevent_ids {
	const char *driver, *of_name, *of_type, *slot;
	uint32_t class;
	uint16_t vendor, device, sub_vendor, sub_device;
};

static size_t pci_uevent(const struct uevent_ids *u, const char *spec,
			 const char *modalias, char *buf, size_t len)
{
	return emit(buf, len, "%s%s%sOF_NAME=%s\nOF_FULLNAME=%.*s\n%s%s%s"
		    "OF_COMPATIBLE_N=0\nPCI_CLASS=%X\nPCI_ID=%04X:%04X\n"
		    "PCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=%s",
		    u->driver ? "DRIVER=" : "", u->driver ? u->driver : "",
		    u->driver ? "\n" : "", u->of_name,
		    (int)strcspn(spec, "\n"), spec, u->of_type ? "OF_TYPE=" : "",
		    u->of_type ? u->of_type : "", u->of_type ? "\n" : "",
		    u->class, u->vendor, u->device, u->sub_vendor,
		    u->sub_device, u->slot, modalias);
}

static size_t ep_uevent(const struct vtree *t, vnode_t n, char *buf,
			size_t len)
{
	unsigned int i = VNODE_INST(n);
	char spec[128], modalias[80], name[48];
	struct uevent_ids u = {
		.driver = "vfio-pci", .of_name = name, .slot = tdev(t, i)->name,
		.class = t->ids[i].class, .vendor = t->ids[i].vendor,
		.device = t->ids[i].device, .sub_vendor = t->ids[i].sub_vendor,
		.sub_device = t->ids[i].sub_device,
	};

	of_name(t, i, name, sizeof(name));
	*strchr(name, '@') = 0;
	ep_devspec(t, n, spec, sizeof(spec));
	ep_modalias(t, n, modalias, sizeof(modalias));
	return pci_uevent(&u, spec, modalias, buf, len);
}

static size_t rp_uevent(const struct vtree *t, vnode_t n, char *buf,
			size_t len)
{
	char spec[128], modalias[80], name[16];
	struct uevent_ids u = {
		.of_name = "pci", .of_type = "pciex", .slot = name,
		.class = RP_CLASS, .vendor = RP_VENDOR, .device = RP_DEVICE,
		.sub_vendor = RP_VENDOR,
	};

	rp_devspec(t, n, spec, sizeof(spec));
	rp_modalias(t, n, modalias, sizeof(modalias));
	name_rp(t, n, name, sizeof(name));
	return pci_uevent(&u, spec, modalias, buf, len);
}

/* `resource`: "start end flags" a line, every address 0x%016llx. */
static size_t resources(char *buf, size_t len, unsigned int lines,
			unsigned int at, uint64_t start, uint64_t end,
			uint64_t flags)
{
	size_t n = 0;

	for (unsigned int l = 0; l < lines && n + 58 <= len; l++) {
		bool used = l == at;

		n += (size_t)snprintf(buf + n, len - n,
				      "0x%016llx 0x%016llx 0x%016llx\n",
				      used ? (unsigned long long)start : 0ull,
				      used ? (unsigned long long)end : 0ull,
				      used ? (unsigned long long)flags : 0ull);
	}
	return n;
}

static size_t ep_resource(const struct vtree *t, vnode_t n, char *buf,
			  size_t len)
{
	uint64_t start = bar0_start(t, VNODE_INST(n));

	return resources(buf, len, RESOURCE_LINES, 0, start,
			 start + STCE_DMATEST_BAR0_SIZE - 1, RES_MEM64_BAR);
}

/* A root port's windows: the PHB's 32-bit one (line 14, 2 GiB less the
 * MSI megabyte) and its 64-bit prefetchable one (line 15). */
static size_t rp_resource(const struct vtree *t, vnode_t n, char *buf,
			  size_t len)
{
	uint16_t domain = t->roots[VNODE_INST(n)].domain;
	uint64_t m32 = phb_mmio(domain), m64 = phb_mmio64(domain);
	size_t done;

	done = resources(buf, len, 15, 14, m32, m32 + 0x7fefffffull, RES_MEM);
	return done + resources(buf + done, len - done, 2, 0, m64,
				m64 + 0x3fbff0ffffull, RES_MEM64_PREF);
}

/* `config`: the live config space, as the PCI core reads it. */
static size_t ep_config(const struct vtree *t, vnode_t n, char *buf,
			size_t len)
{
	struct stce_device *dev = stce_platform_device(t->plat, VNODE_INST(n));
	size_t done = 0;
	uint32_t v;

	for (uint32_t off = 0; dev && off < STCE_PCI_CONFIG_SIZE && done + 4 <= len;
	     off += 4) {
		if (stce_device_config_read(dev, off, 4, &v))
			v = 0xffffffffu;
		memcpy(buf + done, &v, 4);
		done += 4;
	}
	return done;
}

/* ---- The tables ----------------------------------------------------- */

#define DIR_(nm, k, ...)	{ .name = nm, .type = VT_DIR, .mode = 0755, .child = k, __VA_ARGS__ }
#define TEXT(nm, m, txt, ...)	{ .name = nm, .type = VT_FILE, .mode = m, .text = txt, __VA_ARGS__ }
#define FILE_(nm, m, fn, ...)	{ .name = nm, .type = VT_FILE, .mode = m, .show = fn, __VA_ARGS__ }
#define LINK(nm, fn, ...)	{ .name = nm, .type = VT_LINK, .mode = 0777, .link = fn, __VA_ARGS__ }
#define WONLY(nm)		TEXT(nm, 0200, "")
#define NELEM(a)		(unsigned int)(sizeof(a) / sizeof((a)[0]))

static const struct vattr bus_pci_attrs[] = {
	DIR_("devices", K_PCI_DEVICES),
	DIR_("drivers", K_PCI_DRIVERS),
	TEXT("drivers_autoprobe", 0644, "1\n"),
	WONLY("drivers_probe"),
	WONLY("rescan"),
	TEXT("resource_alignment", 0644, "\n"),
	DIR_("slots", K_PCI_SLOTS),
	WONLY("uevent"),
};

static const struct vattr pci_drivers_attrs[] = {
	DIR_("vfio-pci", K_VFIO_PCI),
};

static const struct vattr vfio_pci_attrs[] = {
	WONLY("bind"),
	LINK("module", to_vfio_pci_module),
	WONLY("new_id"),
	WONLY("remove_id"),
	WONLY("uevent"),
	WONLY("unbind"),
};

static const struct vattr group_attrs[] = {
	DIR_("devices", K_GROUP_DEVICES),
	FILE_("name", 0444, group_name),
	TEXT("reserved_regions", 0444, ""),
	TEXT("type", 0644, "unknown\n"),
};

static const struct vattr module_attrs[] = {
	DIR_("drivers", K_MOD_DRIVERS, .only = M_PCI),
	DIR_("holders", K_MOD_HOLDERS),
	TEXT("initstate", 0444, "live\n"),
	DIR_("parameters", K_MOD_PARAMS, .only = M_VFIO | M_PCI),
	TEXT("refcnt", 0444, "4\n", .only = M_VFIO),
	TEXT("refcnt", 0444, "1\n", .only = M_CORE),
	TEXT("refcnt", 0444, "0\n", .only = M_PCI | M_SPAPR),
	TEXT("taint", 0444, "\n"),
	WONLY("uevent"),
	TEXT("version", 0444, "0.3\n", .only = M_VFIO),
	TEXT("version", 0444, "0.1\n", .only = M_SPAPR),
};

/* vfio's noiommu switch exists with CONFIG_VFIO_NOIOMMU, as Debian's x86
 * and RHEL's POWER kernels build it. */
static const struct vattr module_params_attrs[] = {
	TEXT("disable_denylist", 0444, "N\n", .only = M_PCI),
	TEXT("disable_idle_d3", 0644, "N\n", .only = M_PCI),
	TEXT("enable_sriov", 0644, "N\n", .only = M_PCI),
	TEXT("enable_unsafe_noiommu_mode", 0644, "N\n", .only = M_VFIO),
	TEXT("nointxmask", 0644, "N\n", .only = M_PCI),
};

static const struct vattr module_drivers_attrs[] = {
	LINK("pci:vfio-pci", to_vfio_pci, .only = M_PCI),
};

static const struct vattr virt_group_attrs[] = {
	FILE_("dev", 0444, virt_group_dev),
	LINK("subsystem", to_class_vfio),
	FILE_("uevent", 0644, virt_group_uevent),
};

static const struct vattr pci_root_attrs[] = {
	TEXT("uevent", 0644, ""),
};

static const struct vattr rp_attrs[] = {
	TEXT("ari_enabled", 0444, "0\n"),
	TEXT("broken_parity_status", 0644, "0\n"),
	TEXT("class", 0444, "0x060400\n"),
	TEXT("consistent_dma_mask_bits", 0444, "32\n"),
	TEXT("device", 0444, "0x04c1\n"),
	FILE_("devspec", 0444, rp_devspec),
	TEXT("dma_mask_bits", 0444, "32\n"),
	TEXT("driver_override", 0644, "(null)\n"),
	TEXT("enable", 0644, "1\n"),
	TEXT("irq", 0444, "0\n"),
	FILE_("modalias", 0444, rp_modalias),
	TEXT("msi_bus", 0644, "1\n"),
	TEXT("numa_node", 0644, "0\n"),
	TEXT("power_state", 0444, "D0\n"),
	TEXT("remove", 0220, ""),
	WONLY("rescan"),
	FILE_("resource", 0444, rp_resource),
	TEXT("revision", 0444, "0x00\n"),
	FILE_("secondary_bus_number", 0444, rp_secondary),
	FILE_("subordinate_bus_number", 0444, rp_subordinate),
	LINK("subsystem", to_bus_pci),
	TEXT("subsystem_device", 0444, "0x0000\n"),
	TEXT("subsystem_vendor", 0444, "0x1014\n"),
	FILE_("uevent", 0644, rp_uevent),
	TEXT("vendor", 0444, "0x1014\n"),
};

static const struct vattr ep_attrs[] = {
	TEXT("ari_enabled", 0444, "0\n"),
	TEXT("broken_parity_status", 0644, "0\n"),
	FILE_("class", 0444, ep_class),
	FILE_("config", 0644, ep_config, .size = STCE_PCI_CONFIG_SIZE),
	TEXT("consistent_dma_mask_bits", 0444, "32\n"),
	FILE_("device", 0444, ep_device),
	FILE_("devspec", 0444, ep_devspec),
	TEXT("dma_mask_bits", 0444, "32\n"),
	LINK("driver", to_vfio_pci),
	TEXT("driver_override", 0644, "vfio-pci\n"),
	TEXT("enable", 0644, "0\n"),
	LINK("iommu_group", to_ep_group),
	FILE_("irq", 0444, ep_irq),
	FILE_("modalias", 0444, ep_modalias),
	TEXT("msi_bus", 0644, "1\n"),
	TEXT("numa_node", 0644, "0\n"),
	TEXT("power_state", 0444, "D0\n"),
	TEXT("remove", 0220, ""),
	WONLY("rescan"),
	WONLY("reset"),
	FILE_("resource", 0444, ep_resource),
	FILE_("revision", 0444, ep_revision),
	LINK("subsystem", to_bus_pci),
	FILE_("subsystem_device", 0444, ep_sub_device),
	FILE_("subsystem_vendor", 0444, ep_sub_vendor),
	FILE_("uevent", 0644, ep_uevent),
	FILE_("vendor", 0444, ep_vendor),
	DIR_("vfio-dev", K_EP_VFIODEV),
};

static const struct vattr vfiodev_n_attrs[] = {
	FILE_("dev", 0444, vfiodev_dev),
	LINK("device", to_ep),
	LINK("subsystem", to_class_vfiodev),
	FILE_("uevent", 0644, vfiodev_uevent),
};

static const struct vattr dev_vfio_attrs[] = {
	DIR_("devices", K_DEV_VFIO_DEVICES),
	{ .name = "vfio", .type = VT_CHR, .mode = 0666, .rdev = rdev_container },
};

/* ---- Dynamic children ----------------------------------------------- */

/* The @idx-th topology device for which @match holds. */
static bool nth_device(const struct vtree *t, unsigned int idx,
		       bool (*match)(const struct vtree *, unsigned int, unsigned int),
		       unsigned int arg, unsigned int kind, vnode_t *out)
{
	for (unsigned int i = 0; i < t->topo->nr_devices; i++) {
		if (!match(t, i, arg) || idx--)
			continue;
		*out = N(kind, i);
		return true;
	}
	return false;
}

static bool any_device(const struct vtree *t, unsigned int i, unsigned int arg)
{
	(void)t;
	(void)i;
	(void)arg;
	return true;
}

static bool in_pe(const struct vtree *t, unsigned int i, unsigned int pe)
{
	return t->dev_pe[i] == pe;
}

static bool on_root_bus(const struct vtree *t, unsigned int i, unsigned int r)
{
	return t->dev_root[i] == r && !t->dev_under_rp[i];
}

static bool below_rp(const struct vtree *t, unsigned int i, unsigned int r)
{
	return t->dev_root[i] == r && t->dev_under_rp[i];
}

static bool ch_pci_devices(const struct vtree *t, vnode_t dir, unsigned int idx,
			   vnode_t *out)
{
	(void)dir;
	for (unsigned int r = 0; r < t->nr_roots; r++) {
		if (!t->roots[r].rp || idx--)
			continue;
		*out = N(K_LNK_BUS_RP, r);
		return true;
	}
	return nth_device(t, idx, any_device, 0, K_LNK_BUS_EP, out);
}

static bool ch_pci_root(const struct vtree *t, vnode_t dir, unsigned int idx,
			vnode_t *out)
{
	unsigned int r = VNODE_INST(dir);

	if (t->roots[r].rp && !idx--) {
		*out = N(K_PCI_RP, r);
		return true;
	}
	return nth_device(t, idx, on_root_bus, r, K_PCI_EP, out);
}

static bool ch_pci_rp(const struct vtree *t, vnode_t dir, unsigned int idx,
		      vnode_t *out)
{
	return nth_device(t, idx, below_rp, VNODE_INST(dir), K_PCI_EP, out);
}

static bool ch_group_devices(const struct vtree *t, vnode_t dir,
			     unsigned int idx, vnode_t *out)
{
	return nth_device(t, idx, in_pe, VNODE_INST(dir), K_LNK_GROUP_EP, out);
}

static bool ch_holders(const struct vtree *t, vnode_t dir, unsigned int idx,
		       vnode_t *out)
{
	unsigned int m = VNODE_INST(dir) % NR_MODULES;

	(void)t;
	if (idx >= 4 || !holders[m][idx])
		return false;
	*out = N(K_LNK_MOD_HOLDER, (m << 4) | (holders[m][idx] - 1u));
	return true;
}

#define EACH_DEVICE(fn, kind)						\
static bool fn(const struct vtree *t, vnode_t dir, unsigned int idx,	\
	       vnode_t *out)						\
{									\
	(void)dir;							\
	return nth_device(t, idx, any_device, 0, kind, out);		\
}
EACH_DEVICE(ch_vfio_pci, K_LNK_DRV_EP)
EACH_DEVICE(ch_class_vfiodev, K_LNK_CLASS_VFIODEV)
EACH_DEVICE(ch_dev_vfio_devices, K_CHR_CDEV)

#define EACH_PE(fn, kind)						\
static bool fn(const struct vtree *t, vnode_t dir, unsigned int idx,	\
	       vnode_t *out)						\
{									\
	(void)dir;							\
	if (idx >= t->topo->nr_pes)					\
		return false;						\
	*out = N(kind, idx);						\
	return true;							\
}
EACH_PE(ch_groups, K_GROUP)
EACH_PE(ch_class_vfio, K_LNK_CLASS_GROUP)
EACH_PE(ch_virt_vfio, K_VIRT_GROUP)
EACH_PE(ch_dev_vfio, K_CHR_GROUP)

static bool ch_ep_vfiodev(const struct vtree *t, vnode_t dir, unsigned int idx,
			  vnode_t *out)
{
	(void)t;
	if (idx)
		return false;
	*out = N(K_EP_VFIODEV_N, VNODE_INST(dir));
	return true;
}

#define ATTRS(a)	.attrs = a, .nr_attrs = NELEM(a)
#define SYSDIR		.type = VT_DIR, .fs = VFS_SYSFS, .mode = 0755
#define SYSLINK		.type = VT_LINK, .fs = VFS_SYSFS, .mode = 0777

static const struct vkind kinds[NR_KINDS] = {
	[K_BUS_PCI] = { SYSDIR, .name = "pci", .root = "/sys/bus", ATTRS(bus_pci_attrs) },
	[K_PCI_DEVICES] = { SYSDIR, .name = "devices", .parent = up_bus_pci,
			    .child = ch_pci_devices },
	[K_PCI_DRIVERS] = { SYSDIR, .name = "drivers", .parent = up_bus_pci,
			    ATTRS(pci_drivers_attrs) },
	[K_PCI_SLOTS] = { SYSDIR, .name = "slots", .parent = up_bus_pci },
	[K_VFIO_PCI] = { SYSDIR, .name = "vfio-pci", .parent = up_pci_drivers,
			 ATTRS(vfio_pci_attrs), .child = ch_vfio_pci },
	[K_LNK_BUS_RP] = { SYSLINK, .get_name = name_rp, .parent = up_pci_devices,
			   .target = to_rp },
	[K_LNK_BUS_EP] = { SYSLINK, .get_name = name_dev, .parent = up_pci_devices,
			   .target = to_ep },
	[K_LNK_DRV_EP] = { SYSLINK, .get_name = name_dev, .parent = up_vfio_pci,
			   .target = to_ep },
	[K_GROUPS] = { SYSDIR, .name = "iommu_groups", .root = "/sys/kernel",
		       .child = ch_groups },
	[K_GROUP] = { SYSDIR, .get_name = name_group, .parent = up_groups,
		      ATTRS(group_attrs) },
	[K_GROUP_DEVICES] = { SYSDIR, .name = "devices", .parent = up_group,
			      .child = ch_group_devices },
	[K_LNK_GROUP_EP] = { SYSLINK, .get_name = name_dev, .parent = up_group_devices,
			     .target = to_ep },
	[K_MODULE] = { SYSDIR, .get_name = name_module, .root = "/sys/module",
		       ATTRS(module_attrs) },
	[K_MOD_HOLDERS] = { SYSDIR, .name = "holders", .parent = up_module,
			    .child = ch_holders },
	[K_MOD_PARAMS] = { SYSDIR, .name = "parameters", .parent = up_module,
			   ATTRS(module_params_attrs) },
	[K_MOD_DRIVERS] = { SYSDIR, .name = "drivers", .parent = up_module,
			    ATTRS(module_drivers_attrs) },
	[K_LNK_MOD_HOLDER] = { SYSLINK, .get_name = name_holder, .parent = up_holders,
			       .target = to_holder },
	[K_CLASS_VFIO] = { SYSDIR, .name = "vfio", .root = "/sys/class",
			   .child = ch_class_vfio },
	[K_LNK_CLASS_GROUP] = { SYSLINK, .get_name = name_group, .parent = up_class_vfio,
				.target = to_virt_group },
	[K_VIRT_VFIO] = { SYSDIR, .name = "vfio", .root = "/sys/devices/virtual",
			  .child = ch_virt_vfio },
	[K_VIRT_GROUP] = { SYSDIR, .get_name = name_group, .parent = up_virt_vfio,
			   ATTRS(virt_group_attrs) },
	[K_CLASS_VFIODEV] = { SYSDIR, .name = "vfio-dev", .root = "/sys/class",
			      .child = ch_class_vfiodev },
	[K_LNK_CLASS_VFIODEV] = { SYSLINK, .get_name = name_vfion,
				  .parent = up_class_vfiodev, .target = to_vfiodev_n },
	[K_PCI_ROOT] = { SYSDIR, .get_name = name_root, .root = "/sys/devices",
			 ATTRS(pci_root_attrs), .child = ch_pci_root },
	[K_PCI_RP] = { SYSDIR, .get_name = name_rp, .parent = up_pci_root,
		       ATTRS(rp_attrs), .child = ch_pci_rp },
	[K_PCI_EP] = { SYSDIR, .get_name = name_dev, .parent = up_ep_parent,
		       ATTRS(ep_attrs) },
	[K_EP_VFIODEV] = { SYSDIR, .name = "vfio-dev", .parent = up_ep,
			   .child = ch_ep_vfiodev },
	[K_EP_VFIODEV_N] = { SYSDIR, .get_name = name_vfion, .parent = up_ep_vfiodev,
			     ATTRS(vfiodev_n_attrs) },
	[K_DEV_VFIO] = { .type = VT_DIR, .fs = VFS_DEVTMPFS, .mode = 0755,
			 .name = "vfio", .root = "/dev", ATTRS(dev_vfio_attrs),
			 .child = ch_dev_vfio },
	[K_DEV_VFIO_DEVICES] = { .type = VT_DIR, .fs = VFS_DEVTMPFS, .mode = 0755,
				 .name = "devices", .parent = up_dev_vfio,
				 .child = ch_dev_vfio_devices },
	[K_CHR_GROUP] = { .type = VT_CHR, .fs = VFS_DEVTMPFS, .mode = 0600,
			  .get_name = name_group, .parent = up_dev_vfio,
			  .rdev = rdev_group },
	[K_CHR_CDEV] = { .type = VT_CHR, .fs = VFS_DEVTMPFS, .mode = 0600,
			 .get_name = name_vfion, .parent = up_dev_vfio_devices,
			 .rdev = rdev_cdev },
	[K_CHR_IOMMU] = { .type = VT_CHR, .fs = VFS_DEVTMPFS, .mode = 0660,
			  .name = "iommu", .root = "/dev", .rdev = rdev_iommu },
};

const struct vkind *vtree_kind(unsigned int kind)
{
	return kind && kind < NR_KINDS && kinds[kind].type ? &kinds[kind] : NULL;
}

const struct vattr *vtree_attr(vnode_t node)
{
	const struct vkind *k = vtree_kind(VNODE_KIND(node));
	unsigned int e = VNODE_ENTRY(node);

	return k && e && e <= k->nr_attrs ? &k->attrs[e - 1] : NULL;
}

bool vtree_attr_present(const struct vattr *a, unsigned int inst)
{
	return !a->only || (inst < 8 && (a->only >> inst) & 1);
}

bool vtree_root(const struct vtree *t, unsigned int idx, vnode_t *out)
{
	static const vnode_t fixed[] = {
		N(K_BUS_PCI, 0), N(K_GROUPS, 0),
		N(K_MODULE, MOD_VFIO), N(K_MODULE, MOD_PCI),
		N(K_MODULE, MOD_CORE), N(K_MODULE, MOD_SPAPR),
		N(K_CLASS_VFIO, 0), N(K_CLASS_VFIODEV, 0), N(K_VIRT_VFIO, 0),
		N(K_DEV_VFIO, 0), N(K_CHR_IOMMU, 0),
	};

	if (idx < NELEM(fixed)) {
		*out = fixed[idx];
		return true;
	}
	idx -= NELEM(fixed);
	if (idx >= t->nr_roots)
		return false;
	*out = N(K_PCI_ROOT, idx);
	return true;
}
