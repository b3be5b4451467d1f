// SPDX-License-Identifier: MIT
/*
 * The preload library's own behaviours, seen from a program that knows
 * nothing of spapr-tce (libc and <linux/vfio.h> only; run with
 * LD_PRELOAD): errno, CLOEXEC, dup/dup2/fcntl/close_range, read/write
 * at the file position, mmap refusal, sysfs, VmLck, eventfd interrupts,
 * fork, exec, threads, /dev/iommu and the device cdevs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include "client.h"

#include "../lib/vfio_region.h"
#define MEM	(4u << 20)

static const char *self;

struct setup {
	int c, g, d;
	uint8_t *ram;
	uint64_t bus;
};

static void v2_setup(struct setup *s)
{
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof(cr) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	uint8_t *p;
	uint16_t cmd = 6;

	s->c = open("/dev/vfio/vfio", O_RDWR);
	s->g = open("/dev/vfio/0", O_RDWR);
	CHECK(s->c >= 0 && s->g >= 0);
	CHECK(!ioctl(s->g, VFIO_GROUP_SET_CONTAINER, &s->c));
	CHECK(!ioctl(s->c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	p = mmap(NULL, 2 * MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	s->ram = (uint8_t *)(((uintptr_t)p + MEM - 1) & ~(uintptr_t)(MEM - 1));
	memset(s->ram, 0, MEM);
	reg.vaddr = (uintptr_t)s->ram;
	reg.size = MEM;
	CHECK(!ioctl(s->c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg));
	cr.page_shift = 16;
	cr.window_size = MEM;
	cr.levels = 1;
	CHECK(!ioctl(s->c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
	s->bus = cr.start_addr;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)s->ram;
	map.iova = s->bus;
	map.size = MEM / 2;	/* the upper half stays free for the threads */
	CHECK(!ioctl(s->c, VFIO_IOMMU_MAP_DMA, &map));
	s->d = ioctl(s->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	CHECK(s->d >= 0);
	CHECK(pwrite(s->d, &cmd, 2, CFG + 4) == 2);
}

static void v2_teardown(struct setup *s)
{
	close(s->d);
	close(s->g);
	close(s->c);
}

static void test_errno(void)
{
	int c;

	errno = 1234;
	c = open("/dev/vfio/vfio", O_RDWR);
	CHECK(c >= 0 && errno == 1234);
	CHECK(ioctl(c, VFIO_GET_API_VERSION) == VFIO_API_VERSION && errno == 1234);
	CHECK(ioctl(c, 0xdead) == -1 && errno == EINVAL);	/* no IOMMU yet */
	errno = 77;
	CHECK(close(c) == 0 && errno == 77);
	CHECK(close(c) == -1 && errno == EBADF);
	errno = 4321;
	c = open("/dev/vfio/0", O_RDWR);
	CHECK(c >= 0 && errno == 4321);
	close(c);
	/* Other descriptors: libc's answers. */
	CHECK(ioctl(0, VFIO_GET_API_VERSION) == -1 && errno == ENOTTY);
}

