// SPDX-License-Identifier: MIT
/*
 * The fault-injection walk. Each flow (v1 and v2, through the C API and
 * through the VFIO ioctl layer) is a list of steps from creating the PE
 * or host to tearing it down. For N = 1, 2, ... the N-th allocation
 * (STCE_FAULT_ALLOC), then the N-th pin (STCE_FAULT_PIN), is made to
 * fail, and the flow runs until that failure. The step that met it must
 * return an error and leave everything exactly as it was before the call:
 * locked_vm, regions, v1 pins, the container's windows, charges and
 * registrations, every live TCE (a hash of bus address, TCE and view),
 * and the host's open descriptors. Then everything is torn down and must
 * audit to zero. The walk ends with the first N that no flow reaches,
 * so every allocation and pin site the flows touch fails once.
 *
 * Two things may stay after a failed call, as on the kernel: the pending
 * default window, made by the MAP or UNMAP that first needed it, and
 * table levels a MAP allocated before a later allocation failed (the
 * table frees them when it goes): allocated_bytes is compared as "not
 * less", everything else as equal.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/vfio.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/topology.h>
#include <spapr_tce/vfio.h>

#include "common/alloc.h"
#include "../lib/invariants.h"
#include "vfio/vfio_audit.h"

#define KB		1024ULL
#define MB		(1024 * KB)
#define MEM_SIZE	(4 * MB)
#define WIN64		(1ULL << 59)
/* More than one exchange batch (512) of 4K pages: rollback is walked. */
#define BIG_MAP		(600 * 4 * KB)

/* Small default windows keep the whole-table audits cheap. */
static const char topo_text[] =
	"phb 0\n"
	"pe 0 dma32_size=256M dma32_page=4K\n"
	"pe 1 dma32_size=256M dma32_page=4K\n"
	"device 0000:00:00.0 pe=0\n";

static uint64_t mem;
static struct inv_buffer bufs[1];

struct flow {
	/* C API */
	struct stce_pe *pe;
	struct stce_container *c;
	/* ioctl */
	struct stce_topology *topo;
	struct stce_host *host;
	int cfd, gfd;
	uint64_t win_start;
	bool v2;
};

struct step {
	const char *name;
	int (*fn)(struct flow *f);
};

/* ---- what "the state" is --------------------------------------------- */

struct snapshot {
	uint64_t locked, pins;
	size_t regions;
	bool have_c;
	struct stce_container_stats st;
	uint64_t tce_hash;
	unsigned int open_fds;
};

static struct stce_container *flow_container(struct flow *f)
{
	if (f->c)
		return f->c;
	if (!f->host || f->cfd < 0)
		return NULL;
	return vfio_audit_fd_iommu(f->host, f->cfd);
}

static void take(struct flow *f, struct snapshot *s)
{
	struct stce_container *c = flow_container(f);

	memset(s, 0, sizeof(*s));
	s->locked = stce_account_locked_pages();
	s->pins = stce_pin_pages();
	s->regions = stce_prereg_count();
	s->have_c = c != NULL;
	if (c) {
		stce_container_get_stats(c, &s->st);
		s->tce_hash = inv_tce_hash(c, 1u << 22);
	}
	if (f->host)
		s->open_fds = stce_host_open_fds(f->host);
}

