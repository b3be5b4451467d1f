/* SPDX-License-Identifier: MIT */
/* Helpers shared by the hypercall tests: a guest on one v2 container. */
#ifndef STCE_HCALL_TEST_H
#define STCE_HCALL_TEST_H

#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/device.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>
#include <spapr_tce/topology.h>

#define KB	1024ULL
#define MB	(1024ULL * KB)
#define RAM	(64 * MB)
#define DDW	(1ULL << 59)
#define LIOBN	0x100ULL	/* 64K pages on the DDW window */
#define RW	(STCE_TCE_READ | STCE_TCE_WRITE)

struct hfx {
	struct stce_platform *plat;
	struct stce_pe *pe;
	struct stce_device *dev;
	struct stce_container *c;
	struct stce_guest *g;
	uint8_t *ram;		/* guest physical 0 */
	uint64_t ram_ua;
	uint64_t locked_before;
};

static inline uint8_t *hfx_map(uint64_t size)
{
	uint64_t align = 64 * KB, a;
	void *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		abort();
	a = ((uint64_t)(uintptr_t)p + align - 1) & ~(align - 1);
	if (a > (uint64_t)(uintptr_t)p)
		munmap(p, a - (uint64_t)(uintptr_t)p);
	munmap((void *)(uintptr_t)(a + size),
	       (uint64_t)(uintptr_t)p + align - a);
	return (uint8_t *)(uintptr_t)a;
}

/*
 * Platform, a v2 container with PE 0, 64 MiB of registered guest RAM at
 * guest physical 0, a DDW window of 64K pages in @levels levels at DDW,
 * and guest table LIOBN on it, attached through PE 0.
 */
static inline struct hfx *hfx_setup(unsigned int levels)
{
	struct hfx *f = calloc(1, sizeof(*f));
	struct stce_topology *topo;
	uint64_t start;

	f->locked_before = stce_account_locked_pages();
	if (stce_topology_default(&topo) || stce_platform_create(topo, &f->plat))
		abort();
	stce_topology_free(topo);
	f->dev = stce_platform_device(f->plat, 0);
	f->pe = stce_device_pe(f->dev);
	if (stce_container_create(STCE_IOMMU_V2, 0, &f->c) ||
	    stce_container_attach(f->c, f->pe))
		abort();
	f->ram = hfx_map(RAM);
	f->ram_ua = (uint64_t)(uintptr_t)f->ram;
	if (stce_container_register(f->c, f->ram_ua, RAM))
		abort();
	if (stce_container_create_window(f->c, 16, RAM, levels, &start) ||
	    start != DDW)
		abort();
	if (stce_guest_create(&f->g) ||
	    stce_guest_add_memory(f->g, 0, RAM, f->ram_ua) ||
	    stce_guest_create_tce_table(f->g, LIOBN, 16, DDW >> 16, RAM >> 16) ||
	    stce_guest_attach(f->g, LIOBN, f->c, f->pe))
		abort();
	return f;
}

static inline void hfx_teardown(struct hfx *f)
{
	stce_guest_destroy(f->g);
	stce_container_destroy(f->c);
	stce_platform_destroy(f->plat);
	munmap(f->ram, RAM);
	free(f);
}

/* The DDW hardware table. */
static inline struct stce_table *hfx_hw(struct hfx *f, unsigned int num)
{
	return stce_pe_window_table(f->pe, num);
}

/* Live mappings counted in the guest RAM's region. */
static inline uint64_t hfx_mapped(struct hfx *f)
{
	struct stce_region *r;
	uint64_t n;

	if (stce_prereg_lookup(f->ram_ua, 64 * KB, &r))
		return UINT64_MAX;
	n = stce_region_mapped(r) - 1;
	stce_prereg_mapped_dec(r);
	return n;
}

/* Write a TCE list (big-endian) at guest physical @gpa. */
static inline void hfx_list(struct hfx *f, uint64_t gpa, const uint64_t *tces,
			    unsigned int n)
{
	uint64_t *list = (uint64_t *)(f->ram + gpa);

	for (unsigned int i = 0; i < n; i++)
		list[i] = htobe64(tces[i]);
}

/* The hardware TCE expected for guest physical @gpa. */
static inline uint64_t hfx_hwtce(struct hfx *f, uint64_t gpa, uint64_t perm)
{
	return stce_tce_make(f->ram_ua + gpa, perm);
}

#endif /* STCE_HCALL_TEST_H */
