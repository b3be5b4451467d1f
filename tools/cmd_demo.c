// SPDX-License-Identifier: MIT
/*
 * spapr-tce demo: a simulated pSeries guest with a passthrough DMA device,
 * both sides of it - the guest's calls and what the hypervisor (QEMU/KVM
 * and the sPAPR TCE driver) does for them:
 *
 *   1. a v2 container takes the device's PE (VFIO_SET_IOMMU);
 *   2. the VM's RAM is declared to the guest memory map (KVM memslots)
 *      and pre-registered (pinned, charged to locked_vm);
 *   3. the guest PHB comes up with its default window; the guest asks
 *      for a 64-bit window with ibm,query-pe-dma-window and
 *      ibm,create-pe-dma-window; the hypervisor attaches the group to
 *      the new LIOBN (KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE);
 *   4. N vCPU threads map all guest RAM 1:1 into it with
 *      H_PUT_TCE_INDIRECT, 512 TCEs a call from a TCE list page of
 *      their own in guest memory; an H_TOO_HARD answer is retried on the
 *      hypervisor's slow path (STCE_HCALL_MAY_ALLOC) and counted;
 *   5. the device does DMA through the window (fill, copy, checksum);
 *   6. a deliberate DMA outside every window freezes the PE (EEH); the
 *      guest's recovery (VFIO_EEH_PE_OP underneath) resets and thaws it;
 *   7. the vCPUs unmap everything with H_STUFF_TCE;
 *   8. the guest removes its window and resets the PE's windows (RTAS);
 *      the VM goes, its RAM is unregistered, the PE is returned, and an
 *      audit checks that everything was released.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <spapr_tce/account.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/size.h>

#include "cli.h"
#include "pseries-model.h"

/*
 * The 32-bit default window of the built-in PEs (2G of 4K pages) costs
 * 12M of locked memory (table, its userspace view, the guest's view):
 * more than a user's usual 8M RLIMIT_MEMLOCK. Under such a limit the
 * demo gives its guest PHB this small one instead (as QEMU's PHB
 * property dma_win_size would), unless the topology is the user's.
 */
#define SMALL_DMA32_SIZE	(32ULL << 20)

static const char demo_usage[] =
	"usage: spapr-tce demo [--guest-mem SIZE] [--page SIZE] [--vcpus N] [--window SIZE] [--json]\n"
	"A simulated pSeries guest with a passthrough DMA device: v2 container,\n"
	"guest memory map and pre-registration, a 64-bit DMA window asked for\n"
	"through RTAS, all RAM mapped with H_PUT_TCE_INDIRECT by N vCPU threads,\n"
	"device DMA, a deliberate fault and its EEH recovery, H_STUFF_TCE unmap,\n"
	"RTAS remove/reset, teardown, report.\n"
	"Defaults: --guest-mem 1G (less when RLIMIT_MEMLOCK cannot hold it),\n"
	"--page 64K (4K, 64K; 2M and 1G need hugetlbfs pages), --vcpus 2,\n"
	"--window: the DDW the guest asks for, RAM rounded up to a power of two\n"
	"(a window of more than 2M TCEs gets 2 levels, filled on the hypercalls'\n"
	"slow path: e.g. --page 4K --window 32G).\n";

struct demo_opts {
	uint64_t guest_mem;
	uint64_t page;
	unsigned int page_shift;
	unsigned int vcpus;
	uint64_t window;	/* 0: RAM rounded up to a power of two */
	bool json;
	bool mem_given;
};

/* The story's own state; the VM's is in vm (examples/pseries-model.h). */
struct demo {
	struct demo_opts o;
	struct pseries_vm vm;
	bool keep_default;	/* room for the default window next to the DDW */
	bool small_default;	/* SMALL_DMA32_SIZE default windows */
	bool default_removed;	/* the guest removed it to make room */
	unsigned int ddw_levels;
	uint64_t locked_peak;
	struct stce_container_stats stats;	/* with everything mapped */
	double t_register, t_map, t_dma, t_unmap, t_teardown;
	uint64_t tces, tces_unmapped, dma_bytes, faults;
	char fault_reason[64];
	bool recovered, released;
	bool progress;		/* a bar on stderr (a terminal) */
};

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double rate(uint64_t n, double seconds)
{
	return n / (seconds > 0 ? seconds : 1e-9);
}

/* "12.3 M TCEs/s" or, below a million, "456 K TCEs/s". */
static const char *rate_text(uint64_t n, double seconds, char *buf, size_t len)
{
	double r = rate(n, seconds);

	if (r >= 1e6)
		snprintf(buf, len, "%.1f M TCEs/s", r / 1e6);
	else
		snprintf(buf, len, "%.0f K TCEs/s", r / 1e3);
	return buf;
}

