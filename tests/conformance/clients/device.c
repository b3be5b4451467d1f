/* SPDX-License-Identifier: MIT */
/*
 * The vfio-pci device descriptor beyond what the other clients ask: every
 * device ioctl (info, regions, IRQs, SET_IRQS checks, RESET, the hot-reset
 * pair, VFIO_DEVICE_FEATURE, VFIO_DEVICE_IOEVENTFD, the iommufd ones on a
 * group's device, unknown numbers), config space as vfio-pci virtualizes it
 * (command and status bits, BAR sizing, the capability list, the ROM BAR,
 * read-only and virtual fields), and region access widths and edges.
 *
 * The oracle's device (an e1000e) and spapr-tce's DMA test device differ in
 * identity, BAR sizes and capabilities, so where a value is the device's
 * own the client prints the rule it checks (yes/no), never the value; ioctl
 * returns and errnos always print. See docs/conformance.md.
 */
#include "../../lib/conf.h"

#include <sys/eventfd.h>

#ifndef VFIO_DEVICE_BIND_IOMMUFD
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)
#endif
#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)
#endif
#ifndef VFIO_DEVICE_DETACH_IOMMUFD_PT
#define VFIO_DEVICE_DETACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

#define REGION(i)	((off_t)((uint64_t)(i) << 40))
#define CFG		VFIO_PCI_CONFIG_REGION_INDEX

static int dev = -1;
static uint64_t region_size[VFIO_PCI_NUM_REGIONS];
static const char *yesno(int b) { return b ? "yes" : "no"; }

/* ---- config space helpers ------------------------------------------ */

static uint32_t cfg_read(unsigned int off, unsigned int n)
{
	uint32_t v = 0;

	if (pread(dev, &v, n, REGION(CFG) + off) != (ssize_t)n)
		return 0xdeadbeef;
	return v;
}

static long cfg_write(unsigned int off, unsigned int n, uint32_t v)
{
	return TRY(pwrite(dev, &v, n, REGION(CFG) + off));
}

/* ---- ioctls ----------------------------------------------------------- */

static void device_info(void)
{
	struct vfio_device_info i;

	memset(&i, 0xa5, sizeof(i));
	i.argsz = 15;
	TRY(ioctl(dev, VFIO_DEVICE_GET_INFO, &i));
	show("GET_INFO argsz=15", NULL);
	memset(&i, 0xa5, sizeof(i));
	i.argsz = 16;
	TRY(ioctl(dev, VFIO_DEVICE_GET_INFO, &i));
	show("GET_INFO argsz=16", "flags PCI=%s RESET=%s regions=%u irqs=%u",
	     yesno(i.flags & VFIO_DEVICE_FLAGS_PCI), yesno(i.flags & VFIO_DEVICE_FLAGS_RESET),
	     i.num_regions, i.num_irqs);
	TRY(ioctl(dev, VFIO_DEVICE_GET_INFO, NULL));
	show("GET_INFO(NULL)", NULL);
}

static void regions(void)
{
	struct vfio_region_info r;
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	memset(&r, 0, sizeof(r));
	r.argsz = 31;
	TRY(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &r));
	show("GET_REGION_INFO argsz=31", NULL);
	for (uint32_t i = 0; i <= VFIO_PCI_NUM_REGIONS; i++) {
		memset(&r, 0, sizeof(r));
		r.argsz = sizeof(r);
		r.index = i;
		TRY(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &r));
		if (g_ret) {
			show(lbl("GET_REGION_INFO index=%u", i), NULL);
			continue;
		}
		if (i < VFIO_PCI_NUM_REGIONS)
			region_size[i] = r.size;
		/*
		 * Rules: the fixed offset; an empty region has no access
		 * flags, a present one is read-write (the ROM: read-only);
		 * BARs are powers of two, config space 256 or 4096 bytes.
		 */
		show(lbl("GET_REGION_INFO index=%u", i),
		     "offset=index<<40:%s flags match size:%s %s:%s",
		     yesno(r.offset == (uint64_t)REGION(i)),
		     yesno(r.size ? (r.flags & rw) == (i == VFIO_PCI_ROM_REGION_INDEX ?
						       VFIO_REGION_INFO_FLAG_READ : rw) :
			   !(r.flags & rw)),
		     i == CFG ? "size 256|4096" : "size 0|pow2",
		     yesno(i == CFG ? r.size == 256 || r.size == 4096 :
			   !(r.size & (r.size - 1))));
	}
	r.index = 0xffffffff;
	TRY(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &r));
	show("GET_REGION_INFO index=0xffffffff", NULL);
}

