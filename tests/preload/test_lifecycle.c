// SPDX-License-Identifier: MIT
/*
 * Process lifecycle (issue 14): calls racing a close of their descriptor,
 * signal handlers that close and dup during long DMAs, maps and
 * registrations, fork while each kind of call runs in another thread,
 * descriptor numbers past 65535 and RLIMIT_NOFILE, a thousand containers.
 * Built twice (lifecycle.h): lifecycle_preload runs it as a plain program
 * under the preload library, lifecycle_host through the host API (and
 * under TSan). Arguments: the tests to run (all but "scale" without).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <execinfo.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include "client.h"
#include "lifecycle.h"

#include "../lib/vfio_region.h"
#define MEM	(8u << 20)		/* registered; the window's size */
#define REG_DST	0x10
#define REG_LEN	0x18
#define REG_PATTERN 0x20
#define REG_CMD	0x28
#define REG_STATUS 0x30
#define CMD_FILL 2
#define DEV0	"0030:01:00.0"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

/* A v2 container with group 0, MEM registered at ram, a 64K-page window
 * of MEM at win with its first half mapped, the device with bus master. */
struct vf {
	int c, g, d;
	uint8_t *ram;
	uint64_t win;
};

static uint8_t *alloc_ram(size_t size)
{
	uint8_t *p = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p = (uint8_t *)(((uintptr_t)p + size - 1) & ~(uintptr_t)(size - 1));
	memset(p, 0, size);
	return p;
}

static int reg(int c, void *p, size_t size, bool on)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uintptr_t)p, .size = size };

	return vioctl(c, on ? VFIO_IOMMU_SPAPR_REGISTER_MEMORY :
		      VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r);
}

static int map(int c, void *p, uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)p, .iova = iova, .size = size };

	return vioctl(c, VFIO_IOMMU_MAP_DMA, &m);
}

static int unmap(int c, uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u),
		.iova = iova, .size = size };

	return vioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
}

static int create_window(int c, uint64_t size, uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof(cr),
		.page_shift = 16, .window_size = size, .levels = 1 };
	int ret = vioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr);

	*start = cr.start_addr;
	return ret;
}

static int remove_window(int c, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm),
		.start_addr = start };

	return vioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
}

static int reg64(int d, unsigned int off, uint64_t v)
{
	return vpwrite(d, &v, 8, BAR0 + off) == 8 ? 0 : -1;
}

/* 0 when every step worked. */
static int vf_setup(struct vf *f, const char *group, const char *dev)
{
	uint16_t cmd = 6;	/* memory, bus master */
	int bad = 0;

	f->ram = alloc_ram(MEM);
	f->c = vopen("/dev/vfio/vfio", O_RDWR);
	f->g = vopen(group, O_RDWR);
	bad |= !f->ram || f->c < 0 || f->g < 0;
	bad |= vioctl(f->g, VFIO_GROUP_SET_CONTAINER, &f->c) != 0;
	bad |= vioctl(f->c, VFIO_SET_IOMMU, (void *)VFIO_SPAPR_TCE_v2_IOMMU) != 0;
	bad |= reg(f->c, f->ram, MEM, true) != 0;
	bad |= create_window(f->c, MEM, &f->win) != 0;
	bad |= map(f->c, f->ram, f->win, MEM / 2) != 0;
	f->d = vioctl(f->g, VFIO_GROUP_GET_DEVICE_FD, (void *)dev);
	bad |= f->d < 0 || vpwrite(f->d, &cmd, 2, CFG + 4) != 2;
	return bad;
}

static void vf_teardown(struct vf *f)
{
	vclose(f->d);
	vclose(f->g);
	vclose(f->c);
}

/* A FILL of @len bytes of @pattern at bus address @iova through device
 * descriptor @cmd_fd (the registers through @d): 0 when it ran and
 * finished, -1 with errno when the CMD write failed. */