static void say(const struct demo *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const struct demo *d, const char *fmt, ...)
{
	va_list ap;

	if (d->o.json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void bar(const struct demo *d, const char *what, uint64_t done,
		uint64_t total)
{
	int width = 32, fill = total ? (int)(done * (uint64_t)width / total) : width;

	if (!d->progress)
		return;
	fprintf(stderr, "\r    %-10s [%.*s%*s] %3d%%", what, fill,
		"################################", width - fill, "",
		total ? (int)(done * 100 / total) : 100);
	if (done >= total)
		fprintf(stderr, "\r%*s\r", 60, "");
	fflush(stderr);
}

/* The bars of the model's long steps, when there is a terminal. */
static void bar_register(void *d, uint64_t done, uint64_t total)
{
	bar(d, "register", done, total);
}

static void bar_map(void *d, uint64_t done, uint64_t total)
{
	bar(d, "map", done, total);
}

static void bar_unmap(void *d, uint64_t done, uint64_t total)
{
	bar(d, "unmap", done, total);
}

static int fail(const char *step, int err)
{
	fprintf(stderr, "spapr-tce demo: %s: %s\n", step, strerror(err < 0 ? -err : err));
	return CLI_FAILED;
}

/* An RTAS service answered @status (or a hypercall its H_* code). */
static int fail_code(const char *call, long status)
{
	fprintf(stderr, "spapr-tce demo: %s answered %ld\n", call, status);
	return CLI_FAILED;
}

/* ---- options ------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct demo_opts *o)
{
	static const struct option opts[] = {
		{ "guest-mem", required_argument, NULL, 'm' },
		{ "page", required_argument, NULL, 'p' },
		{ "vcpus", required_argument, NULL, 'v' },
		{ "window", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	*o = (struct demo_opts){ .guest_mem = 1ULL << 30, .page = 64 << 10, .vcpus = 2 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (cli_parse_size("demo", "--guest-mem", optarg, &o->guest_mem))
				return CLI_USAGE;
			o->mem_given = true;
			break;
		case 'p':
			if (cli_parse_size("demo", "--page", optarg, &o->page))
				return CLI_USAGE;
			break;
		case 'v':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > PSERIES_MAX_VCPUS)
				return cli_usage_error("demo", "--vcpus: '%s' is not a number from 1 to %d",
						       optarg, PSERIES_MAX_VCPUS);
			o->vcpus = (unsigned int)v;
			break;
		case 'w':
			if (cli_parse_size("demo", "--window", optarg, &o->window))
				return CLI_USAGE;
			if (stce_size_shift(o->window) < 0)
				return cli_usage_error("demo", "--window: a power of two");
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(demo_usage, stdout);
			return -1;
		default:
			return cli_usage_error("demo", "unknown or incomplete option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	if (o->page != 4096 && o->page != (64 << 10) && o->page != (2 << 20) &&
	    o->page != (1 << 30))
		return cli_usage_error("demo", "--page: 4K, 64K, 2M or 1G");
	o->page_shift = (unsigned int)stce_size_shift(o->page);
	if (o->guest_mem < o->page || o->guest_mem % o->page ||
	    o->guest_mem % stce_host_page_size())
		return cli_usage_error("demo", "--guest-mem: a multiple of the page and of the %lluK host page",
				       (unsigned long long)(stce_host_page_size() >> 10));
	if (o->window && o->window < o->guest_mem)
		return cli_usage_error("demo", "--window: not smaller than --guest-mem");
	return 0;
}

/* ---- set-up -------------------------------------------------------- */

/* The DDW the guest asks for: --window, or what a Linux guest asks. */
static uint64_t ddw_size_for(const struct demo *d, uint64_t ram)
{
	return d->o.window ? d->o.window : pseries_ddw_size(ram);
}

/* locked_vm this run needs with @ram of RAM (see pseries_locked_pages). */
static uint64_t pages_needed(const struct demo *d, uint64_t ram, bool dflt)
{
	return pseries_locked_pages(&d->vm, ram, d->o.page_shift,
				    ddw_size_for(d, ram), dflt);
}

/* The largest guest not above d->o.guest_mem that fits @limit, or 0. */
static uint64_t fitting_ram(const struct demo *d, uint64_t limit, bool dflt)
{
	uint64_t ram = d->o.guest_mem;

	while (ram > d->o.page && pages_needed(d, ram, dflt) > limit)
		ram >>= 1;
	if (pages_needed(d, ram, dflt) > limit || ram % stce_host_page_size())
		return 0;
	return ram;
}

static int setup_platform(struct demo *d);

static void note_memlock(const struct demo *d, uint64_t limit, uint64_t ram)
{
	char a[32], b[32], c[32];

	stce_format_size(limit << stce_host_page_shift(), a, sizeof(a));
	if (ram == d->o.guest_mem) {
		say(d, "note: RLIMIT_MEMLOCK is %s, so the guest PHB gets a 32M default window%s\n"
		    "      (raise `ulimit -l` or run as root for the 2G one)\n\n", a,
		    d->keep_default ? "" : ",\n      which the guest gives up for its DDW");
		return;
	}
	say(d, "note: RLIMIT_MEMLOCK is %s, so the guest gets %s of RAM%s%s\n"
	    "      (raise `ulimit -l` or run as root for the full %s%s)\n\n", a,
	    stce_format_size(ram, b, sizeof(b)),
	    d->small_default ? ", a 32M default window" : "",
	    d->keep_default ? "" : " (given up for the DDW)",
	    stce_format_size(d->o.guest_mem, c, sizeof(c)),
	    d->small_default ? " and the 2G default window" : "");
}

/* The built-in topology, whose default windows the demo may shrink. */
static bool topology_builtin(void)
{
	const char *env = getenv(STCE_TOPOLOGY_ENV);

	return !env || !env[0];
}

/*
 * Fit the run into RLIMIT_MEMLOCK: a small default window (built-in
 * topology), then a smaller guest when the size was not asked for, else
 * a clear refusal.
 */
static int fit_memlock(struct demo *d)
{
	uint64_t limit = stce_account_limit_pages(), ram = d->o.guest_mem;
	char a[32], b[32];
	int ret;

	d->keep_default = true;
	if (limit == UINT64_MAX || pages_needed(d, ram, true) <= limit)
		return 0;
	if (topology_builtin()) {
		pseries_vm_destroy(&d->vm);
		d->small_default = true;
		ret = setup_platform(d);
		if (ret)
			return ret;
		if (pages_needed(d, ram, true) <= limit) {
			note_memlock(d, limit, ram);
			return 0;
		}
	}
	/* As a guest on a PHB with room for one window: it drops the default. */
	if (pages_needed(d, ram, false) <= limit) {
		d->keep_default = false;
		note_memlock(d, limit, ram);
		return 0;
	}
	if (d->o.mem_given) {
		fprintf(stderr, "spapr-tce demo: %s of guest RAM needs more locked memory than "
			"RLIMIT_MEMLOCK (%s) allows; raise it (ulimit -l) or run as root\n",
			stce_format_size(ram, a, sizeof(a)),
			stce_format_size(limit << stce_host_page_shift(), b, sizeof(b)));
		return CLI_FAILED;
	}
	ram = fitting_ram(d, limit, true);
	if (!ram) {
		d->keep_default = false;
		ram = fitting_ram(d, limit, false);
	}
	if (!ram) {
		fprintf(stderr, "spapr-tce demo: RLIMIT_MEMLOCK (%s) is too small for any guest; "
			"raise it (ulimit -l) or run as root\n",
			stce_format_size(limit << stce_host_page_shift(), b, sizeof(b)));
		return CLI_FAILED;
	}
	note_memlock(d, limit, ram);
	d->o.guest_mem = ram;
	return 0;
}

static int alloc_ram(struct demo *d)
{
	int ret = pseries_ram_alloc(&d->vm, d->o.guest_mem, d->o.page_shift);

	if (ret && d->o.page > (64 << 10)) {
		fprintf(stderr, "spapr-tce demo: no %s hugetlbfs pages for the guest RAM "
			"(see /proc/sys/vm/nr_hugepages); use --page 64K\n",
			d->o.page == (2 << 20) ? "2M" : "1G");
		return CLI_FAILED;
	}
	return ret ? fail(d->vm.failed, ret) : 0;
}

/* The emulated host: $SPAPR_TCE_TOPOLOGY or the built-in one. */
static int setup_platform(struct demo *d)
{
	struct stce_topology *topo = NULL;
	char err[256] = "";
	int ret;

	ret = stce_topology_from_env(&topo, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "spapr-tce demo: %s\n", err[0] ? err : strerror(-ret));
		return CLI_FAILED;
	}
	for (unsigned int i = 0; d->small_default && i < topo->nr_pes; i++)
		topo->pes[i].caps.dma32_size = SMALL_DMA32_SIZE;
	ret = pseries_host_create(&d->vm, topo);
	stce_topology_free(topo);
	return ret ? fail(d->vm.failed, ret) : 0;
}

/* ---- steps 1-3: the VM and its DMA window --------------------------- */

static int step_container(struct demo *d)
{
	int ret = pseries_container_open(&d->vm);

	if (ret)
		return fail(d->vm.failed, ret);
	say(d, "[1/8] v2 container: IOMMU group %u (PE of %s) attached\n",
	    stce_pe_group(d->vm.pe), stce_device_name(d->vm.dev));
	return 0;
}

/* The VM's RAM: one memory slot at guest physical 0, pre-registered. */
static int step_memory(struct demo *d)
{
	double t0 = now();
	char a[32];
	int ret;

	ret = pseries_ram_add(&d->vm, d->progress ? bar_register : NULL, d);
	if (ret)
		return fail(d->vm.failed, ret);
	d->t_register = now() - t0;
	say(d, "[2/8] guest RAM: %s at guest physical 0 (one memory slot), pre-registered in "
	    "%.2f s (pinned; locked_vm +%llu pages)\n",
	    stce_format_size(d->vm.ram_size, a, sizeof(a)), d->t_register,
	    (unsigned long long)pseries_locked_now(&d->vm));
	return 0;
}

static const char *pgmask_text(uint32_t mask, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ STCE_RTAS_DDW_PGSIZE_4K, "4K" }, { STCE_RTAS_DDW_PGSIZE_64K, "64K" },
		{ STCE_RTAS_DDW_PGSIZE_2M, "2M" }, { STCE_RTAS_DDW_PGSIZE_16M, "16M" },
		{ STCE_RTAS_DDW_PGSIZE_32M, "32M" }, { STCE_RTAS_DDW_PGSIZE_64M, "64M" },
		{ STCE_RTAS_DDW_PGSIZE_128M, "128M" }, { STCE_RTAS_DDW_PGSIZE_256M, "256M" },
		{ STCE_RTAS_DDW_PGSIZE_16G, "16G" },
	};
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((mask & names[i].bit) && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? " " : "", names[i].name);
	return buf;
}

