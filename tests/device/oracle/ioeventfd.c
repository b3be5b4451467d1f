// SPDX-License-Identifier: MIT
/*
 * What VFIO_DEVICE_IOEVENTFD does, and Memory Space, as vfio-pci presents
 * them: the command register at open, after RESET and after the last
 * close; BAR access with Memory Space off; an ioeventfd's write when its
 * eventfd is signalled (the count taken, removal, a count already there,
 * Memory Space off, 8 bytes, data above the size, two on one eventfd);
 * the per-device limit; registrations shared by a device's descriptors
 * and gone at its last close.
 *
 * Written only against <linux/vfio.h>: it ran on the real kernel (the
 * oracle's e1000e on vfio-pci) and runs on spapr-tce's DMA test device
 * under the preload library; the output must be the same. The only
 * device-specific code is the choice of two read-write registers.
 *
 * The kernel writes from the signaller's context, spapr-tce from a thread
 * a moment later, so the client waits for what it checks: for a write to
 * appear, or, to show that none happens, for a write of another
 * ioeventfd signalled after it (a fence), or for the count to be taken
 * followed by an IOEVENTFD call (which waits for a write in progress).
 */
#include <poll.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <time.h>

#include "oracle_dev.h"

#define CMD_MEMORY	0x0002
#define CMD_MASTER	0x0004
#define CMD_INTX_OFF	0x0400

/* Two read-write registers: e1000e MTA[0] (its pair MTA[1] for 8-byte
 * writes) and MTA[2]; the DMA test device's SRC and DST (64-bit). */
#define E1000_SCRATCH	0x5200
#define E1000_FENCE	0x5208
#define DMATEST_SCRATCH	0x08
#define DMATEST_FENCE	0x10

#define IOESZ		((uint32_t)sizeof(struct vfio_device_ioeventfd))
#define WAIT_MS		5000

static int grp;
static uint32_t scratch, fence;

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

static void command(const char *what)
{
	uint32_t cmd = cfg_read(0x04, 2);

	printf("%-46s   memory=%s master=%s intx_disable=%s\n", what,
	       yesno(cmd & CMD_MEMORY), yesno(cmd & CMD_MASTER),
	       yesno(cmd & CMD_INTX_OFF));
}

static void bar_try(bool write, size_t n, uint64_t off, const char *what)
{
	uint8_t buf[8];

	memset(buf, 0, sizeof(buf));
	if (write)
		TRY(pwrite(dev, buf, n, (off_t)(bar0_off + off)));
	else
		TRY(pread(dev, buf, n, (off_t)(bar0_off + off)));
	show(what, NULL);
}

static long ioe(int d, uint32_t size, uint32_t reg, uint64_t data, int fd)
{
	struct vfio_device_ioeventfd e = {
		.argsz = IOESZ, .flags = size, .offset = bar0_off + reg,
		.data = data, .fd = fd,
	};

	return TRY(ioctl(d, VFIO_DEVICE_IOEVENTFD, &e));
}

static void signal_efd(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
}

