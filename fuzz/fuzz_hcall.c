// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the guest TCE hypercalls (src/hcall/).
 *
 * Each input is a small guest and a sequence of calls on it. The guest:
 * 6 MiB of RAM in two memory slots (4 MiB at guest physical 0, 2 MiB at
 * 1 GiB), pre-registered as three regions (the two halves of the first
 * slot, the first MiB of the second: the rest is not registered);
 * container C1 (v2, PE 0) with window 0 (4K pages, 16 or 64 MiB, 1 or 2
 * levels) and window 1 (64K pages, 16 MiB at the DDW base, 1 or 2
 * levels); LIOBN A on window 0 (4K or 64K guest pages: 64K makes 16
 * hardware entries a guest entry), LIOBN B on window 1 (64K or 2M guest
 * pages), LIOBN E emulated only (no window), and a PHB on container C2
 * (v2, PE 1) whose LIOBNs P0 (the default window) and P1 the RTAS calls
 * enable and disable. In some variants B also writes the DDW of
 * container C3 (v2, PE 2, the other level count), so that a call can
 * fail in its second window and be rolled back in the first. The
 * input's first byte chooses the variant.
 *
 * The calls: H_PUT_TCE, H_PUT_TCE_INDIRECT (lists written into guest RAM
 * from the input, 0..600 entries, aligned or not), H_STUFF_TCE, H_GET_TCE,
 * sometimes with STCE_HCALL_MAY_ALLOC or repeated with it after
 * H_TOO_HARD (the slow path); and now and then the RTAS DDW services,
 * removing and re-creating LIOBNs, unregistering and registering regions.
 * LIOBN, ioba and TCE values are mostly valid, often not.
 *
 * After every call:
 *  - the return code is one the documentation gives for that case (a
 *    model of hcall.md's table computes which: unknown LIOBN, ioba range,
 *    list checks, each TCE's validation against the memory map and the
 *    registered regions; a missing table level may add H_TOO_HARD);
 *  - the guest view (H_GET_TCE over what the call touched, the audit copy
 *    elsewhere) equals a shadow kept from the successful calls: a failed
 *    call changed nothing (except the documented part-way stop of a call
 *    whose guest pages span several hardware pages);
 *  - every attached window's hardware entries agree with the guest view:
 *    a mapping TCE gives exactly its page (its user address, its
 *    permission bits and no more) in every hardware sub-page, any other
 *    value an empty entry;
 *  - every live hardware TCE points into a registered region whose mapped
 *    count equals the live TCEs pointing into it, and locked_vm is what
 *    the windows, regions and guest tables charge (invariants.h).
 * After the input: guest, containers and platform destroyed; locked_vm,
 * regions and pins must all be 0.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/device.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>
#include <spapr_tce/topology.h>

#include "common/common.h"
#include "fuzz_input.h"
#include "hcall/hcall_audit.h"
#include "../tests/lib/invariants.h"

#define KB		1024ULL
#define MB		(1024 * KB)
#define MAX_OPS		64
#define RAM_SIZE	(6 * MB)
#define DDW_BASE	(1ULL << 59)
#define BUID		0x800000020000000ULL
#define MAX_SHADOW	(1ULL << 16)	/* guest entries a LIOBN may have */
#define NR_LIO		5
#define NR_REGIONS	3
#define NR_SLOTS	2

enum { LA, LB, LE, LP0, LP1 };
static const uint64_t liobn_of[NR_LIO] = { 0x10, 0x11, 0x12, 0x20, 0x21 };
static const char *const lio_name[NR_LIO] = { "A", "B", "E", "P0", "P1" };

/* Allowed return codes. */
#define R_OK		1u
#define R_PARAM		2u
#define R_TOO_HARD	4u

static const char topology[] =
	"host_page 64K\n"
	"phb 0\n"
	"pe 0 phb=0 dma32_size=64M\n"
	"pe 1 phb=0 dma32_size=16M\n"
	"pe 2 phb=0 dma32_size=16M\n"
	"device 0000:00:00.0 pe=0\n"
	"device 0000:00:01.0 pe=1\n"
	"device 0000:00:02.0 pe=2\n";

struct gslot {
	uint64_t gpa, size, off;	/* off: in the RAM buffer */
};

static const struct gslot slots[NR_SLOTS] = {
	{ 0, 4 * MB, 0 },
	{ 1ULL << 30, 2 * MB, 4 * MB },
};

struct region {
	uint64_t off, size;		/* in the RAM buffer */
	bool reg[3];			/* registered through C1, C2, C3 */
	unsigned int page_shift;	/* learnt when first registered */
};

static const struct region region_init[NR_REGIONS] = {
	{ 0, 2 * MB, { false, false, false }, 0 },
	{ 2 * MB, 2 * MB, { false, false, false }, 0 },
	{ 4 * MB, 1 * MB, { false, false, false }, 0 },
};

struct lio {
	bool live;
	unsigned int shift;
	uint64_t offset, size;		/* bus pages */
	/* the window written (cont NULL: emulated only) */
	struct stce_container *cont;
	unsigned int num;
	unsigned int hw_shift;
	bool multilevel;
	/* B only: a second window written too (C3's DDW, same page size) */
	struct stce_container *cont2;
	unsigned int num2;
	bool multilevel2;
	uint64_t *shadow;		/* the expected guest view */
};

struct state {
	struct stce_platform *plat;
	struct stce_pe *pe[3];
	struct stce_container *c[3];	/* C3 (PE 2): only with b_twice */
	struct inv_container ic[3];
	bool b_twice;			/* B written into C1's and C3's DDW */
	struct stce_guest *g;
	struct region regions[NR_REGIONS];
	struct lio lio[NR_LIO];
	unsigned int a_shift, b_shift;	/* the variant */
	unsigned int levels[2];		/* C1's windows */
	uint64_t w0_start, w1_start;
	uint64_t w0_bytes;		/* 64M with sub-pages (two leaves) */
	uint64_t *view;			/* scratch: a LIOBN's view */
	/* Live hardware TCEs each region should count, from the shadows. */
	uint64_t expect_mapped[NR_REGIONS];
	unsigned int ops_since_full;
};

static uint8_t *ram;
static uint64_t ram_ua;
static struct stce_topology *topo;
static bool trace;
/* 4K pages of RAM written (TCE lists): zeroed after each input. */
static uint8_t dirty[RAM_SIZE / 4096];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_hcall: invariant broken: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define TRACE(...) do { if (trace) fprintf(stderr, __VA_ARGS__); } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint64_t align = 2 * MB;
	uint8_t *p;

	(void)argc;
	(void)argv;
	/* 2 MiB aligned, so that 2M guest pages are aligned in user memory. */
	p = mmap(NULL, RAM_SIZE + align, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	ram_ua = ((uint64_t)(uintptr_t)p + align - 1) & ~(align - 1);
	ram = (uint8_t *)(uintptr_t)ram_ua;
	memset(ram, 0, RAM_SIZE);
	if (stce_topology_parse(topology, &topo, NULL, 0))
		abort();
	trace = getenv("STCE_FUZZ_TRACE") != NULL;
	return 0;
}

