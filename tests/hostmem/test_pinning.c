// SPDX-License-Identifier: MIT
/*
 * "Pinned means pinned", through the C API: a container (v2 registered, or
 * v1 pinned per MAP) maps a buffer, the program then changes its mapping
 * through the hostmem hooks (what an emulator's own wrappers call), and
 * the device must reach the pinned pages and nothing else: munmap, munmap
 * plus a new mapping at the same address, mremap, mprotect, MADV_DONTNEED,
 * MADV_REMOVE, the program's own mlock, a plain munmap the hooks never
 * saw (an IOMMU fault, not a crash), a new registration where moved pages
 * were (a synthetic hpa), descriptors at RLIMIT_NOFILE, fork.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../lib/smaps_locked.h"
#include "common/safecopy.h"

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/hostmem.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>

#define KB	1024ULL
#define MB	(1024 * KB)
#define HP	(64 * KB)
#define BUF	(1 * MB)

struct rig {
	struct stce_pe *pe;
	struct stce_container *c;
	unsigned int type;
	uint8_t *mem;
	uint64_t bus;
};

static int audit(void **state)
{
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	assert_int_equal(stce_pin_pages(), 0);
	assert_int_equal(stce_hostmem_pinned_bytes(), 0);
	assert_int_equal(stce_hostmem_aside_bytes(), 0);
	return 0;
}

static uint8_t *map_buf(uint64_t size, int flags)
{
	void *p = mmap(NULL, size + HP, PROT_READ | PROT_WRITE,
		       flags | MAP_ANONYMOUS, -1, 0);
	uint8_t *a;

	assert_true(p != MAP_FAILED);
	a = (uint8_t *)(((uintptr_t)p + HP - 1) & ~(uintptr_t)(HP - 1));
	/* Keep only [a, a + size): the rest would meet later mappings. */
	if (a > (uint8_t *)p)
		munmap(p, (size_t)(a - (uint8_t *)p));
	munmap(a + size, (size_t)((uint8_t *)p + size + HP - (a + size)));
	memset(a, 0x11, size);
	return a;
}

/* A PE, a container of @type, @mem registered (v2) and mapped R/W. */
static void rig_up(struct rig *r, unsigned int type, uint8_t *mem)
{
	struct stce_pe_caps caps;
	uint64_t start = 0;

	r->type = type;
	r->mem = mem;
	stce_pe_caps_default(&caps);
	assert_int_equal(stce_pe_create(&caps, 0, &r->pe), 0);
	assert_int_equal(stce_container_create(type, 0, &r->c), 0);
	assert_int_equal(stce_container_attach(r->c, r->pe), 0);
	if (type == STCE_IOMMU_V2) {
		assert_int_equal(stce_container_register(r->c, (uintptr_t)mem,
							 BUF), 0);
		assert_int_equal(stce_container_create_window(r->c, 16, 1ULL << 30,
							      1, &start), 0);
	} else {
		assert_int_equal(stce_container_enable(r->c), 0);
	}
	assert_int_equal(stce_container_map(r->c, (uintptr_t)mem, start, BUF,
					    STCE_MAP_READ | STCE_MAP_WRITE), 0);
	r->bus = start;
}

static void rig_down(struct rig *r)
{
	stce_container_unmap(r->c, r->bus, BUF);
	stce_container_destroy(r->c);
	stce_pe_destroy(r->pe);
}

static void dma_fill(struct rig *r, uint64_t off, uint8_t v, size_t len)
{
	uint8_t *b = malloc(len);

	memset(b, v, len);
	assert_int_equal(stce_pe_dma_write(r->pe, r->bus + off, b, len), 0);
	free(b);
}

/* Every byte the device reads at [off, off + len) is @v. */
static void dma_expect(struct rig *r, uint64_t off, uint8_t v, size_t len)
{
	uint8_t *b = malloc(len);

	assert_int_equal(stce_pe_dma_read(r->pe, r->bus + off, b, len), 0);
	for (size_t i = 0; i < len; i++)
		if (b[i] != v)
			fail_msg("byte %zu: %#x, not %#x", i, b[i], v);
	free(b);
}