static bool holds_count(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void drain(int fd)
{
	uint64_t n;

	if (holds_count(fd) && read(fd, &n, sizeof(n)) != sizeof(n))
		die("eventfd read");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Until register @reg reads @want (true), or WAIT_MS passed. */
static bool wait_value(uint32_t reg, uint32_t want)
{
	for (int ms = 0; ms < WAIT_MS; ms++, sleep_ms(1))
		if (bar0_read(reg) == want)
			return true;
	return false;
}

/* Until the count of @fd is taken, then past any write in progress: an
 * IOEVENTFD call waits for it (spapr-tce; the kernel's was done). */
static bool wait_taken(int fd)
{
	int ms;

	for (ms = 0; ms < WAIT_MS && holds_count(fd); ms++)
		sleep_ms(1);
	ioe(dev, 4, fence, 0xfe11ce, -1);	/* never registered: ENODEV */
	return ms < WAIT_MS;
}

/* A write signalled after @fd's (when @fd's is still to come, it comes
 * first): the fence ioeventfd on its own eventfd. */
static void wait_fence(int fence_efd, uint32_t value)
{
	bar0_write(fence, 0);
	ioe(dev, 4, fence, value, fence_efd);
	signal_efd(fence_efd);
	if (!wait_value(fence, value))
		die("the fence ioeventfd never wrote");
	ioe(dev, 4, fence, value, -1);
	drain(fence_efd);
}

static void open_device(void)
{
	dev = ioctl(grp, VFIO_GROUP_GET_DEVICE_FD, device_name());
	if (dev < 0)
		die("GET_DEVICE_FD");
}

static void memory_space(void)
{
	uint32_t cmd;

	note("Memory Space at open, with it off, across RESET and the last close");
	command("device open");
	cmd = cfg_read(0x04, 2);
	cfg_write(0x04, 2, cmd & ~CMD_MEMORY);
	command("COMMAND memory off");
	bar_try(false, 4, 0, "BAR0 read 4 (memory off)");
	bar_try(false, 8, 0, "BAR0 read 8 (memory off)");
	bar_try(false, 1, 1, "BAR0 read 1 at 1 (memory off)");
	bar_try(true, 4, scratch, "BAR0 write 4 (memory off)");
	bar_try(false, 0, 0, "BAR0 read 0 (memory off)");
	bar_try(false, 4, bar0_size, "BAR0 read 4 at B (memory off)");
	TRY(pread(dev, &cmd, 4, (off_t)(cfg_off + 8)));
	show("config read 4 (memory off)", NULL);
	TRY(ioctl(dev, VFIO_DEVICE_RESET));
	show("RESET (memory off)", NULL);
	command("after RESET");
	bar_try(false, 4, 0, "BAR0 read 4 after RESET");
	/* vfio-pci keeps its copy of the bit from writes starting at 0x04. */
	cfg_write(0x05, 1, (CMD_INTX_OFF >> 8) | CMD_MEMORY);
	bar_try(false, 4, 0, "BAR0 read 4 (after a byte written at 0x05)");
	cfg_write(0x04, 2, cfg_read(0x04, 2) | CMD_MEMORY | CMD_MASTER);
	cfg_write(0x04, 2, cfg_read(0x04, 2) & ~CMD_INTX_OFF);
	TRY(ioctl(dev, VFIO_DEVICE_RESET));
	show("RESET (memory and master on)", NULL);
	command("after RESET");
	bar_try(false, 4, 0, "BAR0 read 4 after RESET");
	cfg_write(0x04, 2, cfg_read(0x04, 2) & ~CMD_MEMORY);
	close(dev);
	open_device();
	command("closed with memory off, reopened");
	cfg_write(0x04, 2, cfg_read(0x04, 2) | CMD_MASTER);
	close(dev);
	open_device();
	command("closed with master on, reopened");
}

static void effects(int efd, int fefd)
{
	uint32_t cmd = cfg_read(0x04, 2);
	int efd2 = eventfd(0, EFD_CLOEXEC);
	bool w, t;

	note("what a signal does");
	bar0_write(scratch, 0);
	ioe(dev, 4, scratch, 0x11111111, efd);
	show("IOEVENTFD scratch size=4", NULL);
	w = bar0_read(scratch) == 0x11111111;
	signal_efd(efd);
	w = !w && wait_value(scratch, 0x11111111);
	t = wait_taken(efd);
	TRY(0);
	show("signal", "written=%s count taken=%s", yesno(w), yesno(t));
	bar0_write(scratch, 0);
	signal_efd(efd);
	signal_efd(efd);
	w = wait_value(scratch, 0x11111111);
	t = wait_taken(efd);
	TRY(0);
	show("signal twice", "written=%s count taken=%s", yesno(w), yesno(t));
	ioe(dev, 4, scratch, 0x11111111, -1);
	show("IOEVENTFD scratch size=4 fd=-1 (remove)", NULL);
	bar0_write(scratch, 0);
	signal_efd(efd);
	wait_fence(fefd, 0x1);
	TRY(0);
	show("signal after the removal", "written=%s count taken=%s",
	     yesno(bar0_read(scratch) != 0), yesno(!holds_count(efd)));
	/* The removed one's count is still there: a registration writes it
	 * at once (the kernel leaves the count, spapr-tce takes it: not
	 * printed, docs/quirks.md). */
	ioe(dev, 4, scratch, 0x22222222, efd);
	show("IOEVENTFD with a count in the eventfd", "written=%s",
	     yesno(wait_value(scratch, 0x22222222)));
	ioe(dev, 4, scratch, 0x22222222, -1);
	drain(efd);

	note("Memory Space off: the write is dropped, not replayed");
	bar0_write(scratch, 0);
	cfg_write(0x04, 2, cmd & ~CMD_MEMORY);
	ioe(dev, 4, scratch, 0x33333333, efd);
	show("IOEVENTFD scratch (memory off)", NULL);
	signal_efd(efd);
	t = wait_taken(efd);
	cfg_write(0x04, 2, cmd | CMD_MEMORY);
	w = bar0_read(scratch) != 0;
	wait_fence(fefd, 0x2);
	TRY(0);
	show("signal (memory off)", "count taken=%s written=%s", yesno(t),
	     yesno(w || bar0_read(scratch) != 0));
	signal_efd(efd);
	TRY(0);
	show("signal (memory on)", "written=%s",
	     yesno(wait_value(scratch, 0x33333333)));
	ioe(dev, 4, scratch, 0x33333333, -1);
	wait_taken(efd);

	note("sizes and data");
	bar0_write(scratch, 0);
	bar0_write(scratch + 4, 0);
	ioe(dev, 8, scratch, 0x4444444455555555ULL, efd);
	show("IOEVENTFD scratch size=8", NULL);
	signal_efd(efd);
	w = wait_value(scratch + 4, 0x44444444);
	TRY(0);
	show("signal", "written=%s", yesno(w && bar0_read(scratch) == 0x55555555));
	ioe(dev, 8, scratch, 0x4444444455555555ULL, -1);
	wait_taken(efd);
	bar0_write(scratch, 0);
	ioe(dev, 4, scratch, 0x100000009ULL, efd);
	show("IOEVENTFD size=4 data=0x100000009", NULL);
	ioe(dev, 4, scratch, 0x9, efd2);
	show("IOEVENTFD size=4 data=0x9 (another)", NULL);
	ioe(dev, 4, scratch, 0x9, -1);
	show("IOEVENTFD size=4 data=0x9 fd=-1", NULL);
	signal_efd(efd);
	TRY(0);
	show("signal", "wrote the low 32 bits=%s", yesno(wait_value(scratch, 9)));
	ioe(dev, 4, scratch, 0x100000009ULL, -1);
	wait_taken(efd);

	note("two ioeventfds on one eventfd: the most recent writes first");
	bar0_write(scratch, 0);
	ioe(dev, 4, scratch, 0xaaaa, efd);
	show("IOEVENTFD scratch data=0xaaaa", NULL);
	ioe(dev, 4, scratch, 0xbbbb, efd);
	show("IOEVENTFD scratch data=0xbbbb (same eventfd)", NULL);
	ioe(dev, 4, fence, 0xcccc, efd);
	show("IOEVENTFD fence data=0xcccc (same eventfd)", NULL);
	bar0_write(fence, 0);
	signal_efd(efd);
	w = wait_value(scratch, 0xaaaa);
	TRY(0);
	show("signal", "all wrote=%s last: the first registered=%s",
	     yesno(w && wait_value(fence, 0xcccc)), yesno(bar0_read(scratch) == 0xaaaa));
	ioe(dev, 4, scratch, 0xaaaa, -1);
	ioe(dev, 4, scratch, 0xbbbb, -1);
	ioe(dev, 4, fence, 0xcccc, -1);
	wait_taken(efd);
	close(efd2);
}

static void limit(int efd)
{
	int nul = open("/dev/null", O_RDONLY), bad = dup(0), n = 0, d2;

	close(bad);	/* a descriptor number that is not open */
	note("the per-device limit; shared by the device's descriptors");
	ioe(dev, 4, scratch, 0, bad);
	show("IOEVENTFD fd not open", NULL);
	while (n < 1100 && !ioe(dev, 4, scratch, (uint64_t)n, efd))
		n++;
	show("IOEVENTFD the one past the last", "registered before it=%d", n);
	ioe(dev, 4, scratch, 5000, nul);
	show("IOEVENTFD at the limit, fd=/dev/null", NULL);
	ioe(dev, 4, scratch, 5000, bad);
	show("IOEVENTFD at the limit, fd not open", NULL);
	ioe(dev, 4, scratch, 5000, -1);
	show("IOEVENTFD at the limit, fd=-1 (none)", NULL);
	ioe(dev, 4, scratch, 3, efd);
	show("IOEVENTFD at the limit, registered again", NULL);
	ioe(dev, 4, scratch, 3, -1);
	show("IOEVENTFD remove one", NULL);
	ioe(dev, 4, scratch, 5000, efd);
	show("IOEVENTFD another", NULL);
	ioe(dev, 4, scratch, 5001, efd);
	show("IOEVENTFD the one past the last again", NULL);
	d2 = ioctl(grp, VFIO_GROUP_GET_DEVICE_FD, device_name());
	if (d2 < 0)
		die("second GET_DEVICE_FD");
	ioe(d2, 4, scratch, 5000, -1);
	show("IOEVENTFD remove through a second descriptor", NULL);
	ioe(d2, 4, scratch, 5000, efd);
	show("IOEVENTFD register through it", NULL);
	close(d2);
	ioe(dev, 4, scratch, 5000, efd);
	show("IOEVENTFD it closed: registered again", NULL);
	close(dev);
	open_device();
	ioe(dev, 4, scratch, 5000, -1);
	show("IOEVENTFD after the last close: remove", NULL);
	ioe(dev, 4, scratch, 0, -1);
	show("IOEVENTFD after the last close: remove another", NULL);
	close(nul);
}

int main(void)
{
	int cfd, efd, fefd;

	conf_init();
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &cfd, &grp);
	open_device();
	device_regions();
	if (cfg_read(0, 4) == E1000E_IDS) {
		scratch = E1000_SCRATCH;
		fence = E1000_FENCE;
	} else {
		scratch = DMATEST_SCRATCH;
		fence = DMATEST_FENCE;
	}
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || fefd < 0)
		die("eventfd");

	memory_space();
	effects(efd, fefd);
	limit(efd);
	close(dev);
	teardown(cfd, grp);
	return 0;
}