/* ---- the model ---------------------------------------------------------- */

static const struct gslot *slot_of(uint64_t gpa)
{
	for (unsigned int i = 0; i < NR_SLOTS; i++)
		if (gpa - slots[i].gpa < slots[i].size)
			return &slots[i];
	return NULL;
}

/* Guest physical [gpa, gpa + len) in one slot: its user address. */
static bool model_gpa(uint64_t gpa, uint64_t len, uint64_t *ua)
{
	const struct gslot *s = slot_of(gpa);

	if (!s || s->size - (gpa - s->gpa) < len)
		return false;
	*ua = ram_ua + s->off + (gpa - s->gpa);
	return true;
}

static bool region_live(const struct region *r)
{
	return r->reg[0] || r->reg[1] || r->reg[2];
}

/* The registered region holding [ua, ua + len), or NULL. */
static const struct region *model_region(struct state *s, uint64_t ua,
					 uint64_t len)
{
	for (unsigned int i = 0; i < NR_REGIONS; i++) {
		const struct region *r = &s->regions[i];
		uint64_t rua = ram_ua + r->off;

		if (region_live(r) && ua >= rua && ua - rua < r->size &&
		    r->size - (ua - rua) >= len)
			return r;
	}
	return NULL;
}

static struct lio *lio_find(struct state *s, uint64_t liobn)
{
	for (unsigned int i = 0; i < NR_LIO; i++)
		if (s->lio[i].live && liobn_of[i] == liobn)
			return &s->lio[i];
	return NULL;
}

static bool model_ioba_ok(const struct lio *l, uint64_t ioba, uint64_t npages)
{
	uint64_t idx = ioba >> l->shift;

	if (ioba & ((1ULL << l->shift) - 1))
		return false;
	if (idx < l->offset || idx + npages < idx)
		return false;
	return idx - l->offset + npages <= l->size;
}

/* What validation answers for one list of TCEs (hcall.md's table). */
static unsigned int model_validate(struct state *s, const struct lio *l,
				   const uint64_t *tces, unsigned int n,
				   bool indirect)
{
	uint64_t pgsz = 1ULL << l->shift;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa = stce_tce_addr(tces[i]), ua;
		const struct region *r;

		if (!stce_tce_perm(tces[i])) {
			if (indirect && !model_gpa(gpa, 1, &ua))
				return R_PARAM;
			continue;
		}
		if ((gpa & (pgsz - 1)) || !model_gpa(gpa, pgsz, &ua))
			return R_TOO_HARD;
		if (!l->cont)
			continue;
		if (ua & ((1ULL << l->hw_shift) - 1))
			return R_TOO_HARD;
		r = model_region(s, ua, pgsz);
		if (!r || r->page_shift < l->hw_shift)
			return R_TOO_HARD;
	}
	return R_OK;
}

/* ---- checks ----------------------------------------------------------- */

static void check_code(const char *call, long rc, unsigned int allowed)
{
	unsigned int got = rc == STCE_H_SUCCESS ? R_OK :
			   rc == STCE_H_PARAMETER ? R_PARAM :
			   rc == STCE_H_TOO_HARD ? R_TOO_HARD : 0;

	if (!(got & allowed))
		die("%s returned %ld, allowed mask %#x", call, rc, allowed);
}

/*
 * A window's hardware entries for guest entries [first, first + n)
 * against the guest view (@view[0] is entry @first).
 */
static void check_hw(struct state *s, unsigned int li, struct stce_table *t,
		     uint64_t first, uint64_t n, const uint64_t *view)
{
	const struct lio *l = &s->lio[li];
	unsigned int hs = stce_table_page_shift(t);
	uint64_t bo = stce_table_bus_offset(t), step = 1ULL << hs;
	uint64_t sub = 1ULL << (l->shift - hs);

	for (uint64_t i = first; i < first + n; i++) {
		uint64_t v = view[i - first], perm = stce_tce_perm(v), ua = 0;
		uint64_t idx = (((l->offset + i) << l->shift) - bo) >> hs;

		if (perm && !model_gpa(stce_tce_addr(v), 1ULL << l->shift, &ua))
			die("%s[%#llx]: view %#llx maps no guest memory",
			    lio_name[li], (unsigned long long)i,
			    (unsigned long long)v);
		for (uint64_t j = 0; j < sub; j++) {
			uint64_t hw = stce_table_get(t, idx + j), hua;

			if (!perm) {
				if (stce_tce_live(hw))
					die("%s[%#llx]: view %#llx, hw[%#llx] = %#llx live",
					    lio_name[li], (unsigned long long)i,
					    (unsigned long long)v,
					    (unsigned long long)(idx + j),
					    (unsigned long long)hw);
				continue;
			}
			/* hpa == ua for pre-registered memory here. */
			hua = stce_table_get_ua(t, idx + j);
			if (hw !=  stce_tce_make(ua + j * step, perm) ||
			    hua != ua + j * step)
				die("%s[%#llx]: view %#llx, hw[%#llx] = %#llx (ua %#llx), want %#llx (ua %#llx)",
				    lio_name[li], (unsigned long long)i,
				    (unsigned long long)v,
				    (unsigned long long)(idx + j),
				    (unsigned long long)hw,
				    (unsigned long long)hua,
				    (unsigned long long)stce_tce_make(ua + j * step, perm),
				    (unsigned long long)(ua + j * step));
		}
	}
}

/* One LIOBN: existence and attachment as modelled, view, hardware. */
static void check_lio(struct state *s, unsigned int li)
{
	struct lio *l = &s->lio[li];
	struct hcall_audit_liobn a;
	int ret = hcall_audit_liobn(s->g, liobn_of[li], &a);

	if (!l->live) {
		if (ret != -ENOENT)
			die("%s exists, the model says it does not", lio_name[li]);
		return;
	}
	if (ret)
		die("%s is gone: %d", lio_name[li], ret);
	if (a.page_shift != l->shift || a.offset != l->offset ||
	    a.size != l->size)
		die("%s geometry %u/%#llx/%#llx, model %u/%#llx/%#llx",
		    lio_name[li], a.page_shift, (unsigned long long)a.offset,
		    (unsigned long long)a.size, l->shift,
		    (unsigned long long)l->offset, (unsigned long long)l->size);
	if (a.nr_windows != (l->cont ? 1u : 0u) + (l->cont2 ? 1u : 0u) ||
	    (l->cont && (a.w[0].c != l->cont || a.w[0].num != l->num ||
			 a.w[0].stale)) ||
	    (l->cont2 && (a.w[1].c != l->cont2 || a.w[1].num != l->num2 ||
			  a.w[1].stale)))
		die("%s attached to %u windows, the model says %s",
		    lio_name[li], a.nr_windows, l->cont ? "one" : "none");
	if (!l->shadow)
		return;
	if (hcall_audit_view(s->g, liobn_of[li], 0, l->size, s->view))
		die("%s: view unreadable", lio_name[li]);
	for (uint64_t i = 0; i < l->size; i++)
		if (s->view[i] != l->shadow[i])
			die("%s[%#llx]: view %#llx, expected %#llx", lio_name[li],
			    (unsigned long long)i,
			    (unsigned long long)s->view[i],
			    (unsigned long long)l->shadow[i]);
	for (unsigned int k = 0; k < a.nr_windows; k++)
		check_hw(s, li, a.w[k].t, 0, l->size, s->view);
}

