// SPDX-License-Identifier: MIT
/*
 * bench-call: what one VFIO call costs a real program through the preload
 * library, against a bare ioctl(2) system call (FIONBIO on /dev/null,
 * through libc's own ioctl, past the library) measured in the same run.
 * A ratio here is (bare syscall time / call time): 1.0 means the call
 * costs as much as one trip into the kernel. Each figure is the median of
 * paired rounds (bare syscall, then the call), with the rounds' range.
 *
 * The client is QEMU's per-call pattern: a v2 container, registered
 * memory, a 64K-page DMA window, then one-page MAP_DMA and UNMAP_DMA
 * alternating over many IOVAs (a guest's H_PUT_TCE each), EEH GET_STATE,
 * and 4- and 8-byte pread/pwrite of the DMA test device's BAR0 (MMIO).
 *
 * Run bare, it runs itself with LD_PRELOAD= this build's library, then
 * again with SPAPR_TCE_STATS=/dev/null (the per-call statistics on: their
 * cost is the difference). Written against <linux/vfio.h> and libc only.
 */
#include "vfio-example.h"

#include <dlfcn.h>
#include <sys/wait.h>

#include "../bench_common.h"

#define MEM		(16u << 20)
#define PAGE		(1u << 16)
#define WINDOW		(256u << 20)
#define CHUNK		64	/* maps, then their unmaps */
#define ENV_CHILD	"SPAPR_TCE_BENCH_CALL"
/* Many short rounds: this VM's per-call speed moves within 50 ms. */
#define ROUNDS		21

static int (*libc_ioctl)(int, unsigned long, ...);

struct client {
	int container, group, devnull, devnull_out;
	struct vfio_dev dev;
	uint8_t *ram;
	uint64_t bus, next;	/* next IOVA page to map */
	double map_s, unmap_s;
	uint64_t calls;
};

static void bare_pass(void *ctx)
{
	struct client *c = ctx;
	int off = 0;

	for (int i = 0; i < 256; i++)
		if (libc_ioctl(c->devnull, FIONBIO, &off))
			fail("FIONBIO");
}

/* CHUNK maps of one page at distinct IOVAs, then their unmaps; the two
 * halves are timed apart. */
static void map_unmap_pass(void *ctx)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .size = PAGE,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .size = PAGE,
	};
	struct client *c = ctx;
	uint64_t first = c->next;
	double t0, t1, t2;

	t0 = bench_now();
	for (uint64_t i = 0; i < CHUNK; i++) {
		map.iova = c->bus + (first + i) * PAGE;
		map.vaddr = (uintptr_t)c->ram + ((first + i) % (MEM / PAGE)) * PAGE;
		if (ioctl(c->container, VFIO_IOMMU_MAP_DMA, &map))
			fail("MAP_DMA");
	}
	t1 = bench_now();
	for (uint64_t i = 0; i < CHUNK; i++) {
		unmap.iova = c->bus + (first + i) * PAGE;
		if (ioctl(c->container, VFIO_IOMMU_UNMAP_DMA, &unmap) ||
		    unmap.size != PAGE)
			fail("UNMAP_DMA");
	}
	t2 = bench_now();
	c->map_s += t1 - t0;
	c->unmap_s += t2 - t1;
	c->calls += CHUNK;
	c->next = (first + CHUNK) % (WINDOW / PAGE);
}

static void eeh_pass(void *ctx)
{
	struct vfio_eeh_pe_op op = { .argsz = sizeof(op),
				     .op = VFIO_EEH_PE_GET_STATE };
	struct client *c = ctx;

	for (int i = 0; i < 256; i++)
		if (ioctl(c->container, VFIO_EEH_PE_OP, &op) !=
		    VFIO_EEH_PE_STATE_NORMAL)
			fail("EEH GET_STATE");
}

