/* SPDX-License-Identifier: MIT */
/*
 * v2 memory pre-registration: REGISTER/UNREGISTER good and bad inputs, their
 * locked-memory charge, and UNREGISTER of a region that is still mapped.
 * Addresses are printed as offsets from A, a 16 MiB region in the middle of a
 * 64 MiB buffer (so overlaps on both sides are real memory).
 */
#include "../../lib/conf.h"

static uint8_t *A;

static void reg(int c, unsigned long cmd, const char *what, uint32_t argsz,
		uint32_t flags, int64_t off, uint64_t size)
{
	long before = vmlck_kb();

	do_reg(c, cmd, argsz, flags, A + off, size);
	show(lbl("%s %s", cmd == VFIO_IOMMU_SPAPR_REGISTER_MEMORY ?
		 "REGISTER" : "UNREGISTER", what), "vmlck%+ld", vmlck_kb() - before);
}

#define R(...) reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, __VA_ARGS__)
#define U(...) reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, __VA_ARGS__)

static void raw(int c, unsigned long cmd, const char *what, const void *va,
		uint64_t size)
{
	long before = vmlck_kb();

	do_reg(c, cmd, REGSZ, 0, va, size);
	show(what, "vmlck%+ld", vmlck_kb() - before);
}

static void map(int c, const char *what, int64_t off, uint64_t iova, uint64_t size)
{
	show_map(c, what, A + off, iova, size);
}

#define unmap show_unmap

int main(void)
{
	uint8_t *buf, *ro, *none;
	int c, g;
	long base;

	conf_init();
	buf = alloc_aligned(64 * SZ_1M, SZ_64K, PROT_READ | PROT_WRITE);
	A = buf + 16 * SZ_1M;
	ro = alloc_aligned(SZ_1M, SZ_64K, PROT_READ);
	none = alloc_aligned(SZ_1M, SZ_64K, PROT_NONE);
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	base = vmlck_kb();

	R("A size=16M", REGSZ, 0, 0, SZ_16M);
	R("A size=16M again", REGSZ, 0, 0, SZ_16M);
	R("A+1M size=1M (inside)", REGSZ, 0, SZ_1M, SZ_1M);
	R("A size=1M (same start, shorter)", REGSZ, 0, 0, SZ_1M);
	R("A size=32M (same start, longer)", REGSZ, 0, 0, 2 * SZ_16M);
	R("A-64K size=128K (overlaps start)", REGSZ, 0, -(int64_t)SZ_64K, 2 * SZ_64K);
	R("A+16M-64K size=128K (overlaps end)", REGSZ, 0, SZ_16M - SZ_64K, 2 * SZ_64K);
	R("A-1M size=18M (covers)", REGSZ, 0, -(int64_t)SZ_1M, SZ_16M + 2 * SZ_1M);
	R("A+16M size=1M (adjacent after)", REGSZ, 0, SZ_16M, SZ_1M);
	R("A-1M size=1M (adjacent before)", REGSZ, 0, -(int64_t)SZ_1M, SZ_1M);
	U("A+16M size=1M", REGSZ, 0, SZ_16M, SZ_1M);
	U("A-1M size=1M", REGSZ, 0, -(int64_t)SZ_1M, SZ_1M);

	R("A+16M+4K size=64K (vaddr unaligned)", REGSZ, 0, SZ_16M + SZ_4K, SZ_64K);
	R("A+16M size=68K (size unaligned)", REGSZ, 0, SZ_16M, SZ_64K + SZ_4K);
	R("A+16M size=4K", REGSZ, 0, SZ_16M, SZ_4K);
	R("A+16M size=0", REGSZ, 0, SZ_16M, 0);
	R("A+16M flags=1", REGSZ, 1, SZ_16M, SZ_64K);
	R("A+16M flags=0x80000000", REGSZ, 0x80000000, SZ_16M, SZ_64K);
	R("A+16M argsz=23", 23, 0, SZ_16M, SZ_64K);
	R("A+16M argsz=0", 0, 0, SZ_16M, SZ_64K);
	R("A+16M argsz=4096", 4096, 0, SZ_16M, SZ_64K);
	U("A+16M size=64K", REGSZ, 0, SZ_16M, SZ_64K);
	raw(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
	    "REGISTER vaddr=0xffffffffffff0000 size=128K (wraps)",
	    (void *)0xffffffffffff0000ULL, 2 * SZ_64K);
	raw(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
	    "REGISTER vaddr=0x10000 size=64K (unmapped)", (void *)0x10000, SZ_64K);
	raw(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, "REGISTER read-only memory 1M", ro, SZ_1M);
	raw(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, "UNREGISTER read-only memory 1M", ro, SZ_1M);
	raw(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, "REGISTER PROT_NONE memory 1M", none, SZ_1M);
	raw(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, "UNREGISTER PROT_NONE memory 1M", none, SZ_1M);

	U("A+16M size=1M (never registered)", REGSZ, 0, SZ_16M, SZ_1M);
	U("A size=1M (prefix of registered)", REGSZ, 0, 0, SZ_1M);
	U("A+1M size=1M (inside registered)", REGSZ, 0, SZ_1M, SZ_1M);
	U("A size=32M (longer)", REGSZ, 0, 0, 2 * SZ_16M);
	U("A+4K size=16M (unaligned)", REGSZ, 0, SZ_4K, SZ_16M);
	U("A size=16M+4K (unaligned)", REGSZ, 0, 0, SZ_16M + SZ_4K);
	U("A size=16M flags=1", REGSZ, 1, 0, SZ_16M);
	U("A size=16M argsz=23", 23, 0, 0, SZ_16M);
	U("A size=16M", REGSZ, 0, 0, SZ_16M);
	U("A size=16M again", REGSZ, 0, 0, SZ_16M);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);

	note("unregister while mapped (default window, 4K IOMMU pages)");
	R("A size=16M", REGSZ, 0, 0, SZ_16M);
	map(c, "A iova=0 size=64K", 0, 0, SZ_64K);
	U("A size=16M (mapped)", REGSZ, 0, 0, SZ_16M);
	U("A size=16M (mapped) again", REGSZ, 0, 0, SZ_16M);
	map(c, "A+64K iova=0x10000 size=64K (after unregister)", SZ_64K, SZ_64K, SZ_64K);
	unmap(c, "iova=0 size=128K", 0, 2 * SZ_64K);
	U("A size=16M (now unmapped)", REGSZ, 0, 0, SZ_16M);
	map(c, "A iova=0 size=64K (after unmap+unregister)", 0, 0, SZ_64K);
	unmap(c, "iova=0 size=64K", 0, SZ_64K);
	R("A size=16M (re-register)", REGSZ, 0, 0, SZ_16M);
	U("A size=16M (after re-register)", REGSZ, 0, 0, SZ_16M);
	R("A size=1M (inside the leftover region)", REGSZ, 0, 0, SZ_1M);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);

	note("unregister with nothing mapped, map after unregister");
	R("B=A+16M size=1M", REGSZ, 0, SZ_16M, SZ_1M);
	map(c, "B iova=0x100000 size=64K", SZ_16M, SZ_1M, SZ_64K);
	unmap(c, "iova=0x100000 size=64K", SZ_1M, SZ_64K);
	U("B size=1M", REGSZ, 0, SZ_16M, SZ_1M);
	map(c, "B iova=0x100000 size=64K (unregistered)", SZ_16M, SZ_1M, SZ_64K);
	note("vmlck since set-up: %+ld", vmlck_kb() - base);

	base = vmlck_kb();
	teardown(c, g);
	note("close group+container: vmlck%+ld", vmlck_kb() - base);
	return 0;
}
