// SPDX-License-Identifier: MIT
/*
 * bench-map: MAP+UNMAP rates of 64K and 2M chunks.
 *  - v2 over pre-registered memory, through the C API and through the
 *    VFIO ioctl layer (the same calls a program makes on a POWER host);
 *  - v1, which pins on every MAP and unpins on every UNMAP.
 * Each v2 rate is printed as a ratio to v1 on the same chunk size (why v2
 * exists), and the TCEs written per second as a ratio to a bare loop of
 * atomic exchanges over the same number of entries (the cost floor).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/vfio.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/vfio.h>

#include "../bench_common.h"

#define MEM_SIZE	(64ULL << 20)	/* memory the chunks walk over */
#define WIN64		(1ULL << 59)

struct run {
	struct stce_container *c;	/* C API runs */
	struct stce_host *host;		/* ioctl runs */
	int fd;
	uint64_t mem, iova, chunk;
};

static uint64_t map_memory(void)
{
	void *p = mmap(NULL, MEM_SIZE + (64 << 10), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED) {
		perror("bench-map: mmap");
		exit(1);
	}
	return ((uint64_t)(uintptr_t)p + 0xffff) & ~0xffffULL;
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "bench-map: %s failed (%d)\n", what, ret);
	exit(1);
}

/* Map and unmap every chunk of MEM_SIZE once, through the C API. */
static void api_pass(void *ctx)
{
	struct run *r = ctx;

	for (uint64_t off = 0; off < MEM_SIZE; off += r->chunk) {
		int ret = stce_container_map(r->c, r->mem + off, r->iova + off,
					     r->chunk, STCE_MAP_READ | STCE_MAP_WRITE);

		if (ret)
			die("map", ret);
		ret = stce_container_unmap(r->c, r->iova + off, r->chunk);
		if (ret)
			die("unmap", ret);
	}
}

/* The same through the VFIO ioctls. */
static void ioctl_pass(void *ctx)
{
	struct run *r = ctx;
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.size = r->chunk,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .size = r->chunk,
	};

	for (uint64_t off = 0; off < MEM_SIZE; off += r->chunk) {
		map.vaddr = r->mem + off;
		map.iova = unmap.iova = r->iova + off;
		if (stce_host_ioctl(r->host, r->fd, VFIO_IOMMU_MAP_DMA, &map))
			die("ioctl MAP_DMA", -1);
		if (stce_host_ioctl(r->host, r->fd, VFIO_IOMMU_UNMAP_DMA, &unmap))
			die("ioctl UNMAP_DMA", -1);
	}
}

static struct stce_container *api_container(struct stce_pe *pe, unsigned int type,
					    uint64_t mem, uint64_t *iova)
{
	struct stce_container *c;
	int ret;

	ret = stce_container_create(type, 0, &c);
	if (!ret)
		ret = stce_container_attach(c, pe);
	if (ret)
		die("container", ret);
	if (type == STCE_IOMMU_V1) {
		ret = stce_container_enable(c);
		*iova = 0;	/* the 32-bit window, 4K pages */
	} else {
		ret = stce_container_register(c, mem, MEM_SIZE);
		if (!ret)
			ret = stce_container_create_window(c, 16, 1ULL << 34, 1, iova);
	}
	if (ret)
		die("container set-up", ret);
	return c;
}

static int ioctl_container(struct stce_host *host, uint64_t mem)
{
	struct vfio_iommu_spapr_register_memory reg = {
		.argsz = sizeof(reg), .vaddr = mem, .size = MEM_SIZE,
	};
	struct vfio_iommu_spapr_tce_create create = {
		.argsz = sizeof(create), .page_shift = 16,
		.window_size = 1ULL << 34, .levels = 1,
	};
	int c = stce_host_open(host, "/dev/vfio/vfio", O_RDWR);
	int g = stce_host_open(host, "/dev/vfio/1", O_RDWR);

	if (c < 0 || g < 0 ||
	    stce_host_ioctl(host, g, VFIO_GROUP_SET_CONTAINER, &c) ||
	    stce_host_ioctl(host, c, VFIO_SET_IOMMU, (void *)VFIO_SPAPR_TCE_v2_IOMMU) ||
	    stce_host_ioctl(host, c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg) ||
	    stce_host_ioctl(host, c, VFIO_IOMMU_SPAPR_TCE_CREATE, &create) ||
	    create.start_addr != WIN64)
		die("ioctl set-up", -1);
	return c;
}

int main(void)
{
	static const uint64_t chunks[] = { 64 << 10, 2 << 20 };
	struct stce_host *host;
	struct stce_pe *pe;
	struct run v1, v2, vi;
	uint64_t mem = map_memory();
	double bare = bench_xchg_rate(MEM_SIZE >> 12);

	if (stce_host_create(NULL, &host))
		die("host", -1);
	pe = stce_platform_find_pe(stce_host_platform(host), 0);
	v1 = (struct run){ .mem = mem };
	v2 = (struct run){ .mem = mem };
	v1.c = api_container(pe, STCE_IOMMU_V1, mem, &v1.iova);
	vi = (struct run){ .host = host, .mem = mem, .iova = WIN64 };
	vi.fd = ioctl_container(host, mem);

	printf("bench-map: %llu MiB walked in chunks, %.2fs a figure\n",
	       (unsigned long long)(MEM_SIZE >> 20), bench_seconds());
	bench_report("baseline: bare atomic xchg loop", bare, "xchg", bare,
		     "bare xchg");
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		double per = (double)(MEM_SIZE / chunks[i]);
		double r1, r2, ri;
		char name[80];

		v1.chunk = v2.chunk = vi.chunk = chunks[i];
		r1 = bench_rate(api_pass, &v1, per);
		stce_container_destroy(v1.c);
		v2.c = api_container(pe, STCE_IOMMU_V2, mem, &v2.iova);
		r2 = bench_rate(api_pass, &v2, per);
		stce_container_destroy(v2.c);
		ri = bench_rate(ioctl_pass, &vi, per);
		v1.c = api_container(pe, STCE_IOMMU_V1, mem, &v1.iova);

		snprintf(name, sizeof(name), "v1 map+unmap %lluK (pins), C API",
			 (unsigned long long)(chunks[i] >> 10));
		bench_report(name, r1, "chunks", r1, "v1");
		snprintf(name, sizeof(name), "v2 map+unmap %lluK, C API",
			 (unsigned long long)(chunks[i] >> 10));
		bench_report(name, r2, "chunks", r1, "v1");
		snprintf(name, sizeof(name), "v2 map+unmap %lluK, VFIO ioctls",
			 (unsigned long long)(chunks[i] >> 10));
		bench_report(name, ri, "chunks", r1, "v1");
		snprintf(name, sizeof(name), "  v2 TCEs written, %lluK chunks, C API",
			 (unsigned long long)(chunks[i] >> 10));
		bench_report(name, r2 * (double)(chunks[i] >> 16), "TCEs", bare,
			     "bare xchg");
	}
	stce_container_destroy(v1.c);
	stce_host_destroy(host);
	if (stce_account_locked_pages())
		die("audit: locked_vm left", (int)stce_account_locked_pages());
	return 0;
}
