// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the VFIO ABI (stce_host_open/ioctl/close).
 *
 * The input is a program: a topology choice, then operations on the
 * container, group, device and iommufd descriptors of one host - open,
 * close, SET_CONTAINER, and ioctls whose request is a row of the ioctl
 * table (<spapr_tce/vfio.h>; or is any number) and whose struct is built
 * from the input (sized by the row where nothing below knows better), with
 * vaddr fields pointing into buffers this target owns (so that REGISTER
 * and MAP can succeed) or anywhere else. After every operation the
 * invariants hold (invariants.h); after the input everything is closed,
 * the host destroyed, and nothing may stay charged, registered or pinned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/topology.h>
#include <spapr_tce/vfio.h>

#include "common/common.h"
#include "fuzz_input.h"
#include "../tests/lib/invariants.h"
#include "vfio/vfio_audit.h"

#define MAX_OPS		96
#define MAX_SLOTS	12
#define NR_BUFS		3
#define KB		1024ULL

/* A topology with PEs the v2 container refuses or cannot share. */
static const char alt_topology[] =
	"host_page 64K\n"
	"phb 0\n"
	"pe 0 phb=0\n"
	"pe 1 phb=0\n"
	"pe 2 phb=0 max_windows=1\n"
	"pe 3 phb=0 dma32_page=64K\n"
	"device 0000:00:00.0 pe=0\n"
	"device 0000:00:01.0 pe=1\n"
	"device 0000:00:02.0 pe=2\n";

static const char *const device_names[] = {
	"0000:00:00.0", "0000:00:01.0", "0000:00:02.0", "0000:00:00.1", "",
	"0030:01:00.0", "0030:02:00.0",	/* the default topology's */
};

/* Memory the structs point into: two read-write buffers, one read-only;
 * each followed by a guard page so no range runs into other memory. */
static struct inv_buffer bufs[NR_BUFS];
static const uint64_t buf_sizes[NR_BUFS] = { 4096 * KB, 256 * KB, 128 * KB };

/* The ioctl argument: a page whose end touches a guard page. */
static uint8_t *arg_page;
#define ARG_PAGE	4096

static struct stce_topology *alt_topo;
static bool trace;	/* $STCE_FUZZ_TRACE: print each operation */

struct slot {
	int fd;
};

struct state {
	struct stce_host *host;
	struct slot slots[MAX_SLOTS];
	unsigned int nr_slots;
	uint64_t last_start;		/* the last window created */
	struct inv_container *ics[VFIO_AUDIT_MAX_GROUPS];
	unsigned int nr_ics;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_vfio_ioctl: invariant broken: %s\n", what);
	abort();
}

static uint64_t map_guarded(uint64_t size, int prot)
{
	uint64_t align = 64 * KB, total = size + 2 * align;
	uint8_t *p = mmap(NULL, total, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t a;

	if (p == MAP_FAILED)
		abort();
	a = ((uint64_t)(uintptr_t)p + align - 1) & ~(align - 1);
	if (mprotect((void *)(uintptr_t)a, size, prot))
		abort();
	return a;
}

static void requests_init(void);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	requests_init();
	for (unsigned int i = 0; i < NR_BUFS; i++) {
		bufs[i].size = buf_sizes[i];
		bufs[i].addr = map_guarded(buf_sizes[i], i == 2 ? PROT_READ :
					   PROT_READ | PROT_WRITE);
	}
	arg_page = (uint8_t *)(uintptr_t)map_guarded(ARG_PAGE,
						     PROT_READ | PROT_WRITE);
	if (stce_topology_parse(alt_topology, &alt_topo, NULL, 0))
		abort();
	trace = getenv("STCE_FUZZ_TRACE") != NULL;
	for (unsigned int i = 0; trace && i < NR_BUFS; i++)
		fprintf(stderr, "buffer %u: %#llx + %#llx\n", i,
			(unsigned long long)bufs[i].addr,
			(unsigned long long)bufs[i].size);
	return 0;
}

/* ---- choosing values ------------------------------------------------- */