/* H_GET_TCE over guest entries [first, first + n) of a live LIOBN. */
static void check_get(struct state *s, unsigned int li, uint64_t first,
		      uint64_t n)
{
	struct lio *l = &s->lio[li];

	if (!l->shadow)
		return;
	for (uint64_t i = first; i < first + n && i < l->size; i++) {
		uint64_t tce = 0;
		long rc = stce_h_get_tce(s->g, liobn_of[li],
					 (l->offset + i) << l->shift, &tce);

		if (rc != STCE_H_SUCCESS || tce != l->shadow[i])
			die("H_GET_TCE %s[%#llx] = %ld, %#llx; expected %#llx",
			    lio_name[li], (unsigned long long)i, rc,
			    (unsigned long long)tce,
			    (unsigned long long)l->shadow[i]);
	}
}

/* Each region counts exactly the live hardware TCEs the shadows imply. */
static void check_counts(struct state *s)
{
	for (unsigned int k = 0; k < NR_REGIONS; k++) {
		const struct region *r = &s->regions[k];
		struct stce_region *reg;
		uint64_t mapped;

		if (!region_live(r)) {
			if (s->expect_mapped[k])
				die("region %u unregistered with %llu TCEs in it",
				    k, (unsigned long long)s->expect_mapped[k]);
			continue;
		}
		if (stce_prereg_lookup(ram_ua + r->off, r->size, &reg))
			die("region %u not found", k);
		mapped = stce_region_mapped(reg) - 1;	/* our lookup's */
		stce_prereg_mapped_dec(reg);
		if (mapped != s->expect_mapped[k])
			die("region %u: mapped %llu, live TCEs %llu", k,
			    (unsigned long long)mapped,
			    (unsigned long long)s->expect_mapped[k]);
	}
}

/*
 * After a hypercall on @li over guest entries [first, first + n): the
 * hardware there agrees with the view, and the region counts hold.
 */
static void check_quick(struct state *s, unsigned int li, uint64_t first,
			uint64_t n)
{
	struct lio *l = &s->lio[li];
	struct hcall_audit_liobn a;

	if (l->shadow && l->cont && n && first < l->size) {
		n = n < l->size - first ? n : l->size - first;
		if (hcall_audit_liobn(s->g, liobn_of[li], &a) ||
		    !a.nr_windows ||
		    hcall_audit_view(s->g, liobn_of[li], first, n, s->view))
			die("%s: audit failed", lio_name[li]);
		for (unsigned int k = 0; k < a.nr_windows; k++)
			check_hw(s, li, a.w[k].t, first, n, s->view);
	}
	check_counts(s);
}

static void check_all(struct state *s)
{
	struct inv_container *ics[3] = { &s->ic[0], &s->ic[1], &s->ic[2] };
	struct inv_buffer buf = { ram_ua, RAM_SIZE };
	char why[256];

	for (unsigned int i = 0; i < NR_LIO; i++)
		check_lio(s, i);
	if (inv_check_charged(ics, s->c[2] ? 3 : 2, &buf, 1, 1ULL << 20,
			      hcall_audit_charged(s->g), why, sizeof(why)))
		die("%s", why);
	check_counts(s);
	s->ops_since_full = 0;
}

/* ---- set-up and teardown ------------------------------------------------ */

/* The region (registered or not) a guest address's memory belongs to. */
static int region_index(uint64_t gpa)
{
	uint64_t ua;

	if (!model_gpa(gpa, 1, &ua))
		return -1;
	for (unsigned int k = 0; k < NR_REGIONS; k++)
		if (ua - ram_ua - region_init[k].off < region_init[k].size)
			return (int)k;
	return -1;
}

/* Set the shadow of guest entry @i, keeping the expected counts. */
static void shadow_set(struct state *s, unsigned int li, uint64_t i,
		       uint64_t v)
{
	struct lio *l = &s->lio[li];
	uint64_t old = l->shadow[i];

	if (l->cont) {
		/* Each window holds its own mapping of the page. */
		uint64_t sub = (1ULL << (l->shift - l->hw_shift)) *
			       (l->cont2 ? 2 : 1);
		int k;

		if (stce_tce_perm(old)) {
			k = region_index(stce_tce_addr(old));
			if (k < 0 || s->expect_mapped[k] < sub)
				die("%s[%#llx]: shadow %#llx in no region",
				    lio_name[li], (unsigned long long)i,
				    (unsigned long long)old);
			s->expect_mapped[k] -= sub;
		}
		if (stce_tce_perm(v)) {
			k = region_index(stce_tce_addr(v));
			if (k < 0)
				die("%s[%#llx]: %#llx mapped outside every region",
				    lio_name[li], (unsigned long long)i,
				    (unsigned long long)v);
			s->expect_mapped[k] += sub;
		}
	}
	l->shadow[i] = v;
}

/*
 * The LIOBN is gone and its hardware entries with it (window removed or
 * cleared): its mappings leave the expected counts.
 */
static void lio_clear(struct state *s, unsigned int li)
{
	struct lio *l = &s->lio[li];

	for (uint64_t i = 0; l->shadow && i < l->size; i++)
		shadow_set(s, li, i, 0);
	free(s->lio[li].shadow);
	s->lio[li] = (struct lio){ .live = false };
}

static void lio_set(struct state *s, unsigned int li, unsigned int shift,
		    uint64_t offset, uint64_t size, struct stce_container *c,
		    unsigned int num)
{
	struct lio *l = &s->lio[li];

	lio_clear(s, li);	/* what it was is gone */
	*l = (struct lio){ .live = true, .shift = shift, .offset = offset,
			   .size = size, .cont = c, .num = num };
	if (c) {
		struct stce_container_stats st;

		stce_container_get_stats(c, &st);
		l->hw_shift = st.window[num].page_shift;
		l->multilevel = st.window[num].levels > 1;
	}
	if (size <= MAX_SHADOW) {
		l->shadow = calloc(size, sizeof(uint64_t));
		if (!l->shadow)
			abort();
	}
}

/* The window of @c starting at bus address @start. */
static unsigned int window_at(struct stce_container *c, uint64_t start)
{
	struct stce_container_stats st;

	stce_container_get_stats(c, &st);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
		if (st.window[i].size && st.window[i].start == start)
			return i;
	die("no window at %#llx", (unsigned long long)start);
}