static int dma_fill(int d, int cmd_fd, uint64_t iova, uint64_t len,
		    uint8_t pattern)
{
	uint64_t status = 0;

	if (reg64(d, REG_DST, iova) || reg64(d, REG_LEN, len) ||
	    reg64(d, REG_PATTERN, pattern))
		return -2;
	if (reg64(cmd_fd, REG_CMD, CMD_FILL))
		return -1;
	if (vpread(d, &status, 8, BAR0 + REG_STATUS) != 8 || status != 1)
		return -2;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- close races ----------------------------------------------------- */

/*
 * Two descriptor numbers, nc (a container) and nd (a device), are closed
 * and made again (dup2 of the originals) over and over by one thread;
 * others make every kind of call on those numbers. Each call runs against
 * the object or fails with EBADF - never reaches the descriptor
 * underneath (ENOTTY, a write that did nothing, a mapping).
 */
struct race {
	struct vf *f;
	int nc, nd;
	atomic_bool stop;
	atomic_uint served, ebadf, bad;
	atomic_uint bad_op[16];
};

static void race_result(struct race *r, unsigned int op, bool served,
			bool ebadf)
{
	if (served)
		atomic_fetch_add(&r->served, 1);
	else if (ebadf)
		atomic_fetch_add(&r->ebadf, 1);
	else {
		atomic_fetch_add(&r->bad, 1);
		atomic_fetch_add(&r->bad_op[op], 1);
	}
}

/* A dup's result: a working copy of a container, or EBADF. */
static bool dup_ok(int fd, bool *served)
{
	bool ok;

	*served = fd >= 0;
	if (fd < 0)
		return errno == EBADF;
	ok = vkind(fd) == 'C' &&
	     vioctl(fd, VFIO_GET_API_VERSION, NULL) == VFIO_API_VERSION;
	vclose(fd);
	return ok;
}

static void race_op(struct race *r, unsigned int op, unsigned int me)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint64_t iova = r->f->win + MEM / 2 + (uint64_t)me * 0x10000, v = 0;
	struct iovec iov = { &v, 8 };
	bool served = false, ok;
	int ret, k;

	errno = 0;
	switch (op) {
	case 0:
		ret = map(r->nc, r->f->ram + MEM / 2, iova, 0x10000);
		ok = ret == 0 || errno == EBADF;
		served = ret == 0;
		if (served && unmap(r->f->c, iova, 0x10000))
			ok = false;
		break;
	case 1:
		k = vkind(r->nc);
		ok = k == 'C' || !k;
		served = k == 'C';
		break;
	case 2:
		ok = dup_ok(vdup(r->nc), &served);
		break;
	case 3:
		ret = vgetfl(r->nc);
		ok = ret >= 0 ? (ret & O_ACCMODE) == O_RDWR && !(ret & O_PATH)
			      : errno == EBADF;
		served = ret >= 0;
		break;
	case 4:
		ret = vmmap_err(r->nc);
		ok = ret == ENODEV || ret == EBADF;
		served = ret == ENODEV;
		break;
	case 5:
		ret = (int)vpread(r->nd, &v, 8, BAR0);
		ok = ret == 8 ? v == DEV_ID : ret < 0 && errno == EBADF;
		served = ret == 8;
		break;
	case 6:
		ret = vioctl(r->nd, VFIO_DEVICE_GET_INFO, &info);
		ok = ret == 0 || errno == EBADF;
		served = ret == 0;
		break;
	case 7:
		ok = dup_ok(vdupfd(r->nc, 0), &served);
		break;
	default:
#ifdef LIFECYCLE_HOST
		ret = (int)vpread(r->nd, &v, 8, BAR0);
#else
		ret = (int)preadv(r->nd, &iov, 1, BAR0);
#endif
		(void)iov;
		ok = ret == 8 ? v == DEV_ID : ret < 0 && errno == EBADF;
		served = ret == 8;
		break;
	}
	race_result(r, op, served && ok, !served && ok);
}

struct racer {
	struct race *r;
	unsigned int me;
};

static void *racer(void *arg)
{
	struct racer *x = arg;

	for (unsigned int i = 0; !atomic_load(&x->r->stop); i++)
		race_op(x->r, (i + x->me) % 9, x->me);
	return NULL;
}

/* Device commands through the racing number: one that answers 8 ran. */
static void *dma_racer(void *arg)
{
	struct race *r = arg;
	uint8_t *target = r->f->ram + 0x10000;

	for (unsigned int i = 1; !atomic_load(&r->stop); i++) {
		uint8_t p = (uint8_t)(i | 1);
		int ret;

		memset(target, 0, 4096);
		ret = dma_fill(r->f->d, r->nd, r->f->win + 0x10000, 4096, p);
		if (!ret && target[0] == p && target[4095] == p)
			race_result(r, 9, true, false);
		else if (ret == -1 && errno == EBADF && !target[0])
			race_result(r, 9, false, true);
		else
			race_result(r, 9, false, false);
	}
	return NULL;
}