/* The capability with @id in the standard list, or 0. */
static unsigned int find_cap(unsigned int id)
{
	unsigned int pos = cfg_read(0x34, 1) & ~3u;

	for (int n = 0; pos >= 0x40 && pos < 0x100 && n < 48; n++) {
		if (cfg_read(pos, 1) == id)
			return pos;
		pos = cfg_read(pos + 1, 1) & ~3u;
	}
	return 0;
}

static void irqs(void)
{
	struct vfio_irq_info q;
	unsigned int msi = find_cap(0x05), msix = find_cap(0x11), pcie = find_cap(0x10);

	memset(&q, 0, sizeof(q));
	q.argsz = 15;
	TRY(ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &q));
	show("GET_IRQ_INFO argsz=15", NULL);
	for (uint32_t i = 0; i <= VFIO_PCI_NUM_IRQS; i++) {
		unsigned int want;

		memset(&q, 0, sizeof(q));
		q.argsz = sizeof(q);
		q.index = i;
		TRY(ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &q));
		switch (i) {
		case VFIO_PCI_INTX_IRQ_INDEX:
		case VFIO_PCI_REQ_IRQ_INDEX:
			show(lbl("GET_IRQ_INFO index=%u", i), "flags=0x%x count=%u",
			     q.flags, q.count);
			break;
		case VFIO_PCI_MSI_IRQ_INDEX:
			/* The count the MSI capability's Multiple Message Capable gives. */
			want = msi ? 1u << ((cfg_read(msi + 2, 2) >> 1) & 7) : 0;
			show(lbl("GET_IRQ_INFO index=%u (MSI)", i),
			     "count=capability:%s eventfd=%s", yesno(q.count == want),
			     yesno(q.flags & VFIO_IRQ_INFO_EVENTFD));
			break;
		case VFIO_PCI_MSIX_IRQ_INDEX:
			want = msix ? (cfg_read(msix + 2, 2) & 0x7ff) + 1 : 0;
			show(lbl("GET_IRQ_INFO index=%u (MSI-X)", i),
			     "count=capability:%s eventfd=%s", yesno(q.count == want),
			     yesno(q.flags & VFIO_IRQ_INFO_EVENTFD));
			break;
		case VFIO_PCI_ERR_IRQ_INDEX:
			/* Only PCI Express functions have the error interrupt:
			 * the rule only (the two devices differ there). */
			want = (g_ret == 0 && q.count == 1) == (pcie != 0);
			TRY(0);
			show(lbl("GET_IRQ_INFO index=%u (ERR)", i), "answers iff PCIe:%s",
			     yesno(want));
			break;
		default:
			show(lbl("GET_IRQ_INFO index=%u", i), NULL);
		}
	}
}

static long set_irqs(uint32_t argsz, uint32_t flags, uint32_t index, uint32_t start,
		     uint32_t count, const void *data, size_t len)
{
	struct {
		struct vfio_irq_set s;
		uint8_t data[16];
	} b;

	memset(&b, 0, sizeof(b));
	b.s.argsz = argsz;
	b.s.flags = flags;
	b.s.index = index;
	b.s.start = start;
	b.s.count = count;
	if (len)
		memcpy(b.data, data, len);
	return TRY(ioctl(dev, VFIO_DEVICE_SET_IRQS, &b));
}

#define IRQ(what, ...) (set_irqs(__VA_ARGS__), show(what, NULL))
#define SETSZ	((uint32_t)sizeof(struct vfio_irq_set))
#define T_NONE	(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)
#define T_BOOL	(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER)
#define T_EFD	(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define INTX	VFIO_PCI_INTX_IRQ_INDEX