static int region_register(struct state *s, unsigned int ri, unsigned int ci)
{
	struct region *r = &s->regions[ri];
	int ret = stce_container_register(s->c[ci], ram_ua + r->off, r->size);

	if (!ret) {
		struct stce_region *reg;

		r->reg[ci] = true;
		if (stce_prereg_lookup(ram_ua + r->off, r->size, &reg))
			die("region %u registered but not found", ri);
		r->page_shift = stce_region_page_shift(reg);
		stce_prereg_mapped_dec(reg);
	}
	return ret;
}

/* A: the whole of C1's window 0; B: of window 1. */
static void create_ab(struct state *s, unsigned int li)
{
	unsigned int shift = li == LA ? s->a_shift : s->b_shift;
	uint64_t start = li == LA ? s->w0_start : s->w1_start;
	uint64_t bytes = li == LA ? s->w0_bytes : 16 * MB;
	int ret;

	ret = stce_guest_create_tce_table(s->g, liobn_of[li], shift,
					  start >> shift, bytes >> shift);
	if (ret)
		die("create %s: %d", lio_name[li], ret);
	ret = stce_guest_attach(s->g, liobn_of[li], s->c[0], s->pe[0]);
	if (ret)
		die("attach %s: %d", lio_name[li], ret);
	lio_set(s, li, shift, start >> shift, bytes >> shift, s->c[0],
		window_at(s->c[0], start));
	if (li == LB && s->b_twice) {
		struct stce_container_stats st;
		struct lio *l = &s->lio[li];

		/* The shadow is all zero: no count to adjust. */
		ret = stce_guest_attach(s->g, liobn_of[li], s->c[2], s->pe[2]);
		if (ret)
			die("attach B to C3: %d", ret);
		l->cont2 = s->c[2];
		l->num2 = window_at(s->c[2], start);
		stce_container_get_stats(s->c[2], &st);
		l->multilevel2 = st.window[l->num2].levels > 1;
	}
}

/* After add_phb, RTAS create or reset: what the PHB's LIOBN became. */
static void learn_phb_liobn(struct state *s, unsigned int li)
{
	struct hcall_audit_liobn a;

	if (hcall_audit_liobn(s->g, liobn_of[li], &a)) {
		lio_clear(s, li);
		return;
	}
	if (a.nr_windows != 1 || a.w[0].c != s->c[1])
		die("%s: %u windows after RTAS", lio_name[li], a.nr_windows);
	lio_set(s, li, a.page_shift, a.offset, a.size, s->c[1], a.w[0].num);
}

static void setup(struct state *s, uint8_t variant)
{
	static const uint64_t phb_liobns[2] = { 0x20, 0x21 };
	uint64_t start;

	memset(s, 0, sizeof(*s));
	memcpy(s->regions, region_init, sizeof(s->regions));
	s->a_shift = variant & 1 ? 16 : 12;
	s->b_shift = variant & 2 ? 21 : 16;
	s->levels[0] = 1 + ((variant >> 2) & 1);
	s->levels[1] = 1 + ((variant >> 3) & 1);
	s->w0_bytes = s->a_shift > 12 ? 64 * MB : 16 * MB;
	s->b_twice = variant & 0x10;
	TRACE("variant: A %uK pages, B %uK%s, levels %u/%u\n",
	      1u << (s->a_shift - 10), 1u << (s->b_shift - 10),
	      s->b_twice ? " (also C3, other levels)" : "",
	      s->levels[0], s->levels[1]);
	s->view = malloc(MAX_SHADOW * sizeof(uint64_t));
	if (!s->view || stce_platform_create(topo, &s->plat))
		abort();
	for (unsigned int i = 0; i < (s->b_twice ? 3u : 2u); i++) {
		s->pe[i] = stce_platform_pe(s->plat, i);
		if (stce_container_create(STCE_IOMMU_V2, 0, &s->c[i]) ||
		    stce_container_attach(s->c[i], s->pe[i]))
			die("container %u", i);
		inv_container_init(&s->ic[i], s->c[i]);
		/* Hypercalls write the tables: walk them whole. */
		s->ic[i].untracked = true;
	}
	/* C3 too (its UNMAP needs memory registered), for good. */
	for (unsigned int r = 0; r < NR_REGIONS; r++)
		for (unsigned int c = 0; c < (s->b_twice ? 3u : 2u); c++)
			if (region_register(s, r, c))
				die("register region %u", r);
	/* C1: window 0 of 4K pages in the chosen levels, then the DDW. */
	if (stce_container_remove_window(s->c[0], 0) ||
	    stce_container_create_window(s->c[0], 12, s->w0_bytes, s->levels[0],
					 &s->w0_start) ||
	    stce_container_create_window(s->c[0], 16, 16 * MB, s->levels[1],
					 &s->w1_start))
		die("C1 windows");
	/* C3: its default window 0, then a DDW in the other level count. */
	if (s->b_twice &&
	    (stce_container_create_window(s->c[2], 16, 16 * MB,
					  3 - s->levels[1], &start) ||
	     start != s->w1_start))
		die("C3 window");
	if (stce_guest_create(&s->g))
		abort();
	for (unsigned int i = 0; i < NR_SLOTS; i++)
		if (stce_guest_add_memory(s->g, slots[i].gpa, slots[i].size,
					  ram_ua + slots[i].off))
			die("memory slot %u", i);
	create_ab(s, LA);
	create_ab(s, LB);
	if (stce_guest_create_tce_table(s->g, liobn_of[LE], 12, 0x100, 256))
		die("create E");
	lio_set(s, LE, 12, 0x100, 256, NULL, 0);
	if (stce_guest_add_phb(s->g, BUID, s->c[1], phb_liobns))
		die("add_phb");
	learn_phb_liobn(s, LP0);
	check_all(s);
}

static void teardown(struct state *s)
{
	char why[256];

	stce_guest_destroy(s->g);
	stce_container_destroy(s->c[0]);
	stce_container_destroy(s->c[1]);
	stce_container_destroy(s->c[2]);
	stce_platform_destroy(s->plat);
	for (unsigned int i = 0; i < NR_LIO; i++)
		free(s->lio[i].shadow);
	free(s->view);
	if (inv_check_teardown(why, sizeof(why)))
		die("%s", why);
	for (size_t p = 0; p < sizeof(dirty); p++)
		if (dirty[p]) {
			memset(ram + p * 4096, 0, 4096);
			dirty[p] = 0;
		}
}

/* ---- choosing values ---------------------------------------------------- */

static unsigned int pick_lio(struct fuzz_in *in, uint64_t *liobn)
{
	unsigned int p = fuzz_pick(in, 16), li = p % NR_LIO;

	if (p < 13) {
		*liobn = liobn_of[li];
		return li;
	}
	*liobn = p == 13 ? liobn_of[li] + 0x100000000ULL : fuzz_u64(in);
	/* A wild value may still name one of ours. */
	for (li = 0; li < NR_LIO; li++)
		if (*liobn == liobn_of[li])
			break;
	return li;
}