static bool all(const uint8_t *p, uint8_t v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static const unsigned int types[] = { STCE_IOMMU_V2, STCE_IOMMU_V1 };

/* munmap: the pages live on aside; the device keeps reaching them. */
static void test_munmap(void **state)
{
	for (unsigned int t = 0; t < 2; t++) {
		struct rig r;

		rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
		dma_fill(&r, 0, 0x22, BUF);
		assert_int_equal(stce_hostmem_munmap(r.mem, BUF), 0);
		assert_int_equal(stce_hostmem_aside_bytes(), BUF);
		dma_expect(&r, 0, 0x22, BUF);
		dma_fill(&r, 4096, 0x33, 8192);
		dma_expect(&r, 4096, 0x33, 8192);
		assert_false(stce_pe_dma_frozen(r.pe));
		rig_down(&r);
		/* The last pin went: the aside pages with it. */
		assert_int_equal(stce_hostmem_aside_bytes(), 0);
	}
}

/*
 * munmap, then a new mapping at the same address: the device writes the
 * old pages, never the new buffer, and reads back what it wrote there.
 */
static void test_munmap_new_mapping(void **state)
{
	for (unsigned int t = 0; t < 2; t++) {
		struct rig r;
		void *again, *fixed;

		rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
		dma_fill(&r, 0, 0x44, BUF);
		assert_int_equal(stce_hostmem_munmap(r.mem, BUF), 0);
		assert_int_equal(stce_hostmem_mmap(r.mem, BUF,
						   PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS |
						   MAP_FIXED, -1, 0, &again), 0);
		assert_ptr_equal(again, r.mem);
		memset(r.mem, 0x55, BUF);
		dma_fill(&r, 0, 0x66, BUF / 2);
		assert_true(all(r.mem, 0x55, BUF));	/* untouched */
		dma_expect(&r, 0, 0x66, BUF / 2);
		dma_expect(&r, BUF / 2, 0x44, BUF / 2);
		/* MAP_FIXED straight over pinned pages: kept the same way. */
		assert_int_equal(stce_hostmem_mmap(r.mem, BUF,
						   PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS |
						   MAP_FIXED, -1, 0, &fixed), 0);
		assert_true(all(r.mem, 0, BUF));
		dma_expect(&r, 0, 0x66, BUF / 2);
		rig_down(&r);
		assert_int_equal(stce_hostmem_aside_bytes(), 0);
		munmap(r.mem, BUF);
	}
}

/* mremap: the device reaches the same pages at their new address. */
static void test_mremap(void **state)
{
	for (unsigned int t = 0; t < 2; t++) {
		uint8_t *dst = map_buf(2 * BUF, MAP_PRIVATE);
		struct rig r;
		void *moved;

		rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
		dma_fill(&r, 0, 0x77, BUF);
		assert_int_equal(stce_hostmem_mremap(r.mem, BUF, BUF,
						     MREMAP_MAYMOVE | MREMAP_FIXED,
						     dst, &moved), 0);
		assert_ptr_equal(moved, dst);
		assert_true(all(dst, 0x77, BUF));
		dma_fill(&r, 0, 0x78, 4096);
		assert_true(all(dst, 0x78, 4096));	/* followed */
		/* Shrinking drops the tail: the device keeps those pages. */
		assert_int_equal(stce_hostmem_mremap(dst, BUF, BUF / 2, 0, NULL,
						     &moved), 0);
		dma_fill(&r, BUF - 4096, 0x79, 4096);
		dma_expect(&r, BUF - 4096, 0x79, 4096);
		assert_int_equal(stce_hostmem_aside_bytes(), BUF / 2);
		rig_down(&r);
		munmap(dst, 2 * BUF);
	}
}

/* A hole in the middle, then the rest: each piece kept, all freed at the end. */
static void test_munmap_pieces(void **state)
{
	struct rig r;

	rig_up(&r, STCE_IOMMU_V2, map_buf(BUF, MAP_PRIVATE));
	dma_fill(&r, 0, 0x61, BUF);
	assert_int_equal(stce_hostmem_munmap(r.mem + 3 * HP, HP), 0);
	assert_int_equal(stce_hostmem_aside_bytes(), HP);
	dma_fill(&r, 2 * HP, 0x62, 3 * HP);	/* across both edges */
	assert_true(all(r.mem + 2 * HP, 0x62, HP));
	assert_true(all(r.mem + 4 * HP, 0x62, HP));
	assert_int_equal(stce_hostmem_munmap(r.mem, BUF), 0);
	assert_int_equal(stce_hostmem_aside_bytes(), BUF);
	dma_expect(&r, 0, 0x61, 2 * HP);
	dma_expect(&r, 2 * HP, 0x62, 3 * HP);
	dma_expect(&r, 5 * HP, 0x61, BUF - 5 * HP);
	rig_down(&r);
	assert_int_equal(stce_hostmem_aside_bytes(), 0);
}

/*
 * Pages registered again at the place an mremap moved them to: two
 * identities for the same pages; a munmap there keeps both, and they go
 * with their last pin.
 */
static void test_two_identities(void **state)
{
	uint8_t *dst = map_buf(BUF, MAP_PRIVATE);
	struct stce_region *again;
	uint64_t hpa;
	struct rig r;
	void *moved;
	uint8_t v;

	rig_up(&r, STCE_IOMMU_V2, map_buf(BUF, MAP_PRIVATE));
	assert_int_equal(stce_hostmem_mremap(r.mem, BUF, BUF,
					     MREMAP_MAYMOVE | MREMAP_FIXED, dst,
					     &moved), 0);
	assert_int_equal(stce_prereg_register((uintptr_t)dst, BUF, &again), 0);
	assert_int_equal(stce_prereg_ua_to_hpa(again, (uintptr_t)dst, 16, &hpa),
			 0);
	dma_fill(&r, 0, 0x71, BUF);
	assert_int_equal(stce_hostmem_copy(hpa + 5, &v, 1, false), 0);
	assert_int_equal(v, 0x71);	/* the same pages */
	assert_int_equal(stce_hostmem_munmap(dst, BUF), 0);
	/* One place, counted for each of the two hpas naming it. */
	assert_int_equal(stce_hostmem_aside_bytes(), 2 * BUF);
	v = 0x72;
	assert_int_equal(stce_hostmem_copy(hpa + 5, &v, 1, true), 0);
	dma_expect(&r, 5, 0x72, 1);
	assert_int_equal(stce_prereg_put(again), 0);
	dma_expect(&r, 0, 0x71, 5);	/* still there for the first */
	rig_down(&r);
	assert_int_equal(stce_hostmem_aside_bytes(), 0);
}

/* mprotect: the device writes what the program may no longer touch. */
static void test_mprotect(void **state)
{
	static const int prots[] = { PROT_READ, PROT_NONE };

	for (unsigned int t = 0; t < 2; t++)
		for (unsigned int p = 0; p < 2; p++) {
			struct rig r;

			rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
			assert_int_equal(mprotect(r.mem, BUF, prots[p]), 0);
			dma_fill(&r, 0, 0x5a, BUF);
			dma_expect(&r, 0, 0x5a, BUF);
			assert_false(stce_pe_dma_frozen(r.pe));
			assert_int_equal(mprotect(r.mem, BUF,
						  PROT_READ | PROT_WRITE), 0);
			assert_true(all(r.mem, 0x5a, BUF));
			rig_down(&r);
			munmap(r.mem, BUF);
		}
}

/*
 * MADV_DONTNEED: 0 (the kernel pins without VM_LOCKED); the program's
 * range reads zeros, the device keeps the old pages.
 */
static void test_dontneed(void **state)
{
	for (unsigned int t = 0; t < 2; t++) {
		struct rig r;

		rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
		dma_fill(&r, 0, 0x3c, BUF);
		assert_int_equal(stce_hostmem_madvise(r.mem, BUF, MADV_DONTNEED),
				 0);
		assert_true(all(r.mem, 0, BUF));
		dma_expect(&r, 0, 0x3c, BUF);
		dma_fill(&r, 0, 0x3d, 4096);
		assert_true(all(r.mem, 0, 4096));
		/* MADV_FREE keeps pinned contents. */
		memset(r.mem, 0x3e, BUF);
		assert_int_equal(stce_hostmem_madvise(r.mem, BUF, MADV_FREE), 0);
		rig_down(&r);
		munmap(r.mem, BUF);
	}
}

/* shmdt of SysV shared memory: the segment's pinned pages stay reachable. */
static void test_shmdt(void **state)
{
	int id = shmget(IPC_PRIVATE, BUF, IPC_CREAT | 0600);
	struct rig r;
	uint8_t *mem;

	assert_true(id >= 0);
	/* At a 64K-aligned place (SHMLBA is the real page). */
	mem = map_buf(BUF, MAP_PRIVATE);
	munmap(mem, BUF);
	assert_ptr_equal(shmat(id, mem, 0), mem);
	assert_int_equal(shmctl(id, IPC_RMID, NULL), 0);	/* goes with the last attach */
	assert_true(((uintptr_t)mem & (HP - 1)) == 0);
	memset(mem, 0x11, BUF);
	rig_up(&r, STCE_IOMMU_V2, mem);
	assert_int_equal(stce_hostmem_shmdt(mem), 0);
	dma_expect(&r, 0, 0x11, BUF);
	dma_fill(&r, 0, 0x21, BUF);
	dma_expect(&r, 0, 0x21, BUF);
	assert_false(stce_pe_dma_frozen(r.pe));
	rig_down(&r);
	assert_int_equal(stce_hostmem_aside_bytes(), 0);
}

/*
 * MADV_REMOVE punches the pages out of shared memory: they cannot be
 * kept, so DMA to them is an IOMMU fault (frozen, counted), no crash.
 */
static void test_remove_is_lost(void **state)
{
	struct stce_eeh_fault f;
	uint8_t b[64];
	struct rig r;

	rig_up(&r, STCE_IOMMU_V2, map_buf(BUF, MAP_SHARED));
	assert_int_equal(stce_hostmem_madvise(r.mem, HP, MADV_REMOVE), 0);
	assert_int_equal(stce_pe_dma_read(r.pe, r.bus + HP, b, sizeof(b)), 0);
	assert_int_equal(stce_pe_dma_read(r.pe, r.bus, b, sizeof(b)), -EIO);
	stce_pe_eeh_fault(r.pe, &f);
	assert_int_equal(f.reason, STCE_EEH_FAULT_MEMORY);
	assert_int_equal(f.iova, r.bus);
	assert_true(stce_pe_dma_frozen(r.pe));
	rig_down(&r);
	munmap(r.mem, BUF);
}

/*
 * A munmap the hooks never see (here: libc's, as a C-API program calling
 * it directly): the pages are gone, and DMA to them is an IOMMU fault,
 * not a SIGSEGV.
 */
static void test_unseen_munmap_faults(void **state)
{
	for (unsigned int t = 0; t < 2; t++) {
		struct stce_eeh_fault f;
		uint8_t b[4096] = { 0 };
		struct rig r;

		rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
		assert_int_equal(munmap(r.mem + HP, HP), 0);
		assert_int_equal(stce_pe_dma_write(r.pe, r.bus, b, sizeof(b)), 0);
		assert_int_equal(stce_pe_dma_write(r.pe, r.bus + HP, b,
						   sizeof(b)), -EIO);
		stce_pe_eeh_fault(r.pe, &f);
		assert_int_equal(f.reason, STCE_EEH_FAULT_MEMORY);
		assert_int_equal(f.count, 1);
		rig_down(&r);
		munmap(r.mem, BUF);
	}
}

/*
 * An address is registered while older pinned pages that lived there
 * (a v1 pin) were moved aside: the region gets a synthetic hpa, its
 * mappings reach the new pages, the old pin its old ones, and clearing
 * the TCEs finds the region by that hpa.
 */
static void test_new_registration_synthetic(void **state)
{
	uint8_t *mem = map_buf(BUF, MAP_PRIVATE), v;
	struct rig r;
	void *again;
	uint64_t old;

	assert_int_equal(stce_pin_range((uintptr_t)mem, HP, 16, true, &old), 0);
	assert_int_equal(stce_hostmem_munmap(mem, BUF), 0);
	assert_int_equal(stce_hostmem_mmap(mem, BUF, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS |
					   MAP_FIXED, -1, 0, &again), 0);
	memset(mem, 0x02, BUF);
	rig_up(&r, STCE_IOMMU_V2, mem);
	dma_expect(&r, 0, 0x02, BUF);
	dma_fill(&r, 0, 0x03, HP);
	assert_true(all(mem, 0x03, HP));
	assert_int_equal(stce_hostmem_copy(old, &v, 1, false), 0);
	assert_int_equal(v, 0x11);
	rig_down(&r);	/* unmap counts down by hpa, unregister frees */
	assert_int_equal(stce_unpin_range(old, HP, 16, false), 0);
	munmap(mem, BUF);
}

/* A v1 pin keeps moved pages while the same address is pinned anew. */
static void test_v1_synthetic(void **state)
{
	uint8_t *mem = map_buf(BUF, MAP_PRIVATE);
	uint64_t old, fresh;
	void *again;
	uint8_t v;

	assert_int_equal(stce_pin_range((uintptr_t)mem, HP, 16, true, &old), 0);
	assert_int_equal(old, (uintptr_t)mem);
	assert_int_equal(stce_hostmem_munmap(mem, BUF), 0);
	assert_int_equal(stce_hostmem_mmap(mem, BUF, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS |
					   MAP_FIXED, -1, 0, &again), 0);
	memset(mem, 0x09, BUF);
	assert_int_equal(stce_pin_range((uintptr_t)mem, HP, 16, true, &fresh), 0);
	assert_true(fresh >= STCE_HOSTMEM_SYNTHETIC_BASE);
	assert_int_equal(stce_hostmem_copy(old, &v, 1, false), 0);
	assert_int_equal(v, 0x11);
	assert_int_equal(stce_hostmem_copy(fresh, &v, 1, false), 0);
	assert_int_equal(v, 0x09);
	v = 0x0a;
	assert_int_equal(stce_hostmem_copy(fresh, &v, 1, true), 0);
	assert_int_equal(mem[0], 0x0a);
	assert_int_equal(stce_unpin_range(old, HP, 16, false), 0);
	assert_int_equal(stce_unpin_range(fresh, HP, 16, false), 0);
	munmap(mem, BUF);
}


/* The program's own mlock survives REGISTER + UNREGISTER (and v1). */
static void test_own_mlock(void **state)
{
	for (unsigned int t = 0; t < 2; t++) {
		uint8_t *mem = map_buf(BUF, MAP_PRIVATE);
		struct rig r;

		assert_int_equal(syscall(SYS_mlock, mem, BUF), 0);
		assert_int_equal(smaps_locked_kb(mem), 1024);
		rig_up(&r, types[t], mem);
		rig_down(&r);
		assert_int_equal(smaps_locked_kb(mem), 1024);
		assert_int_equal(syscall(SYS_munlock, mem, BUF), 0);
		/* Nor does registration lock anything itself. */
		rig_up(&r, types[t], mem);
		assert_int_equal(smaps_locked_kb(mem), 0);
		rig_down(&r);
		munmap(mem, BUF);
	}
}

/* At RLIMIT_NOFILE: REGISTER and v1 MAP need no descriptor. */
static void test_nofile(void **state)
{
	struct rlimit old, low;
	struct rig r;
	int fds[64], n = 0;

	rig_up(&r, STCE_IOMMU_V2, map_buf(BUF, MAP_PRIVATE));	/* opens once */
	rig_down(&r);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 64 && (fds[n] = dup(0)) >= 0)
		n++;
	assert_int_equal(dup(0), -1);
	assert_int_equal(errno, EMFILE);
	for (unsigned int t = 0; t < 2; t++) {
		rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
		dma_fill(&r, 0, 0x42, BUF);
		rig_down(&r);
	}
	while (n)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

/*
 * The very first pin of a process at RLIMIT_NOFILE (a fork child has
 * none of its parent's descriptors for it): REGISTER and v1 MAP work.
 */
static void test_nofile_first_pin(void **state)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		struct rlimit low = { 32, 32 };
		uint8_t *mem = map_buf(BUF, MAP_PRIVATE);
		struct stce_region *reg;
		uint64_t hpa;
		int bad = 0;

		alarm(20);
		if (setrlimit(RLIMIT_NOFILE, &low))
			_exit(9);
		while (dup(0) >= 0)
			;
		bad |= stce_prereg_register((uintptr_t)mem, BUF, &reg) != 0;
		bad |= (stce_pin_range((uintptr_t)mem + BUF / 2, HP, 16, true,
				       &hpa) != 0) << 1;
		bad |= (stce_prereg_put(reg) != 0) << 2;
		bad |= (stce_unpin_range(hpa, HP, 16, false) != 0) << 3;
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * fork: the child starts with no registrations, pins or charge, may
 * register what the parent registered, and does not share the parent's
 * registered (private) memory; the parent is unaffected.
 */
static void test_fork(void **state)
{
	uint64_t charged;
	struct rig r;
	int status;
	pid_t pid;

	rig_up(&r, STCE_IOMMU_V2, map_buf(BUF, MAP_PRIVATE));
	charged = stce_account_locked_pages();	/* the region and the table */
	assert_true(charged > 16);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct stce_region *reg;
		int bad = 0;

		alarm(20);
		bad |= stce_account_locked_pages() != 0;
		bad |= stce_prereg_count() != 0;
		bad |= stce_hostmem_pinned_bytes() != 0;
		bad |= (stce_prereg_register((uintptr_t)r.mem, BUF, &reg) != 0) << 1;
		bad |= (stce_account_locked_pages() != 16) << 2;
		memset(r.mem, 0x99, BUF);
		bad |= (stce_prereg_put(reg) != 0) << 3;
		bad |= (stce_account_locked_pages() != 0) << 4;
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(all(r.mem, 0x11, BUF));	/* not the child's writes */
	dma_fill(&r, 0, 0x12, BUF);
	assert_true(all(r.mem, 0x12, BUF));
	assert_int_equal(stce_account_locked_pages(), charged);
	rig_down(&r);
	munmap(r.mem, BUF);
}

/*
 * The fault handler is installed with the raw syscall and chains: a
 * fault that is not a safe copy's reaches the handler the program had.
 */
static sigjmp_buf chained_jmp;

static void own_handler(int sig)
{
	siglongjmp(chained_jmp, sig);
}

static void test_fault_handler_chains(void **state)
{
	struct sigaction sa = { .sa_handler = own_handler }, old;
	uint8_t *mem = map_buf(BUF, MAP_PRIVATE);
	volatile uint8_t *bad = mem + HP;
	uint64_t hpa;

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	/* A pin puts the library's handler first again. */
	assert_int_equal(stce_pin_range((uintptr_t)mem, HP, 16, true, &hpa), 0);
	munmap((void *)bad, HP);
	if (!sigsetjmp(chained_jmp, 1)) {
		*bad = 1;
		fail_msg("no fault");
	}
	assert_int_equal(stce_unpin_range(hpa, HP, 16, false), 0);
	sigaction(SIGSEGV, &old, NULL);
	munmap(mem, BUF);
}

/*
 * A DMA from a signal handler that interrupted a fault-safe copy (the
 * handler's copy succeeds; the interrupted one still ends in a clean
 * -EFAULT where it runs into an unmapped page, never a SIGSEGV).
 */
static uint8_t nested_src[4096], nested_dst[4096];
static volatile int nested_runs;

static void nested_handler(int sig)
{
	if (stce_hostmem_copy((uintptr_t)nested_src, nested_dst,
			      sizeof(nested_dst), false) == 0)
		nested_runs++;
}

static void test_copy_in_signal_handler(void **state)
{
	struct sigaction sa = { .sa_handler = nested_handler }, old;
	struct itimerval tv = { { 0, 200 }, { 0, 200 } }, off = { 0 };
	uint8_t *mem = map_buf(2 * MB, MAP_PRIVATE), *buf = malloc(2 * MB);

	/* The last page of [mem, mem + 2M) is a hole: each copy ends in it. */
	assert_int_equal(munmap(mem + 2 * MB - 4096, 4096), 0);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	assert_int_equal(stce_safe_copy_arm(), 0);	/* after cmocka's own */
	assert_int_equal(setitimer(ITIMER_REAL, &tv, NULL), 0);
	for (int i = 0; i < 400; i++)
		assert_int_equal(stce_hostmem_copy((uintptr_t)mem, buf, 2 * MB,
						   false), -EFAULT);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	assert_true(nested_runs > 0);
	free(buf);
	munmap(mem, 2 * MB - 4096);
}

/*
 * The device's own fill and copy (no bounce buffer) reach pinned pages
 * the program made inaccessible and pages moved aside, like the copies.
 */
static void test_copy_fill_pinned(void **state)
{
	for (unsigned int t = 0; t < 2; t++) {
		struct rig r;

		rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
		assert_int_equal(mprotect(r.mem, BUF, PROT_NONE), 0);
		assert_int_equal(stce_pe_dma_fill(r.pe, r.bus, 0x5a, BUF / 2), 0);
		assert_int_equal(stce_pe_dma_fill(r.pe, r.bus + BUF / 2, 0,
						  BUF / 2), 0);
		assert_int_equal(stce_pe_dma_copy(r.pe, r.bus + BUF / 2 + 1,
						  r.bus, BUF / 2 - 1), 0);
		/* A device's 4 KiB FILL (x86_64: the vector stores). */
		assert_int_equal(stce_pe_dma_fill(r.pe, r.bus + 4096, 0x3c,
						  4096), 0);
		assert_int_equal(mprotect(r.mem, BUF, PROT_READ | PROT_WRITE), 0);
		assert_true(all(r.mem, 0x5a, 4096));
		assert_true(all(r.mem + 4096, 0x3c, 4096));
		assert_true(all(r.mem + 8192, 0x5a, BUF / 2 - 8192));
		assert_int_equal(r.mem[BUF / 2], 0);
		assert_true(all(r.mem + BUF / 2 + 1, 0x5a, BUF / 2 - 1));

		/* Moved aside: the device keeps its pages, the program not. */
		assert_int_equal(stce_hostmem_munmap(r.mem, BUF), 0);
		assert_int_equal(stce_pe_dma_fill(r.pe, r.bus, 0x61, HP), 0);
		assert_int_equal(stce_pe_dma_copy(r.pe, r.bus + HP, r.bus, HP), 0);
		dma_expect(&r, 0, 0x61, 2 * HP);
		dma_expect(&r, 2 * HP, 0x5a, BUF / 2 - 2 * HP);
		assert_false(stce_pe_dma_frozen(r.pe));
		rig_down(&r);
	}
}

#if defined(__x86_64__)
/*
 * The fill stce_safe_set() runs on x86_64 (vector stores for 2-4 KiB,
 * libc's memset for the rest) writes exactly [dst, +n) with the byte,
 * whatever n and the alignment, and returns dst.
 */
static void test_vset_exact(void **state)
{
	static const size_t sizes[] = { 0, 1, 63, 64, 65, 2047, 2048, 2049,
					2111, 3000, 4032, 4095, 4096, 4097,
					8192 };
	enum { GUARD = 80, MAX = 8192 };
	static uint8_t buf[GUARD + 16 + MAX + GUARD];

	(void)state;
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (unsigned int off = 0; off < 16; off += 5) {
			uint8_t *dst = buf + GUARD + off;
			size_t n = sizes[i];

			memset(buf, 0xee, sizeof(buf));
			assert_ptr_equal(stce_safecopy_vset(dst, 0x1a5, n), dst);
			assert_true(all(buf, 0xee, (size_t)(dst - buf)));
			assert_true(all(dst, 0xa5, n));
			assert_true(all(dst + n, 0xee,
					sizeof(buf) - (size_t)(dst + n - buf)));
		}
	}
}