static void test_close_race(void)
{
	enum { RACERS = 3 };
	struct race r = { 0 };
	struct racer x[RACERS];
	pthread_t t[RACERS + 1];
	unsigned int rounds = 3000;
	struct vf f;

	CHECK(!vf_setup(&f, "/dev/vfio/0", DEV0));
	r.f = &f;
	/* High numbers: the racers' own dups (lowest free) never get them,
	 * so only the closer changes what they name. */
	r.nc = vdup2(f.c, 900);
	r.nd = vdup2(f.d, 901);
	CHECK(r.nc >= 0 && r.nd >= 0);
	for (unsigned int i = 0; i < RACERS; i++) {
		x[i] = (struct racer){ &r, i };
		pthread_create(&t[i], NULL, racer, &x[i]);
	}
	pthread_create(&t[RACERS], NULL, dma_racer, &r);
	uint64_t end = now_ns() + 1500000000ull;

	for (unsigned int i = 0; i < rounds && (i < 200 || now_ns() < end); i++) {
		CHECK(vclose(r.nc) == 0 && vclose(r.nd) == 0);
		if (i % 4)
			sched_yield();	/* stay closed for a while */
		CHECK(vdup2(f.c, r.nc) == r.nc && vdup2(f.d, r.nd) == r.nd);
		sched_yield();
	}
	atomic_store(&r.stop, true);
	for (unsigned int i = 0; i <= RACERS; i++)
		pthread_join(t[i], NULL);
	printf("# close race: %u served, %u EBADF, %u wrong\n",
	       atomic_load(&r.served), atomic_load(&r.ebadf), atomic_load(&r.bad));
	for (unsigned int i = 0; i < 16; i++)
		if (atomic_load(&r.bad_op[i]))
			printf("# op %u: %u wrong\n", i, atomic_load(&r.bad_op[i]));
	CHECK(atomic_load(&r.bad) == 0);
	CHECK(atomic_load(&r.served) > 0 && atomic_load(&r.ebadf) > 0);
	vclose(r.nc);
	vclose(r.nd);
	vf_teardown(&f);
}

/* ---- signal handlers ------------------------------------------------ */

/*
 * A thread doing long DMAs, then maps, then registrations is interrupted
 * every few hundred microseconds by a handler that duplicates and closes
 * descriptors of the same host - a dup of the device and its close, the
 * last descriptor of a container, a dup2 over one - and makes an ioctl
 * (which may answer EDEADLK when it interrupted one of the thread's own).
 * Nothing hangs; every call answers.
 */
#define POOL 48
static struct {
	struct vf *f;
	int pool[3][POOL];
	atomic_int phase, left[3];
	atomic_uint handled, dups, closes, dup2s, ioctl_ok, ioctl_deadlk, bad;
} sig;

static void sig_handler(int signo)
{
	int saved = errno, ph = atomic_load(&sig.phase), n, i;

	(void)signo;
	atomic_fetch_add(&sig.handled, 1);
	n = vdup(sig.f->d);
	if (n >= 0 && vclose(n) == 0)
		atomic_fetch_add(&sig.dups, 1);
	else
		atomic_fetch_add(&sig.bad, 1);
	/* A fresh container of the pool: its last descriptor closed (odd),
	 * or replaced by a dup2 of the container in use (even). */
	i = atomic_fetch_sub(&sig.left[ph], 1) - 1;
	if (i >= 0 && (i & 1)) {
		if (vclose(sig.pool[ph][i]) == 0)
			atomic_fetch_add(&sig.closes, 1);
		else
			atomic_fetch_add(&sig.bad, 1);
	} else if (i >= 0) {
		if (vdup2(sig.f->c, sig.pool[ph][i]) == sig.pool[ph][i])
			atomic_fetch_add(&sig.dup2s, 1);
		else
			atomic_fetch_add(&sig.bad, 1);
	}
	if (vioctl(sig.f->c, VFIO_GET_API_VERSION, NULL) == VFIO_API_VERSION)
		atomic_fetch_add(&sig.ioctl_ok, 1);
	else if (errno == EDEADLK)
		atomic_fetch_add(&sig.ioctl_deadlk, 1);
	else
		atomic_fetch_add(&sig.bad, 1);
	errno = saved;
}

struct sig_worker {
	struct vf *f;
	atomic_bool done;
	unsigned int bad, dmas, maps, regs;
};

static void *sig_work(void *arg)
{
	struct sig_worker *w = arg;
	uint8_t *extra = alloc_ram(1u << 20);
	uint64_t end;

	atomic_store(&sig.phase, 0);
	for (end = now_ns() + 400000000ull; now_ns() < end; w->dmas++)
		w->bad += dma_fill(w->f->d, w->f->d, w->f->win, MEM / 2,
				   (uint8_t)w->dmas) != 0;
	atomic_store(&sig.phase, 1);
	for (end = now_ns() + 400000000ull; now_ns() < end; w->maps++) {
		w->bad += map(w->f->c, w->f->ram + MEM / 2, w->f->win + MEM / 2,
			      MEM / 2) != 0;
		w->bad += unmap(w->f->c, w->f->win + MEM / 2, MEM / 2) != 0;
	}
	atomic_store(&sig.phase, 2);
	for (end = now_ns() + 400000000ull; now_ns() < end; w->regs++) {
		w->bad += reg(w->f->c, extra, 1u << 20, true) != 0;
		w->bad += reg(w->f->c, extra, 1u << 20, false) != 0;
	}
	atomic_store(&w->done, true);
	return NULL;
}

