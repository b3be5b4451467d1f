// SPDX-License-Identifier: MIT
/*
 * bench-prereg: what pre-registration costs next to the machine's own
 * mlock, and how lookups scale with the number of regions.
 *
 *  - register + unregister of 1 GiB (plain anonymous memory with 64K and
 *    4K emulated host pages; 2M hugetlbfs when free huge pages exist) as a
 *    ratio to mlock + munlock of the same bytes in the same run;
 *  - lookups/s (lookup + mapped_dec, as one map and unmap of a page do, and
 *    find_hpa alone) with 1, 64 and 4096 regions, as a ratio to a bare
 *    atomic-exchange loop; the fall from 1 to n regions is printed beside
 *    log2(n) + 1, the bound an O(log n) search must stay under;
 *  - scale: BENCH_REGIONS (default 10000) one-page registrations, then as
 *    many unregistrations (in the same order), each step's mean cost as a
 *    ratio to the same step with one region registered: the same pages
 *    registered and unregistered one at a time (the issue asks for at
 *    most 2x).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <spapr_tce/account.h>
#include <spapr_tce/prereg.h>

#include "../bench_common.h"
#include "../../tests/lib/prereg_test.h"
#include "common/common.h"

#define GB	(1024 * MB)
#define REPS	3

static void *map_memory(uint64_t size, bool huge)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB : 0);
	void *p = mmap(NULL, size + (huge ? 0 : HP), PROT_READ | PROT_WRITE,
		       flags, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Align to the 64K emulated host page (the tail stays mapped). */
	return (void *)(((uintptr_t)p + HP - 1) & ~(uintptr_t)(HP - 1));
}

/* Best of REPS: seconds for mlock+munlock, and for register+unregister. */
static void time_register(void *p, uint64_t size, double *t_mlock,
			  double *t_reg)
{
	struct stce_region *r;
	int i;

	*t_mlock = *t_reg = 1e9;
	memset(p, 1, size);	/* both start from populated memory */
	for (i = 0; i < REPS; i++) {
		double t0 = bench_now(), t1, t2;

		if (mlock(p, size) || munlock(p, size)) {
			perror("mlock");
			exit(1);
		}
		t1 = bench_now();
		if (stce_prereg_register((uintptr_t)p, size, &r) ||
		    stce_prereg_put(r)) {
			fprintf(stderr, "register failed\n");
			exit(1);
		}
		t2 = bench_now();
		if (t1 - t0 < *t_mlock)
			*t_mlock = t1 - t0;
		if (t2 - t1 < *t_reg)
			*t_reg = t2 - t1;
	}
}

static void bench_register(const char *name, uint64_t size, bool huge)
{
	double t_mlock, t_reg;
	void *p = map_memory(size, huge);
	char label[96];

	if (!p) {
		printf("%s: skipped (cannot map %llu MiB)\n", name,
		       (unsigned long long)(size / MB));
		return;
	}
	time_register(p, size, &t_mlock, &t_reg);
	snprintf(label, sizeof(label), "register+unregister %s", name);
	bench_report(label, (double)size / GB / t_reg, "GiB",
		     (double)size / GB / t_mlock, "mlock+munlock");
	munmap(p, size);
}

#define NADDR	4096

struct lookup_ctx {
	uint64_t addr[NADDR];
};

static void lookup_pass(void *arg)
{
	struct lookup_ctx *c = arg;
	struct stce_region *r;

	for (int i = 0; i < NADDR; i++) {
		if (stce_prereg_lookup(c->addr[i], 4096, &r))
			abort();
		stce_prereg_mapped_dec(r);
	}
}

static void find_pass(void *arg)
{
	struct lookup_ctx *c = arg;

	for (int i = 0; i < NADDR; i++)
		if (!stce_prereg_find_hpa(c->addr[i]))
			abort();
}

static void bench_lookups(double xchg)
{
	static const unsigned int counts[] = { 1, 64, 4096 };
	static struct lookup_ctx ctx;
	double first_lookup = 0, first_find = 0;
	uint64_t base = (uintptr_t)map_memory(4096 * HP, false);

	if (!base) {
		printf("lookups: skipped (cannot map)\n");
		return;
	}
	for (unsigned int c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned int n = counts[c], i;
		struct stce_region **regs = calloc(n, sizeof(*regs));
		double lk, fd;
		char label[96];

		for (i = 0; i < n; i++)
			if (stce_prereg_register(base + i * HP, HP, &regs[i])) {
				fprintf(stderr, "register failed\n");
				exit(1);
			}
		srand(n);
		for (i = 0; i < NADDR; i++)
			ctx.addr[i] = base + (rand() % n) * HP +
				      (rand() % 16) * 4096;
		lk = bench_rate(lookup_pass, &ctx, NADDR);
		fd = bench_rate(find_pass, &ctx, NADDR);
		if (!first_lookup) {
			first_lookup = lk;
			first_find = fd;
		}
		snprintf(label, sizeof(label), "lookup+mapped_dec, %u regions", n);
		bench_report(label, lk, "op", xchg, "xchg");
		snprintf(label, sizeof(label), "find_hpa, %u regions", n);
		bench_report(label, fd, "op", xchg, "xchg");
		printf("  fall from 1 region: lookup %.2fx, find_hpa %.2fx "
		       "(log2(n)+1 = %u)\n", first_lookup / lk,
		       first_find / fd, stce_ilog2(n) + 1);
		for (i = 0; i < n; i++)
			stce_prereg_put(regs[i]);
		free(regs);
	}
	munmap((void *)(uintptr_t)base, 4096 * HP);
}