static void test_cloexec(void)
{
	int a = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	int b = open("/dev/vfio/vfio", O_RDWR);

	CHECK(fcntl(a, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(b, F_GETFD) == 0);
	close(a);
	close(b);
}

static void test_dup(void)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int c = open("/dev/vfio/vfio", O_RDWR), g = open("/dev/vfio/0", O_RDWR);
	int g2, c2, c3, p[2];

	CHECK(!ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	g2 = dup(g);
	CHECK(g2 >= 0 && close(g) == 0);
	CHECK(!ioctl(g2, VFIO_GROUP_GET_STATUS, &st));
	CHECK(st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
	CHECK(open("/dev/vfio/0", O_RDWR) == -1 && errno == EBUSY);
	c2 = dup2(c, 100);
	CHECK(c2 == 100 && ioctl(100, VFIO_GET_API_VERSION) == VFIO_API_VERSION);
	c3 = fcntl(c, F_DUPFD_CLOEXEC, 200);
	CHECK(c3 >= 200 && fcntl(c3, F_GETFD) == FD_CLOEXEC);
	CHECK(ioctl(c3, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU) == 1);
	CHECK(dup3(c, 201, O_CLOEXEC) == 201 && ioctl(201, VFIO_GET_API_VERSION) == 0);
	close(201);
	/* dup2 of a foreign descriptor over a host one: the host lets go. */
	CHECK(pipe(p) == 0);
	CHECK(dup2(p[0], c2) == c2);
	CHECK(ioctl(c2, VFIO_GET_API_VERSION) == -1 && errno == ENOTTY);
	close(c2);
	close(p[0]);
	close(p[1]);
	close(c3);
	close(c);
	close(g2);
	/* Everything closed: the group opens again. */
	g = open("/dev/vfio/0", O_RDWR);
	CHECK(g >= 0);
	/* close_range releases host descriptors too. */
	CHECK(close_range((unsigned int)g, (unsigned int)g, 0) == 0);
	g = open("/dev/vfio/0", O_RDWR);
	CHECK(g >= 0);
	close(g);
}

static void test_rw_mmap(void)
{
	struct setup s;
	uint64_t v = 0;

	v2_setup(&s);
	/* As the kernel's VFIO files: no seeking, but read and write move
	 * a position from 0 (BAR0's start). */
	CHECK(lseek(s.d, BAR0, SEEK_SET) == -1 && errno == ESPIPE);
	CHECK(lseek(s.c, 0, SEEK_CUR) == -1 && errno == ESPIPE);
	CHECK(read(s.d, &v, 8) == 8 && v == DEV_ID);
	v = 0x4000;
	CHECK(write(s.d, &v, 8) == 8);			/* SRC, at 8: advanced */
	CHECK(pread(s.d, &v, 8, BAR0 + 8) == 8 && v == 0x4000);
	CHECK(pread(s.d, &v, 8, (off_t)3 << 40) == -1 && errno == EINVAL);
	CHECK(read(s.c, &v, 8) == -1 && errno == EINVAL);
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, s.d, BAR0) == MAP_FAILED &&
	      errno == EINVAL);
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, s.c, 0) == MAP_FAILED &&
	      errno == ENODEV);
	v2_teardown(&s);
}

static int count_entries(const char *path, const char *want, int *found)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(path);

	if (!d)
		return -1;
	*found = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if (want && !strcmp(de->d_name, want))
			*found = 1;
	}
	rewinddir(d);
	CHECK(readdir(d) != NULL);	/* "." again */
	closedir(d);
	return n;
}

static void test_sysfs(void)
{
	char link[128];
	ssize_t n;
	int found;

	CHECK(count_entries("/sys/kernel/iommu_groups", "1", &found) == 2 && found);
	CHECK(count_entries("/sys/kernel/iommu_groups/0/devices", "0030:01:00.0",
			    &found) == 1 && found);
	CHECK(count_entries("/sys/kernel/iommu_groups/1/devices/", "0030:02:00.0",
			    &found) == 1 && found);
	n = readlink("/sys/bus/pci/devices/0030:02:00.0/iommu_group", link, sizeof(link) - 1);
	CHECK(n > 0);
	if (n > 0) {
		link[n] = 0;
		CHECK(!strcmp(link, "../../../../kernel/iommu_groups/1"));
	}
	CHECK(readlink("/sys/bus/pci/devices/0030:02:00.0/iommu_group", link, 4) == 4);
	/* Not the topology's: the real sysfs answers. */
	CHECK(readlink("/sys/bus/pci/devices/0000:7f:1f.7/iommu_group", link,
		       sizeof(link)) == -1 && errno == ENOENT);
	CHECK(opendir("/sys/kernel/iommu_groups/4242/devices") == NULL && errno == ENOENT);
}

static void test_vmlck(void)
{
	long before = vmlck_kb();
	struct setup s;

	CHECK(before >= 0);
	v2_setup(&s);
	/* Registered memory plus the tables (the default window's too). */
	CHECK(vmlck_kb() >= before + (long)(MEM >> 10));
	v2_teardown(&s);
	CHECK(vmlck_kb() == before);
}

static void test_irq_poll(void)
{
	char buf[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t efd = eventfd(0, EFD_CLOEXEC);
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v;
	struct setup s;

	v2_setup(&s);
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_INTX_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, 4);
	CHECK(!ioctl(s.d, VFIO_DEVICE_SET_IRQS, set));
	CHECK(poll(&p, 1, 0) == 0);
	v = s.bus;
	CHECK(pwrite(s.d, &v, 8, BAR0 + 0x10) == 8);	/* DST */
	v = 4096;
	CHECK(pwrite(s.d, &v, 8, BAR0 + 0x18) == 8);	/* LEN */
	v = 2 | 0x80000000u;				/* FILL | IRQ */
	CHECK(pwrite(s.d, &v, 8, BAR0 + 0x28) == 8);
	CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN));
	CHECK(read(efd, &v, 8) == 8 && v == 1);
	close(efd);
	v2_teardown(&s);
}