static uint64_t pick_size(struct fuzz_in *in)
{
	switch (fuzz_pick(in, 6)) {
	case 0: return (uint64_t)fuzz_u8(in) * 4 * KB;
	case 1: return (uint64_t)(fuzz_u8(in) % 80) * 64 * KB;
	case 2: return 1ULL << (fuzz_u8(in) % 64);
	case 3: return buf_sizes[fuzz_pick(in, NR_BUFS)];
	case 4: return 0;
	default: return fuzz_u64(in);
	}
}

static uint64_t pick_vaddr(struct fuzz_in *in)
{
	unsigned int b = fuzz_pick(in, NR_BUFS);
	/*
	 * Inside the buffer or its guard page: a range that starts there
	 * cannot reach memory that is not ours (it meets the guard first).
	 */
	uint64_t reach = bufs[b].size + 64 * KB;

	switch (fuzz_pick(in, 5)) {
	case 0: return bufs[b].addr;
	case 1: return bufs[b].addr + (fuzz_u8(in) * 64 * KB) % reach;
	case 2: return bufs[b].addr + (fuzz_u8(in) * 4 * KB) % reach;
	case 3: return bufs[b].addr + fuzz_u32(in) % reach;
	default: return fuzz_u64(in);
	}
}

static uint64_t pick_iova(struct fuzz_in *in, struct state *s)
{
	static const uint64_t bases[] = { 0, 1ULL << 59, 0x80000000ULL };
	uint64_t base = fuzz_pick(in, 4) == 3 ? s->last_start :
			bases[fuzz_pick(in, 3)];

	switch (fuzz_pick(in, 4)) {
	case 0: return base;
	case 1: return base + (uint64_t)fuzz_u8(in) * 4 * KB;
	case 2: return base + (uint64_t)fuzz_u8(in) * 64 * KB;
	default: return fuzz_u64(in);
	}
}

static uint32_t pick_argsz(struct fuzz_in *in, size_t size)
{
	switch (fuzz_pick(in, 8)) {
	case 0: return fuzz_u32(in);
	case 1: return (uint32_t)size - 1 - fuzz_pick(in, 4);
	case 2: return (uint32_t)size + fuzz_pick(in, 16);
	default: return (uint32_t)size;
	}
}

static uint32_t pick_flags(struct fuzz_in *in)
{
	return fuzz_pick(in, 6) ? 0 : fuzz_u32(in);
}

static int pick_fd(struct fuzz_in *in, struct state *s)
{
	unsigned int i = fuzz_pick(in, s->nr_slots + 2);

	if (i < s->nr_slots)
		return s->slots[i].fd;
	return i == s->nr_slots ? -1 : (int)fuzz_u32(in) % 70000;
}

/*
 * Where the struct goes: normally at the end of the argument page, so a
 * kernel-style copy of more than argsz would fault; sometimes NULL or an
 * address that is not mapped.
 */
static void *place_arg(struct fuzz_in *in, const void *obj, size_t len)
{
	switch (fuzz_pick(in, 16)) {
	case 0: return NULL;
	case 1: return (void *)(uintptr_t)0x10;
	case 2: /* cut short by the guard page */
		len = len > 4 ? len - 4 : len;
		memcpy(arg_page + ARG_PAGE - len, obj, len);
		return arg_page + ARG_PAGE - len;
	default:
		memcpy(arg_page + ARG_PAGE - len, obj, len);
		return arg_page + ARG_PAGE - len;
	}
}

/* ---- containers the host has now, for the invariants -------------------- */

static struct inv_container ic_pool[VFIO_AUDIT_MAX_GROUPS];

static struct inv_container *ic_find(struct state *s, struct stce_container *c)
{
	for (unsigned int i = 0; i < s->nr_ics; i++)
		if (s->ics[i]->c == c)
			return s->ics[i];
	return NULL;
}

static struct stce_container *iommu_of_fd(struct state *s, int fd);

/* The IOMMU of every group's container (or iommufd's compat IOAS): every
 * live one has a group, or is an open iommufd's (whose IOAS keeps its
 * mappings when the groups leave, as the kernel's does). */