static void same(const char *where, const struct snapshot *a,
		 const struct snapshot *b0)
{
	struct snapshot bb = *b0, *b = &bb;
	char what[160] = "";

	/*
	 * The pending default window is made by the first MAP/UNMAP/CREATE
	 * that needs it and stays even when the rest of that call fails (as
	 * on the kernel): take it out of the comparison.
	 */
	if (a->st.default_window_pending && !b->st.default_window_pending) {
		for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
			if (a->st.window[i].size || !b->st.window[i].size)
				continue;
			b->locked -= b->st.window[i].charged_pages;
			memset(&b->st.window[i], 0, sizeof(b->st.window[i]));
		}
		b->st.default_window_pending = true;
	}
	if (a->locked != b->locked)
		snprintf(what, sizeof(what), "locked_vm %llu -> %llu",
			 (unsigned long long)a->locked,
			 (unsigned long long)b->locked);
	else if (a->pins != b->pins)
		snprintf(what, sizeof(what), "v1 pins %llu -> %llu",
			 (unsigned long long)a->pins, (unsigned long long)b->pins);
	else if (a->regions != b->regions)
		snprintf(what, sizeof(what), "regions %zu -> %zu", a->regions,
			 b->regions);
	else if (a->have_c != b->have_c)
		snprintf(what, sizeof(what), "container %d -> %d", a->have_c,
			 b->have_c);
	else if (a->tce_hash != b->tce_hash)
		snprintf(what, sizeof(what), "the live TCEs changed");
	else if (a->open_fds != b->open_fds)
		snprintf(what, sizeof(what), "open descriptors %u -> %u",
			 a->open_fds, b->open_fds);
	else if (a->st.default_window_pending != b->st.default_window_pending ||
		 a->st.enable_charged_pages != b->st.enable_charged_pages ||
		 a->st.nr_registered != b->st.nr_registered)
		snprintf(what, sizeof(what), "container pending/enable/registered");
	for (unsigned int i = 0; !what[0] && i < STCE_PE_MAX_WINDOWS; i++) {
		const typeof(a->st.window[0]) *x = &a->st.window[i], *y = &b->st.window[i];

		if (x->start != y->start || x->size != y->size ||
		    x->page_shift != y->page_shift || x->levels != y->levels ||
		    x->charged_pages != y->charged_pages ||
		    y->allocated_bytes < x->allocated_bytes)
			snprintf(what, sizeof(what), "window %u changed", i);
	}
	if (what[0])
		fail_msg("%s: a failed call changed the state: %s", where, what);
}

static void audit(struct flow *f, const char *where)
{
	struct inv_container ic;
	struct inv_container *ics[1] = { &ic };
	struct stce_container *c = flow_container(f);
	char why[256];

	inv_container_init(&ic, c);
	ic.untracked = true;	/* whole tables: they are small */
	if (inv_check(ics, c ? 1 : 0, bufs, 1, 1u << 22, why, sizeof(why)))
		fail_msg("%s: %s", where, why);
}

/* ---- C API steps ----------------------------------------------------- */

static int s_pe(struct flow *f)
{
	struct stce_pe_caps caps;

	stce_pe_caps_default(&caps);
	caps.dma32_size = 256 * MB;
	caps.dma32_page_shift = 12;
	return stce_pe_create(&caps, 0, &f->pe);
}

static int s_create(struct flow *f)
{
	return stce_container_create(f->v2 ? STCE_IOMMU_V2 : STCE_IOMMU_V1, 0,
				     &f->c);
}

static int s_attach(struct flow *f) { return stce_container_attach(f->c, f->pe); }
static int s_enable(struct flow *f) { return stce_container_enable(f->c); }
static int s_disable(struct flow *f) { return stce_container_disable(f->c); }
static int s_register(struct flow *f) { return stce_container_register(f->c, mem, MEM_SIZE); }
static int s_unregister(struct flow *f) { return stce_container_unregister(f->c, mem, MEM_SIZE); }

static int s_window(struct flow *f)
{
	return stce_container_create_window(f->c, 12, 1ULL << 30, 2,
					    &f->win_start);
}

static int s_map_big(struct flow *f)
{
	return stce_container_map(f->c, mem, 0, BIG_MAP,
				  STCE_MAP_READ | STCE_MAP_WRITE);
}

/* Replaces live entries: one batch, so a failure is all or nothing. */
static int s_map_replace(struct flow *f)
{
	return stce_container_map(f->c, mem + MB, 64 * KB, 256 * KB,
				  STCE_MAP_READ);
}

