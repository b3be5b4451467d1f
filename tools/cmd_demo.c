// SPDX-License-Identifier: MIT
/*
 * spapr-tce demo: a simulated pSeries guest with a passthrough DMA device,
 * from the host side - what QEMU/KVM and the sPAPR TCE driver do for it:
 *
 *   1. a v2 container takes the device's PE;
 *   2. guest RAM is pre-registered (pinned, charged to locked_vm);
 *   3. the guest creates a 64-bit DMA window (DDW);
 *   4. all guest RAM is mapped into it, by N vCPU threads at once;
 *   5. the device does DMA through the window (fill, copy, checksum);
 *   6. a deliberate DMA outside the window freezes the PE (EEH); the
 *      guest's recovery resets and thaws it, and DMA works again;
 *   7. teardown, and an audit that everything was released.
 *
 * Step 4 is demo_map_ram(): today each vCPU maps its slice through the
 * container C API, 512 TCEs a call (what one H_PUT_TCE_INDIRECT carries);
 * it is the one function to switch to the guest hypercall path once
 * src/hcall exists.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/device.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>
#include <spapr_tce/topology.h>

#include "cli.h"
#include "common/common.h"
#include "common/size.h"

#define TCES_PER_CALL	512		/* one H_PUT_TCE_INDIRECT */
#define REG_CHUNK	(64ULL << 20)	/* RAM registered per REGISTER */
#define MAX_VCPUS	64
#define DDW_LEVELS	2

static const char demo_usage[] =
	"usage: spapr-tce demo [--guest-mem SIZE] [--page SIZE] [--vcpus N] [--json]\n"
	"A simulated pSeries guest with a passthrough DMA device: v2 container,\n"
	"pre-registration, a 64-bit DMA window, all RAM mapped by N vCPU threads,\n"
	"device DMA, a deliberate fault and its EEH recovery, teardown, report.\n"
	"Defaults: --guest-mem 1G (less when RLIMIT_MEMLOCK cannot hold it),\n"
	"--page 64K (4K, 64K; 2M and 1G need hugetlbfs pages), --vcpus 2.\n";

struct demo_opts {
	uint64_t guest_mem;
	uint64_t page;
	unsigned int vcpus;
	bool json;
	bool mem_given;
};