static void test_signals(void)
{
	struct sigaction sa = { .sa_handler = sig_handler };
	struct sig_worker w = { 0 };
	unsigned int before;
	pthread_t t;
	struct vf f;

	CHECK(!vf_setup(&f, "/dev/vfio/0", DEV0));
	sig.f = w.f = &f;
	before = vopen_fds();
	for (int ph = 0; ph < 3; ph++) {
		for (int i = 0; i < POOL; i++)
			sig.pool[ph][i] = vopen("/dev/vfio/vfio", O_RDWR);
		atomic_store(&sig.left[ph], POOL);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&t, NULL, sig_work, &w);
	while (!atomic_load(&w.done)) {
		pthread_kill(t, SIGUSR1);
		usleep(300);
	}
	pthread_join(t, NULL);
	signal(SIGUSR1, SIG_DFL);
	printf("# signals: %u handled (%u dups, %u last closes, %u dup2s, "
	       "ioctl %u ok %u EDEADLK); %u DMAs, %u maps, %u registrations\n",
	       atomic_load(&sig.handled), atomic_load(&sig.dups),
	       atomic_load(&sig.closes), atomic_load(&sig.dup2s),
	       atomic_load(&sig.ioctl_ok), atomic_load(&sig.ioctl_deadlk),
	       w.dmas, w.maps, w.regs);
	CHECK(w.bad == 0 && atomic_load(&sig.bad) == 0);
	CHECK(atomic_load(&sig.handled) > 0 && atomic_load(&sig.closes) > 0);
	/* What the handler left: the untouched ones and the dup2s. */
	for (int ph = 0; ph < 3; ph++)
		for (int i = 0; i < POOL; i++)
			if (i < atomic_load(&sig.left[ph]) || !(i & 1))
				CHECK(vclose(sig.pool[ph][i]) == 0);
	/* Everything the handler closed or dup'd over is gone. */
	CHECK(vopen_fds() == before);
	vf_teardown(&f);
}

/* ---- fork ------------------------------------------------------------ */

enum kind { K_REGISTER, K_UNREGISTER, K_MAP, K_DMA, K_OPEN, K_GROUP,
	    K_TCE_CREATE, K_IOMMUFD, K_NR };
static const char *const kind_names[K_NR] = {
	"REGISTER", "UNREGISTER", "MAP/UNMAP", "DMA (pwrite CMD)",
	"open/close", "group ioctls", "TCE_CREATE", "iommufd",
};

struct bg {
	struct vf *f;
	enum kind kind;
	uint8_t *extra;
	atomic_bool stop;
	unsigned int bad;
};

/* The kinds whose calls hold the process's account, registration or pin
 * locks (src/account, src/prereg): a child forked in one needs their
 * reset (the pinning branch); without it, it skips what takes them. */
static bool holds_mm_locks(enum kind k)
{
	return k == K_REGISTER || k == K_UNREGISTER || k == K_TCE_CREATE;
}

static void bg_once(struct bg *b)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	struct vf *f = b->f;
	uint64_t w = 0;
	int fd, fd2;

	switch (b->kind) {
	case K_REGISTER:
	case K_UNREGISTER:
		b->bad += reg(f->c, b->extra, 1u << 20, b->kind == K_REGISTER) != 0;
		b->bad += reg(f->c, b->extra, 1u << 20, b->kind != K_REGISTER) != 0;
		break;
	case K_MAP:
		b->bad += map(f->c, f->ram + MEM / 2, f->win + MEM / 2, MEM / 2) != 0;
		b->bad += unmap(f->c, f->win + MEM / 2, MEM / 2) != 0;
		break;
	case K_DMA:
		b->bad += dma_fill(f->d, f->d, f->win, 1u << 20, 0x5a) != 0;
		break;
	case K_OPEN:
		fd = vopen("/dev/vfio/vfio", O_RDWR);
		fd2 = vopen("/dev/iommu", O_RDWR);
		b->bad += fd < 0 || fd2 < 0;
		b->bad += vclose(fd) != 0 || vclose(fd2) != 0;
		break;
	case K_GROUP:
		b->bad += vioctl(f->g, VFIO_GROUP_GET_STATUS, &status) != 0;
		fd = vioctl(f->g, VFIO_GROUP_GET_DEVICE_FD, (void *)DEV0);
		b->bad += fd < 0 || vclose(fd) != 0;
		break;
	case K_TCE_CREATE:
		/* The 64-bit window taken away and made again (the PE has
		 * room for one): the same place. */
		b->bad += remove_window(f->c, f->win) != 0;
		b->bad += create_window(f->c, MEM, &w) != 0 || w != f->win;
		break;
	case K_IOMMUFD:
		fd = vopen("/dev/iommu", O_RDWR);
		b->bad += fd < 0 || vioctl(fd, IOMMU_IOAS_ALLOC, &ioas) != 0;
		destroy.id = ioas.out_ioas_id;
		b->bad += vioctl(fd, IOMMU_DESTROY, &destroy) != 0;
		b->bad += vclose(fd) != 0;
		break;
	case K_NR:
		break;
	}
}