/* The geometry to aim at: the LIOBN's, or a plausible one. */
static void aim(const struct state *s, unsigned int li, unsigned int *shift,
		uint64_t *offset, uint64_t *size)
{
	if (li < NR_LIO && s->lio[li].live) {
		*shift = s->lio[li].shift;
		*offset = s->lio[li].offset;
		*size = s->lio[li].size;
		return;
	}
	*shift = 12;
	*offset = 0;
	*size = 4096;
}

/* An ioba: mostly a valid entry, sometimes near the end, unaligned, wild. */
static uint64_t pick_ioba(struct fuzz_in *in, const struct state *s,
			  unsigned int li)
{
	unsigned int shift;
	uint64_t offset, size, idx;

	aim(s, li, &shift, &offset, &size);
	switch (fuzz_pick(in, 8)) {
	case 0:
		idx = size - 1 - fuzz_u8(in) % 4;
		return (offset + idx) << shift;
	case 1:
		return ((offset + fuzz_bytes(in, 2) % (size + 2)) << shift) +
		       (fuzz_u8(in) << 3);
	case 2:
		return fuzz_u64(in);
	case 3:
		return (offset - 1 - fuzz_u8(in) % 2) << shift;
	default:
		return (offset + fuzz_bytes(in, 2) % size) << shift;
	}
}

/* A guest TCE: mostly a good page of guest RAM with some permission. */
static uint64_t pick_tce(struct fuzz_in *in, const struct state *s,
			 unsigned int li)
{
	unsigned int shift;
	uint64_t offset, size, pg, gpa, perm;
	const struct gslot *sl;

	aim(s, li, &shift, &offset, &size);
	pg = 1ULL << shift;
	perm = fuzz_pick(in, 8);
	perm = perm >= 4 ? STCE_TCE_READ | STCE_TCE_WRITE : perm;
	switch (fuzz_pick(in, 12)) {
	case 0:	/* unaligned to the guest page */
		gpa = (fuzz_bytes(in, 2) % 1024) * 4096 + (fuzz_u8(in) << 2);
		break;
	case 1:	/* past the end of a slot, or in the hole */
		sl = &slots[fuzz_pick(in, NR_SLOTS)];
		gpa = sl->gpa + sl->size + (uint64_t)fuzz_u8(in) * pg;
		break;
	case 2:	/* the last guest page of a slot (may run past it) */
		sl = &slots[fuzz_pick(in, NR_SLOTS)];
		gpa = (sl->gpa + sl->size - 4096) & ~(pg - 1);
		break;
	case 3:
		return fuzz_u64(in);
	case 4:
	case 5:	/* the second slot: partly not registered */
		sl = &slots[1];
		gpa = sl->gpa + (fuzz_bytes(in, 2) % (sl->size / pg ? sl->size / pg : 1)) * pg;
		break;
	default:
		sl = &slots[0];
		gpa = (fuzz_bytes(in, 2) % (sl->size / pg ? sl->size / pg : 1)) * pg;
		break;
	}
	return gpa | perm;
}

static unsigned int pick_flags(struct fuzz_in *in)
{
	return fuzz_pick(in, 4) ? 0 : STCE_HCALL_MAY_ALLOC;
}

/* ---- hypercalls --------------------------------------------------------- */

/*
 * Update the model after a put of @n TCEs at guest entry @first of
 * LIOBN @li that answered @rc; @partial: a part-way stop is allowed.
 */
static void after_put(struct state *s, unsigned int li, uint64_t first,
		      const uint64_t *tces, unsigned int n, long rc,
		      bool partial)
{
	struct lio *l = &s->lio[li];

	if (!l->shadow)
		return;
	if (rc == STCE_H_SUCCESS) {
		for (unsigned int i = 0; i < n; i++)
			shadow_set(s, li, first + i, tces[i]);
	} else if (rc == STCE_H_TOO_HARD && partial) {
		/* Each entry is the old or the new value: take what is. */
		if (hcall_audit_view(s->g, liobn_of[li], first, n, s->view))
			die("view unreadable");
		for (unsigned int i = 0; i < n; i++) {
			if (s->view[i] != l->shadow[first + i] &&
			    s->view[i] != tces[i])
				die("%s[%#llx]: part-way put left %#llx (old %#llx, new %#llx)",
				    lio_name[li], (unsigned long long)(first + i),
				    (unsigned long long)s->view[i],
				    (unsigned long long)l->shadow[first + i],
				    (unsigned long long)tces[i]);
			shadow_set(s, li, first + i, s->view[i]);
		}
	}
	check_get(s, li, first, n);
	check_quick(s, li, first, n);
}

/*
 * The allowed answers of a put that passed the ioba and list checks:
 * validation's, plus H_TOO_HARD (and maybe a part-way stop) when a
 * missing level of a multi-level window may stop it.
 */
static unsigned int put_allowed(struct state *s, const struct lio *l,
				const uint64_t *tces, unsigned int n,
				bool indirect, unsigned int flags,
				bool *partial)
{
	unsigned int v = model_validate(s, l, tces, n, indirect);

	*partial = false;
	if (v != R_OK || !l->cont || !(l->multilevel || l->multilevel2) ||
	    (flags & STCE_HCALL_MAY_ALLOC))
		return v;
	*partial = n > (512u >> (l->shift - l->hw_shift));
	return R_OK | R_TOO_HARD;
}

static void op_put(struct fuzz_in *in, struct state *s)
{
	uint64_t liobn, ioba, tce;
	unsigned int li = pick_lio(in, &liobn), flags, allowed;
	struct lio *l = li < NR_LIO ? lio_find(s, liobn) : NULL;
	bool partial = false;
	long rc;

	ioba = pick_ioba(in, s, li);
	tce = pick_tce(in, s, li);
	flags = pick_flags(in);
	rc = stce_h_put_tce(s->g, liobn, ioba, tce, flags);
	TRACE("H_PUT_TCE(%#llx, %#llx, %#llx, %#x) = %ld\n",
	      (unsigned long long)liobn, (unsigned long long)ioba,
	      (unsigned long long)tce, flags, rc);
	if (!l) {
		check_code("H_PUT_TCE", rc, R_TOO_HARD);
		return;
	}
	if (!model_ioba_ok(l, ioba, 1)) {
		check_code("H_PUT_TCE", rc, R_PARAM);
		return;
	}
	allowed = put_allowed(s, l, &tce, 1, false, flags, &partial);
	check_code("H_PUT_TCE", rc, allowed);
	after_put(s, li, (ioba >> l->shift) - l->offset, &tce, 1, rc, false);
	if (rc == STCE_H_TOO_HARD && !(flags & STCE_HCALL_MAY_ALLOC) &&
	    fuzz_pick(in, 2)) {
		/* The slow path repeats it. */
		rc = stce_h_put_tce(s->g, liobn, ioba, tce, STCE_HCALL_MAY_ALLOC);
		TRACE("  slow path: %ld\n", rc);
		check_code("H_PUT_TCE (slow)", rc,
			   put_allowed(s, l, &tce, 1, false,
				       STCE_HCALL_MAY_ALLOC, &partial));
		after_put(s, li, (ioba >> l->shift) - l->offset, &tce, 1, rc,
			  false);
	}
}