/* Mean seconds of one register and one unregister of @n one-page regions. */
static void time_steps(uint64_t base, unsigned int n, double *reg, double *unreg)
{
	struct stce_region *r;
	double t0, t1, t2;

	t0 = bench_now();
	for (unsigned int i = 0; i < n; i++)
		if (stce_prereg_register(base + (uint64_t)i * HP, HP, &r)) {
			fprintf(stderr, "register %u failed\n", i);
			exit(1);
		}
	t1 = bench_now();
	for (unsigned int i = 0; i < n; i++)
		if (stce_prereg_unregister(base + (uint64_t)i * HP, HP)) {
			fprintf(stderr, "unregister %u failed\n", i);
			exit(1);
		}
	t2 = bench_now();
	*reg = (t1 - t0) / n;
	*unreg = (t2 - t1) / n;
}

/*
 * The baseline: the same @n pages registered and unregistered one at a
 * time while one other region stays registered (the same cold pages and
 * system calls; only the number of regions differs).
 */
static void time_single_steps(uint64_t base, unsigned int n, double *reg,
			      double *unreg)
{
	double tr = 0, tu = 0;
	struct stce_region *r;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t ua = base + (uint64_t)i * HP;
		double t0 = bench_now(), t1, t2;

		if (stce_prereg_register(ua, HP, &r)) {
			fprintf(stderr, "register %u failed\n", i);
			exit(1);
		}
		t1 = bench_now();
		if (stce_prereg_unregister(ua, HP)) {
			fprintf(stderr, "unregister %u failed\n", i);
			exit(1);
		}
		t2 = bench_now();
		tr += t1 - t0;
		tu += t2 - t1;
	}
	*reg = tr / n;
	*unreg = tu / n;
}

static void bench_scale(void)
{
	const char *env = getenv("BENCH_REGIONS");
	unsigned int n = env ? (unsigned int)atoi(env) : 10000;
	struct stce_region *one;
	double r1, u1, rn, un;
	uint64_t base;
	char label[96];

	if (!n)
		return;
	base = (uintptr_t)map_memory((uint64_t)(n + 1) * HP, false);
	if (!base) {
		printf("scale: skipped (cannot map)\n");
		return;
	}
	memset((void *)(uintptr_t)base, 1, (size_t)(n + 1) * HP);
	r1 = u1 = rn = un = 1e9;
	/* Best of three rounds each (the machine may be shared). */
	for (int k = 0; k < 3; k++) {
		double a, b;

		if (stce_prereg_register(base + (uint64_t)n * HP, HP, &one)) {
			fprintf(stderr, "register failed\n");
			exit(1);
		}
		time_single_steps(base, n, &a, &b);	/* warms the pages too */
		r1 = a < r1 ? a : r1;
		u1 = b < u1 ? b : u1;
		stce_prereg_put(one);
		time_steps(base, n, &a, &b);
		rn = a < rn ? a : rn;
		un = b < un ? b : un;
	}
	snprintf(label, sizeof(label), "register, %u one-page regions", n);
	bench_report(label, 1 / rn, "op", 1 / r1, "one region");
	snprintf(label, sizeof(label), "unregister, %u one-page regions", n);
	bench_report(label, 1 / un, "op", 1 / u1, "one region");
	printf("  step cost over one region: register %.2fx, unregister %.2fx "
	       "(%.1f us, %.1f us; one region %.1f us, %.1f us)\n", rn / r1,
	       un / u1, rn * 1e6, un * 1e6, r1 * 1e6, u1 * 1e6);
	munmap((void *)(uintptr_t)base, (size_t)(n + 1) * HP);
}

int main(void)
{
	double xchg = bench_xchg_rate(1 << 16);
	long huge = huge_pages_free();

	printf("bench-prereg (ratios: same-run mlock+munlock of the same "
	       "bytes; xchg = bare atomic exchange loop)\n");
	bench_register("1GiB anon, 64K host pages", GB, false);
	if (stce_set_host_page_shift(12) == 0) {
		bench_register("1GiB anon, 4K host pages", GB, false);
		stce_set_host_page_shift(16);
	}
	if (huge >= 2) {
		uint64_t size = (uint64_t)huge * 2 * MB < GB ?
				(uint64_t)huge * 2 * MB : GB;
		char name[64];

		snprintf(name, sizeof(name), "%lluMiB hugetlbfs 2M",
			 (unsigned long long)(size / MB));
		bench_register(name, size, true);
	} else {
		printf("register+unregister hugetlbfs 2M: skipped "
		       "(HugePages_Free is %ld)\n", huge);
	}
	bench_lookups(xchg);
	bench_scale();
	if (stce_account_locked_pages() || stce_prereg_count()) {
		fprintf(stderr, "leak: %llu pages charged, %zu regions\n",
			(unsigned long long)stce_account_locked_pages(),
			stce_prereg_count());
		return 1;
	}
	return 0;
}