/*
 * The device engine's stream: adjacent transfers add up, a gap starts a
 * new run, and only a run past STCE_SAFECOPY_STREAM_MIN of whole 64-byte
 * lines streams (addresses only: nothing is written).
 */
static void test_stream_runs(void **state)
{
	uint8_t *base = (uint8_t *)(uintptr_t)0x7f0000000000ULL, *p = base;
	size_t step = 4 * KB;

	(void)state;
	assert_false(stce_safecopy_stream(p, step));	/* a new run */
	for (p += step; p + step <= base + STCE_SAFECOPY_STREAM_MIN;
	     p += step)
		assert_false(stce_safecopy_stream(p, step));
	assert_true(stce_safecopy_stream(p, step));	/* past the minimum */
	p += step;
	assert_true(stce_safecopy_stream(p, 64 * KB));	/* still the run */
	p += 64 * KB;
	assert_false(stce_safecopy_stream(p, 100));	/* not whole lines */
	assert_false(stce_safecopy_stream(p + 100, step));
	assert_false(stce_safecopy_stream(p + step + 164, step));	/* a gap */
	/* The same buffer again and again (a hot one) never streams. */
	for (unsigned int i = 0; i < 2 * STCE_SAFECOPY_STREAM_MIN / step; i++)
		assert_false(stce_safecopy_stream(base, step));
}