/* The guest gives up its default window (Linux does when no window is
 * free for the DDW); the hypervisor's TCE_REMOVE underneath. */
static int guest_remove_default(struct demo *d, uint32_t *rets)
{
	int status = pseries_rtas_remove(&d->vm, PSERIES_LIOBN_DEFAULT);

	if (status)
		return fail_code("ibm,remove-pe-dma-window (default window)", status);
	d->default_removed = true;
	status = pseries_rtas_query(&d->vm, rets);
	return status ? fail_code("ibm,query-pe-dma-window", status) : 0;
}

/*
 * The hypervisor brings up the guest PHB (default window on LIOBN
 * PSERIES_LIOBN_DEFAULT); the guest queries and creates its DDW; the
 * hypervisor attaches the device's group to the new LIOBN.
 */
static int step_ddw(struct demo *d)
{
	struct pseries_vm *vm = &d->vm;
	uint32_t bit = pseries_ddw_pgsize_bit(d->o.page_shift), rets[5];
	char a[32], b[32], m[64];
	int ret, status;

	ret = pseries_phb_add(vm);
	if (ret)
		return fail(vm->failed, ret);
	status = pseries_rtas_query(vm, rets);
	if (status)
		return fail_code("ibm,query-pe-dma-window", status);
	if ((!d->keep_default || !rets[1]) && (ret = guest_remove_default(d, rets)))
		return ret;
	if (!rets[1])
		return fail("no DMA window free on the PE", ENOSPC);
	if (bit && !(rets[3] & bit))
		return fail("the PE has no DMA window of that page size", EINVAL);
	say(d, "[3/8] DDW: ibm,query-pe-dma-window: %u window%s free, page sizes %s%s\n",
	    rets[1], rets[1] > 1 ? "s" : "", pgmask_text(rets[3], m, sizeof(m)),
	    d->default_removed ? " (after the guest removed its default window)" : "");

	status = pseries_rtas_create_ddw(vm, ddw_size_for(d, vm->ram_size));
	if (status)
		return fail_code("ibm,create-pe-dma-window", status);
	/* KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE. */
	ret = pseries_ddw_attach(vm);
	if (ret)
		return fail(vm->failed, ret);
	d->ddw_levels = pseries_ddw_levels(vm);
	say(d, "      ibm,create-pe-dma-window: LIOBN 0x%llx, %s of %s pages at bus 0x%llx, "
	    "%u level%s;\n      group %u attached to it\n",
	    (unsigned long long)vm->liobn, stce_format_size(vm->ddw_size, a, sizeof(a)),
	    stce_format_size(d->o.page, b, sizeof(b)), (unsigned long long)vm->ddw_start,
	    d->ddw_levels, d->ddw_levels > 1 ? "s" : "", stce_pe_group(vm->pe));
	return 0;
}