static void add_live(struct stce_container **live, unsigned int *n,
		     struct stce_container *c)
{
	for (unsigned int k = 0; k < *n; k++)
		if (live[k] == c)
			return;
	if (c && *n < VFIO_AUDIT_MAX_GROUPS)
		live[(*n)++] = c;
}

static void refresh_containers(struct state *s)
{
	struct stce_container *live[VFIO_AUDIT_MAX_GROUPS];
	struct inv_container *keep[VFIO_AUDIT_MAX_GROUPS];
	unsigned int nr_live, nr_keep = 0;
	bool used[VFIO_AUDIT_MAX_GROUPS] = { false };

	nr_live = vfio_audit_iommus(s->host, live, VFIO_AUDIT_MAX_GROUPS);
	for (unsigned int i = 0; i < s->nr_slots; i++)
		add_live(live, &nr_live, iommu_of_fd(s, s->slots[i].fd));
	for (unsigned int k = 0; k < nr_live; k++) {
		struct inv_container *ic = ic_find(s, live[k]);

		if (ic)
			used[ic - ic_pool] = true;
		keep[nr_keep++] = ic;
	}
	for (unsigned int k = 0; k < nr_keep; k++) {
		if (keep[k])
			continue;
		for (unsigned int p = 0; p < VFIO_AUDIT_MAX_GROUPS; p++) {
			if (used[p])
				continue;
			used[p] = true;
			inv_container_init(&ic_pool[p], live[k]);
			keep[k] = &ic_pool[p];
			break;
		}
	}
	memcpy(s->ics, keep, nr_keep * sizeof(keep[0]));
	s->nr_ics = nr_keep;
}

static struct stce_container *iommu_of_fd(struct state *s, int fd)
{
	return vfio_audit_fd_iommu(s->host, fd);
}

static void check(struct state *s)
{
	char why[256];

	refresh_containers(s);
	if (inv_check(s->ics, s->nr_ics, bufs, NR_BUFS, 1u << 20, why,
		      sizeof(why)))
		die(why);
}

/* ---- operations -------------------------------------------------------- */

static void add_slot(struct state *s, int fd)
{
	if (fd < 0)
		return;
	if (s->nr_slots == MAX_SLOTS) {
		stce_host_close(s->host, fd);
		return;
	}
	s->slots[s->nr_slots++].fd = fd;
}

static void drop_slot(struct state *s, int fd)
{
	for (unsigned int i = 0; i < s->nr_slots; i++) {
		if (s->slots[i].fd != fd)
			continue;
		s->slots[i] = s->slots[--s->nr_slots];
		return;
	}
}

/* -1 with errno set, or a value >= 0: the syscall convention. */
static void check_ret(int ret)
{
	if (ret < -1 || (ret == -1 && errno <= 0))
		die("return value breaks the syscall convention");
}

static void op_open(struct fuzz_in *in, struct state *s)
{
	char path[64];
	int fd;

	switch (fuzz_pick(in, 6)) {
	case 0:
		fd = stce_host_open(s->host, STCE_VFIO_CONTAINER_PATH, O_RDWR);
		break;
	case 4:
		fd = stce_host_open(s->host, "/dev/iommu", O_RDWR);
		break;
	case 5:
		snprintf(path, sizeof(path), "%s%u", STCE_VFIO_CDEV_PREFIX,
			 fuzz_pick(in, 3));
		fd = stce_host_open(s->host, path, O_RDWR);
		break;
	case 1:
	case 2:
		snprintf(path, sizeof(path), "%s%u", STCE_VFIO_GROUP_PREFIX,
			 fuzz_pick(in, 5));
		fd = stce_host_open(s->host, path, O_RDWR);
		break;
	default: {
		unsigned int len = fuzz_pick(in, sizeof(path));

		for (unsigned int i = 0; i < len; i++)
			path[i] = (char)fuzz_u8(in);
		path[len] = 0;
		fd = stce_host_open(s->host, path, O_RDWR);
	}
	}
	check_ret(fd);
	if (trace)
		fprintf(stderr, "open = %d\n", fd);
	add_slot(s, fd);
}