static void *bg_run(void *arg)
{
	struct bg *b = arg;

	while (!atomic_load(&b->stop))
		bg_once(b);
	return NULL;
}

/*
 * A child that hangs is ended by SIGALRM; its status tells where it was:
 * CHILD_SANITIZER when inside a sanitizer's runtime. GCC 12's ASan
 * allocator has no fork handlers: a child forked while another thread
 * held its lock waits for it forever in malloc or free (glibc's malloc is
 * made whole in the child; the library's own locks are what the test is
 * about). Those are counted apart, not as our hangs.
 */
#define CHILD_SANITIZER	98
#define CHILD_HUNG	99

static void child_alarm(int signo)
{
	void *pc[64];
	int n = backtrace(pc, 64);
	Dl_info info;

	(void)signo;
	for (int i = 0; i < n; i++)
		if (dladdr(pc[i], &info) && info.dli_fname &&
		    (strstr(info.dli_fname, "libasan") ||
		     strstr(info.dli_fname, "libtsan")))
			_exit(CHILD_SANITIZER);
	_exit(CHILD_HUNG);
}

/* A child's container and group without registered memory: what needs
 * no lock of the account or the registrations. 0 when it all worked. */
static int child_structural(void)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	int c = vopen("/dev/vfio/vfio", O_RDWR), g = vopen("/dev/vfio/0", O_RDWR);
	uint64_t v = 0;
	int d, bad = c < 0 || g < 0;

	bad |= vioctl(g, VFIO_GROUP_SET_CONTAINER, &c) != 0;
	bad |= vioctl(c, VFIO_SET_IOMMU, (void *)VFIO_SPAPR_TCE_v2_IOMMU) != 0;
	bad |= vioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info) != 0;
	d = vioctl(g, VFIO_GROUP_GET_DEVICE_FD, (void *)DEV0);
	bad |= d < 0 || vpread(d, &v, 8, BAR0) != 8 || v != DEV_ID;
	bad |= vclose(d) || vclose(g) || vclose(c);
	return bad;
}

/*
 * The child, just forked: the inherited descriptors answer as a child's
 * (the core's answers, EPERM, the group busy), then, all closed, a fresh
 * container, group, registration, window, map and device DMA work. Exit
 * status: the first step that failed (0: none).
 *
 * Registrations and the locked-memory account are reset in a child by
 * src/prereg and src/account (their own fork handlers): where that is
 * missing (the child's VmLck is the parent's), the child does only what
 * takes none of their locks, and nothing at all after a fork during a
 * call that holds them.
 */
static int child(struct vf *f, bool mm_locks)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vf n;
	bool reset;

	signal(SIGALRM, child_alarm);
	alarm(10);	/* a hang ends the child */
	if (vioctl(f->c, VFIO_GET_API_VERSION, NULL) != VFIO_API_VERSION)
		return 1;
	if (vioctl(f->c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info) != -1 ||
	    errno != EPERM)
		return 2;
	reset = vlocked_kb() == 0;
	if (!reset && mm_locks) {
		vclose_all();
		return 0;
	}
	if (vopen("/dev/vfio/0", O_RDWR) != -1 || errno != EBUSY)
		return 3;
	vclose_all();
	if (!reset)
		return child_structural() ? 4 : 0;
	if (vf_setup(&n, "/dev/vfio/0", DEV0))
		return 5;
	if (dma_fill(n.d, n.d, n.win, 4096, 0xc3) || n.ram[4095] != 0xc3)
		return 6;
	vf_teardown(&n);
	return vlocked_kb() != 0 ? 7 : 0;
}

