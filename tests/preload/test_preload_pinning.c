// SPDX-License-Identifier: MIT
/*
 * "Pinned means pinned" as a program that knows nothing of spapr-tce sees
 * it (libc and <linux/vfio.h> only; run with LD_PRELOAD): REGISTER (v2)
 * or MAP (v1) a buffer, change the mapping with the ordinary libc calls,
 * make the DMA test device FILL or COPY, and check that the device reached
 * the pinned pages and nothing else: munmap, munmap + a new mapping at the
 * same address, MAP_FIXED over, mremap, mprotect, MADV_DONTNEED, the
 * program's own mlock, shmdt, syscall(SYS_munmap), a writer racing REGISTER,
 * fork, RLIMIT_NOFILE, and 10,000 registrations.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "../lib/smaps_locked.h"
#include "client.h"

#include "../lib/vfio_region.h"
#define HP	(64u << 10)
#define BUF	(1u << 20)

struct rig {
	int c, g, d;
	int v2;
	uint8_t *mem;
	uint64_t bus;
};

static uint8_t *map_buf(size_t size, int flags)
{
	uint8_t *p = mmap(NULL, size + HP, PROT_READ | PROT_WRITE,
			  flags | MAP_ANONYMOUS, -1, 0), *a;

	CHECK(p != MAP_FAILED);
	a = (uint8_t *)(((uintptr_t)p + HP - 1) & ~(uintptr_t)(HP - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + size, (size_t)(p + size + HP - (a + size)));
	memset(a, 0x11, size);
	return a;
}

static int reg(struct rig *r, unsigned long req, void *mem, size_t size)
{
	struct vfio_iommu_spapr_register_memory m = {
		.argsz = sizeof(m), .vaddr = (uintptr_t)mem, .size = size,
	};

	return ioctl(r->c, req, &m);
}

/* Container of v2 (registered) or v1 (pinned per MAP); @mem mapped R/W. */
static void rig_up(struct rig *r, int v2, uint8_t *mem)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	uint16_t cmd = 6;	/* memory + bus master */

	r->v2 = v2;
	r->mem = mem;
	r->bus = 0;
	r->c = open("/dev/vfio/vfio", O_RDWR);
	r->g = open("/dev/vfio/0", O_RDWR);
	CHECK(r->c >= 0 && r->g >= 0);
	CHECK(!ioctl(r->g, VFIO_GROUP_SET_CONTAINER, &r->c));
	CHECK(!ioctl(r->c, VFIO_SET_IOMMU, v2 ? VFIO_SPAPR_TCE_v2_IOMMU :
						VFIO_SPAPR_TCE_IOMMU));
	if (v2)
		CHECK(!reg(r, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, BUF));
	else
		CHECK(!ioctl(r->c, VFIO_IOMMU_ENABLE));
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)mem;
	map.iova = 0;		/* the default 32-bit window, 4K pages */
	map.size = BUF;
	CHECK(!ioctl(r->c, VFIO_IOMMU_MAP_DMA, &map));
	r->d = ioctl(r->g, VFIO_GROUP_GET_DEVICE_FD, "0030:01:00.0");
	CHECK(r->d >= 0);
	CHECK(pwrite(r->d, &cmd, 2, CFG + 4) == 2);
}

static void rig_down(struct rig *r)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .size = BUF };

	CHECK(!ioctl(r->c, VFIO_IOMMU_UNMAP_DMA, &u));
	if (r->v2)
		CHECK(!reg(r, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, r->mem, BUF));
	close(r->d);
	close(r->g);
	close(r->c);
}

static uint64_t bar(struct rig *r, unsigned int off)
{
	uint64_t v = 0;

	CHECK(pread(r->d, &v, 8, BAR0 + off) == 8);
	return v;
}