/* ---- steps 4 and 7: the vCPUs' hypercalls --------------------------- */

static int step_map(struct demo *d)
{
	struct pseries_vm *vm = &d->vm;
	double t0 = now();
	long ret = pseries_vcpus_run(vm, PSERIES_MAP_RAM, d->o.vcpus,
				     d->progress ? bar_map : NULL, d, &d->tces);
	char r[32];

	d->t_map = now() - t0;
	if (ret == -EAGAIN)
		return fail("vCPU threads", EAGAIN);
	if (ret != STCE_H_SUCCESS)
		return fail_code("H_PUT_TCE_INDIRECT", ret);
	if (!pseries_tces_read_back(vm, true))
		return fail("H_GET_TCE after the map", EIO);
	if (pseries_ram_mappings(vm) != d->tces)
		return fail("mappings counted in the registered RAM", EPROTO);
	stce_container_get_stats(vm->c, &d->stats);
	d->locked_peak = pseries_locked_now(vm);
	say(d, "[4/8] H_PUT_TCE_INDIRECT: all guest RAM mapped, %llu TCEs in %llu calls from "
	    "%u vCPU%s in %.1f ms (%s),\n      %llu H_TOO_HARD retried on the slow path\n",
	    (unsigned long long)d->tces, (unsigned long long)vm->calls.put_tce_indirect,
	    d->o.vcpus, d->o.vcpus > 1 ? "s" : "", d->t_map * 1e3,
	    rate_text(d->tces, d->t_map, r, sizeof(r)),
	    (unsigned long long)vm->calls.too_hard);
	return 0;
}