/* Put this thread's stream right before @p, long enough to stream. */
static void stream_to(uint8_t *p)
{
	stce_safecopy_stream((void *)((uintptr_t)p - STCE_SAFECOPY_STREAM_MIN),
			     STCE_SAFECOPY_STREAM_MIN);
}

/*
 * Streaming fills and moves (x86_64's device FILL and COPY past the
 * minimum) write exactly their bytes; an overlapping move inside a
 * stream is still a memmove; pages that cannot be written leave the
 * whole count to the slow path (the recovery point), never a crash.
 */
static void test_stream_exact(void **state)
{
	enum { N = 64 * KB, GUARD = 4 * KB };
	static uint8_t src[N], area[GUARD + N + GUARD] __attribute__((aligned(64)));
	uint8_t *dst = area + GUARD, *bad = map_buf(2 * HP, MAP_PRIVATE);

	(void)state;
	for (size_t i = 0; i < N; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	memset(area, 0xee, sizeof(area));
	assert_int_equal(stce_safe_copy_arm(), 0);	/* after cmocka's own */
	stream_to(dst);
	assert_ptr_equal(stce_safecopy_vset(dst, 0x1a5, 4 * KB), dst);
	assert_ptr_equal(stce_safecopy_vset(dst + 4 * KB, 0x3c, N - 4 * KB),
			 dst + 4 * KB);
	assert_true(all(area, 0xee, GUARD));
	assert_true(all(dst, 0xa5, 4 * KB));
	assert_true(all(dst + 4 * KB, 0x3c, N - 4 * KB));
	assert_true(all(dst + N, 0xee, GUARD));

	stream_to(dst);
	assert_ptr_equal(stce_safecopy_vmove(dst, src, 4 * KB), dst);
	assert_ptr_equal(stce_safecopy_vmove(dst + 4 * KB, src + 4 * KB,
					     N - 4 * KB), dst + 4 * KB);
	assert_memory_equal(dst, src, N);
	assert_true(all(area, 0xee, GUARD));
	assert_true(all(dst + N, 0xee, GUARD));
	/* Overlapping, forwards and backwards, while the run streams. */
	stream_to(dst + 64);
	assert_ptr_equal(stce_safecopy_vmove(dst + 64, dst, 4 * KB), dst + 64);
	assert_memory_equal(dst + 64, src, 4 * KB);
	stream_to(dst);
	assert_ptr_equal(stce_safecopy_vmove(dst, dst + 64, 4 * KB), dst);
	assert_memory_equal(dst, src, 4 * KB);

	/* Cannot be written: all of it is left, nothing crashes. */
	memset(bad, 0x77, 2 * HP);
	assert_int_equal(mprotect(bad, 2 * HP, PROT_READ), 0);
	stream_to(bad);
	assert_true(stce_safe_set(bad, 1, 4 * KB) == 4 * KB);
	stream_to(bad);
	assert_true(stce_safe_move(bad, src, 4 * KB) == 4 * KB);
	assert_true(all(bad, 0x77, 2 * HP));
	assert_int_equal(mprotect(bad, 2 * HP, PROT_NONE), 0);
	stream_to(dst);
	assert_true(stce_safe_move(dst, bad, 4 * KB) == 4 * KB);
	munmap(bad, 2 * HP);
}
#endif

/* A memory fault of @iova in direction @dir: frozen, counted; thaw. */
static void expect_memory_fault(struct rig *r, int ret, uint64_t iova,
				unsigned int dir, uint64_t count)
{
	struct stce_eeh_fault f;

	assert_int_equal(ret, -EIO);
	stce_pe_eeh_fault(r->pe, &f);
	assert_int_equal(f.reason, STCE_EEH_FAULT_MEMORY);
	assert_true(f.iova == iova);
	assert_int_equal(f.dir, dir);
	assert_int_equal(f.count, count);
	assert_int_equal(stce_pe_eeh_op(r->pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(stce_pe_eeh_op(r->pe, STCE_EEH_PE_UNFREEZE_DMA), 0);
}

/*
 * Lost pages (MADV_REMOVE) and pages gone behind the hooks' back: fill
 * and copy fault on the side that cannot be reached (its bus address and
 * direction), never crash.
 */
static void test_copy_fill_faults(void **state)
{
	struct rig r;

	rig_up(&r, STCE_IOMMU_V2, map_buf(BUF, MAP_SHARED));
	assert_int_equal(stce_hostmem_madvise(r.mem, HP, MADV_REMOVE), 0);
	assert_int_equal(stce_pe_dma_copy(r.pe, r.bus + 2 * HP, r.bus + HP, 64),
			 0);
	expect_memory_fault(&r, stce_pe_dma_copy(r.pe, r.bus + HP, r.bus, 64),
			    r.bus, STCE_DMA_READ, 1);
	expect_memory_fault(&r, stce_pe_dma_copy(r.pe, r.bus + 8, r.bus + HP,
						 64),
			    r.bus + 8, STCE_DMA_WRITE, 2);
	expect_memory_fault(&r, stce_pe_dma_fill(r.pe, r.bus + 16, 0, 64),
			    r.bus + 16, STCE_DMA_WRITE, 3);
	rig_down(&r);
	munmap(r.mem, BUF);

	for (unsigned int t = 0; t < 2; t++) {
		rig_up(&r, types[t], map_buf(BUF, MAP_PRIVATE));
		assert_int_equal(munmap(r.mem + HP, HP), 0);
		assert_int_equal(stce_pe_dma_fill(r.pe, r.bus, 1, 4096), 0);
		expect_memory_fault(&r, stce_pe_dma_fill(r.pe, r.bus + HP, 1,
							 4096),
				    r.bus + HP, STCE_DMA_WRITE, 1);
		expect_memory_fault(&r, stce_pe_dma_copy(r.pe, r.bus,
							 r.bus + HP, 4096),
				    r.bus + HP, STCE_DMA_READ, 2);
		expect_memory_fault(&r, stce_pe_dma_copy(r.pe, r.bus + HP,
							 r.bus, 4096),
				    r.bus + HP, STCE_DMA_WRITE, 3);
		/* A run that reaches the hole part-way: its first page moved. */
		memset(r.mem, 0, HP);
		expect_memory_fault(&r, stce_pe_dma_fill(r.pe, r.bus, 7, 2 * HP),
				    r.bus + HP, STCE_DMA_WRITE, 4);
		assert_true(all(r.mem, 7, HP));
		rig_down(&r);
		munmap(r.mem, BUF);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_munmap, audit),
		cmocka_unit_test_teardown(test_munmap_new_mapping, audit),
		cmocka_unit_test_teardown(test_mremap, audit),
		cmocka_unit_test_teardown(test_munmap_pieces, audit),
		cmocka_unit_test_teardown(test_two_identities, audit),
		cmocka_unit_test_teardown(test_mprotect, audit),
		cmocka_unit_test_teardown(test_dontneed, audit),
		cmocka_unit_test_teardown(test_shmdt, audit),
		cmocka_unit_test_teardown(test_remove_is_lost, audit),
		cmocka_unit_test_teardown(test_unseen_munmap_faults, audit),
		cmocka_unit_test_teardown(test_new_registration_synthetic, audit),
		cmocka_unit_test_teardown(test_v1_synthetic, audit),
		cmocka_unit_test_teardown(test_own_mlock, audit),
		cmocka_unit_test_teardown(test_nofile, audit),
		cmocka_unit_test_teardown(test_nofile_first_pin, audit),
		cmocka_unit_test_teardown(test_fork, audit),
		cmocka_unit_test_teardown(test_fault_handler_chains, audit),
		cmocka_unit_test_teardown(test_copy_in_signal_handler, audit),
		cmocka_unit_test_teardown(test_copy_fill_pinned, audit),
		cmocka_unit_test_teardown(test_copy_fill_faults, audit),
#if defined(__x86_64__)
		cmocka_unit_test(test_vset_exact),
		cmocka_unit_test(test_stream_runs),
		cmocka_unit_test(test_stream_exact),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