static void irq_sets(void)
{
	int32_t efd = eventfd(0, EFD_CLOEXEC), nul = open("/dev/null", O_RDONLY), bad = -2;
	uint8_t one = 1;

	note("SET_IRQS: header checks, then INTx and REQ");
	IRQ("SET_IRQS argsz=19", 19, T_NONE, INTX, 0, 1, NULL, 0);
	IRQ("SET_IRQS flags=0", SETSZ, 0, INTX, 0, 1, NULL, 0);
	IRQ("SET_IRQS two data types", SETSZ, T_NONE | VFIO_IRQ_SET_DATA_BOOL, INTX, 0, 1, NULL, 0);
	IRQ("SET_IRQS two actions", SETSZ, T_NONE | VFIO_IRQ_SET_ACTION_MASK, INTX, 0, 1, NULL, 0);
	IRQ("SET_IRQS flags bit 31", SETSZ, T_NONE | 0x80000000u, INTX, 0, 1, NULL, 0);
	IRQ("SET_IRQS index=5", SETSZ, T_NONE, 5, 0, 1, NULL, 0);
	IRQ("SET_IRQS index=0xffffffff", SETSZ, T_NONE, 0xffffffff, 0, 1, NULL, 0);
	IRQ("SET_IRQS INTx start=1", SETSZ, T_NONE, INTX, 1, 1, NULL, 0);
	IRQ("SET_IRQS INTx count=2", SETSZ, T_NONE, INTX, 0, 2, NULL, 0);
	IRQ("SET_IRQS INTx eventfd, argsz without data", SETSZ, T_EFD, INTX, 0, 1, &efd, 4);
	IRQ("SET_IRQS INTx bool, argsz without data", SETSZ, T_BOOL, INTX, 0, 1, &one, 1);
	IRQ("SET_IRQS INTx trigger (not enabled)", SETSZ, T_NONE, INTX, 0, 1, NULL, 0);
	IRQ("SET_IRQS INTx disable (not enabled)", SETSZ, T_NONE, INTX, 0, 0, NULL, 0);
	IRQ("SET_IRQS INTx mask (not enabled)", SETSZ,
	    VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, INTX, 0, 1, NULL, 0);
	IRQ("SET_IRQS INTx eventfd=/dev/null", SETSZ + 4, T_EFD, INTX, 0, 1, &nul, 4);
	IRQ("SET_IRQS INTx eventfd=-2", SETSZ + 4, T_EFD, INTX, 0, 1, &bad, 4);
	IRQ("SET_IRQS INTx eventfd", SETSZ + 4, T_EFD, INTX, 0, 1, &efd, 4);
	IRQ("SET_IRQS INTx eventfd again", SETSZ + 4, T_EFD, INTX, 0, 1, &efd, 4);
	IRQ("SET_IRQS INTx mask", SETSZ, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
	    INTX, 0, 1, NULL, 0);
	IRQ("SET_IRQS INTx unmask bool", SETSZ + 1,
	    VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK, INTX, 0, 1, &one, 1);
	IRQ("SET_IRQS INTx unmask eventfd=/dev/null", SETSZ + 4,
	    VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, INTX, 0, 1, &nul, 4);
	IRQ("SET_IRQS INTx trigger bool", SETSZ + 1, T_BOOL, INTX, 0, 1, &one, 1);
	IRQ("SET_IRQS INTx disable", SETSZ, T_NONE, INTX, 0, 0, NULL, 0);
	IRQ("SET_IRQS INTx disable again", SETSZ, T_NONE, INTX, 0, 0, NULL, 0);
	IRQ("SET_IRQS REQ mask", SETSZ, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
	    VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0);
	IRQ("SET_IRQS REQ trigger (no eventfd)", SETSZ, T_NONE, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
	    NULL, 0);
	IRQ("SET_IRQS REQ eventfd", SETSZ + 4, T_EFD, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd, 4);
	IRQ("SET_IRQS REQ disable", SETSZ, T_NONE, VFIO_PCI_REQ_IRQ_INDEX, 0, 0, NULL, 0);
	close(nul);
	close(efd);
}

/* The PCI address this device has: "dddd:bb:dd.f". */
static int parse_bdf(const char *name, unsigned int *seg, unsigned int *bus,
		     unsigned int *devfn)
{
	unsigned int s, f;

	if (!name || sscanf(name, "%x:%x:%x.%x", seg, bus, &s, &f) != 4)
		return -1;
	*devfn = (s << 3) | f;
	return 0;
}

