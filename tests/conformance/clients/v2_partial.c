/* SPDX-License-Identifier: MIT */
/*
 * v2 REGISTER of memory that is only partly usable: ranges that run into a
 * hole (munmap), a PROT_NONE page or a read-only page after writable ones,
 * with the bad page at the start, in the middle and at the end; enormous
 * sizes; registrations shared by two containers (adjacent, overlapping,
 * identical); MAP across two adjacent registrations; MAP after the
 * registered memory was unmapped. All memory lives in one PROT_NONE
 * reservation, so whatever follows a range is known (PROT_NONE), and
 * addresses print as offsets from W, its start.
 */
#include "../../lib/conf.h"

#define RESERVE	(256 * SZ_1M)
#define RWSIZE	(32 * SZ_1M)	/* W .. W+32M writable, the rest PROT_NONE */

static uint8_t *W;

static void reg(int c, unsigned long cmd, const char *what, uint64_t off, uint64_t size)
{
	long before = vmlck_kb();

	do_reg(c, cmd, REGSZ, 0, W + off, size);
	show(lbl("%s %s", cmd == VFIO_IOMMU_SPAPR_REGISTER_MEMORY ?
		 "REGISTER" : "UNREGISTER", what), "vmlck%+ld", vmlck_kb() - before);
}

#define R(c, ...) reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, __VA_ARGS__)
#define U(c, ...) reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, __VA_ARGS__)

static void map(int c, const char *what, uint64_t off, uint64_t iova, uint64_t size)
{
	do_map(c, MAPSZ, RW, W + off, iova, size);
	show(lbl("MAP %s", what), NULL);
}

static void unmap(int c, const char *what, uint64_t iova, uint64_t size)
{
	do_unmap(c, UNMAPSZ, 0, iova, size);
	show(lbl("UNMAP %s", what), NULL);
}

/* Make the 64K page at W+@off bad: a hole, PROT_NONE or read-only. */
static void spoil(const char *kind, uint64_t off)
{
	int ret;

	if (!strcmp(kind, "hole"))
		ret = munmap(W + off, SZ_64K);
	else
		ret = mprotect(W + off, SZ_64K,
			       !strcmp(kind, "PROT_NONE") ? PROT_NONE : PROT_READ);
	if (ret)
		die(kind);
}

/*
 * Three 1M ranges at W+@off: the bad page first, in the middle (after
 * 512K of good pages), last. Each REGISTER of the whole range, then of its
 * good part, shows what the failure left behind.
 */
static void bad_page(int c, const char *kind, uint64_t off)
{
	spoil(kind, off);
	spoil(kind, off + SZ_1M + SZ_1M / 2);
	spoil(kind, off + 3 * SZ_1M - SZ_64K);

	R(c, lbl("%s first: W+%lluM size=1M", kind, (unsigned long long)(off >> 20)),
	  off, SZ_1M);
	U(c, lbl("%s first: the same (after the failure)", kind), off, SZ_1M);
	R(c, lbl("%s first: the good 960K after it", kind), off + SZ_64K,
	  SZ_1M - SZ_64K);
	U(c, lbl("%s first: the good 960K", kind), off + SZ_64K, SZ_1M - SZ_64K);

	off += SZ_1M;
	R(c, lbl("%s middle: 512K good, bad, 448K good", kind), off, SZ_1M);
	U(c, lbl("%s middle: the same (after the failure)", kind), off, SZ_1M);
	R(c, lbl("%s middle: the 512K before it", kind), off, SZ_1M / 2);
	R(c, lbl("%s middle: the 448K after it", kind), off + SZ_1M / 2 + SZ_64K,
	  SZ_1M / 2 - SZ_64K);
	U(c, lbl("%s middle: the 512K before it", kind), off, SZ_1M / 2);
	U(c, lbl("%s middle: the 448K after it", kind), off + SZ_1M / 2 + SZ_64K,
	  SZ_1M / 2 - SZ_64K);

	off += SZ_1M;
	R(c, lbl("%s last: 960K good, bad", kind), off, SZ_1M);
	R(c, lbl("%s last: 960K good, bad, 2 more pages", kind), off, SZ_1M + 2 * SZ_64K);
	R(c, lbl("%s last: the good 960K", kind), off, SZ_1M - SZ_64K);
	U(c, lbl("%s last: the good 960K", kind), off, SZ_1M - SZ_64K);
}

static void enormous(int c)
{
	uint64_t off = RWSIZE - SZ_1M;	/* 1M writable, then PROT_NONE */

	note("enormous sizes from W+31M (1M writable, then PROT_NONE)");
	R(c, "W+31M size=2M (1M past the writable part)", off, 2 * SZ_1M);
	R(c, "W+31M size=64G", off, 64 * SZ_1G);
	R(c, "W+31M size=1<<48", off, 1ULL << 48);
	R(c, "W+31M size=1<<62", off, 1ULL << 62);
	R(c, "W+31M size=1<<63", off, 1ULL << 63);
	R(c, "W+31M size=-64K (wraps)", off, -SZ_64K);
	R(c, "W+32M size=1M (all PROT_NONE)", RWSIZE, SZ_1M);
	R(c, "W+31M size=1M (the writable part)", off, SZ_1M);
	U(c, "W+31M size=1M", off, SZ_1M);
}