#define RW_PASS(name, call, size)					\
static void name(void *ctx)						\
{									\
	struct client *c = ctx;						\
	uint64_t v = 0x5a;						\
	off_t off = (off_t)(c->dev.bar0_off + REG_PATTERN);		\
									\
	for (int i = 0; i < 256; i++)					\
		if (call(c->dev.fd, &v, size, off) != size)		\
			fail(#call);					\
}
RW_PASS(pread4_pass, pread, 4)
RW_PASS(pread8_pass, pread, 8)
RW_PASS(pwrite4_pass, pwrite, 4)
RW_PASS(pwrite8_pass, pwrite, 8)

static void setup(struct client *c)
{
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_create create = { .argsz = sizeof(create) };
	struct vfio_eeh_pe_op op = { .argsz = sizeof(op), .op = VFIO_EEH_PE_ENABLE };

	c->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(c->devnull >= 0, "open /dev/null");
	open_container(VFIO_SPAPR_TCE_v2_IOMMU, &c->container, &c->group);
	c->ram = alloc_aligned(MEM, PAGE);
	reg.vaddr = (uintptr_t)c->ram;
	reg.size = MEM;
	CHECK(!ioctl(c->container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg),
	      "REGISTER_MEMORY");
	create.page_shift = 16;
	create.window_size = WINDOW;
	create.levels = 1;
	CHECK(!ioctl(c->container, VFIO_IOMMU_SPAPR_TCE_CREATE, &create),
	      "TCE_CREATE");
	c->bus = create.start_addr;
	CHECK(!ioctl(c->container, VFIO_EEH_PE_OP, &op), "EEH ENABLE");
	open_device(c->group, &c->dev);
}

/*
 * Per-call rates against the bare syscall's, in paired rounds (bench_common.h):
 * each round times the bare syscall and then the call, back to back.
 */
static void figure(struct client *c, const char *name,
		   void (*pass)(void *), double ops, const char *suffix)
{
	int rounds = bench_rounds(ROUNDS);
	double t = bench_round_seconds(rounds);
	struct bench_rounds r = { 0 };
	char label[96];

	for (int i = rounds; i > 0; i--) {
		double bare = bench_rate_for(bare_pass, c, 256, t);

		bench_rounds_add(&r, bench_rate_for(pass, c, ops, t), bare);
	}
	snprintf(label, sizeof(label), "%s%s", name, suffix);
	bench_report_rounds(label, &r, "calls", "bare ioctl(2)");
}

/* MAP and UNMAP share a pass; each rate is its calls over its own time. */
static void map_figures(struct client *c, const char *suffix)
{
	int rounds = bench_rounds(ROUNDS);
	double t = bench_round_seconds(rounds);
	struct bench_rounds map = { 0 }, unmap = { 0 };
	char label[96];

	for (int i = rounds; i > 0; i--) {
		double bare = bench_rate_for(bare_pass, c, 256, t);

		c->map_s = c->unmap_s = 0;
		c->calls = 0;
		bench_rate_for(map_unmap_pass, c, 2 * CHUNK, t);
		bench_rounds_add(&map, (double)c->calls / c->map_s, bare);
		bench_rounds_add(&unmap, (double)c->calls / c->unmap_s, bare);
	}
	snprintf(label, sizeof(label), "MAP_DMA one 64K page%s", suffix);
	bench_report_rounds(label, &map, "calls", "bare ioctl(2)");
	snprintf(label, sizeof(label), "UNMAP_DMA one 64K page%s", suffix);
	bench_report_rounds(label, &unmap, "calls", "bare ioctl(2)");
}

/* @only "map": the map figures alone (for a profiler). */
static int client(const char *only)
{
	const char *suffix = getenv("SPAPR_TCE_STATS") ? ", stats on" : "";
	struct client c = { 0 };
	int saved;

	libc_ioctl = dlsym(dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD), "ioctl");
	CHECK(libc_ioctl, "libc's ioctl");
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The setup's progress lines would read as notes in the report. */
	saved = dup(1);
	CHECK(saved >= 0 && dup2(c.devnull_out = open("/dev/null", O_WRONLY), 1) == 1,
	      "quiet stdout");
	setup(&c);
	fflush(stdout);
	CHECK(dup2(saved, 1) == 1, "stdout back");
	close(saved);
	close(c.devnull_out);
	map_figures(&c, suffix);
	if (only && !strcmp(only, "map"))
		return 0;
	figure(&c, "EEH_PE_OP GET_STATE", eeh_pass, 256, suffix);
	figure(&c, "pread 4 bytes of BAR0", pread4_pass, 256, suffix);
	figure(&c, "pread 8 bytes of BAR0", pread8_pass, 256, suffix);
	figure(&c, "pwrite 4 bytes of BAR0", pwrite4_pass, 256, suffix);
	figure(&c, "pwrite 8 bytes of BAR0", pwrite8_pass, 256, suffix);
	return 0;
}

/* This program again, under the library, with @stats as SPAPR_TCE_STATS
 * (NULL: unset); its exit status. */
static int run_child(const char *stats)
{
	pid_t pid = fork();
	int status;

	CHECK(pid >= 0, "fork");
	if (!pid) {
		setenv(ENV_CHILD, "1", 1);
		setenv("LD_PRELOAD", BENCH_PRELOAD, 1);
		if (stats)
			setenv("SPAPR_TCE_STATS", stats, 1);
		else
			unsetenv("SPAPR_TCE_STATS");
		execl("/proc/self/exe", "bench-call", (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	if (getenv(ENV_CHILD))
		return client(argc > 1 ? argv[1] : NULL);
	fflush(stdout);
	if (run_child(NULL))
		return 1;
	return run_child("/dev/null");
}