static void hot_reset(int g)
{
	struct {
		struct vfio_pci_hot_reset_info h;
		struct vfio_pci_dependent_device d[4];
	} info;
	struct {
		struct vfio_pci_hot_reset h;
		int32_t fds[4];
	} rs;
	unsigned int seg = 0, bus = 0, devfn = 0;
	int ok = parse_bdf(device_name(), &seg, &bus, &devfn) == 0;
	int efd = eventfd(0, EFD_CLOEXEC);

	note("the hot-reset pair");
	memset(&info, 0, sizeof(info));
	info.h.argsz = 11;
	TRY(ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	show("GET_PCI_HOT_RESET_INFO argsz=11", NULL);
	memset(&info, 0, sizeof(info));
	info.h.argsz = sizeof(info.h);
	TRY(ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	show("GET_PCI_HOT_RESET_INFO argsz=12 (no room)", "count=%u", info.h.count);
	memset(&info, 0, sizeof(info));
	info.h.argsz = sizeof(info);
	TRY(ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	show("GET_PCI_HOT_RESET_INFO (room for 4)", "flags=0x%x count=%u "
	     "names this device and its group:%s", info.h.flags, info.h.count,
	     yesno(ok && info.h.count >= 1 && info.d[0].segment == seg && info.d[0].bus == bus &&
		info.d[0].devfn == devfn &&
		info.d[0].group_id == (uint32_t)atoi(strrchr(group_path(), '/') + 1)));

	memset(&rs, 0, sizeof(rs));
	rs.h.argsz = 11;
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET argsz=11", NULL);
	rs.h.argsz = sizeof(rs.h);
	rs.h.count = 0;
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET count=0", NULL);
	rs.h.argsz = sizeof(rs.h) + 4;
	rs.h.count = 1;
	rs.h.flags = 1;
	rs.fds[0] = g;
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET flags=1", NULL);
	rs.h.flags = 0;
	rs.h.argsz = sizeof(rs.h);
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET count=1, argsz without the fd", NULL);
	rs.h.argsz = sizeof(rs.h) + 4;
	rs.fds[0] = -1;
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET fd=-1", NULL);
	rs.fds[0] = efd;
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET fd=eventfd (not a group)", NULL);
	rs.h.argsz = sizeof(rs);
	rs.h.count = 1000;
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET count=1000", NULL);
	rs.h.argsz = sizeof(rs.h) + 4;
	rs.h.count = 1;
	rs.fds[0] = g;
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET the group", NULL);
	rs.h.argsz = sizeof(rs.h) + 8;
	rs.h.count = 2;
	rs.fds[1] = g;
	TRY(ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &rs));
	show("PCI_HOT_RESET the group twice", NULL);
	close(efd);
}

static void features(void)
{
	struct {
		struct vfio_device_feature f;
		uint8_t data[64];
	} b;

	note("VFIO_DEVICE_FEATURE");
	memset(&b, 0, sizeof(b));
	b.f.argsz = 7;
	b.f.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET;
	TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
	show("FEATURE argsz=7", NULL);
	b.f.argsz = sizeof(b.f);
	b.f.flags = VFIO_DEVICE_FEATURE_PROBE | (1u << 19);
	TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
	show("FEATURE flags bit 19", NULL);
	for (uint32_t i = 0; i <= 12; i++) {
		b.f.argsz = sizeof(b.f);
		b.f.flags = i | VFIO_DEVICE_FEATURE_PROBE;
		TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
		show(lbl("FEATURE %u PROBE", i), NULL);
		b.f.flags = i | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET;
		TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
		show(lbl("FEATURE %u PROBE|GET", i), NULL);
		b.f.flags = i | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET;
		TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
		show(lbl("FEATURE %u PROBE|SET", i), NULL);
	}
	b.f.argsz = sizeof(b.f);
	b.f.flags = VFIO_DEVICE_FEATURE_LOW_POWER_EXIT;
	TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
	show("FEATURE LOW_POWER_EXIT (neither GET nor SET)", NULL);
	b.f.flags = VFIO_DEVICE_FEATURE_LOW_POWER_EXIT | VFIO_DEVICE_FEATURE_GET;
	TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
	show("FEATURE LOW_POWER_EXIT GET", NULL);
	b.f.flags = VFIO_DEVICE_FEATURE_LOW_POWER_EXIT | VFIO_DEVICE_FEATURE_SET;
	TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
	show("FEATURE LOW_POWER_EXIT SET (not in low power)", NULL);
	b.f.flags = 0xffff | VFIO_DEVICE_FEATURE_GET;
	TRY(ioctl(dev, VFIO_DEVICE_FEATURE, &b));
	show("FEATURE 0xffff GET", NULL);
	TRY(ioctl(dev, VFIO_DEVICE_FEATURE, NULL));
	show("FEATURE(NULL)", NULL);
}

static long ioeventfd(uint32_t argsz, uint32_t flags, uint64_t offset, int32_t fd)
{
	struct vfio_device_ioeventfd e = {
		.argsz = argsz, .flags = flags, .offset = offset, .data = 0, .fd = fd,
	};

	return TRY(ioctl(dev, VFIO_DEVICE_IOEVENTFD, &e));
}

#define IOE(what, ...) (ioeventfd(__VA_ARGS__), show(what, NULL))
#define IOESZ	((uint32_t)sizeof(struct vfio_device_ioeventfd))

static void ioeventfds(void)
{
	int efd = eventfd(0, EFD_CLOEXEC), nul = open("/dev/null", O_RDONLY);
	uint64_t bar0 = (uint64_t)REGION(VFIO_PCI_BAR0_REGION_INDEX);
	uint64_t end = bar0 + region_size[VFIO_PCI_BAR0_REGION_INDEX];

	note("VFIO_DEVICE_IOEVENTFD (never signalled: nothing is written)");
	IOE("IOEVENTFD argsz=27", 27, 4, bar0, efd);
	IOE("IOEVENTFD size=0", IOESZ, 0, bar0, efd);
	IOE("IOEVENTFD size=3", IOESZ, 3, bar0, efd);
	IOE("IOEVENTFD flags bit 4", IOESZ, 4 | 0x10, bar0, efd);
	IOE("IOEVENTFD fd=-2", IOESZ, 4, bar0, -2);
	IOE("IOEVENTFD config space", IOESZ, 4, (uint64_t)REGION(CFG), efd);
	IOE("IOEVENTFD ROM", IOESZ, 4, (uint64_t)REGION(VFIO_PCI_ROM_REGION_INDEX), efd);
	IOE("IOEVENTFD BAR5 (empty)", IOESZ, 4, (uint64_t)REGION(VFIO_PCI_BAR5_REGION_INDEX), efd);
	IOE("IOEVENTFD region 9", IOESZ, 4, (uint64_t)REGION(9), efd);
	IOE("IOEVENTFD BAR0 end-2 size=4 (past the end)", IOESZ, 4, end - 2, efd);
	IOE("IOEVENTFD BAR0 end", IOESZ, 4, end, efd);
	IOE("IOEVENTFD BAR0+0 fd=/dev/null", IOESZ, 4, bar0, nul);
	IOE("IOEVENTFD BAR0+0 fd=-1 (none to remove)", IOESZ, 4, bar0, -1);
	IOE("IOEVENTFD BAR0+2 size=4 (unaligned)", IOESZ, 4, bar0 + 2, efd);
	IOE("IOEVENTFD BAR0+2 size=4 fd=-1 (remove)", IOESZ, 4, bar0 + 2, -1);
	IOE("IOEVENTFD BAR0+0 size=4", IOESZ, 4, bar0, efd);
	IOE("IOEVENTFD BAR0+0 size=4 again", IOESZ, 4, bar0, efd);
	IOE("IOEVENTFD BAR0+0 size=2 (same offset)", IOESZ, 2, bar0, efd);
	IOE("IOEVENTFD BAR0+0 size=4 fd=-1 (remove)", IOESZ, 4, bar0, -1);
	IOE("IOEVENTFD BAR0+0 size=2 fd=-1 (remove)", IOESZ, 2, bar0, -1);
	IOE("IOEVENTFD BAR0+0 size=2 fd=-1 again", IOESZ, 2, bar0, -1);
	close(nul);
	close(efd);
}

static void others(int c, int g)
{
	static const unsigned int nums[] = { 14, 15, 21, 22, 25, 30, 50, 99 };
	uint32_t st[3] = { sizeof(st), 0, 0 };
	uint8_t junk[64];

	note("other ioctl numbers on the device");
	memset(junk, 0, sizeof(junk));
	junk[0] = sizeof(junk);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		TRY(ioctl(dev, _IO(VFIO_TYPE, VFIO_BASE + nums[i]), junk));
		show(lbl("device ioctl(VFIO_BASE+%u)", nums[i]), NULL);
	}
	TRY(ioctl(dev, VFIO_GROUP_GET_STATUS, st));
	show("device GROUP_GET_STATUS", NULL);
	TRY(ioctl(dev, VFIO_GET_API_VERSION));
	show("device GET_API_VERSION", NULL);
	TRY(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, junk));
	show("device BIND_IOMMUFD (opened through its group)", NULL);
	TRY(ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, junk));
	show("device ATTACH_IOMMUFD_PT (group device)", NULL);
	TRY(ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, junk));
	show("device DETACH_IOMMUFD_PT (group device)", NULL);
	TRY(ioctl(dev, _IOR('x', 1, int), junk));
	show("device ioctl('x', 1)", NULL);
	TRY(ioctl(c, VFIO_DEVICE_GET_INFO, junk));
	show("container DEVICE_GET_INFO", NULL);
	TRY(ioctl(g, VFIO_DEVICE_GET_INFO, junk));
	show("group DEVICE_GET_INFO", NULL);
	TRY(ioctl(dev, VFIO_DEVICE_RESET));
	show("RESET", NULL);
}

