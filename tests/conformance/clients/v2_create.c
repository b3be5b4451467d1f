/* SPDX-License-Identifier: MIT */
/*
 * TCE_CREATE over the whole space the uAPI admits: every advertised IOMMU
 * page shift (12, 16, 21, 30; and 24, which this PHB does not advertise),
 * every level count 1..5, and every power-of-two window size from half a
 * page to 2^63, so that each limit (the table's one-page minimum, the
 * largest chunk the kernel allocates, the 55-bit rule, the 64-bit bus) is
 * crossed once per row (windows too slow to remove are left out, see
 * too_slow()). A window that is created is removed at once (the indented
 * REMOVE line after it): one 64-bit window at a time (slot 1); the default
 * window is made by the first CREATE and stays.
 */
#include "../../lib/conf.h"

/*
 * A window the kernel may create but whose REMOVE would walk more than
 * 2^22 leaf tables: it clears entry by entry, skipping only absent leaves,
 * which under TCG takes seconds and trips the soft-lockup watchdog. Left
 * out. The estimate takes 4K host pages (the smallest leaves, so the most
 * of them) and the 55-bit rule with 4K host pages (the most permissive),
 * so the same rows are left out on every kernel.
 */
static int too_slow(uint32_t shift, uint32_t levels, unsigned int k)
{
	unsigned int es = k - shift, ls = (es + levels - 1) / levels + 3;

	if (levels == 1 || k < shift)
		return 0;
	if (ls < 12)
		ls = 12;
	if ((ls - 3) * levels + shift >= 55)
		return 0;	/* refused on every kernel: cheap */
	return es > ls - 3 + 22;
}

static void one(int c, uint32_t shift, uint32_t levels, unsigned int k)
{
	const char *what = lbl("shift=%u levels=%u size=2^%u", shift, levels, k);
	long before = vmlck_kb();
	uint64_t start;

	do_create(c, CREATESZ, 0, shift, 1ULL << k, levels, &start);
	if (g_ret) {
		show(what, "vmlck%+ld", vmlck_kb() - before);
		return;
	}
	show(what, "start=0x%llx vmlck%+ld", (unsigned long long)start,
	     vmlck_kb() - before);
	before = vmlck_kb();
	do_remove(c, REMOVESZ, 0, start);
	show("  REMOVE", "vmlck%+ld", vmlck_kb() - before);
}

int main(void)
{
	static const uint32_t shifts[] = { 12, 16, 21, 30 };
	uint64_t start;
	int c, g;

	conf_init();
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	do_create(c, CREATESZ, 0, 16, SZ_1G, 1, &start);
	show("CREATE shift=16 size=1G levels=1 (makes the default window)",
	     "start=0x%llx", (unsigned long long)start);
	do_remove(c, REMOVESZ, 0, start);
	show("REMOVE it", NULL);
	for (size_t i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++)
		for (uint32_t levels = 1; levels <= 5; levels++) {
			note("page shift %u, %u level(s)", shifts[i], levels);
			for (unsigned int k = shifts[i] - 1; k <= 63; k++)
				if (!too_slow(shifts[i], levels, k))
					one(c, shifts[i], levels, k);
		}
	note("page shift 24 (not advertised)");
	for (uint32_t levels = 1; levels <= 5; levels++) {
		one(c, 24, levels, 24);
		one(c, 24, levels, 30);
	}
	teardown(c, g);
	return 0;
}