/* The child's exit status, or -1 when it did not end within 30 s. */
static int reap(pid_t pid)
{
	int status;

	for (unsigned int i = 0; i < 30000; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			       128 + WTERMSIG(status);
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void test_fork(void)
{
	unsigned int forks = 100;
	struct vf f;

#ifdef UNDER_TSAN
	forks = 20;	/* a TSan fork copies its shadow: ~50x slower */
#endif
	backtrace((void *[1]){ 0 }, 1);	/* loads libgcc now, not in a child */
	CHECK(!vf_setup(&f, "/dev/vfio/0", DEV0));
	for (enum kind k = 0; k < K_NR; k++) {
		struct bg b = { .f = &f, .kind = k, .extra = alloc_ram(1u << 20) };
		unsigned int hung = 0, failed = 0, first = 0, san = 0;
		pthread_t t;

		if (k == K_UNREGISTER)
			CHECK(reg(f.c, b.extra, 1u << 20, true) == 0);
		pthread_create(&t, NULL, bg_run, &b);
		for (unsigned int i = 0; i < forks; i++) {
			pid_t pid;
			int st;

			usleep(100 + (i * 37) % 400);
			fflush(stdout);
			pid = fork();
			if (!pid)
				_exit(child(&f, holds_mm_locks(k)));
			st = reap(pid);
			san += st == CHILD_SANITIZER;
			hung += st < 0 || st == CHILD_HUNG;
			failed += st > 0 && st != CHILD_SANITIZER && st != CHILD_HUNG;
			if (st && st != CHILD_SANITIZER && !first)
				first = (unsigned int)st;
		}
		atomic_store(&b.stop, true);
		pthread_join(t, NULL);
		if (k == K_UNREGISTER)
			CHECK(reg(f.c, b.extra, 1u << 20, false) == 0);
		if (k == K_TCE_CREATE)	/* the new window is empty */
			CHECK(map(f.c, f.ram, f.win, MEM / 2) == 0);
		printf("# fork during %s: %u forks, %u hung, %u failed (first "
		       "status %u), %u stuck in the sanitizer's allocator\n",
		       kind_names[k], forks, hung, failed, first, san);
		CHECK(hung == 0 && failed == 0 && b.bad == 0);
	}
	/* The parent is unaffected. */
	memset(f.ram, 0, 4096);
	CHECK(dma_fill(f.d, f.d, f.win, 4096, 0x77) == 0 && f.ram[100] == 0x77);
	CHECK(map(f.c, f.ram + MEM / 2, f.win + MEM / 2, 0x10000) == 0);
	CHECK(unmap(f.c, f.win + MEM / 2, 0x10000) == 0);
	vf_teardown(&f);
}

/* ---- descriptor numbers and RLIMIT_NOFILE ------------------------- */

/*
 * Without the right to raise RLIMIT_NOFILE past 65536: the host's table
 * alone, told of descriptors by number (stce_host_dup: the caller made
 * the duplicate), from 65536 to the last one Linux can hand out.
 */
static void high_fds_table(int c)
{
#ifdef LIFECYCLE_HOST
	static const int nums[] = { 65535, 65536, 100000, (1 << 20) - 1 };

	for (unsigned int i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		CHECK(stce_host_dup(H, c, nums[i]) == nums[i]);
		CHECK(stce_host_ioctl(H, nums[i], VFIO_GET_API_VERSION, NULL) ==
		      VFIO_API_VERSION);
		CHECK(stce_host_fd_kind(H, nums[i]) == STCE_HOST_FD_CONTAINER);
		/* No real descriptor there: the host forgets it. */
		CHECK(stce_host_close(H, nums[i]) == 0);
		CHECK(!stce_host_fd_ours(H, nums[i]));
	}
	/* Past what Linux hands out (fs.nr_open is at most 1 << 20 by
	 * default): EBADF, as the kernel's dup2 past the limit. */
	CHECK(stce_host_dup(H, c, 1 << 20) == -1 && errno == EBADF);
	printf("# high fds: RLIMIT_NOFILE cannot be raised here: the table "
	       "alone, to %d\n", (1 << 20) - 1);
#else
	(void)c;
	printf("# high fds: RLIMIT_NOFILE cannot be raised here, skipped\n");
#endif
}

/* Descriptor numbers past the old 65536-entry table: dup2 onto one, and
 * opens when every lower number is taken. */
static void test_high_fds(void)
{
	struct rlimit old, rl = { 140000, 140000 };
	int c = vopen("/dev/vfio/vfio", O_RDWR), hi, null, top = 66000, n;

	getrlimit(RLIMIT_NOFILE, &old);
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		high_fds_table(c);
		vclose(c);
		return;
	}
	hi = vdup2(c, 100000);
	CHECK(hi == 100000);
	CHECK(vioctl(hi, VFIO_GET_API_VERSION, NULL) == VFIO_API_VERSION);
	CHECK(vkind(hi) == 'C');
	CHECK(vclose(hi) == 0);
	CHECK(vioctl(hi, VFIO_GET_API_VERSION, NULL) == -1 && errno == EBADF);
	/* Every number below 66000 taken: the next open is above it. */
	null = open("/dev/null", O_RDONLY);
	for (n = 0; n < top; n++)
		if (fcntl(n, F_GETFD) < 0)
			dup2(null, n);
	hi = vopen("/dev/vfio/vfio", O_RDWR);
	CHECK(hi >= top);
	CHECK(vioctl(hi, VFIO_CHECK_EXTENSION,
		     (void *)VFIO_SPAPR_TCE_v2_IOMMU) == 1);
	CHECK(vkind(hi) == 'C' && vgetfl(hi) >= 0);
	n = vdup(hi);
	CHECK(n > hi && vkind(n) == 'C');
	CHECK(vclose(n) == 0 && vclose(hi) == 0);
	/* The fillers (and null): not ours, back to libc. */
	close_range((unsigned int)null, (unsigned int)top, 0);
	vclose(c);
	setrlimit(RLIMIT_NOFILE, &old);
}

/* Take every free descriptor below the soft limit @lim (returns the
 * first taken; they are closed by close_range from it). */
static int fill_to(int lim)
{
	int first = -1, fd;

	while ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd < lim)
		if (first < 0)
			first = fd;
	return first;
}