/* ---- config space ---------------------------------------------------- */

static void config_fields(void)
{
	unsigned int cmd = cfg_read(0x04, 2), v, ptr;

	note("config space: fields vfio-pci virtualizes or protects");
	cfg_write(0x00, 2, 0);
	show("write VENDOR_ID=0", "ignored:%s", yesno(cfg_read(0x00, 2) != 0));
	cfg_write(0x02, 2, 0);
	show("write DEVICE_ID=0", "ignored:%s", yesno(cfg_read(0x02, 2) != 0));
	v = cfg_read(0x08, 4);
	cfg_write(0x08, 4, ~v);
	show("write REVISION/CLASS", "ignored:%s", yesno(cfg_read(0x08, 4) == v));
	v = cfg_read(0x0e, 1);
	cfg_write(0x0e, 1, v ^ 0x7f);
	show("write HEADER_TYPE", "ignored:%s type0:%s", yesno(cfg_read(0x0e, 1) == v),
	     yesno((v & 0x7f) == 0));
	ptr = cfg_read(0x34, 1);
	cfg_write(0x34, 1, 0);
	show("write CAPABILITY_LIST=0", "ignored:%s", yesno(cfg_read(0x34, 1) == ptr));
	v = cfg_read(0x3d, 1);
	cfg_write(0x3d, 1, v ^ 3);
	show("write INTERRUPT_PIN", "ignored:%s pinA:%s", yesno(cfg_read(0x3d, 1) == v),
	     yesno(v == 1));
	v = cfg_read(0x3c, 1);
	cfg_write(0x3c, 1, 0x5a);
	show("write INTERRUPT_LINE=0x5a", "reads back:%s", yesno(cfg_read(0x3c, 1) == 0x5a));
	cfg_write(0x3c, 1, v);

	note("COMMAND (memory, bus master, INTx disable) and STATUS");
	cfg_write(0x04, 2, cmd & ~0x406u);
	show("COMMAND clear MEMORY|MASTER|INTX_DISABLE", "memory=%s master=%s intx_disable=%s",
	     yesno(cfg_read(0x04, 2) & 2), yesno(cfg_read(0x04, 2) & 4),
	     yesno(cfg_read(0x04, 2) & 0x400));
	cfg_write(0x04, 2, (cmd & ~0x406u) | 0x406);
	show("COMMAND set MEMORY|MASTER|INTX_DISABLE", "memory=%s master=%s intx_disable=%s",
	     yesno(cfg_read(0x04, 2) & 2), yesno(cfg_read(0x04, 2) & 4),
	     yesno(cfg_read(0x04, 2) & 0x400));
	cfg_write(0x04, 1, (cmd & 0xff) | 0x6);
	show("COMMAND 1-byte write of the low byte", "intx_disable kept=%s",
	     yesno(cfg_read(0x04, 2) & 0x400));
	cfg_write(0x04, 2, (cmd & ~0x400u) | 0x6);
	v = cfg_read(0x06, 2);
	show("STATUS", "cap_list=has capabilities:%s intx_status=%s",
	     yesno(!!(v & 0x10) == !!cfg_read(0x34, 1)), yesno(v & 0x8));
	cfg_write(0x06, 2, 0xffff);
	show("write STATUS=0xffff", "cap_list kept:%s intx_status=%s",
	     yesno(!!(cfg_read(0x06, 2) & 0x10) == !!(v & 0x10)), yesno(cfg_read(0x06, 2) & 0x8));
	cfg_write(0x04, 4, (0xffffu << 16) | ((cmd & ~0x400u) | 0x6));
	show("write COMMAND+STATUS as one dword", "memory=%s",
	     yesno(cfg_read(0x04, 2) & 2));
}