static void op_close(struct fuzz_in *in, struct state *s)
{
	int fd = pick_fd(in, s);

	/* Not the host's: EBADF, and the process's own file stays open. */
	check_ret(stce_host_close(s->host, fd));
	drop_slot(s, fd);
}

/* Every row of every kind's table once (the first kind that has the
 * number), then the common ones again, to weigh the choice. */
#define MAX_REQUESTS	64
static unsigned long requests[MAX_REQUESTS];
static unsigned int nr_requests;

static void add_request(unsigned long req, bool again)
{
	for (unsigned int i = 0; i < nr_requests && !again; i++)
		if (requests[i] == req)
			return;
	if (nr_requests < MAX_REQUESTS)
		requests[nr_requests++] = req;
}

static void requests_init(void)
{
	static const enum stce_host_fd_kind kinds[] = {
		STCE_HOST_FD_CONTAINER, STCE_HOST_FD_GROUP,
		STCE_HOST_FD_DEVICE, STCE_HOST_FD_IOMMUFD,
	};
	static const unsigned long common[] = {
		VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA,
		VFIO_IOMMU_SPAPR_REGISTER_MEMORY, VFIO_IOMMU_SPAPR_TCE_CREATE,
		VFIO_SET_IOMMU, VFIO_GROUP_SET_CONTAINER,
	};
	const struct stce_vfio_ioctl *io;

	for (unsigned int k = 0; k < STCE_ARRAY_SIZE(kinds); k++)
		for (unsigned int i = 0;
		     (io = stce_vfio_ioctl_row(kinds[k], i)); i++)
			add_request(io->request, false);
	for (unsigned int i = 0; i < STCE_ARRAY_SIZE(common); i++)
		add_request(common[i], true);
}

/*
 * A struct the builders below do not know, from the row @fd's kind has
 * for @req (or the one its number names): its leading argsz or size
 * picked around the row's size, the rest input bytes.
 */
static size_t build_from_row(struct fuzz_in *in, struct state *s, int fd,
			     unsigned long req, uint8_t *raw, size_t room)
{
	const struct stce_vfio_ioctl *io =
		stce_vfio_ioctl_info(req, stce_host_fd_kind(s->host, fd));
	size_t len;

	if (!io)
		io = stce_vfio_ioctl_named(req);
	len = io && io->size ? io->size + fuzz_pick(in, 8) : 8 + fuzz_pick(in, 40);
	if (len > room)
		len = room;
	for (size_t i = 0; i < len; i++)
		raw[i] = fuzz_u8(in);
	if (fuzz_pick(in, 4))
		memcpy(raw, &(uint32_t){ io && io->size ?
			pick_argsz(in, io->size) : (uint32_t)len }, 4);
	return len;
}

/* The integer-argument ioctls' values. */
static unsigned long pick_type(struct fuzz_in *in)
{
	static const unsigned long types[] = {
		VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU,
		VFIO_SPAPR_TCE_v2_IOMMU, VFIO_EEH, VFIO_TYPE1_IOMMU, 0,
	};
	unsigned int i = fuzz_pick(in, STCE_ARRAY_SIZE(types) + 1);

	return i < STCE_ARRAY_SIZE(types) ? types[i] : fuzz_u64(in);
}