static int s_map_win(struct flow *f)
{
	return stce_container_map(f->c, mem + 2 * MB, f->win_start, MB,
				  STCE_MAP_WRITE);
}

static int s_unmap(struct flow *f) { return stce_container_unmap(f->c, 0, 256 * MB); }
static int s_unmap_win(struct flow *f) { return stce_container_unmap(f->c, f->win_start, MB); }
static int s_remove(struct flow *f) { return stce_container_remove_window(f->c, f->win_start); }
static int s_detach(struct flow *f) { return stce_container_detach(f->c, f->pe); }

static int s_destroy(struct flow *f)
{
	stce_container_destroy(f->c);
	f->c = NULL;
	return 0;
}

static const struct step capi_v1[] = {
	{ "pe_create", s_pe }, { "create", s_create }, { "attach", s_attach },
	{ "enable", s_enable }, { "map", s_map_big },
	{ "map (replace)", s_map_replace }, { "unmap", s_unmap },
	{ "disable", s_disable }, { "detach", s_detach },
	{ "destroy", s_destroy }, { NULL, NULL },
};

static const struct step capi_v2[] = {
	{ "pe_create", s_pe }, { "create", s_create }, { "attach", s_attach },
	{ "register", s_register }, { "create_window", s_window },
	{ "map", s_map_big }, { "map (replace)", s_map_replace },
	{ "map (window 1)", s_map_win }, { "unmap", s_unmap },
	{ "unmap (window 1)", s_unmap_win }, { "remove_window", s_remove },
	{ "unregister", s_unregister }, { "detach", s_detach },
	{ "destroy", s_destroy }, { NULL, NULL },
};

/* ---- ioctl steps ----------------------------------------------------- */

static int neg(int ret)
{
	return ret < 0 ? -errno : ret;
}

static int i_host(struct flow *f)
{
	return stce_host_create(f->topo, &f->host);
}

static int i_open_c(struct flow *f)
{
	int fd = stce_host_open(f->host, STCE_VFIO_CONTAINER_PATH, O_RDWR);

	if (fd < 0)
		return -errno;
	f->cfd = fd;
	return 0;
}

static int i_open_g(struct flow *f)
{
	int fd = stce_host_open(f->host, "/dev/vfio/0", O_RDWR);

	if (fd < 0)
		return -errno;
	f->gfd = fd;
	return 0;
}

static int i_set_container(struct flow *f)
{
	return neg(stce_host_ioctl(f->host, f->gfd, VFIO_GROUP_SET_CONTAINER,
				   &f->cfd));
}

static int i_set_iommu(struct flow *f)
{
	return neg(stce_host_ioctl(f->host, f->cfd, VFIO_SET_IOMMU,
				   (void *)(uintptr_t)(f->v2 ? VFIO_SPAPR_TCE_v2_IOMMU :
						       VFIO_SPAPR_TCE_IOMMU)));
}

static int i_noarg(struct flow *f, unsigned long req)
{
	return neg(stce_host_ioctl(f->host, f->cfd, req, NULL));
}

static int i_enable(struct flow *f) { return i_noarg(f, VFIO_IOMMU_ENABLE); }
static int i_disable(struct flow *f) { return i_noarg(f, VFIO_IOMMU_DISABLE); }

static int i_reg(struct flow *f, unsigned long req)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = mem, .size = MEM_SIZE,
	};

	return neg(stce_host_ioctl(f->host, f->cfd, req, &r));
}

static int i_register(struct flow *f) { return i_reg(f, VFIO_IOMMU_SPAPR_REGISTER_MEMORY); }
static int i_unregister(struct flow *f) { return i_reg(f, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY); }

static int i_window(struct flow *f)
{
	struct vfio_iommu_spapr_tce_create cr = {
		.argsz = sizeof(cr), .page_shift = 12,
		.window_size = 1ULL << 30, .levels = 2,
	};
	int ret = neg(stce_host_ioctl(f->host, f->cfd,
				      VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));

	if (!ret)
		f->win_start = cr.start_addr;
	return ret;
}