/*
 * BAR sizing: all-ones in, ~(size - 1) | type bits out, the old value back
 * after. A 64-bit BAR is sized as a pair; its upper half gets the pair's
 * lines too, so every device prints the same six.
 */
static void bar_sizing(void)
{
	note("BAR sizing (rule: reads back ~(region size - 1) | the type bits)");
	for (unsigned int i = 0; i <= 5; i++) {
		unsigned int off = 0x10 + 4 * i, tb;
		uint32_t old = cfg_read(off, 4), hi_old = 0, lo, hi = 0xffffffff;
		uint64_t size = region_size[i], mask;
		int is64 = i < 5 && (old & 7) == 4, match, kept, back;

		tb = (old & 1) ? 3u : 0xfu;
		cfg_write(off, 4, 0xffffffff);
		lo = cfg_read(off, 4);
		if (is64) {
			hi_old = cfg_read(off + 4, 4);
			cfg_write(off + 4, 4, 0xffffffff);
			hi = cfg_read(off + 4, 4);
		}
		mask = ((uint64_t)hi << 32) | (lo & ~tb);
		match = size ? mask == ~(size - 1) : lo == 0;
		kept = (lo & tb) == (old & tb);
		cfg_write(off, 4, old);
		if (is64)
			cfg_write(off + 4, 4, hi_old);
		back = cfg_read(off, 4) == old && (!is64 || cfg_read(off + 4, 4) == hi_old);
		for (unsigned int j = i; j <= i + (unsigned int)is64; j++) {
			TRY(4);
			show(lbl("BAR%u sizing", j), "matches region size:%s type bits kept:%s",
			     yesno(match), yesno(kept));
			TRY(0);
			show(lbl("BAR%u restore", j), "reads back:%s", yesno(back));
		}
		i += (unsigned int)is64;
	}
	{
		uint32_t old = cfg_read(0x30, 4), v;
		uint64_t rom = region_size[VFIO_PCI_ROM_REGION_INDEX];

		cfg_write(0x30, 4, 0xfffff800);
		v = cfg_read(0x30, 4);
		show("ROM BAR sizing (enable clear)", "matches ROM region:%s enable=%s",
		     yesno(rom ? v == (uint32_t)~(rom - 1) : v == 0), yesno(v & 1));
		cfg_write(0x30, 4, 0xffffffff);
		v = cfg_read(0x30, 4);
		show("ROM BAR sizing (enable set)", "matches ROM region:%s enable kept iff a ROM:%s",
		     yesno(rom ? (v & ~1u) == (uint32_t)~(rom - 1) : v == 0),
		     yesno(!!(v & 1) == (rom != 0)));
		cfg_write(0x30, 4, old);
		show("ROM BAR restore", "reads back:%s", yesno(cfg_read(0x30, 4) == old));
	}
}