/* One device command; its status (1 done, 2 error). */
static uint64_t device(struct rig *r, uint64_t cmd, uint64_t src, uint64_t dst,
		       uint64_t len, uint64_t pattern)
{
	CHECK(pwrite(r->d, &src, 8, BAR0 + 0x08) == 8);
	CHECK(pwrite(r->d, &dst, 8, BAR0 + 0x10) == 8);
	CHECK(pwrite(r->d, &len, 8, BAR0 + 0x18) == 8);
	CHECK(pwrite(r->d, &pattern, 8, BAR0 + 0x20) == 8);
	CHECK(pwrite(r->d, &cmd, 8, BAR0 + 0x28) == 8);
	return bar(r, 0x30);
}

static uint64_t fill(struct rig *r, uint64_t iova, uint64_t len, uint8_t v)
{
	return device(r, 2, 0, iova, len, v);
}

/* FNV-1a of what the device reads, as the device computes it. */
static uint64_t fnv(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The device reads [iova, iova + len) as all @v. */
static int device_sees(struct rig *r, uint64_t iova, uint64_t len, uint8_t v)
{
	uint8_t *want = malloc(len);
	uint64_t h;

	memset(want, v, len);
	h = fnv(want, len);
	free(want);
	return device(r, 3, iova, 0, len, 0) == 1 && bar(r, 0x38) == h;
}

static int all(const uint8_t *p, uint8_t v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void test_munmap(int v2)
{
	struct rig r;

	rig_up(&r, v2, map_buf(BUF, MAP_PRIVATE));
	CHECK(fill(&r, 0, BUF, 0x22) == 1);
	errno = 1234;
	CHECK(munmap(r.mem, BUF) == 0 && errno == 1234);	/* as the syscall */
	CHECK(fill(&r, 0, BUF, 0x23) == 1);	/* no SIGSEGV */
	CHECK(device_sees(&r, 0, BUF, 0x23));
	rig_down(&r);
}

/* munmap + a new buffer at the same address: untouched by the device,
 * and a COPY from the stale IOVA reads the pinned pages, not it. */
static void test_munmap_new(int v2)
{
	struct rig r;
	uint8_t *again;

	rig_up(&r, v2, map_buf(BUF, MAP_PRIVATE));
	CHECK(fill(&r, 0, BUF, 0x44) == 1);
	CHECK(munmap(r.mem, BUF) == 0);
	again = mmap(r.mem, BUF, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(again == r.mem);
	memset(again, 0x55, BUF);
	CHECK(fill(&r, 0, BUF / 2, 0x66) == 1);
	CHECK(device(&r, 1, BUF / 2, 0, BUF / 2, 0) == 1);	/* COPY */
	CHECK(all(again, 0x55, BUF));
	CHECK(device_sees(&r, 0, BUF, 0x44));
	rig_down(&r);
	munmap(again, BUF);
}

static void test_map_fixed_over(int v2)
{
	struct rig r;

	rig_up(&r, v2, map_buf(BUF, MAP_PRIVATE));
	CHECK(fill(&r, 0, BUF, 0x12) == 1);
	CHECK(mmap(r.mem, BUF, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == r.mem);
	CHECK(all(r.mem, 0, BUF));
	CHECK(device_sees(&r, 0, BUF, 0x12));
	CHECK(fill(&r, 0, BUF, 0x13) == 1);
	CHECK(all(r.mem, 0, BUF));
	rig_down(&r);
	munmap(r.mem, BUF);
}

static void test_mremap(int v2)
{
	uint8_t *dst = map_buf(BUF, MAP_PRIVATE), *moved;
	struct rig r;

	rig_up(&r, v2, map_buf(BUF, MAP_PRIVATE));
	moved = mremap(r.mem, BUF, BUF, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(moved == dst);
	CHECK(fill(&r, 0, BUF, 0x77) == 1);
	CHECK(all(dst, 0x77, BUF));	/* the same pages, at their new place */
	rig_down(&r);
	munmap(dst, BUF);
}

static void test_mprotect(int v2)
{
	struct rig r;

	rig_up(&r, v2, map_buf(BUF, MAP_PRIVATE));
	CHECK(mprotect(r.mem, BUF, PROT_READ) == 0);
	CHECK(fill(&r, 0, BUF, 0x5a) == 1);
	CHECK(mprotect(r.mem, BUF, PROT_NONE) == 0);
	CHECK(fill(&r, 0, BUF / 2, 0x5b) == 1);
	CHECK(device_sees(&r, BUF / 2, BUF / 2, 0x5a));
	CHECK(mprotect(r.mem, BUF, PROT_READ | PROT_WRITE) == 0);
	CHECK(all(r.mem, 0x5b, BUF / 2) && all(r.mem + BUF / 2, 0x5a, BUF / 2));
	rig_down(&r);
	munmap(r.mem, BUF);
}

static void test_dontneed(int v2)
{
	struct rig r;

	rig_up(&r, v2, map_buf(BUF, MAP_PRIVATE));
	CHECK(fill(&r, 0, BUF, 0x3c) == 1);
	CHECK(madvise(r.mem, BUF, MADV_DONTNEED) == 0);	/* the kernel's 0 */
	CHECK(all(r.mem, 0, BUF));
	CHECK(device_sees(&r, 0, BUF, 0x3c));
	rig_down(&r);
	munmap(r.mem, BUF);
}


static void test_own_mlock(int v2)
{
	uint8_t *mem = map_buf(BUF, MAP_PRIVATE);
	struct rig r;

	/* Raw: sanitizer runtimes make libc's mlock a no-op. */
	CHECK(syscall(SYS_mlock, mem, BUF) == 0);
	CHECK(smaps_locked_kb(mem) == 1024);
	rig_up(&r, v2, mem);
	rig_down(&r);
	CHECK(smaps_locked_kb(mem) == 1024);	/* the program's lock is its own */
	CHECK(syscall(SYS_munlock, mem, BUF) == 0);
	munmap(mem, BUF);
}

static void test_shmdt(int v2)
{
	int id = shmget(IPC_PRIVATE, BUF, IPC_CREAT | 0600);
	uint8_t *mem = map_buf(BUF, MAP_PRIVATE);
	struct rig r;

	CHECK(id >= 0);
	munmap(mem, BUF);
	CHECK(shmat(id, mem, 0) == mem);	/* at a 64K-aligned place */
	CHECK(shmctl(id, IPC_RMID, NULL) == 0);
	memset(mem, 0x11, BUF);
	rig_up(&r, v2, mem);
	errno = 4321;
	CHECK(shmdt(mem) == 0 && errno == 4321);
	CHECK(device_sees(&r, 0, BUF, 0x11));
	CHECK(fill(&r, 0, BUF, 0x21) == 1);
	CHECK(device_sees(&r, 0, BUF, 0x21));
	rig_down(&r);
}

static void test_syscall_munmap(int v2)
{
	struct rig r;

	rig_up(&r, v2, map_buf(BUF, MAP_PRIVATE));
	CHECK(fill(&r, 0, BUF, 0x31) == 1);
	CHECK(syscall(SYS_munmap, r.mem, BUF) == 0);
	CHECK(device_sees(&r, 0, BUF, 0x31));
	rig_down(&r);
}

struct writer {
	volatile uint64_t *words;
	size_t nr;
	atomic_int stop;
	atomic_ulong passes;
	uint64_t done;
};

static void *write_loop(void *arg)
{
	struct writer *w = arg;
	uint64_t done = 0;

	while (!atomic_load(&w->stop)) {
		for (size_t i = 0; i < w->nr; i++)
			w->words[i * 512]++;
		done += w->nr;
		atomic_fetch_add(&w->passes, 1);
	}
	w->done = done;
	return NULL;
}

/* A thread writing while REGISTER runs loses no write. */
static void test_racing_writer(void)
{
	const size_t size = 64u << 20;
	struct writer w = { .nr = size / 4096 };
	struct rig r = { 0 };
	uint64_t sum = 0;
	pthread_t t;

	w.words = (volatile uint64_t *)mmap(NULL, size, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(w.words != MAP_FAILED);
	r.c = open("/dev/vfio/vfio", O_RDWR);
	r.g = open("/dev/vfio/0", O_RDWR);
	CHECK(!ioctl(r.g, VFIO_GROUP_SET_CONTAINER, &r.c));
	CHECK(!ioctl(r.c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	pthread_create(&t, NULL, write_loop, &w);
	for (int i = 0; i < 4; i++) {
		CHECK(!reg(&r, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, (void *)w.words,
			   size));
		CHECK(!reg(&r, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,
			   (void *)w.words, size));
	}
	while (atomic_load(&w.passes) < 2)	/* it ran during them, too */
		sched_yield();
	atomic_store(&w.stop, 1);
	pthread_join(t, NULL);
	for (size_t i = 0; i < w.nr; i++)
		sum += w.words[i * 512];
	CHECK(w.done && sum == w.done);
	close(r.g);
	close(r.c);
	munmap((void *)w.words, size);
}

/* fork: the child's registrations and VmLck start empty; it may register
 * what the parent did; the parent's memory is not shared with it. */
static void test_fork(void)
{
	struct rig r;
	int status;
	pid_t pid;

	rig_up(&r, 1, map_buf(BUF, MAP_PRIVATE));
	pid = fork();
	if (!pid) {
		struct rig c;
		char line[256];
		long kb = -1;
		FILE *f = fopen("/proc/self/status", "r");

		alarm(20);
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
				break;
		if (f)
			fclose(f);
		if (kb != 0)
			_exit(2);
		memset(r.mem, 0x99, BUF);
		/* The inherited group keeps group 0 busy, as on the kernel:
		 * the child lets its copies go first. */
		close(r.d);
		close(r.g);
		close(r.c);
		rig_up(&c, 1, r.mem);	/* the same range: no overlap */
		if (fill(&c, 0, BUF, 0x98) != 1 || !all(r.mem, 0x98, BUF))
			_exit(3);
		rig_down(&c);
		_exit(failures ? 4 : 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("child status %#x\n", status);
	CHECK(all(r.mem, 0x11, BUF));
	CHECK(fill(&r, 0, BUF, 0x12) == 1 && all(r.mem, 0x12, BUF));
	rig_down(&r);
	munmap(r.mem, BUF);
}

struct churn {
	struct rig r;
	uint8_t *mem;
	atomic_int stop;
};

static void *register_loop(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&c->stop)) {
		if (reg(&c->r, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, c->mem, BUF) ||
		    reg(&c->r, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, c->mem, BUF))
			abort();
	}
	return NULL;
}

/*
 * fork while another thread is inside REGISTER/UNREGISTER, 100 times:
 * each child's REGISTER on its own fresh container returns (the
 * registration lock was once copied held) and its VmLck is its own.
 */
static void test_fork_during_register(void)
{
	struct churn c = { .mem = map_buf(BUF, MAP_PRIVATE) };
	uint8_t *own = map_buf(BUF, MAP_PRIVATE);
	int bad = 0;
	pthread_t t;

	c.r.c = open("/dev/vfio/vfio", O_RDWR);
	c.r.g = open("/dev/vfio/0", O_RDWR);
	CHECK(!ioctl(c.r.g, VFIO_GROUP_SET_CONTAINER, &c.r.c));
	CHECK(!ioctl(c.r.c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	atomic_init(&c.stop, 0);
	pthread_create(&t, NULL, register_loop, &c);
	for (int i = 0; i < 100; i++) {
		int status;
		pid_t pid = fork();

		if (!pid) {
			struct rig x = { 0 };

			alarm(10);	/* a hang dies of SIGALRM */
			x.c = open("/dev/vfio/vfio", O_RDWR);
			x.g = open("/dev/vfio/1", O_RDWR);
			if (x.c < 0 || x.g < 0 ||
			    ioctl(x.g, VFIO_GROUP_SET_CONTAINER, &x.c) ||
			    ioctl(x.c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU) ||
			    reg(&x, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, own, BUF) ||
			    reg(&x, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, own, BUF))
				_exit(1);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			bad++;
			break;	/* one is enough: a hang costs its alarm */
		}
	}
	atomic_store(&c.stop, 1);
	pthread_join(t, NULL);
	CHECK(bad == 0);
	close(c.r.g);
	close(c.r.c);
	munmap(c.mem, BUF);
	munmap(own, BUF);
}

/* REGISTER and v1 MAP need no descriptor: they work at RLIMIT_NOFILE. */
static void test_nofile(void)
{
	struct rlimit old, low;
	int fds[256], n = 0;

	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = 256;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	while (n < 256 && (fds[n] = dup(0)) >= 0)
		n++;
	CHECK(dup(0) == -1 && errno == EMFILE);
	{
		struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
		uint8_t *mem = map_buf(BUF, MAP_PRIVATE);
		struct rig x;

		close(fds[--n]);
		close(fds[--n]);
		x.c = open("/dev/vfio/vfio", O_RDWR);
		x.g = open("/dev/vfio/0", O_RDWR);
		CHECK(x.c >= 0 && x.g >= 0);
		CHECK(dup(0) == -1 && errno == EMFILE);
		CHECK(!ioctl(x.g, VFIO_GROUP_SET_CONTAINER, &x.c));
		CHECK(!ioctl(x.c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
		CHECK(!reg(&x, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, BUF));
		map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
		map.vaddr = (uintptr_t)mem;
		map.size = BUF;
		CHECK(!ioctl(x.c, VFIO_IOMMU_MAP_DMA, &map));
		CHECK(!reg(&x, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, mem, BUF));
		close(x.g);
		close(x.c);
		/* v1: MAP pins per call. */
		x.c = open("/dev/vfio/vfio", O_RDWR);
		x.g = open("/dev/vfio/0", O_RDWR);
		CHECK(!ioctl(x.g, VFIO_GROUP_SET_CONTAINER, &x.c));
		CHECK(!ioctl(x.c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));
		CHECK(!ioctl(x.c, VFIO_IOMMU_ENABLE));
		CHECK(!ioctl(x.c, VFIO_IOMMU_MAP_DMA, &map));
		close(x.g);
		close(x.c);
		munmap(mem, BUF);
	}
	while (n)
		close(fds[--n]);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
}

/* 10,000 one-page registrations, then as many unregistrations. */
static void test_many(void)
{
	const unsigned int n = 10000;
	uint8_t *mem = mmap(NULL, (size_t)n * HP + HP, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct rig r = { 0 };
	unsigned int ok = 0;

	mem = (uint8_t *)(((uintptr_t)mem + HP - 1) & ~(uintptr_t)(HP - 1));
	r.c = open("/dev/vfio/vfio", O_RDWR);
	r.g = open("/dev/vfio/0", O_RDWR);
	CHECK(!ioctl(r.g, VFIO_GROUP_SET_CONTAINER, &r.c));
	CHECK(!ioctl(r.c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	for (unsigned int i = 0; i < n; i++)
		ok += !reg(&r, VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
			   mem + (size_t)i * HP, HP);
	for (unsigned int i = 0; i < n; i++)
		ok += !reg(&r, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,
			   mem + (size_t)i * HP, HP);
	CHECK(ok == 2 * n);
	close(r.g);
	close(r.c);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(int v2);
	} both[] = {
		{ "munmap", test_munmap }, { "munmap_new", test_munmap_new },
		{ "map_fixed_over", test_map_fixed_over },
		{ "mremap", test_mremap }, { "mprotect", test_mprotect },
		{ "dontneed", test_dontneed }, { "own_mlock", test_own_mlock },
		{ "shmdt", test_shmdt },
		{ "syscall_munmap", test_syscall_munmap },
	};
	static const struct {
		const char *name;
		void (*fn)(void);
	} once[] = {
		{ "racing_writer", test_racing_writer }, { "fork", test_fork },
		{ "fork_during_register", test_fork_during_register },
		{ "nofile", test_nofile }, { "many", test_many },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(both) / sizeof(both[0]); i++)
		for (int v2 = 0; v2 < 2; v2++) {
			int before = failures;

			both[i].fn(v2);
			printf("%s %s v%d\n", failures == before ? "ok  " : "FAIL",
			       both[i].name, v2 + 1);
		}
	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
		int before = failures;

		once[i].fn();
		printf("%s %s\n", failures == before ? "ok  " : "FAIL",
		       once[i].name);
	}
	printf("%d failed\n", failures);
	return failures != 0;
}