/* Where the list goes: a page of guest RAM, sometimes not aligned or
 * outside the memory map. */
static uint64_t pick_list(struct fuzz_in *in)
{
	switch (fuzz_pick(in, 10)) {
	case 0:
		return (fuzz_bytes(in, 2) % 1024) * 4096 + 8 * (1 + fuzz_u8(in) % 511);
	case 1:
		return slots[1].gpa + slots[1].size + 4096 * fuzz_u8(in);
	case 2:
		return fuzz_u64(in);
	case 3:
	case 4:
		return slots[1].gpa + (fuzz_bytes(in, 2) % 512) * 4096;
	default:
		return (fuzz_bytes(in, 2) % 1024) * 4096;
	}
}

static uint64_t pick_npages(struct fuzz_in *in)
{
	switch (fuzz_pick(in, 8)) {
	case 0: return 512;
	case 1: return fuzz_bytes(in, 2) % 601;
	case 2: return 511 + fuzz_pick(in, 4);
	case 3: return fuzz_u64(in);
	default: return 1 + fuzz_u8(in) % 32;
	}
}

/* Fill the list: a run of pages, a few changed; or each from the input. */
static void fill_list(struct fuzz_in *in, const struct state *s,
		      unsigned int li, uint64_t *tces, unsigned int n)
{
	unsigned int shift, mode = fuzz_pick(in, 4);
	uint64_t offset, size, base, perm, changes;

	aim(s, li, &shift, &offset, &size);
	base = pick_tce(in, s, li);
	perm = stce_tce_perm(base);
	base = stce_tce_addr(base);
	for (unsigned int i = 0; i < n; i++) {
		switch (mode) {
		case 0:
			tces[i] = fuzz_pick(in, 2) ? pick_tce(in, s, li) : 0;
			break;
		case 1:
			tces[i] = 0;
			break;
		default:
			tces[i] = (base + ((uint64_t)i << shift)) | perm;
			break;
		}
	}
	changes = mode >= 2 ? fuzz_pick(in, 4) : 0;
	for (uint64_t k = 0; k < changes && n; k++)
		tces[fuzz_bytes(in, 2) % n] = pick_tce(in, s, li);
}

static void op_put_indirect(struct fuzz_in *in, struct state *s)
{
	uint64_t liobn, ioba, list, npages, ua, tces[512] = { 0 };
	unsigned int li = pick_lio(in, &liobn), flags, n, allowed;
	struct lio *l = li < NR_LIO ? lio_find(s, liobn) : NULL;
	bool partial = false;
	long rc;

	ioba = pick_ioba(in, s, li);
	list = pick_list(in);
	npages = pick_npages(in);
	flags = pick_flags(in);
	n = npages < 512 ? (unsigned int)npages : 512;
	fill_list(in, s, li, tces, n);
	/* Write it where the call will read it: an aligned page in RAM. */
	if (!(list & 4095) && model_gpa(list, 4096, &ua)) {
		uint64_t *p = (uint64_t *)(uintptr_t)ua;

		for (unsigned int i = 0; i < n; i++)
			p[i] = htobe64(tces[i]);
		dirty[(ua - ram_ua) / 4096] = 1;
	}
	rc = stce_h_put_tce_indirect(s->g, liobn, ioba, list, npages, flags);
	TRACE("H_PUT_TCE_INDIRECT(%#llx, %#llx, list %#llx, %llu, %#x) = %ld [%#llx %#llx ...]\n",
	      (unsigned long long)liobn, (unsigned long long)ioba,
	      (unsigned long long)list, (unsigned long long)npages, flags, rc,
	      (unsigned long long)tces[0], (unsigned long long)tces[1]);
	if (!l) {
		check_code("H_PUT_TCE_INDIRECT", rc, R_TOO_HARD);
		return;
	}
	if (npages > 512 || (list & 4095) || !model_ioba_ok(l, ioba, npages)) {
		check_code("H_PUT_TCE_INDIRECT", rc, R_PARAM);
		return;
	}
	if (!model_gpa(list, 4096, &ua)) {
		check_code("H_PUT_TCE_INDIRECT", rc, R_TOO_HARD);
		return;
	}
	allowed = put_allowed(s, l, tces, n, true, flags, &partial);
	check_code("H_PUT_TCE_INDIRECT", rc, allowed);
	after_put(s, li, (ioba >> l->shift) - l->offset, tces, n, rc, partial);
	if (rc == STCE_H_TOO_HARD && !(flags & STCE_HCALL_MAY_ALLOC) &&
	    fuzz_pick(in, 2)) {
		rc = stce_h_put_tce_indirect(s->g, liobn, ioba, list, npages,
					     STCE_HCALL_MAY_ALLOC);
		TRACE("  slow path: %ld\n", rc);
		check_code("H_PUT_TCE_INDIRECT (slow)", rc,
			   put_allowed(s, l, tces, n, true,
				       STCE_HCALL_MAY_ALLOC, &partial));
		after_put(s, li, (ioba >> l->shift) - l->offset, tces, n, rc,
			  false);
	}
}

static void op_stuff(struct fuzz_in *in, struct state *s)
{
	uint64_t liobn, ioba, value, npages, first;
	unsigned int li = pick_lio(in, &liobn), flags;
	struct lio *l = li < NR_LIO ? lio_find(s, liobn) : NULL;
	long rc;

	ioba = pick_ioba(in, s, li);
	switch (fuzz_pick(in, 6)) {
	case 0: value = fuzz_u64(in); break;
	case 1: value = fuzz_u64(in) & ~STCE_TCE_PERM_MASK; break;
	default: value = 0; break;
	}
	switch (fuzz_pick(in, 6)) {
	case 0: npages = fuzz_u64(in); break;
	case 1: npages = fuzz_bytes(in, 2); break;
	case 2: npages = 0; break;
	default: npages = 1 + fuzz_u8(in) % 64; break;
	}
	flags = pick_flags(in);
	rc = stce_h_stuff_tce(s->g, liobn, ioba, value, npages, flags);
	TRACE("H_STUFF_TCE(%#llx, %#llx, %#llx, %llu, %#x) = %ld\n",
	      (unsigned long long)liobn, (unsigned long long)ioba,
	      (unsigned long long)value, (unsigned long long)npages, flags, rc);
	if (!l) {
		check_code("H_STUFF_TCE", rc, R_TOO_HARD);
		return;
	}
	if (!model_ioba_ok(l, ioba, npages) || stce_tce_perm(value)) {
		check_code("H_STUFF_TCE", rc, R_PARAM);
		return;
	}
	check_code("H_STUFF_TCE", rc, R_OK);
	first = (ioba >> l->shift) - l->offset;
	if (l->shadow) {
		for (uint64_t i = 0; i < npages; i++)
			shadow_set(s, li, first + i, value);
		check_get(s, li, first, npages < 64 ? npages : 64);
	}
	check_quick(s, li, first, npages);
}