static void cap_list(void)
{
	unsigned int pos = cfg_read(0x34, 1), n = 0, seen_bad = 0;
	unsigned int cfgsz = (unsigned int)region_size[CFG];

	note("capability lists (rule: well formed; contents are the device's)");
	while (pos && n < 48) {
		unsigned int id = cfg_read(pos, 1);

		if (pos < 0x40 || pos > 0xfc || (pos & 3) || id == 0 || id > 0x15)
			seen_bad = 1;
		pos = cfg_read(pos + 1, 1);
		n++;
	}
	TRY(0);
	show("standard capability list", "well formed:%s terminates:%s",
	     yesno(!seen_bad), yesno(pos == 0));
	if (cfgsz > 0x100) {
		uint32_t h = cfg_read(0x100, 4);

		n = 0;
		seen_bad = 0;
		pos = 0x100;
		while (h && h != 0xffffffff && n < 96) {
			pos = h >> 20;
			if (pos && (pos < 0x100 || (pos & 3)))
				seen_bad = 1;
			if (!pos)
				break;
			h = cfg_read(pos, 4);
			n++;
		}
		show("extended capability list", "well formed:%s", yesno(!seen_bad));
	} else {
		show("extended capability list", "well formed:%s", yesno(1));
	}
}

/* ---- region access --------------------------------------------------- */

static void rd(unsigned int index, uint64_t off, size_t n, const char *what)
{
	uint8_t buf[64];

	TRY(pread(dev, buf, n, REGION(index) + (off_t)off));
	show(what, NULL);
}

static void wr(unsigned int index, uint64_t off, size_t n, const char *what)
{
	uint8_t buf[64];

	memset(buf, 0, sizeof(buf));
	if (index == CFG && off == 0x0c && n == 1)
		buf[0] = (uint8_t)cfg_read(0x0c, 1);	/* cache line size: as it was */
	TRY(pwrite(dev, buf, n, REGION(index) + (off_t)off));
	show(what, NULL);
}