static void test_fork(void)
{
	struct setup s;
	pid_t pid;
	int status;
	uint64_t v;

	v2_setup(&s);
	pid = fork();
	if (pid == 0) {
		struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
		int bad = 0, c;

		/* The VFIO core's answers, as the kernel gives a child; the
		 * sPAPR driver's and the device's are EPERM. */
		bad |= ioctl(s.c, VFIO_GET_API_VERSION) != VFIO_API_VERSION;
		bad |= ioctl(s.c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info) != -1 ||
		       errno != EPERM;
		bad |= pread(s.d, &v, 8, BAR0) != -1 || errno != EPERM;
		bad |= mmap(NULL, 4096, PROT_READ, MAP_SHARED, s.d, BAR0) != MAP_FAILED;
		bad |= dup2(s.c, 300) != 300;
		bad |= ioctl(300, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info) != -1 ||
		       errno != EPERM;
		bad |= close(300) != 0;
		bad |= close(s.d) != 0 || close(s.g) != 0 || close(s.c) != 0;
		/* A fresh container of the child's own. */
		c = open("/dev/vfio/vfio", O_RDWR);
		bad |= c < 0 || ioctl(c, VFIO_GET_API_VERSION) != VFIO_API_VERSION;
		close(c);
		_exit(bad);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's VFIO state is untouched. */
	CHECK(pread(s.d, &v, 8, BAR0) == 8 && v == DEV_ID);
	CHECK(ioctl(s.c, VFIO_CHECK_EXTENSION, VFIO_EEH) == 1);
	v2_teardown(&s);
}

/* After exec, a VFIO descriptor without CLOEXEC is open but answers
 * like a closed one (an O_PATH descriptor the new library does not know). */
static int exec_child(int keep, int cloexec_fd)
{
	uint64_t v;
	int bad = 0;

	bad |= fcntl(keep, F_GETFD) < 0;
	bad |= ioctl(keep, VFIO_GET_API_VERSION) != -1 || errno != EBADF;
	bad |= pread(keep, &v, 8, 0) != -1 || errno != EBADF;
	bad |= mmap(NULL, 4096, PROT_READ, MAP_SHARED, keep, 0) != MAP_FAILED ||
	       errno != EBADF;
	bad |= fcntl(cloexec_fd, F_GETFD) != -1 || errno != EBADF;
	return bad;
}

static void test_exec(void)
{
	int keep = open("/dev/vfio/vfio", O_RDWR);
	int gone = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	char a[16], b[16];
	pid_t pid;
	int status;

	snprintf(a, sizeof(a), "%d", keep);
	snprintf(b, sizeof(b), "%d", gone);
	pid = fork();
	if (pid == 0) {
		execl(self, self, "--exec-child", a, b, (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(keep);
	close(gone);
}

struct worker {
	struct setup *s;
	unsigned int n;
	int bad;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	uint64_t off = MEM / 2 + w->n * 0x10000, v;
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)w->s->ram + off, .iova = w->s->bus + off,
		.size = 0x10000,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = w->s->bus + off, .size = 0x10000,
	};

	for (int i = 0; i < 300; i++) {
		w->bad |= ioctl(w->s->c, VFIO_IOMMU_MAP_DMA, &map) != 0;
		w->bad |= pread(w->s->d, &v, 8, BAR0) != 8 || v != DEV_ID;
		w->bad |= ioctl(w->s->c, VFIO_IOMMU_UNMAP_DMA, &unmap) != 0;
	}
	return NULL;
}

static void test_threads(void)
{
	struct worker w[4];
	pthread_t t[4];
	struct setup s;

	v2_setup(&s);
	for (unsigned int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .s = &s, .n = i };
		CHECK(!pthread_create(&t[i], NULL, worker, &w[i]));
	}
	for (unsigned int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(!w[i].bad);
	}
	v2_teardown(&s);
}

/* /dev/iommu and /dev/vfio/devices/vfioN are served; other paths under
 * them are libc's. */
static void test_iommufd(void)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct iommu_destroy d = { .size = sizeof(d) };
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int fd, fd2, dev, g;
	uint64_t v = 0;

	errno = 99;
	fd = openat(AT_FDCWD, "/dev/iommu", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && errno == 99 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK(!ioctl(fd, IOMMU_IOAS_ALLOC, &a) && errno == 99);
	fd2 = dup2(fd, 150);
	CHECK(fd2 == 150 && close(fd) == 0);
	d.id = a.out_ioas_id;
	CHECK(!ioctl(fd2, IOMMU_DESTROY, &d));
	CHECK(ioctl(fd2, IOMMU_DESTROY, &d) == -1 && errno == ENOENT);
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0) == MAP_FAILED &&
	      errno == ENODEV);
	/* The cdev: nothing but BIND before the bind. */
	dev = open("/dev/vfio/devices/vfio1", O_RDWR);
	CHECK(dev >= 0);
	CHECK(ioctl(dev, VFIO_DEVICE_GET_INFO, &info) == -1 && errno == EINVAL);
	CHECK(pread(dev, &v, 8, BAR0) == -1 && errno == EINVAL);
	b.iommufd = 0;	/* stdin: open, not an iommufd */
	CHECK(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b) == -1 && errno == EBADFD);
	b.iommufd = fd2;
	CHECK(!ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b));
	CHECK(open("/dev/vfio/1", O_RDWR) == -1 && errno == EBUSY);
	CHECK(pread(dev, &v, 8, BAR0) == 8 && v == DEV_ID);
	CHECK(close(fd2) == 0 && close(dev) == 0);
	g = open("/dev/vfio/1", O_RDWR);
	CHECK(g >= 0 && close(g) == 0);
	/* Not the topology's: libc's answer (no such file here). */
	CHECK(open("/dev/vfio/devices/vfio7", O_RDWR) == -1 && errno == ENOENT);
	CHECK(open("/dev/iommu0", O_RDWR) == -1 && errno == ENOENT);
}

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t own_faults;