/* Two containers (one group each) share the process's registrations. */
static void shared(int c, int c2)
{
	uint64_t a = 11 * SZ_1M;	/* W+10M .. W+14M */

	note("registrations seen from a second container (group 1)");
	R(c, "c1 W+11M size=2M", a, 2 * SZ_1M);
	R(c2, "c2 W+11M size=2M (same as c1's)", a, 2 * SZ_1M);
	R(c2, "c2 W+11M size=2M again", a, 2 * SZ_1M);
	R(c2, "c2 W+11M size=1M (inside c1's)", a, SZ_1M);
	R(c2, "c2 W+12M size=2M (overlaps c1's end)", a + SZ_1M, 2 * SZ_1M);
	R(c2, "c2 W+13M size=1M (adjacent after)", a + 2 * SZ_1M, SZ_1M);
	R(c2, "c2 W+10M size=1M (adjacent before)", a - SZ_1M, SZ_1M);
	U(c2, "c2 W+11M size=2M", a, 2 * SZ_1M);
	U(c2, "c2 W+11M size=2M again", a, 2 * SZ_1M);
	U(c, "c1 W+11M size=2M (c2 let go)", a, 2 * SZ_1M);
	U(c2, "c2 W+13M size=1M", a + 2 * SZ_1M, SZ_1M);
	U(c2, "c2 W+10M size=1M", a - SZ_1M, SZ_1M);
}

static void across(int c)
{
	uint64_t a = 14 * SZ_1M, start;	/* W+14M .. W+16M */

	note("MAP across two adjacent registrations");
	R(c, "W+14M size=1M", a, SZ_1M);
	R(c, "W+15M size=1M", a + SZ_1M, SZ_1M);
	map(c, "W+14M+960K size=128K iova=0 (across)", a + SZ_1M - SZ_64K, 0, 2 * SZ_64K);
	map(c, "W+14M size=2M iova=0x100000 (both whole)", a, SZ_1M, 2 * SZ_1M);
	do_create(c, CREATESZ, 0, 16, SZ_1G, 1, &start);
	show("CREATE 64K pages 1G", NULL);
	map(c, "W+14M+960K size=128K iova=start (64K pages, across)",
	    a + SZ_1M - SZ_64K, start, 2 * SZ_64K);
	map(c, "W+15M+960K size=192K iova=start (runs past the second)",
	    a + 2 * SZ_1M - SZ_64K, start, 3 * SZ_64K);
	unmap(c, "iova=0 size=4M", 0, 4 * SZ_1M);
	unmap(c, "iova=start size=1M", start, SZ_1M);
	U(c, "W+14M size=1M", a, SZ_1M);
	U(c, "W+15M size=1M", a + SZ_1M, SZ_1M);
	do_remove(c, REMOVESZ, 0, start);
}

static void unmapped_after(int c)
{
	uint64_t a = 16 * SZ_1M;
	long before;

	note("MAP of registered memory that was munmapped");
	R(c, "W+16M size=4M", a, 4 * SZ_1M);
	map(c, "W+16M size=64K iova=0 (still mapped)", a, 0, SZ_64K);
	if (munmap(W + a, 4 * SZ_1M))
		die("munmap");
	map(c, "W+16M+64K size=64K iova=0x10000 (after munmap)", a + SZ_64K, SZ_64K, SZ_64K);
	R(c, "W+16M size=4M again (after munmap)", a, 4 * SZ_1M);
	R(c, "W+20M size=1M (adjacent, still mapped)", a + 4 * SZ_1M, SZ_1M);
	U(c, "W+20M size=1M", a + 4 * SZ_1M, SZ_1M);
	if (mmap(W + a, 4 * SZ_1M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap again");
	memset(W + a, 0x3c, 4 * SZ_1M);
	map(c, "W+16M+128K size=64K iova=0x20000 (new memory there)", a + 2 * SZ_64K,
	    2 * SZ_64K, SZ_64K);
	R(c, "W+16M size=4M (new memory there)", a, 4 * SZ_1M);
	unmap(c, "iova=0 size=192K", 0, 3 * SZ_64K);
	before = vmlck_kb();
	U(c, "W+16M size=4M (old pages)", a, 4 * SZ_1M);
	U(c, "W+16M size=4M again", a, 4 * SZ_1M);
	R(c, "W+16M size=4M (the new pages)", a, 4 * SZ_1M);
	U(c, "W+16M size=4M (the new pages)", a, 4 * SZ_1M);
	note("unmapped region: vmlck%+ld", vmlck_kb() - before);
}

int main(void)
{
	int c, g, c2, g1;
	long base;

	conf_init();
	W = reserve(RESERVE, RWSIZE);
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	base = vmlck_kb();

	note("a failed first REGISTER does not enable the container");
	spoil("hole", 30 * SZ_1M + SZ_1M / 2);
	R(c, "W+30M size=1M (hole in the middle)", 30 * SZ_1M, SZ_1M);
	map(c, "W+30M size=64K iova=0 (nothing registered)", 30 * SZ_1M, 0, SZ_64K);

	note("a bad 64K page at W+0M.. (first, middle, last)");
	bad_page(c, "hole", 0);
	bad_page(c, "PROT_NONE", 3 * SZ_1M);
	bad_page(c, "read-only", 6 * SZ_1M);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);

	enormous(c);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);

	c2 = open_container();
	g1 = open_group_n(1);
	if (ioctl(g1, VFIO_GROUP_SET_CONTAINER, &c2) ||
	    ioctl(c2, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU))
		die("second container");
	shared(c, c2);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);
	teardown(c2, g1);

	across(c);
	unmapped_after(c);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);
	teardown(c, g);
	note("after closing: vmlck since set-up: %+ld", vmlck_kb() - base);
	return 0;
}