/*
 * At RLIMIT_NOFILE the calls the kernel serves without a descriptor work:
 * ioctls (MAP, UNMAP, GET_INFO, SET_IRQS with an eventfd, whose interrupt
 * arrives), region access, fstat, fcntl, close. With one free: each call
 * that makes one (open, GET_DEVICE_FD, dup, fopen of /proc/self/status).
 */
static void test_rlimit(void)
{
	char buf[sizeof(struct vfio_irq_set) + 4];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct rlimit old, rl;
	int efd, first, fd, lim;
	struct pollfd p;
	uint64_t v;
	struct vf f;
	FILE *st;

	CHECK(!vf_setup(&f, "/dev/vfio/0", DEV0));
	efd = eventfd(0, EFD_CLOEXEC);
	getrlimit(RLIMIT_NOFILE, &old);
	lim = efd + 8;
	rl = (struct rlimit){ (rlim_t)lim, old.rlim_max };
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	first = fill_to(lim);
	CHECK(first >= 0 && open("/dev/null", O_RDONLY) == -1 && errno == EMFILE);
	CHECK(map(f.c, f.ram + MEM / 2, f.win + MEM / 2, 0x10000) == 0);
	CHECK(unmap(f.c, f.win + MEM / 2, 0x10000) == 0);
	CHECK(vioctl(f.c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info) == 0);
	CHECK(vpread(f.d, &v, 8, BAR0) == 8 && v == DEV_ID);
	CHECK(vkind(f.c) == 'C' && vkind(f.d) == 'D' && vgetfl(f.c) >= 0);
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_INTX_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, 4);
	CHECK(vioctl(f.d, VFIO_DEVICE_SET_IRQS, set) == 0);
	CHECK(reg64(f.d, REG_DST, f.win) == 0 && reg64(f.d, REG_LEN, 4096) == 0);
	CHECK(reg64(f.d, REG_CMD, CMD_FILL | 0x80000000u) == 0);
	p = (struct pollfd){ .fd = efd, .events = POLLIN };
	CHECK(poll(&p, 1, 5000) == 1 && read(efd, &v, 8) == 8 && v == 1);
	/* One free: what needs exactly one descriptor. */
	close(lim - 1);
	fd = vopen("/dev/vfio/vfio", O_RDWR);
	CHECK(fd >= 0 && vclose(fd) == 0);
	fd = vioctl(f.g, VFIO_GROUP_GET_DEVICE_FD, (void *)DEV0);
	CHECK(fd >= 0 && vclose(fd) == 0);
	fd = vdup(f.c);
	CHECK(fd >= 0 && vclose(fd) == 0);
#ifndef LIFECYCLE_HOST
	st = fopen("/proc/self/status", "r");
	CHECK(st != NULL);
	if (st)
		fclose(st);
#else
	st = stce_proc_status_open();
	CHECK(st != NULL);
	if (st)
		fclose(st);