static void op_ioctl(struct fuzz_in *in, struct state *s)
{
	unsigned long req = requests[fuzz_pick(in, nr_requests)];
	int fd = pick_fd(in, s);
	struct stce_container *target = iommu_of_fd(s, fd);
	union {
		struct vfio_iommu_type1_dma_map map;
		struct vfio_iommu_type1_dma_unmap unmap;
		struct vfio_iommu_spapr_register_memory reg;
		struct vfio_iommu_spapr_tce_create create;
		struct vfio_iommu_spapr_tce_remove remove;
		struct vfio_iommu_spapr_tce_info info;
		struct vfio_eeh_pe_op eeh;
		struct vfio_group_status status;
		uint8_t raw[128];
		int fd;
	} u;
	size_t len = 0;
	void *arg = NULL;
	int ret;

	memset(&u, 0, sizeof(u));
	switch (req) {
	case VFIO_CHECK_EXTENSION:
	case VFIO_SET_IOMMU:
		arg = (void *)(uintptr_t)pick_type(in);
		break;
	case VFIO_GET_API_VERSION:
	case VFIO_GROUP_UNSET_CONTAINER:
	case VFIO_IOMMU_ENABLE:
	case VFIO_IOMMU_DISABLE:
	case VFIO_DEVICE_RESET:
		break;
	case VFIO_GROUP_SET_CONTAINER:
		u.fd = pick_fd(in, s);
		len = sizeof(u.fd);
		break;
	case VFIO_GROUP_GET_DEVICE_FD: {
		const char *name = device_names[fuzz_pick(in,
					STCE_ARRAY_SIZE(device_names))];

		len = strlen(name) + 1;
		memcpy(u.raw, name, len);
		if (!fuzz_pick(in, 8))	/* no terminating NUL in reach */
			memset(u.raw, 'a', len = sizeof(u.raw));
		break;
	}
	case VFIO_IOMMU_MAP_DMA:
		u.map.argsz = pick_argsz(in, sizeof(u.map));
		u.map.flags = fuzz_pick(in, 8) ? fuzz_pick(in, 4) : fuzz_u32(in);
		u.map.vaddr = pick_vaddr(in);
		u.map.iova = pick_iova(in, s);
		u.map.size = pick_size(in);
		len = sizeof(u.map);
		break;
	case VFIO_IOMMU_UNMAP_DMA:
		u.unmap.argsz = pick_argsz(in, sizeof(u.unmap));
		u.unmap.flags = pick_flags(in);
		u.unmap.iova = pick_iova(in, s);
		u.unmap.size = pick_size(in);
		len = sizeof(u.unmap);
		break;
	case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
	case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY:
		u.reg.argsz = pick_argsz(in, sizeof(u.reg));
		u.reg.flags = pick_flags(in);
		u.reg.vaddr = pick_vaddr(in);
		u.reg.size = pick_size(in);
		len = sizeof(u.reg);
		break;
	case VFIO_IOMMU_SPAPR_TCE_CREATE: {
		static const unsigned int shifts[] = { 12, 16, 21, 24, 30 };
		unsigned int i = fuzz_pick(in, STCE_ARRAY_SIZE(shifts) + 1);

		u.create.argsz = pick_argsz(in, sizeof(u.create));
		u.create.flags = pick_flags(in);
		u.create.page_shift = i < STCE_ARRAY_SIZE(shifts) ? shifts[i] :
				      fuzz_u32(in);
		u.create.window_size = fuzz_pick(in, 4) ?
			1ULL << (20 + fuzz_pick(in, 24)) : fuzz_u64(in);
		u.create.levels = fuzz_pick(in, 4) ? 1 + fuzz_pick(in, 3) :
				  fuzz_u32(in);
		len = sizeof(u.create);
		break;
	}
	case VFIO_IOMMU_SPAPR_TCE_REMOVE:
		u.remove.argsz = pick_argsz(in, sizeof(u.remove));
		u.remove.flags = pick_flags(in);
		u.remove.start_addr = pick_iova(in, s);
		len = sizeof(u.remove);
		break;
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO:
		u.info.argsz = pick_argsz(in, sizeof(u.info));
		len = sizeof(u.info);
		break;
	case VFIO_EEH_PE_OP:
		u.eeh.argsz = pick_argsz(in, sizeof(u.eeh));
		u.eeh.flags = pick_flags(in);
		u.eeh.op = fuzz_pick(in, 8) ? fuzz_pick(in, 11) : fuzz_u32(in);
		u.eeh.err.type = fuzz_u8(in) % 3;
		u.eeh.err.func = fuzz_u8(in) % 20;
		u.eeh.err.addr = pick_iova(in, s);
		u.eeh.err.mask = fuzz_pick(in, 2) ? ~0ULL : fuzz_u64(in);
		len = sizeof(u.eeh);
		break;
	case VFIO_GROUP_GET_STATUS:
		u.status.argsz = pick_argsz(in, sizeof(u.status));
		len = sizeof(u.status);
		break;
	default:	/* device and iommufd ioctls: by their row */
		len = build_from_row(in, s, fd, req, u.raw, sizeof(u.raw));
		break;
	}
	if (len)
		arg = place_arg(in, &u, len);
	ret = stce_host_ioctl(s->host, fd, req, arg);
	check_ret(ret);
	if (trace)
		fprintf(stderr, "ioctl(%d, %#lx, %p) = %d (%s) [%#llx %#llx %#llx]\n",
			fd, req, arg, ret, ret < 0 ? strerror(errno) : "ok",
			(unsigned long long)u.map.vaddr,
			(unsigned long long)u.map.iova,
			(unsigned long long)u.map.size);
	if (req == VFIO_GROUP_GET_DEVICE_FD && ret >= 0)
		add_slot(s, ret);
	if (req == VFIO_IOMMU_SPAPR_TCE_CREATE && ret == 0 && arg)
		memcpy(&s->last_start, (uint8_t *)arg +
		       offsetof(struct vfio_iommu_spapr_tce_create, start_addr),
		       sizeof(s->last_start));
	if (req == VFIO_IOMMU_MAP_DMA && target && arg == arg_page + ARG_PAGE - len) {
		struct inv_container *ic;

		refresh_containers(s);
		ic = ic_find(s, target);
		if (ic)
			inv_record_map(ic, u.map.vaddr, u.map.iova, u.map.size,
				       u.map.flags, ret);
	}
}