static void op_get(struct fuzz_in *in, struct state *s)
{
	uint64_t liobn, ioba, tce = 0xdead;
	unsigned int li = pick_lio(in, &liobn);
	struct lio *l = li < NR_LIO ? lio_find(s, liobn) : NULL;
	long rc;

	ioba = pick_ioba(in, s, li);
	rc = stce_h_get_tce(s->g, liobn, ioba, &tce);
	TRACE("H_GET_TCE(%#llx, %#llx) = %ld, %#llx\n",
	      (unsigned long long)liobn, (unsigned long long)ioba, rc,
	      (unsigned long long)tce);
	if (!l) {
		check_code("H_GET_TCE", rc, R_TOO_HARD);
		return;
	}
	if (!model_ioba_ok(l, ioba, 1)) {
		check_code("H_GET_TCE", rc, R_PARAM);
		return;
	}
	check_code("H_GET_TCE", rc, R_OK);
	if (l->shadow && tce != l->shadow[(ioba >> l->shift) - l->offset])
		die("H_GET_TCE %s: %#llx, expected %#llx", lio_name[li],
		    (unsigned long long)tce,
		    (unsigned long long)l->shadow[(ioba >> l->shift) - l->offset]);
}

/* ---- RTAS, LIOBNs, regions ---------------------------------------------- */

static void check_rtas(const char *call, int st, uint32_t nret,
		       const uint32_t *rets, unsigned int allowed_mask)
{
	unsigned int got = st == STCE_RTAS_SUCCESS ? 1u :
			   st == STCE_RTAS_HW_ERROR ? 2u :
			   st == STCE_RTAS_PARAM_ERROR ? 4u : 0;

	if (!(got & allowed_mask))
		die("%s returned %d, allowed mask %#x", call, st, allowed_mask);
	if (nret && rets[0] != (uint32_t)st)
		die("%s: rets[0] %#x, status %d", call, rets[0], st);
}

#define RS_OK	1u
#define RS_HW	2u
#define RS_PARAM 4u

static uint32_t pick_count(struct fuzz_in *in, uint32_t want)
{
	return fuzz_pick(in, 8) ? want : fuzz_pick(in, 7);
}

static void buid_args(struct fuzz_in *in, uint32_t *args, bool *good)
{
	uint64_t buid = fuzz_pick(in, 8) ? BUID : fuzz_u64(in);

	*good = buid == BUID;
	args[0] = fuzz_u32(in);
	args[1] = (uint32_t)(buid >> 32);
	args[2] = (uint32_t)buid;
}

static unsigned int phb_active(const struct state *s)
{
	return s->lio[LP0].live + s->lio[LP1].live;
}

static void op_rtas_create(struct fuzz_in *in, struct state *s)
{
	static const unsigned int shifts[] = { 12, 16, 21, 24 };
	uint32_t args[8] = { 0 }, rets[8] = { 0 };
	uint32_t nargs = pick_count(in, 5), nret = pick_count(in, 4);
	unsigned int allowed;
	bool good;
	int st;

	buid_args(in, args, &good);
	args[3] = fuzz_pick(in, 8) ? shifts[fuzz_pick(in, 4)] : fuzz_u8(in);
	/* Small windows, or ones refused (past 2^64, bad shifts): a huge
	 * accepted window would only slow the walks down. */
	args[4] = fuzz_pick(in, 8) ? args[3] + fuzz_pick(in, 13) :
		  fuzz_pick(in, 2) ? 63 : 64 + fuzz_u8(in);
	st = stce_rtas_create_pe_dma_window(s->g, nargs, args, nret, rets);
	TRACE("rtas create(%u, %u, page %u, window %u) = %d, liobn %#x at %#x%08x\n",
	      nargs, nret, args[3], args[4], st, rets[1], rets[2], rets[3]);
	if (nargs != 5 || nret != 4 || !good || args[3] >= 64 ||
	    args[4] >= 64 || !((0x40211000ULL >> args[3]) & 1) ||
	    args[4] < args[3])
		allowed = RS_PARAM;
	else if (phb_active(s) >= 2)
		allowed = RS_HW;
	else
		allowed = RS_OK | RS_HW;	/* the container may refuse */
	check_rtas("ibm,create-pe-dma-window", st, nret, rets, allowed);
	if (st != STCE_RTAS_SUCCESS)
		return;
	if (rets[1] != (uint32_t)liobn_of[LP0] && rets[1] != (uint32_t)liobn_of[LP1])
		die("RTAS create returned LIOBN %#x", rets[1]);
	learn_phb_liobn(s, rets[1] == (uint32_t)liobn_of[LP0] ? LP0 : LP1);
}

static void op_rtas_remove(struct fuzz_in *in, struct state *s)
{
	uint32_t args[8] = { 0 }, rets[8] = { 0 };
	uint32_t nargs = pick_count(in, 1), nret = pick_count(in, 1);
	unsigned int p = fuzz_pick(in, 8), li = NR_LIO;
	int st;

	if (p < 6) {
		li = p & 1 ? LP1 : LP0;
		args[0] = (uint32_t)liobn_of[li];
	} else {
		args[0] = p == 6 ? (uint32_t)liobn_of[LA] : fuzz_u32(in);
		if (args[0] == liobn_of[LP0] || args[0] == liobn_of[LP1])
			li = args[0] == liobn_of[LP0] ? LP0 : LP1;
	}
	st = stce_rtas_remove_pe_dma_window(s->g, nargs, args, nret, rets);
	TRACE("rtas remove(%u, %u, %#x) = %d\n", nargs, nret, args[0], st);
	if (nargs != 1 || nret != 1 || li == NR_LIO || !s->lio[li].live) {
		check_rtas("ibm,remove-pe-dma-window", st, nret, rets, RS_PARAM);
		return;
	}
	/* HW_ERROR only if the window went already (guest API removal). */
	check_rtas("ibm,remove-pe-dma-window", st, nret, rets, RS_OK | RS_HW);
	lio_clear(s, li);
}

static void op_rtas_reset(struct fuzz_in *in, struct state *s)
{
	uint32_t args[8] = { 0 }, rets[8] = { 0 };
	uint32_t nargs = pick_count(in, 3), nret = pick_count(in, 1);
	bool good;
	int st;

	buid_args(in, args, &good);
	st = stce_rtas_reset_pe_dma_window(s->g, nargs, args, nret, rets);
	TRACE("rtas reset(%u, %u) = %d\n", nargs, nret, st);
	if (nargs != 3 || nret != 1 || !good) {
		check_rtas("ibm,reset-pe-dma-window", st, nret, rets, RS_PARAM);
		return;
	}
	check_rtas("ibm,reset-pe-dma-window", st, nret, rets, RS_OK | RS_HW);
	/* Whatever happened, the LIOBNs are what the guest says now. */
	learn_phb_liobn(s, LP0);
	learn_phb_liobn(s, LP1);
	if (st == STCE_RTAS_SUCCESS && (!s->lio[LP0].live || s->lio[LP1].live))
		die("RTAS reset: P0 %d P1 %d", s->lio[LP0].live,
		    s->lio[LP1].live);
}