static void own_segv(int sig)
{
	(void)sig;
	own_faults++;
	siglongjmp(fault_jmp, 1);
}

/*
 * A program's own SIGSEGV handler, installed after the library's (QEMU
 * and glib may): bad ioctl and pread/pwrite buffers are still EFAULT, no
 * crash; sigaction shows the program its own handler; a real fault of
 * the program's reaches it.
 */
static void test_own_segv_handler(void)
{
	struct vfio_iommu_spapr_tce_info *none;
	struct sigaction sa = { .sa_handler = own_segv }, before, now;
	struct setup s;
	char *page;

	v2_setup(&s);
	page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED);
	none = (void *)page;
	sigemptyset(&sa.sa_mask);
	CHECK(!sigaction(SIGSEGV, &sa, &before));
	errno = 0;
	CHECK(ioctl(s.c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, none) == -1 && errno == EFAULT);
	errno = 0;
	CHECK(pread(s.d, page, 4, CFG) == -1 && errno == EFAULT);
	errno = 0;
	CHECK(pwrite(s.d, page, 4, CFG) == -1 && errno == EFAULT);
	CHECK(!sigaction(SIGSEGV, NULL, &now) && now.sa_handler == own_segv);
	CHECK(own_faults == 0);
	if (!sigsetjmp(fault_jmp, 1)) {
		*(volatile char *)page = 1;
		CHECK(!"the store faulted");
	}
	CHECK(own_faults == 1);
	/* signal() too, and the first handler back. */
	CHECK(signal(SIGSEGV, own_segv) == own_segv);
	errno = 0;
	CHECK(ioctl(s.c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, none) == -1 && errno == EFAULT);
	CHECK(!sigaction(SIGSEGV, &before, NULL));
	munmap(page, 4096);
	v2_teardown(&s);
}

int main(int argc, char **argv)
{
	static const struct client_test tests[] = {
		{ "errno", test_errno }, { "cloexec", test_cloexec },
		{ "dup", test_dup }, { "rw_mmap", test_rw_mmap },
		{ "sysfs", test_sysfs }, { "vmlck", test_vmlck },
		{ "irq_poll", test_irq_poll }, { "fork", test_fork },
		{ "exec", test_exec }, { "threads", test_threads },
		{ "iommufd", test_iommufd },
		{ "own_segv_handler", test_own_segv_handler },
	};

	self = argv[0];
	if (argc == 4 && !strcmp(argv[1], "--exec-child"))
		return exec_child(atoi(argv[2]), atoi(argv[3]));
	return client_run(tests, sizeof(tests) / sizeof(tests[0]));
}