static int i_map(struct flow *f, uint64_t vaddr, uint64_t iova, uint64_t size,
		 uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags, .vaddr = vaddr,
		.iova = iova, .size = size,
	};

	return neg(stce_host_ioctl(f->host, f->cfd, VFIO_IOMMU_MAP_DMA, &m));
}

static int i_map_big(struct flow *f)
{
	return i_map(f, mem, 0, BIG_MAP,
		     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
}

static int i_map_replace(struct flow *f)
{
	return i_map(f, mem + MB, 64 * KB, 256 * KB, VFIO_DMA_MAP_FLAG_READ);
}

static int i_map_win(struct flow *f)
{
	return i_map(f, mem + 2 * MB, f->win_start, MB, VFIO_DMA_MAP_FLAG_WRITE);
}

static int i_unmap_at(struct flow *f, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	return neg(stce_host_ioctl(f->host, f->cfd, VFIO_IOMMU_UNMAP_DMA, &u));
}

static int i_unmap(struct flow *f) { return i_unmap_at(f, 0, 256 * MB); }
static int i_unmap_win(struct flow *f) { return i_unmap_at(f, f->win_start, MB); }

static int i_remove(struct flow *f)
{
	struct vfio_iommu_spapr_tce_remove r = {
		.argsz = sizeof(r), .start_addr = f->win_start,
	};

	return neg(stce_host_ioctl(f->host, f->cfd, VFIO_IOMMU_SPAPR_TCE_REMOVE,
				   &r));
}

static int i_unset(struct flow *f)
{
	return neg(stce_host_ioctl(f->host, f->gfd, VFIO_GROUP_UNSET_CONTAINER,
				   NULL));
}

static int i_close_g(struct flow *f)
{
	int ret = neg(stce_host_close(f->host, f->gfd));

	f->gfd = -1;
	return ret;
}

static int i_close_c(struct flow *f)
{
	int ret = neg(stce_host_close(f->host, f->cfd));

	f->cfd = -1;
	return ret;
}

static int i_destroy(struct flow *f)
{
	stce_host_destroy(f->host);
	f->host = NULL;
	return 0;
}

static const struct step ioctl_v1[] = {
	{ "host_create", i_host }, { "open container", i_open_c },
	{ "open group", i_open_g }, { "SET_CONTAINER", i_set_container },
	{ "SET_IOMMU", i_set_iommu }, { "ENABLE", i_enable },
	{ "MAP", i_map_big }, { "MAP (replace)", i_map_replace },
	{ "UNMAP", i_unmap }, { "DISABLE", i_disable },
	{ "UNSET_CONTAINER", i_unset }, { "close group", i_close_g },
	{ "close container", i_close_c }, { "host_destroy", i_destroy },
	{ NULL, NULL },
};

static const struct step ioctl_v2[] = {
	{ "host_create", i_host }, { "open container", i_open_c },
	{ "open group", i_open_g }, { "SET_CONTAINER", i_set_container },
	{ "SET_IOMMU", i_set_iommu }, { "REGISTER", i_register },
	{ "TCE_CREATE", i_window }, { "MAP", i_map_big },
	{ "MAP (replace)", i_map_replace }, { "MAP (window 1)", i_map_win },
	{ "UNMAP", i_unmap }, { "UNMAP (window 1)", i_unmap_win },
	{ "TCE_REMOVE", i_remove }, { "UNREGISTER", i_unregister },
	{ "UNSET_CONTAINER", i_unset }, { "close group", i_close_g },
	{ "close container", i_close_c }, { "host_destroy", i_destroy },
	{ NULL, NULL },
};

/* ---- the walk -------------------------------------------------------- */

/* Whatever the run got to, taken down the way a user would. */
static void teardown(struct flow *f)
{
	stce_container_destroy(f->c);
	f->c = NULL;
	stce_pe_destroy(f->pe);
	f->pe = NULL;
	stce_host_destroy(f->host);	/* closes every descriptor */
	f->host = NULL;
}

/*
 * One run with the @nth call of @site failing. Returns true when the
 * failure was met (and handled as required), false when the flow
 * completed without reaching it.
 */
static bool run_once(const struct step *steps, bool v2, bool use_host,
		     enum stce_fault_site site, unsigned long nth,
		     const char *flow_name, unsigned int *met_at)
{
	struct flow f = { .v2 = v2, .cfd = -1, .gfd = -1 };
	bool met = false;
	char where[128], why[256];

	if (use_host)
		assert_int_equal(stce_topology_parse(topo_text, &f.topo, NULL, 0), 0);
	stce_fault_arm(site, nth);
	for (const struct step *s = steps; s->fn; s++) {
		struct snapshot before, after;
		int ret;

		take(&f, &before);
		ret = s->fn(&f);
		snprintf(where, sizeof(where), "%s, %s #%lu, step '%s'",
			 flow_name, site == STCE_FAULT_ALLOC ? "alloc" : "pin",
			 nth, s->name);
		if (stce_fault_calls(site) >= nth) {
			if (ret >= 0)
				fail_msg("%s: the injected failure was swallowed (returned %d)",
					 where, ret);
			take(&f, &after);
			same(where, &before, &after);
			audit(&f, where);
			*met_at = (unsigned int)(s - steps);
			met = true;
			break;
		}
		if (ret < 0)
			fail_msg("%s: failed (%d) without an injected failure",
				 where, ret);
		audit(&f, where);
	}
	stce_fault_arm(site, 0);
	teardown(&f);
	stce_topology_free(f.topo);
	if (inv_check_teardown(why, sizeof(why)))
		fail_msg("%s, %s #%lu: %s", flow_name,
			 site == STCE_FAULT_ALLOC ? "alloc" : "pin", nth, why);
	return met;
}

static void walk(const struct step *steps, bool v2, bool use_host,
		 const char *name)
{
	static const enum stce_fault_site sites[] = { STCE_FAULT_ALLOC,
						      STCE_FAULT_PIN };

	for (unsigned int k = 0; k < 2; k++) {
		unsigned int per_step[32] = { 0 }, at = 0;
		unsigned long n;

		for (n = 1; run_once(steps, v2, use_host, sites[k], n, name, &at); n++)
			per_step[at]++;
		/* Each flow meets failures of both kinds somewhere. */
		assert_true(n > 1);
		printf("%s: %lu %s sites failed once each:", name, n - 1,
		       k ? "pin" : "alloc");
		for (unsigned int i = 0; steps[i].fn; i++)
			if (per_step[i])
				printf(" %s %u;", steps[i].name, per_step[i]);
		printf("\n");
	}
}

static void fault_capi_v1(void **state) { (void)state; walk(capi_v1, false, false, "C API v1"); }
static void fault_capi_v2(void **state) { (void)state; walk(capi_v2, true, false, "C API v2"); }
static void fault_ioctl_v1(void **state) { (void)state; walk(ioctl_v1, false, true, "ioctl v1"); }
static void fault_ioctl_v2(void **state) { (void)state; walk(ioctl_v2, true, true, "ioctl v2"); }

static int setup(void **state)
{
	void *p;

	(void)state;
	p = mmap(NULL, MEM_SIZE + 64 * KB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	mem = ((uint64_t)(uintptr_t)p + 64 * KB - 1) & ~(64 * KB - 1);
	memset((void *)(uintptr_t)mem, 0x5a, MEM_SIZE);
	bufs[0] = (struct inv_buffer){ mem, MEM_SIZE };
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fault_capi_v1),
		cmocka_unit_test(fault_capi_v2),
		cmocka_unit_test(fault_ioctl_v1),
		cmocka_unit_test(fault_ioctl_v2),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