static void op_rtas_query(struct fuzz_in *in, struct state *s)
{
	uint32_t args[8] = { 0 }, rets[8] = { 0 };
	uint32_t nargs = pick_count(in, 3), nret = pick_count(in, 5);
	bool good;
	int st;

	buid_args(in, args, &good);
	st = stce_rtas_query_pe_dma_window(s->g, nargs, args, nret, rets);
	TRACE("rtas query(%u, %u) = %d [%u]\n", nargs, nret, st, rets[1]);
	if (nargs != 3 || nret != 5 || !good) {
		check_rtas("ibm,query-pe-dma-window", st, nret, rets, RS_PARAM);
		return;
	}
	check_rtas("ibm,query-pe-dma-window", st, nret, rets, RS_OK);
	if (rets[1] != 2 - phb_active(s))
		die("query: %u windows available, %u enabled", rets[1],
		    phb_active(s));
}

/*
 * Remove a LIOBN through the guest API, then clear its window (A, B) or
 * remove it (P0, P1), as the hypervisor does before reusing it, so that
 * a new table starts from an empty one.
 */
static void op_liobn_remove(struct fuzz_in *in, struct state *s)
{
	unsigned int li = fuzz_pick(in, NR_LIO);
	struct lio *l = &s->lio[li];
	int ret = stce_guest_remove_tce_table(s->g, liobn_of[li]);

	TRACE("remove LIOBN %s = %d\n", lio_name[li], ret);
	if (ret != (l->live ? 0 : -ENOENT))
		die("remove %s: %d", lio_name[li], ret);
	if (!l->live)
		return;
	if (li == LA || li == LB) {
		uint64_t start = li == LA ? s->w0_start : s->w1_start;

		ret = stce_container_unmap(s->c[0], start, l->size << l->shift);
		if (!ret && l->cont2)
			ret = stce_container_unmap(l->cont2, start,
						   l->size << l->shift);
		if (ret)
			die("unmap %s's window: %d", lio_name[li], ret);
	} else if (li != LE) {
		/* A PHB's window goes with its LIOBN (RTAS may reuse it). */
		ret = stce_container_remove_window(s->c[1], l->offset << l->shift);
		if (ret)
			die("remove %s's window: %d", lio_name[li], ret);
	}
	lio_clear(s, li);
}

static void op_liobn_create(struct fuzz_in *in, struct state *s)
{
	unsigned int li = fuzz_pick(in, 3), shift;
	uint64_t offset, size;
	bool valid;
	int ret;

	if (li != LE) {
		if (s->lio[li].live) {
			ret = stce_guest_create_tce_table(s->g, liobn_of[li], 12,
							  0, 16);
			if (ret != -EBUSY)
				die("create %s twice: %d", lio_name[li], ret);
			return;
		}
		TRACE("create LIOBN %s\n", lio_name[li]);
		create_ab(s, li);
		return;
	}
	shift = fuzz_pick(in, 8) ? 12 + fuzz_pick(in, 13) : fuzz_u8(in);
	offset = fuzz_pick(in, 4) ? fuzz_bytes(in, 2) : fuzz_u64(in);
	size = fuzz_pick(in, 8) ? 1 + fuzz_bytes(in, 2) % 4096 :
	       fuzz_pick(in, 2) ? 0 : fuzz_u64(in);
	valid = size && shift >= 12 && shift <= 34 && offset + size >= offset &&
		offset + size <= (UINT64_MAX >> shift);
	/* A huge valid table: keep it out of the way (walks, timeouts). */
	if (valid && size > MAX_SHADOW)
		size = MAX_SHADOW;
	ret = stce_guest_create_tce_table(s->g, liobn_of[LE], shift, offset,
					  size);
	TRACE("create LIOBN E (%u, %#llx, %#llx) = %d\n", shift,
	      (unsigned long long)offset, (unsigned long long)size, ret);
	if (!valid) {
		if (ret != -EINVAL)
			die("create E (invalid): %d", ret);
		return;
	}
	if (ret != (s->lio[LE].live ? -EBUSY : 0))
		die("create E: %d (live %d)", ret, s->lio[LE].live);
	if (!ret)
		lio_set(s, LE, shift, offset, size, NULL, 0);
}

/* Unregister or register a region through one container. */
static void op_region(struct fuzz_in *in, struct state *s)
{
	unsigned int ri = fuzz_pick(in, NR_REGIONS), ci = fuzz_pick(in, 2);
	struct region *r = &s->regions[ri];
	int ret, want;

	if (!r->reg[ci]) {
		ret = region_register(s, ri, ci);
		TRACE("register region %u in C%u = %d\n", ri, ci + 1, ret);
		if (ret)
			die("register region %u in C%u: %d", ri, ci + 1, ret);
		return;
	}
	/* Strict: the last user of a region with mappings is refused. */
	want = 0;
	if (!r->reg[!ci] && !r->reg[2]) {
		struct stce_region *reg;

		if (stce_prereg_lookup(ram_ua + r->off, r->size, &reg))
			die("region %u not found", ri);
		if (stce_region_mapped(reg) > 1)
			want = -EBUSY;
		stce_prereg_mapped_dec(reg);
	}
	ret = stce_container_unregister(s->c[ci], ram_ua + r->off, r->size);
	TRACE("unregister region %u from C%u = %d\n", ri, ci + 1, ret);
	if (ret != want)
		die("unregister region %u from C%u: %d, want %d", ri, ci + 1,
		    ret, want);
	if (!ret)
		r->reg[ci] = false;
}

static void op_other(struct fuzz_in *in, struct state *s)
{
	switch (fuzz_pick(in, 8)) {
	case 0: op_rtas_create(in, s); break;
	case 1: op_rtas_remove(in, s); break;
	case 2: op_rtas_reset(in, s); break;
	case 3: op_rtas_query(in, s); break;
	case 4: op_liobn_remove(in, s); break;
	case 5: op_liobn_create(in, s); break;
	default: op_region(in, s); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct state s;

	setup(&s, fuzz_u8(&in));
	for (unsigned int n = 0; n < MAX_OPS && fuzz_left(&in); n++) {
		bool full = false;

		switch (fuzz_pick(&in, 12)) {
		case 0: case 1: case 2: op_put(&in, &s); break;
		case 3: case 4: case 5: op_put_indirect(&in, &s); break;
		case 6: case 7: op_stuff(&in, &s); break;
		case 8: op_get(&in, &s); break;
		default: op_other(&in, &s); full = true; break;
		}
		/* Every call checked where it wrote (check_quick); the
		 * whole walk now and then, and at the end. */
		if (full || ++s.ops_since_full >= 16)
			check_all(&s);
		else
			check_counts(&s);
	}
	check_all(&s);
	teardown(&s);
	return 0;
}