/* ---- steps 5 and 6: the device -------------------------------------- */

/*
 * Traffic: the device fills the first half of RAM's test span, copies it
 * to the second half, and checksums it; the CPU checks every byte.
 */
static int step_dma(struct demo *d)
{
	struct pseries_vm *vm = &d->vm;
	uint64_t span = min64(vm->ram_size / 2, 256ULL << 20), done = 0;
	uint64_t bus = vm->ddw_start, chunk = STCE_DMATEST_MAX_LEN;
	double t0 = now();
	char a[32];

	pseries_dev_enable(vm);
	if (pseries_dev_reg(vm, STCE_DMATEST_REG_ID) != STCE_DMATEST_ID)
		return fail("device ID", EIO);
	for (uint64_t off = 0; off < span; off += chunk) {
		uint64_t n = min64(chunk, span - off);
		uint8_t pat = (uint8_t)(0x40 + off / chunk);

		if (pseries_dev_cmd(vm, STCE_DMATEST_CMD_FILL, 0, bus + off, n, pat) !=
		    STCE_DMATEST_STATUS_DONE ||
		    pseries_dev_cmd(vm, STCE_DMATEST_CMD_COPY, bus + off, bus + span + off,
				    n, 0) != STCE_DMATEST_STATUS_DONE ||
		    pseries_dev_cmd(vm, STCE_DMATEST_CMD_CHECKSUM, bus + span + off, 0,
				    n, 0) != STCE_DMATEST_STATUS_DONE)
			return fail("device DMA", (int)pseries_dev_reg(vm, STCE_DMATEST_REG_ERROR));
		if (pseries_dev_reg(vm, STCE_DMATEST_REG_RESULT) !=
		    stce_dmatest_checksum(vm->ram + off, n))
			return fail("checksum of the DMA'd bytes", EIO);
		for (uint64_t i = 0; i < n; i++)
			if (vm->ram[span + off + i] != pat)
				return fail("bytes the device copied", EIO);
		done += 3 * n;
		bar(d, "DMA", off + n, span);
	}
	d->dma_bytes = done;
	d->t_dma = now() - t0;
	say(d, "[5/8] device DMA: fill + copy + checksum of %s through the DDW, verified (%.0f MB/s)\n",
	    stce_format_size(span, a, sizeof(a)), done / (d->t_dma > 0 ? d->t_dma : 1e-9) / 1e6);
	return 0;
}