#endif
	close_range((unsigned int)first, (unsigned int)lim, 0);
	setrlimit(RLIMIT_NOFILE, &old);
	set->count = 0;
	set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	CHECK(vioctl(f.d, VFIO_DEVICE_SET_IRQS, set) == 0);
	close(efd);
	vf_teardown(&f);
}

/* ---- scale ----------------------------------------------------------- */

/* One round: every container made, used and torn down; 0 when all
 * worked. @round 1 prints what was open. */
static unsigned int scale_round(int round)
{
	enum { N = 1000, GROUPS = 64 };
	static int c[N], g[GROUPS], dev[GROUPS];
	static uint8_t *ram[GROUPS];
	unsigned int before = vopen_fds(), bad = 0;
	long kb = vlocked_kb();
	char path[32];
	uint64_t w;

	for (int i = 0; i < N; i++)
		bad += (c[i] = vopen("/dev/vfio/vfio", O_RDWR)) < 0;
	for (int i = 0; i < GROUPS; i++) {
		snprintf(path, sizeof(path), "/dev/vfio/%d", i);
		g[i] = vopen(path, O_RDWR);
		ram[i] = alloc_ram(1u << 20);
		bad += g[i] < 0 || !ram[i];
		bad += vioctl(g[i], VFIO_GROUP_SET_CONTAINER, &c[i]) != 0;
		bad += vioctl(c[i], VFIO_SET_IOMMU,
			      (void *)VFIO_SPAPR_TCE_v2_IOMMU) != 0;
		bad += reg(c[i], ram[i], 1u << 20, true) != 0;
		bad += create_window(c[i], 1u << 30, &w) != 0;
		bad += map(c[i], ram[i], w, 1u << 20) != 0;
		snprintf(path, sizeof(path), "0030:%02x:00.0", i + 1);
		dev[i] = vioctl(g[i], VFIO_GROUP_GET_DEVICE_FD, path);
		bad += dev[i] < 0;
	}
	for (int i = GROUPS; i < N; i++) {
		bad += reg(c[i], ram[0], 1u << 20, true) != -1 || errno != EINVAL;
		bad += create_window(c[i], 1u << 30, &w) != -1 || errno != EINVAL;
	}
	bad += vlocked_kb() <= kb;
	if (round)
		printf("# scale: %d containers, %d with a group, region, window "
		       "and map; %u descriptors open, VmLck +%ld kB\n", N,
		       GROUPS, vopen_fds() - before, vlocked_kb() - kb);
	for (int i = 0; i < GROUPS; i++) {
		bad += vclose(dev[i]) != 0 || vclose(g[i]) != 0;
		munmap(ram[i], 1u << 20);
	}
	for (int i = 0; i < N; i++)
		bad += vclose(c[i]) != 0;
	bad += vlocked_kb() != kb;
	/* The first round leaves what the host keeps for good (the memory
	 * module's descriptors, opened at the first pin): round 1 none. */
	bad += round && vopen_fds() != before;
	return bad;
}

/*
 * A thousand containers open at once. A group is in one container at a
 * time and the kernel has no IOMMU (so no region, no window) in a
 * container without a group: the topology's 64 PEs give 64 of them a
 * group, a registered region, a window and a mapping; the other 936 are
 * bare (REGISTER and TCE_CREATE EINVAL, as on the kernel: oracle client
 * fdflags.c). All torn down, twice: no descriptor, locked memory or host
 * object left (the leak checker sees the memory at exit).
 */
static void test_scale(void)
{
	CHECK(scale_round(0) == 0);
	CHECK(scale_round(1) == 0);
}

static const struct client_test tests[] = {
	{ "close_race", test_close_race },
	{ "signals", test_signals },
	{ "fork", test_fork },
	{ "high_fds", test_high_fds },
	{ "rlimit", test_rlimit },
	{ "scale", test_scale },
};

int main(int argc, char **argv)
{
	struct client_test run[sizeof(tests) / sizeof(tests[0])];
	size_t n = 0;

#ifdef LIFECYCLE_HOST
	struct stce_topology *topo = NULL;
	char err[256];

	if (stce_topology_from_env(&topo, err, sizeof(err)) ||
	    stce_host_create(topo, &H)) {
		printf("no host: %s\n", err);
		return 1;
	}
	stce_topology_free(topo);
#endif
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		bool want = argc < 2 && strcmp(tests[i].name, "scale");

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], tests[i].name);
		if (want)
			run[n++] = tests[i];
	}
	n = (size_t)client_run(run, n);
#ifdef LIFECYCLE_HOST
	stce_host_destroy(H);
#endif
	return (int)n;
}