struct demo {
	struct demo_opts o;
	struct stce_platform *plat;
	struct stce_pe *pe;
	struct stce_device *dev;
	struct stce_container *c;
	uint8_t *map_base;	/* what mmap returned */
	size_t map_len;
	uint8_t *ram;		/* guest RAM, aligned */
	uint64_t ram_size;
	unsigned int page_shift;
	bool keep_default;	/* the 32-bit default window too */
	uint64_t ddw_start, ddw_size;
	uint64_t locked_before, locked_peak;
	struct stce_container_stats stats;	/* with everything mapped */
	double t_register, t_map, t_dma, t_teardown;
	uint64_t tces, dma_bytes, faults;
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

static int fail(const char *step, int err)
{
	fprintf(stderr, "spapr-tce demo: %s: %s\n", step, strerror(err < 0 ? -err : err));
	return CLI_FAILED;
}

/* ---- options ------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct demo_opts *o)
{
	static const struct option opts[] = {
		{ "guest-mem", required_argument, NULL, 'm' },
		{ "page", required_argument, NULL, 'p' },
		{ "vcpus", required_argument, NULL, 'v' },
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
			if (errno || end == optarg || *end || v < 1 || v > MAX_VCPUS)
				return cli_usage_error("demo", "--vcpus: '%s' is not a number from 1 to %d",
						       optarg, MAX_VCPUS);
			o->vcpus = (unsigned int)v;
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
	if (o->guest_mem < o->page || o->guest_mem % o->page ||
	    o->guest_mem % stce_host_page_size())
		return cli_usage_error("demo", "--guest-mem: a multiple of the page and of the %lluK host page",
				       (unsigned long long)(stce_host_page_size() >> 10));
	return 0;
}

/* ---- set-up -------------------------------------------------------- */

static uint64_t ddw_size_for(uint64_t ram)
{
	uint64_t s = 1;

	while (s < ram)
		s <<= 1;
	return s;
}

/* locked_vm this run needs: RAM, the DDW table, the default window's. */
static uint64_t pages_needed(const struct demo *d, uint64_t ram, bool dflt)
{
	unsigned int hs = stce_host_page_shift();
	uint64_t bytes = ram + stce_table_size_hp(d->page_shift, ddw_size_for(ram),
						  DDW_LEVELS, hs);
	struct stce_pe_caps caps;

	stce_pe_get_caps(d->pe, &caps);
	if (dflt)
		bytes += stce_table_size_hp(caps.dma32_page_shift, caps.dma32_size,
					    1, hs);
	return stce_account_bytes_to_pages(bytes);
}

/* Fit the run into RLIMIT_MEMLOCK: a smaller guest when the size was
 * not asked for, else a clear refusal. */
static int fit_memlock(struct demo *d)
{
	uint64_t limit = stce_account_limit_pages(), ram = d->o.guest_mem;
	char a[32], b[32], c[32];

	d->keep_default = true;
	if (limit == UINT64_MAX || pages_needed(d, ram, true) <= limit)
		return 0;
	if (d->o.mem_given) {
		fprintf(stderr, "spapr-tce demo: %s of guest RAM needs more locked memory than "
			"RLIMIT_MEMLOCK (%s) allows; raise it (ulimit -l) or run as root\n",
			stce_format_size(ram, a, sizeof(a)),
			stce_format_size(limit << stce_host_page_shift(), b, sizeof(b)));
		return CLI_FAILED;
	}
	while (ram > d->o.page && pages_needed(d, ram, true) > limit)
		ram >>= 1;
	if (pages_needed(d, ram, true) > limit) {
		/* As a guest on a one-window PHB: drop the default window. */
		d->keep_default = false;
		ram = d->o.guest_mem;
		while (ram > d->o.page && pages_needed(d, ram, false) > limit)
			ram >>= 1;
	}
	if (pages_needed(d, ram, d->keep_default) > limit || ram % stce_host_page_size()) {
		fprintf(stderr, "spapr-tce demo: RLIMIT_MEMLOCK (%s) is too small for any guest; "
			"raise it (ulimit -l) or run as root\n",
			stce_format_size(limit << stce_host_page_shift(), b, sizeof(b)));
		return CLI_FAILED;
	}
	say(d, "note: RLIMIT_MEMLOCK is %s, so the guest gets %s of RAM%s\n"
	    "      (raise `ulimit -l` or run as root for the full %s)\n\n",
	    stce_format_size(limit << stce_host_page_shift(), a, sizeof(a)),
	    stce_format_size(ram, b, sizeof(b)),
	    d->keep_default ? "" : " and no default window",
	    stce_format_size(d->o.guest_mem, c, sizeof(c)));
	d->o.guest_mem = ram;
	return 0;
}

static int alloc_ram(struct demo *d)
{
	uint64_t align = stce_max64(d->o.page, stce_host_page_size());
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

	d->ram_size = d->o.guest_mem;
	if (d->o.page > (64 << 10)) {
		/* Big IOMMU pages need RAM backed by pages as big. */
		flags |= MAP_HUGETLB | (int)(stce_ilog2(d->o.page) << MAP_HUGE_SHIFT);
		d->map_len = d->ram_size;
		d->map_base = mmap(NULL, d->map_len, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (d->map_base == MAP_FAILED) {
			fprintf(stderr, "spapr-tce demo: no %s hugetlbfs pages for the guest RAM "
				"(see /proc/sys/vm/nr_hugepages); use --page 64K\n",
				d->o.page == (2 << 20) ? "2M" : "1G");
			d->map_base = NULL;
			return CLI_FAILED;
		}
		d->ram = d->map_base;
		return 0;
	}
	d->map_len = d->ram_size + align;
	d->map_base = mmap(NULL, d->map_len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (d->map_base == MAP_FAILED) {
		d->map_base = NULL;
		return fail("guest RAM", errno);
	}
	d->ram = (uint8_t *)stce_round_up((uintptr_t)d->map_base, align);
	return 0;
}

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
	ret = stce_platform_create(topo, &d->plat);
	stce_topology_free(topo);
	if (ret)
		return fail("platform", ret);
	if (!stce_platform_nr_devices(d->plat))
		return fail("topology has no device", ENODEV);
	d->dev = stce_platform_device(d->plat, 0);
	d->pe = stce_device_pe(d->dev);
	d->page_shift = stce_ilog2(d->o.page);
	return 0;
}

/* ---- steps --------------------------------------------------------- */

static int step_container(struct demo *d)
{
	int ret = stce_container_create(STCE_IOMMU_V2, 0, &d->c);

	if (ret)
		return fail("v2 container", ret);
	ret = stce_container_attach(d->c, d->pe);
	if (ret)
		return fail("attach the PE", ret);
	say(d, "[1/7] v2 container: IOMMU group %u (PE of %s) attached\n",
	    stce_pe_group(d->pe), stce_device_name(d->dev));
	return 0;
}

static int step_register(struct demo *d)
{
	double t0 = now();
	char a[32];
	int ret;

	for (uint64_t off = 0; off < d->ram_size; off += REG_CHUNK) {
		uint64_t n = min64(REG_CHUNK, d->ram_size - off);

		ret = stce_container_register(d->c, (uintptr_t)d->ram + off, n);
		if (ret)
			return fail("pre-register guest RAM", ret);
		bar(d, "register", off + n, d->ram_size);
	}
	d->t_register = now() - t0;
	say(d, "[2/7] pre-registered %s of guest RAM in %.2f s (pinned; locked_vm +%llu pages)\n",
	    stce_format_size(d->ram_size, a, sizeof(a)), d->t_register,
	    (unsigned long long)(stce_account_locked_pages() - d->locked_before));
	return 0;
}

static int step_window(struct demo *d)
{
	char a[32], b[32];
	int ret;

	if (!d->keep_default) {
		ret = stce_container_remove_window(d->c, 0);
		if (ret)
			return fail("remove the default window", ret);
	}
	d->ddw_size = ddw_size_for(d->ram_size);
	ret = stce_container_create_window(d->c, d->page_shift, d->ddw_size,
					   DDW_LEVELS, &d->ddw_start);
	if (ret)
		return fail("create the 64-bit window", ret);
	say(d, "[3/7] DDW: %s window of %s pages, %d levels, at bus 0x%llx\n",
	    stce_format_size(d->ddw_size, a, sizeof(a)),
	    stce_format_size(d->o.page, b, sizeof(b)), DDW_LEVELS,
	    (unsigned long long)d->ddw_start);
	return 0;
}

/* ---- step 4: map all guest RAM from the vCPUs ---------------------- */

struct vcpu {
	struct demo *d;
	uint64_t first, count;	/* IOMMU pages of RAM this vCPU maps */
	_Atomic uint64_t *done;
	int ret;
};

/*
 * One vCPU: its slice of RAM, TCES_PER_CALL pages a call, at bus address
 * ddw_start + guest physical address (the guest's 1:1 DDW mapping).
 */
static void *vcpu_map(void *arg)
{
	struct vcpu *v = arg;
	struct demo *d = v->d;
	uint64_t ps = d->o.page;

	for (uint64_t i = 0; i < v->count; i += TCES_PER_CALL) {
		uint64_t n = min64(TCES_PER_CALL, v->count - i);
		uint64_t gpa = (v->first + i) * ps;

		v->ret = stce_container_map(d->c, (uintptr_t)d->ram + gpa,
					    d->ddw_start + gpa, n * ps,
					    STCE_MAP_READ | STCE_MAP_WRITE);
		if (v->ret)
			break;
		atomic_fetch_add(v->done, n);
	}
	return NULL;
}

/* Map every page of guest RAM into the DDW, from o.vcpus threads on
 * disjoint slices. Returns 0 or a negative errno. */
static int demo_map_ram(struct demo *d)
{
	uint64_t pages = d->ram_size >> d->page_shift, per;
	pthread_t tid[MAX_VCPUS];
	struct vcpu v[MAX_VCPUS];
	_Atomic uint64_t done = 0;
	unsigned int n = d->o.vcpus, started = 0;
	int ret = 0;

	per = (pages + n - 1) / n;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t first = min64(pages, i * per);

		v[i] = (struct vcpu){ .d = d, .first = first,
				      .count = min64(per, pages - first),
				      .done = &done };
		if (pthread_create(&tid[i], NULL, vcpu_map, &v[i])) {
			ret = -EAGAIN;
			break;
		}
		started++;
	}
	while (started == n && atomic_load(&done) < pages) {
		bool all_over = true;

		bar(d, "map", atomic_load(&done), pages);
		for (unsigned int i = 0; i < n; i++)
			all_over &= v[i].ret != 0;
		if (all_over)
			break;
		usleep(d->progress ? 2000 : 200);
	}
	for (unsigned int i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (v[i].ret && !ret)
			ret = v[i].ret;
	}
	bar(d, "map", pages, pages);
	d->tces = atomic_load(&done);
	return ret;
}

static int step_map(struct demo *d)
{
	double t0 = now();
	int ret = demo_map_ram(d);

	d->t_map = now() - t0;
	if (ret)
		return fail("map guest RAM", ret);
	stce_container_get_stats(d->c, &d->stats);
	d->locked_peak = stce_account_locked_pages();
	say(d, "[4/7] mapped all guest RAM: %llu TCEs from %u vCPU%s in %.3f s (%.1f M TCEs/s)\n",
	    (unsigned long long)d->tces, d->o.vcpus, d->o.vcpus > 1 ? "s" : "",
	    d->t_map, d->tces / (d->t_map > 0 ? d->t_map : 1e-9) / 1e6);
	return 0;
}

/* ---- the device ---------------------------------------------------- */

static uint64_t reg_read(struct demo *d, uint64_t reg)
{
	uint64_t v = 0;

	stce_device_mmio_read(d->dev, 0, reg, 8, &v);
	return v;
}

static void reg_write(struct demo *d, uint64_t reg, uint64_t v)
{
	stce_device_mmio_write(d->dev, 0, reg, 8, v);
}

/* Run one command; its STATUS. */
static uint64_t device_cmd(struct demo *d, uint64_t cmd, uint64_t src,
			   uint64_t dst, uint64_t len, uint8_t pattern)
{
	reg_write(d, STCE_DMATEST_REG_SRC, src);
	reg_write(d, STCE_DMATEST_REG_DST, dst);
	reg_write(d, STCE_DMATEST_REG_LEN, len);
	reg_write(d, STCE_DMATEST_REG_PATTERN, pattern);
	reg_write(d, STCE_DMATEST_REG_CMD, cmd);
	return reg_read(d, STCE_DMATEST_REG_STATUS);
}

static void enable_device(struct demo *d)
{
	stce_device_config_write(d->dev, STCE_PCI_COMMAND, 2,
				 STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER);
}

/*
 * Traffic: the device fills the first half of RAM's test span, copies it
 * to the second half, and checksums it; the CPU checks every byte.
 */
static int step_dma(struct demo *d)
{
	uint64_t span = min64(d->ram_size / 2, 256ULL << 20), done = 0;
	uint64_t bus = d->ddw_start, chunk = STCE_DMATEST_MAX_LEN;
	double t0 = now();
	char a[32];

	enable_device(d);
	if (reg_read(d, STCE_DMATEST_REG_ID) != STCE_DMATEST_ID)
		return fail("device ID", EIO);
	for (uint64_t off = 0; off < span; off += chunk) {
		uint64_t n = min64(chunk, span - off);
		uint8_t pat = (uint8_t)(0x40 + off / chunk);

		if (device_cmd(d, STCE_DMATEST_CMD_FILL, 0, bus + off, n, pat) !=
		    STCE_DMATEST_STATUS_DONE ||
		    device_cmd(d, STCE_DMATEST_CMD_COPY, bus + off, bus + span + off,
			       n, 0) != STCE_DMATEST_STATUS_DONE ||
		    device_cmd(d, STCE_DMATEST_CMD_CHECKSUM, bus + span + off, 0,
			       n, 0) != STCE_DMATEST_STATUS_DONE)
			return fail("device DMA", (int)reg_read(d, STCE_DMATEST_REG_ERROR));
		if (reg_read(d, STCE_DMATEST_REG_RESULT) !=
		    stce_dmatest_checksum(d->ram + off, n))
			return fail("checksum of the DMA'd bytes", EIO);
		for (uint64_t i = 0; i < n; i++)
			if (d->ram[span + off + i] != pat)
				return fail("bytes the device copied", EIO);
		done += 3 * n;
		bar(d, "DMA", off + n, span);
	}
	d->dma_bytes = done;
	d->t_dma = now() - t0;
	say(d, "[5/7] device DMA: fill + copy + checksum of %s through the DDW, verified (%.0f MB/s)\n",
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

/* A DMA just past the window's end; then the guest's EEH recovery. */
static int step_eeh(struct demo *d)
{
	uint64_t bad = d->ddw_start + d->ddw_size, id;
	struct stce_eeh_fault f;
	int state;

	/* The freeze covers MMIO too: STATUS itself reads all-ones. */
	if (device_cmd(d, STCE_DMATEST_CMD_FILL, 0, bad, 4096, 0xee) ==
	    STCE_DMATEST_STATUS_DONE)
		return fail("the deliberate fault did not fault", EPROTO);
	state = stce_container_eeh_op(d->c, STCE_EEH_PE_GET_STATE);
	id = reg_read(d, STCE_DMATEST_REG_ID);
	stce_pe_eeh_fault(d->pe, &f);
	d->faults = f.count;
	snprintf(d->fault_reason, sizeof(d->fault_reason), "%s", fault_reason_name(f.reason));
	if (state != STCE_EEH_PE_STATE_STOPPED || id != UINT64_MAX)
		return fail("PE not frozen after the fault", EPROTO);
	say(d, "[6/7] EEH: DMA to bus 0x%llx (%s) froze the PE; MMIO reads 0x%llx\n",
	    (unsigned long long)f.iova, d->fault_reason, (unsigned long long)id);
	/* The guest's recovery: hot reset, release it, configure. */
	if (stce_container_eeh_op(d->c, STCE_EEH_PE_RESET_HOT) ||
	    stce_container_eeh_op(d->c, STCE_EEH_PE_RESET_DEACTIVATE) ||
	    stce_container_eeh_op(d->c, STCE_EEH_PE_CONFIGURE))
		return fail("EEH reset", EIO);
	state = stce_container_eeh_op(d->c, STCE_EEH_PE_GET_STATE);
	enable_device(d);
	if (state != STCE_EEH_PE_STATE_NORMAL ||
	    reg_read(d, STCE_DMATEST_REG_ID) != STCE_DMATEST_ID ||
	    device_cmd(d, STCE_DMATEST_CMD_CHECKSUM, d->ddw_start, 0, 65536, 0) !=
	    STCE_DMATEST_STATUS_DONE ||
	    reg_read(d, STCE_DMATEST_REG_RESULT) != stce_dmatest_checksum(d->ram, 65536))
		return fail("the device after recovery", EIO);
	d->recovered = true;
	say(d, "      recovered: reset, PE state normal, device DMA works again\n");
	return 0;
}

/* Unmap (the same slices), remove the window, unregister, detach. */
static int step_teardown(struct demo *d)
{
	uint64_t step = (uint64_t)TCES_PER_CALL << d->page_shift;
	double t0 = now();
	int ret;

	for (uint64_t off = 0; off < d->ram_size; off += step) {
		ret = stce_container_unmap(d->c, d->ddw_start + off,
					   min64(step, d->ram_size - off));
		if (ret)
			return fail("unmap", ret);
		bar(d, "unmap", off + step, d->ram_size);
	}
	ret = stce_container_remove_window(d->c, d->ddw_start);
	if (ret)
		return fail("remove the DDW", ret);
	for (uint64_t off = 0; off < d->ram_size; off += REG_CHUNK) {
		ret = stce_container_unregister(d->c, (uintptr_t)d->ram + off,
						min64(REG_CHUNK, d->ram_size - off));
		if (ret)
			return fail("unregister", ret);
	}
	ret = stce_container_detach(d->c, d->pe);
	if (ret)
		return fail("detach", ret);
	stce_container_destroy(d->c);
	d->c = NULL;
	d->t_teardown = now() - t0;
	d->released = stce_account_locked_pages() == d->locked_before &&
		      stce_pin_pages() == 0 && !stce_pe_user_owned(d->pe);
	say(d, "[7/7] teardown in %.2f s: unmapped, window removed, RAM unregistered, PE returned\n",
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

static void report_text(const struct demo *d)
{
	uint64_t hp = stce_host_page_size();
	char a[32], b[32];

	printf("\nreport\n");
	for (int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		if (!d->stats.window[i].size)
			continue;
		printf("  window %d         bus 0x%llx, %s, %s pages, %u level%s\n", i,
		       (unsigned long long)d->stats.window[i].start,
		       stce_format_size(d->stats.window[i].size, a, sizeof(a)),
		       stce_format_size(1ULL << d->stats.window[i].page_shift, b, sizeof(b)),
		       d->stats.window[i].levels, d->stats.window[i].levels > 1 ? "s" : "");
	}
	if (d->stats.default_window_pending)
		printf("  window 0         default 32-bit window, pending (never used)\n");
	printf("  table bytes      %llu allocated\n", (unsigned long long)table_bytes(d));
	printf("  locked_vm        %llu pages (%s) at peak\n",
	       (unsigned long long)(d->locked_peak - d->locked_before),
	       stce_format_size((d->locked_peak - d->locked_before) * hp, a, sizeof(a)));
	printf("  TCEs mapped      %llu by %u vCPU%s, %.1f M TCEs/s\n",
	       (unsigned long long)d->tces, d->o.vcpus, d->o.vcpus > 1 ? "s" : "",
	       d->tces / (d->t_map > 0 ? d->t_map : 1e-9) / 1e6);
	printf("  device DMA       %llu bytes\n", (unsigned long long)d->dma_bytes);
	printf("  faults           %llu (%s), recovered: %s\n",
	       (unsigned long long)d->faults, d->fault_reason, d->recovered ? "yes" : "no");
	printf("  released         %s (locked_vm back to %llu, 0 pinned pages, PE back with the platform)\n",
	       d->released ? "everything" : "NOT everything",
	       (unsigned long long)d->locked_before);
}

static void report_json(const struct demo *d)
{
	printf("{\"guest_mem\": %llu, \"page\": %llu, \"vcpus\": %u, \"windows\": [",
	       (unsigned long long)d->ram_size, (unsigned long long)d->o.page, d->o.vcpus);
	for (int i = 0, first = 1; i < STCE_PE_MAX_WINDOWS; i++) {
		if (!d->stats.window[i].size)
			continue;
		printf("%s{\"start\": %llu, \"size\": %llu, \"page_shift\": %u, \"levels\": %u}",
		       first ? "" : ", ", (unsigned long long)d->stats.window[i].start,
		       (unsigned long long)d->stats.window[i].size,
		       d->stats.window[i].page_shift, d->stats.window[i].levels);
		first = 0;
	}
	printf("], \"table_bytes\": %llu, \"locked_vm_pages\": %llu, \"tces\": %llu, "
	       "\"tces_per_s\": %.0f, \"dma_bytes\": %llu, \"faults\": %llu, "
	       "\"recovered\": %s, \"released\": %s, \"seconds\": {\"register\": %.3f, "
	       "\"map\": %.3f, \"dma\": %.3f, \"teardown\": %.3f}}\n",
	       (unsigned long long)table_bytes(d),
	       (unsigned long long)(d->locked_peak - d->locked_before),
	       (unsigned long long)d->tces, d->tces / (d->t_map > 0 ? d->t_map : 1e-9),
	       (unsigned long long)d->dma_bytes, (unsigned long long)d->faults,
	       d->recovered ? "true" : "false", d->released ? "true" : "false",
	       d->t_register, d->t_map, d->t_dma, d->t_teardown);
}

static void cleanup(struct demo *d)
{
	stce_container_destroy(d->c);
	stce_platform_destroy(d->plat);
	if (d->map_base)
		munmap(d->map_base, d->map_len);
}

int cmd_demo(int argc, char **argv)
{
	struct demo d = { 0 };
	char a[32], b[32];
	int ret;

	ret = parse_args(argc, argv, &d.o);
	if (ret)
		return ret < 0 ? CLI_OK : ret;
	d.progress = !d.o.json && isatty(2);
	d.locked_before = stce_account_locked_pages();
	ret = setup_platform(&d);
	if (!ret)
		ret = fit_memlock(&d);
	if (!ret)
		ret = alloc_ram(&d);
	if (ret)
		goto out;
	say(&d, "spapr-tce demo: a %s pSeries guest, %u vCPU%s, %s IOMMU pages, "
	    "passthrough DMA device %s\n\n",
	    stce_format_size(d.ram_size, a, sizeof(a)), d.o.vcpus,
	    d.o.vcpus > 1 ? "s" : "", stce_format_size(d.o.page, b, sizeof(b)),
	    stce_device_name(d.dev));
	ret = step_container(&d);
	if (!ret)
		ret = step_register(&d);
	if (!ret)
		ret = step_window(&d);
	if (!ret)
		ret = step_map(&d);
	if (!ret)
		ret = step_dma(&d);
	if (!ret)
		ret = step_eeh(&d);
	if (!ret)
		ret = step_teardown(&d);
	if (!ret) {
		if (d.o.json)
			report_json(&d);
		else
			report_text(&d);
	}
out:
	cleanup(&d);
	return ret;
}