static void region_access(void)
{
	uint64_t cs = region_size[CFG], b0 = region_size[VFIO_PCI_BAR0_REGION_INDEX];
	unsigned int cmd = cfg_read(0x04, 2);

	note("config region accesses (size S from REGION_INFO)");
	rd(CFG, 0, 1, "config read 1 at 0");
	rd(CFG, 0, 2, "config read 2 at 0");
	rd(CFG, 0, 4, "config read 4 at 0");
	rd(CFG, 0, 8, "config read 8 at 0");
	rd(CFG, 0, 64, "config read 64 at 0");
	rd(CFG, 1, 4, "config read 4 at 1 (unaligned)");
	rd(CFG, 3, 2, "config read 2 at 3 (unaligned)");
	rd(CFG, 0, 0, "config read 0 at 0");
	rd(CFG, cs - 4, 4, "config read 4 at S-4");
	rd(CFG, cs - 2, 4, "config read 4 at S-2 (runs past the end)");
	rd(CFG, cs, 4, "config read 4 at S");
	rd(CFG, cs, 0, "config read 0 at S");
	rd(CFG, 1ULL << 39, 4, "config read 4 at 1<<39");
	wr(CFG, 0x0c, 1, "config write 1 at 0x0c (cache line size)");
	wr(CFG, cs - 2, 4, "config write 4 at S-2 (runs past the end)");
	wr(CFG, cs, 4, "config write 4 at S");

	note("BAR0 accesses (size B from REGION_INFO; reads only)");
	cfg_write(0x04, 2, cmd | 0x2);
	rd(VFIO_PCI_BAR0_REGION_INDEX, 0, 1, "BAR0 read 1 at 0");
	rd(VFIO_PCI_BAR0_REGION_INDEX, 0, 2, "BAR0 read 2 at 0");
	rd(VFIO_PCI_BAR0_REGION_INDEX, 0, 4, "BAR0 read 4 at 0");
	rd(VFIO_PCI_BAR0_REGION_INDEX, 0, 8, "BAR0 read 8 at 0");
	rd(VFIO_PCI_BAR0_REGION_INDEX, 1, 4, "BAR0 read 4 at 1 (unaligned)");
	rd(VFIO_PCI_BAR0_REGION_INDEX, 0, 0, "BAR0 read 0 at 0");
	rd(VFIO_PCI_BAR0_REGION_INDEX, b0 - 4, 4, "BAR0 read 4 at B-4");
	rd(VFIO_PCI_BAR0_REGION_INDEX, b0 - 4, 8, "BAR0 read 8 at B-4 (runs past the end)");
	rd(VFIO_PCI_BAR0_REGION_INDEX, b0, 4, "BAR0 read 4 at B");
	wr(VFIO_PCI_BAR0_REGION_INDEX, b0, 4, "BAR0 write 4 at B");
	wr(VFIO_PCI_BAR0_REGION_INDEX, 0, 0, "BAR0 write 0 at 0");
	cfg_write(0x04, 2, cmd & ~0x2u);
	rd(VFIO_PCI_BAR0_REGION_INDEX, 0, 4, "BAR0 read 4 at 0 (memory decoding off)");
	cfg_write(0x04, 2, cmd | 0x2);
	rd(VFIO_PCI_BAR0_REGION_INDEX, 0, 4, "BAR0 read 4 at 0 (memory decoding on again)");

	note("other regions");
	rd(VFIO_PCI_BAR5_REGION_INDEX, 0, 4, "BAR5 read 4 at 0 (empty)");
	wr(VFIO_PCI_BAR5_REGION_INDEX, 0, 4, "BAR5 write 4 at 0 (empty)");
	{
		uint8_t b[2];
		int ok = (pread(dev, b, 2, REGION(VFIO_PCI_ROM_REGION_INDEX)) == 2) ==
			 (region_size[VFIO_PCI_ROM_REGION_INDEX] != 0);

		TRY(0);	/* the rule only: one device has a ROM, one has none */
		show("ROM read 2 at 0", "readable iff the ROM region is non-empty:%s",
		     yesno(ok));
	}
	wr(VFIO_PCI_ROM_REGION_INDEX, 0, 4, "ROM write 4 at 0");
	rd(VFIO_PCI_VGA_REGION_INDEX, 0, 4, "VGA region read 4 at 0");
	rd(9, 0, 4, "region 9 read 4 at 0");
	rd(0xffff, 0, 4, "region 0xffff read 4 at 0");
}

int main(void)
{
	int c, g;

	conf_init();
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	dev = get_device(g, 0, "GROUP_GET_DEVICE_FD(device)");
	if (dev < 0)
		die("no device");
	device_info();
	regions();
	irqs();
	irq_sets();
	config_fields();
	bar_sizing();
	cap_list();
	region_access();
	features();
	ioeventfds();
	hot_reset(g);
	others(c, g);
	close(dev);
	teardown(c, g);
	return 0;
}