/* An ioctl with any request number and raw bytes or an integer. */
static void op_raw_ioctl(struct fuzz_in *in, struct state *s)
{
	unsigned long req = fuzz_pick(in, 2) ? fuzz_u32(in) :
			    (unsigned long)(0x3b64 + fuzz_u8(in));
	int fd = pick_fd(in, s);
	struct stce_container *target = iommu_of_fd(s, fd);
	uint8_t raw[64];
	void *arg;
	int ret;

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = fuzz_u8(in);
	arg = fuzz_pick(in, 2) ? place_arg(in, raw, sizeof(raw)) :
			       (void *)(uintptr_t)fuzz_u64(in);
	/* A raw MAP cannot be recorded: stop tracking that container. */
	if (target && req == VFIO_IOMMU_MAP_DMA) {
		struct inv_container *ic = ic_find(s, target);

		if (ic)
			ic->untracked = true;
	}
	ret = stce_host_ioctl(s->host, fd, req, arg);
	check_ret(ret);
	if (req == VFIO_GROUP_GET_DEVICE_FD && ret >= 0)
		add_slot(s, ret);
}

/* SET_CONTAINER with a real container descriptor: depth quickly. */
static void op_set_container(struct fuzz_in *in, struct state *s)
{
	int group = pick_fd(in, s), container = pick_fd(in, s);
	int ret = stce_host_ioctl(s->host, group, VFIO_GROUP_SET_CONTAINER,
				  &container);

	check_ret(ret);
	if (trace)
		fprintf(stderr, "SET_CONTAINER(%d, %d) = %d\n", group,
			container, ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct state s;
	char why[256];

	memset(&s, 0, sizeof(s));
	if (stce_host_create(fuzz_u8(&in) & 1 ? alt_topo : NULL, &s.host))
		die("host_create failed");
	for (unsigned int n = 0; n < MAX_OPS && fuzz_left(&in); n++) {
		switch (fuzz_pick(&in, 8)) {
		case 0: op_open(&in, &s); break;
		case 1: op_close(&in, &s); break;
		case 2: op_set_container(&in, &s); break;
		case 3: op_raw_ioctl(&in, &s); break;
		default: op_ioctl(&in, &s); break;
		}
		check(&s);
	}
	/* Close what we hold (the order is the input's), then the rest. */
	while (s.nr_slots)
		check_ret(stce_host_close(s.host, s.slots[--s.nr_slots].fd));
	if (stce_host_open_fds(s.host))
		die("descriptors left open after closing every one");
	stce_host_destroy(s.host);
	if (inv_check_teardown(why, sizeof(why)))
		die(why);
	return 0;
}