static const char *fault_reason_name(enum stce_eeh_fault_reason r)
{
	switch (r) {
	case STCE_EEH_FAULT_NO_WINDOW: return "outside every window";
	case STCE_EEH_FAULT_EMPTY: return "empty TCE";
	case STCE_EEH_FAULT_PERM: return "TCE permission";
	case STCE_EEH_FAULT_INJECTED: return "injected";
	default: return "none";
	}
}

/*
 * A DMA just past the window's end; then the guest's EEH recovery. The
 * guest's RTAS EEH calls reach the host as VFIO_EEH_PE_OP (QEMU's
 * mapping): ibm,read-slot-reset-state2 is GET_STATE, ibm,set-slot-reset
 * is RESET_HOT then RESET_DEACTIVATE, ibm,configure-pe is CONFIGURE.
 */
static int step_eeh(struct demo *d)
{
	struct pseries_vm *vm = &d->vm;
	uint64_t bad = vm->ddw_start + vm->ddw_size, id;
	uint64_t probe = min64(vm->ram_size, 65536);
	struct stce_eeh_fault f;
	int state;

	/* The freeze covers MMIO too: STATUS itself reads all-ones. */
	if (pseries_dev_cmd(vm, STCE_DMATEST_CMD_FILL, 0, bad, 4096, 0xee) ==
	    STCE_DMATEST_STATUS_DONE)
		return fail("the deliberate fault did not fault", EPROTO);
	state = stce_container_eeh_op(vm->c, STCE_EEH_PE_GET_STATE);
	id = pseries_dev_reg(vm, STCE_DMATEST_REG_ID);
	stce_pe_eeh_fault(vm->pe, &f);
	d->faults = f.count;
	snprintf(d->fault_reason, sizeof(d->fault_reason), "%s", fault_reason_name(f.reason));
	if (state != STCE_EEH_PE_STATE_STOPPED || id != UINT64_MAX)
		return fail("PE not frozen after the fault", EPROTO);
	say(d, "[6/8] EEH: DMA to bus 0x%llx (%s) froze the PE; MMIO reads 0x%llx\n",
	    (unsigned long long)f.iova, d->fault_reason, (unsigned long long)id);
	if (pseries_eeh_recover(vm))
		return fail("EEH reset", EIO);
	state = stce_container_eeh_op(vm->c, STCE_EEH_PE_GET_STATE);
	pseries_dev_enable(vm);
	if (state != STCE_EEH_PE_STATE_NORMAL ||
	    pseries_dev_reg(vm, STCE_DMATEST_REG_ID) != STCE_DMATEST_ID ||
	    pseries_dev_cmd(vm, STCE_DMATEST_CMD_CHECKSUM, vm->ddw_start, 0, probe, 0) !=
	    STCE_DMATEST_STATUS_DONE ||
	    pseries_dev_reg(vm, STCE_DMATEST_REG_RESULT) != stce_dmatest_checksum(vm->ram, probe))
		return fail("the device after recovery", EIO);
	d->recovered = true;
	say(d, "      recovered (VFIO_EEH_PE_OP: reset hot, deactivate, configure): PE state normal,\n"
	    "      device DMA through the same TCEs works again\n");
	return 0;
}

/* ---- steps 7 and 8: unmap, teardown --------------------------------- */

static int step_unmap(struct demo *d)
{
	struct pseries_vm *vm = &d->vm;
	double t0 = now();
	long ret = pseries_vcpus_run(vm, PSERIES_UNMAP_RAM, d->o.vcpus,
				     d->progress ? bar_unmap : NULL, d,
				     &d->tces_unmapped);
	char r[32];

	d->t_unmap = now() - t0;
	if (ret == -EAGAIN)
		return fail("vCPU threads", EAGAIN);
	if (ret != STCE_H_SUCCESS)
		return fail_code("H_STUFF_TCE", ret);
	if (!pseries_tces_read_back(vm, false))
		return fail("H_GET_TCE after the unmap", EIO);
	if (pseries_ram_mappings(vm))
		return fail("guest RAM still mapped after H_STUFF_TCE", EBUSY);
	say(d, "[7/8] H_STUFF_TCE: all guest RAM unmapped, %llu TCEs in %llu calls from %u vCPU%s "
	    "in %.1f ms (%s);\n      H_GET_TCE reads 0, the registered RAM counts no mapping\n",
	    (unsigned long long)d->tces_unmapped, (unsigned long long)vm->calls.stuff_tce,
	    d->o.vcpus, d->o.vcpus > 1 ? "s" : "", d->t_unmap * 1e3,
	    rate_text(d->tces_unmapped, d->t_unmap, r, sizeof(r)));
	return 0;
}

/*
 * The guest removes its DDW and resets the PE's windows (what a guest
 * does on reboot or kexec: the default window comes back); then the VM
 * goes (its LIOBNs and memory map), its RAM is unregistered and the PE
 * returned to the platform.
 */
static int step_teardown(struct demo *d)
{
	struct pseries_vm *vm = &d->vm;
	double t0 = now();
	int ret, status;

	status = pseries_rtas_remove(vm, vm->liobn);
	if (status)
		return fail_code("ibm,remove-pe-dma-window", status);
	status = pseries_rtas_reset(vm);
	if (status)
		return fail_code("ibm,reset-pe-dma-window", status);
	ret = pseries_teardown(vm);
	if (ret)
		return fail(vm->failed, ret);
	d->t_teardown = now() - t0;
	d->released = pseries_released(vm);
	say(d, "[8/8] teardown in %.2f s: ibm,remove-pe-dma-window, ibm,reset-pe-dma-window "
	    "(default window back),\n      VM gone, RAM unregistered, PE returned\n",
	    d->t_teardown);
	return d->released ? 0 : fail("audit: something was not released", EBUSY);
}

/* ---- report -------------------------------------------------------- */

static uint64_t table_bytes(const struct demo *d)
{
	uint64_t sum = 0;

	for (int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
		sum += d->stats.window[i].allocated_bytes;
	return sum;
}

static uint64_t window_liobn(const struct demo *d, int i)
{
	return d->stats.window[i].start == d->vm.ddw_start ? d->vm.liobn :
							     PSERIES_LIOBN_DEFAULT;
}

static void report_text(const struct demo *d)
{
	const struct pseries_calls *n = &d->vm.calls;
	uint64_t hp = stce_host_page_size();
	char a[32], b[32], r[32];

	printf("\nreport\n");
	for (int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		if (!d->stats.window[i].size)
			continue;
		printf("  window %d         bus 0x%llx, %s, %s pages, %u level%s, LIOBN 0x%llx (%s)\n",
		       i, (unsigned long long)d->stats.window[i].start,
		       stce_format_size(d->stats.window[i].size, a, sizeof(a)),
		       stce_format_size(1ULL << d->stats.window[i].page_shift, b, sizeof(b)),
		       d->stats.window[i].levels, d->stats.window[i].levels > 1 ? "s" : "",
		       (unsigned long long)window_liobn(d, i),
		       window_liobn(d, i) == d->vm.liobn ? "the DDW" : "default");
	}
	if (d->stats.default_window_pending)
		printf("  window 0         default 32-bit window, pending (never used)\n");
	if (d->default_removed)
		printf("  default window   removed by the guest to make room%s\n",
		       d->vm.liobn == PSERIES_LIOBN_DEFAULT ? " (the DDW got its LIOBN)" : "");
	printf("  table bytes      %llu allocated\n", (unsigned long long)table_bytes(d));
	printf("  locked_vm        %llu pages (%s) at peak\n",
	       (unsigned long long)d->locked_peak,
	       stce_format_size(d->locked_peak * hp, a, sizeof(a)));
	printf("  TCEs mapped      %llu by %u vCPU%s, %s: %llu H_PUT_TCE_INDIRECT, "
	       "%llu H_TOO_HARD retried\n",
	       (unsigned long long)d->tces, d->o.vcpus, d->o.vcpus > 1 ? "s" : "",
	       rate_text(d->tces, d->t_map, r, sizeof(r)),
	       (unsigned long long)n->put_tce_indirect, (unsigned long long)n->too_hard);
	printf("  TCEs unmapped    %llu by %u vCPU%s, %s: %llu H_STUFF_TCE\n",
	       (unsigned long long)d->tces_unmapped, d->o.vcpus, d->o.vcpus > 1 ? "s" : "",
	       rate_text(d->tces_unmapped, d->t_unmap, r, sizeof(r)),
	       (unsigned long long)n->stuff_tce);
	printf("  other calls      %llu H_GET_TCE, %llu RTAS\n",
	       (unsigned long long)n->get_tce, (unsigned long long)n->rtas);
	printf("  device DMA       %llu bytes\n", (unsigned long long)d->dma_bytes);
	printf("  faults           %llu (%s), recovered: %s\n",
	       (unsigned long long)d->faults, d->fault_reason, d->recovered ? "yes" : "no");
	printf("  released         %s (locked_vm back to %llu, %zu registered regions, "
	       "%llu pinned pages, PE back with the platform)\n",
	       d->released ? "everything" : "NOT everything",
	       (unsigned long long)(d->vm.locked_before + pseries_locked_now(&d->vm)),
	       stce_prereg_count(), (unsigned long long)stce_pin_pages());
}

static void report_json(const struct demo *d)
{
	const struct pseries_calls *n = &d->vm.calls;

	printf("{\"guest_mem\": %llu, \"page\": %llu, \"vcpus\": %u, \"windows\": [",
	       (unsigned long long)d->vm.ram_size, (unsigned long long)d->o.page, d->o.vcpus);
	for (int i = 0, first = 1; i < STCE_PE_MAX_WINDOWS; i++) {
		if (!d->stats.window[i].size)
			continue;
		printf("%s{\"start\": %llu, \"size\": %llu, \"page_shift\": %u, \"levels\": %u, "
		       "\"liobn\": %llu}",
		       first ? "" : ", ", (unsigned long long)d->stats.window[i].start,
		       (unsigned long long)d->stats.window[i].size,
		       d->stats.window[i].page_shift, d->stats.window[i].levels,
		       (unsigned long long)window_liobn(d, i));
		first = 0;
	}
	printf("], \"default_window_removed\": %s, \"table_bytes\": %llu, "
	       "\"locked_vm_pages\": %llu, \"tces\": %llu, \"tces_per_s\": %.0f, "
	       "\"tces_unmapped\": %llu, \"unmap_tces_per_s\": %.0f, "
	       "\"hcalls\": {\"put_tce_indirect\": %llu, \"stuff_tce\": %llu, \"get_tce\": %llu}, "
	       "\"too_hard_retries\": %llu, \"rtas_calls\": %llu, ",
	       d->default_removed ? "true" : "false", (unsigned long long)table_bytes(d),
	       (unsigned long long)d->locked_peak,
	       (unsigned long long)d->tces, rate(d->tces, d->t_map),
	       (unsigned long long)d->tces_unmapped, rate(d->tces_unmapped, d->t_unmap),
	       (unsigned long long)n->put_tce_indirect, (unsigned long long)n->stuff_tce,
	       (unsigned long long)n->get_tce, (unsigned long long)n->too_hard,
	       (unsigned long long)n->rtas);
	printf("\"dma_bytes\": %llu, \"faults\": %llu, \"recovered\": %s, \"released\": %s, "
	       "\"after\": {\"locked_vm_pages\": %llu, \"regions\": %zu, \"pinned_pages\": %llu}, "
	       "\"seconds\": {\"register\": %.3f, \"map\": %.3f, \"dma\": %.3f, \"unmap\": %.3f, "
	       "\"teardown\": %.3f}}\n",
	       (unsigned long long)d->dma_bytes, (unsigned long long)d->faults,
	       d->recovered ? "true" : "false", d->released ? "true" : "false",
	       (unsigned long long)pseries_locked_now(&d->vm), stce_prereg_count(),
	       (unsigned long long)stce_pin_pages(),
	       d->t_register, d->t_map, d->t_dma, d->t_unmap, d->t_teardown);
}

/* See cli.h. */
int cmd_demo(int argc, char **argv)
{
	struct demo d = { 0 };
	char a[32], b[32];
	int ret;

	ret = parse_args(argc, argv, &d.o);
	if (ret)
		return ret < 0 ? CLI_OK : ret;
	d.progress = !d.o.json && isatty(2);
	pseries_vm_init(&d.vm);
	ret = setup_platform(&d);
	if (!ret)
		ret = fit_memlock(&d);
	if (!ret)
		ret = alloc_ram(&d);
	if (ret)
		goto out;
	say(&d, "spapr-tce demo: a %s pSeries guest, %u vCPU%s, %s IOMMU pages, "
	    "passthrough DMA device %s\n\n",
	    stce_format_size(d.vm.ram_size, a, sizeof(a)), d.o.vcpus,
	    d.o.vcpus > 1 ? "s" : "", stce_format_size(d.o.page, b, sizeof(b)),
	    stce_device_name(d.vm.dev));
	ret = step_container(&d);
	if (!ret)
		ret = step_memory(&d);
	if (!ret)
		ret = step_ddw(&d);
	if (!ret)
		ret = step_map(&d);
	if (!ret)
		ret = step_dma(&d);
	if (!ret)
		ret = step_eeh(&d);
	if (!ret)
		ret = step_unmap(&d);
	if (!ret)
		ret = step_teardown(&d);
	if (!ret) {
		if (d.o.json)
			report_json(&d);
		else
			report_text(&d);
	}
out:
	pseries_vm_destroy(&d.vm);
	return ret;
}
