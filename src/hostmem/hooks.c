// SPDX-License-Identifier: MIT
/*
 * The calls that change mappings, keeping pinned pages alive the kernel's
 * way (see include/spapr_tce/hostmem.h). Each takes hm_lock only when
 * something is pinned, and quiesces DMA only when the call meets pinned
 * pages; everything else is the system call, one atomic load away.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <spapr_tce/hostmem.h>

#include "common/common.h"
#include "common/lockdep.h"
#include "hostmem/hostmem_internal.h"

#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED	24
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

static uint64_t page_up(size_t len)
{
	return stce_round_up(len, hm_page());
}

static bool aligned(const void *addr)
{
	return stce_is_aligned((uintptr_t)addr, hm_page());
}

/* Move aside what is pinned in [a, a + len); DMA quiesced meanwhile. */
static void aside_locked(uint64_t a, uint64_t len, enum hm_move_kind kind)
{
	stce_assert_held(&hm_lock);
	if (!len || !hm_pinned_in(a, len))
		return;
	hm_quiesce();
	hm_move_aside(a, len, kind);
	hm_unquiesce();
}

/* See <spapr_tce/hostmem.h>. */
int stce_hostmem_munmap(void *addr, size_t len)
{
	int ret;

	if (!hm_anything_pinned() || !aligned(addr) || !len)
		return (int)hm_sys(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
	pthread_mutex_lock(&hm_lock);
	aside_locked((uintptr_t)addr, page_up(len), HM_ASIDE);
	ret = (int)hm_sys(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0);
	pthread_mutex_unlock(&hm_lock);
	return ret;
}

/* See <spapr_tce/hostmem.h> (the hooks): MAP_FIXED over pins moves them aside. */
int stce_hostmem_mmap(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off, void **out)
{
	bool replaces = (flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE);
	long r;

	if (!replaces || !hm_anything_pinned() || !aligned(addr) || !len) {
		r = hm_sys(SYS_mmap, (long)addr, (long)len, prot, flags, fd,
			   (long)off);
	} else {
		pthread_mutex_lock(&hm_lock);
		aside_locked((uintptr_t)addr, page_up(len), HM_ASIDE);
		r = hm_sys(SYS_mmap, (long)addr, (long)len, prot, flags, fd,
			   (long)off);
		pthread_mutex_unlock(&hm_lock);
	}
	if (r < 0 && r > -4096)
		return (int)r;
	*out = (void *)r;
	return 0;
}

/*
 * mremap: what a shrink drops and what a MREMAP_FIXED target replaces is
 * moved aside first; the pinned pages in the part that moves follow it.
 */
int stce_hostmem_mremap(void *old_addr, size_t old_size, size_t new_size,
			int flags, void *new_addr, void **out)
{
	uint64_t old = (uintptr_t)old_addr, os = page_up(old_size);
	uint64_t ns = page_up(new_size), keep = os < ns ? os : ns;
	bool follow = false;
	long r;

	if (!hm_anything_pinned() || !aligned(old_addr)) {
		r = hm_sys(SYS_mremap, (long)old_addr, (long)old_size,
			   (long)new_size, flags, (long)new_addr, 0);
		goto out;
	}
	pthread_mutex_lock(&hm_lock);
	if (ns < os)
		aside_locked(old + ns, os - ns, HM_ASIDE);
	if ((flags & MREMAP_FIXED) && aligned(new_addr))
		aside_locked((uintptr_t)new_addr, ns, HM_ASIDE);
	follow = keep && hm_pinned_in(old, keep);
	if (follow)
		hm_quiesce();
	r = hm_sys(SYS_mremap, (long)old_addr, (long)old_size, (long)new_size,
		   flags, (long)new_addr, 0);
	if (follow && r >= 0 && ((uint64_t)r != old || (flags & MREMAP_DONTUNMAP)))
		hm_follow(old, keep, (uint64_t)r);
	if (follow)
		hm_unquiesce();
	pthread_mutex_unlock(&hm_lock);
out:
	if (r < 0 && r > -4096)
		return (int)r;
	*out = (void *)r;
	return 0;
}

/* MADV_FREE everywhere but on pinned pages (whose contents must stay). */
static int free_unpinned_locked(uint64_t a, uint64_t len)
{
	uint64_t pos = a, s, l, from = a;
	int ret = 0;

	stce_assert_held(&hm_lock);
	while (hm_next_pinned(a, len, &pos, &s, &l)) {
		if (s > from)
			ret = (int)hm_sys(SYS_madvise, (long)from,
					  (long)(s - from), MADV_FREE, 0, 0, 0);
		from = s + l;
		if (ret)
			return ret;
	}
	if (a + len > from)
		ret = (int)hm_sys(SYS_madvise, (long)from,
				  (long)(a + len - from), MADV_FREE, 0, 0, 0);
	return ret;
}

static bool advice_drops(int advice)
{
	return advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED ||
	       advice == MADV_FREE || advice == MADV_REMOVE;
}

/* See <spapr_tce/hostmem.h> (the hooks): advice that drops pages spares pins. */
int stce_hostmem_madvise(void *addr, size_t len, int advice)
{
	uint64_t a = (uintptr_t)addr, l = page_up(len);
	int ret;

	if (!advice_drops(advice) || !hm_anything_pinned() || !aligned(addr) ||
	    !len)
		return (int)hm_sys(SYS_madvise, (long)addr, (long)len, advice,
				   0, 0, 0);
	pthread_mutex_lock(&hm_lock);
	if (!hm_pinned_in(a, l)) {
		ret = (int)hm_sys(SYS_madvise, (long)addr, (long)len, advice, 0,
				  0, 0);
		goto unlock;
	}
	if (advice == MADV_FREE) {
		ret = free_unpinned_locked(a, l);
		goto unlock;
	}
	hm_quiesce();
	if (advice == MADV_REMOVE)
		hm_lose(a, l);	/* the hole punch frees the pages */
	else
		hm_move_aside(a, l, HM_ASIDE_KEEP);
	ret = (int)hm_sys(SYS_madvise, (long)addr, (long)len, advice, 0, 0, 0);
	hm_unquiesce();
unlock:
	pthread_mutex_unlock(&hm_lock);
	return ret;
}

/* See <spapr_tce/hostmem.h> (the hooks): the attachment's pins go aside first. */
int stce_hostmem_shmdt(const void *addr)
{
	struct hm_vma v, next;
	bool moved = false;
	uint64_t end;
	int ret;

#ifdef SYS_shmdt
	if (!hm_anything_pinned())
		return (int)hm_sys(SYS_shmdt, (long)addr, 0, 0, 0, 0, 0);
	pthread_mutex_lock(&hm_lock);
	/* The attachment: the VMA at @addr and what follows of its file. */
	if (!hm_vma_at((uintptr_t)addr, &v) && v.start == (uintptr_t)addr) {
		end = v.end;
		while (!hm_vma_at(end, &next) && next.start == end &&
		       next.inode == v.inode && v.inode)
			end = next.end;
		moved = hm_pinned_in(v.start, end - v.start);
		aside_locked(v.start, end - v.start, HM_ASIDE);
	}
	ret = (int)hm_sys(SYS_shmdt, (long)addr, 0, 0, 0, 0, 0);
	/* All of the attachment went aside: detached, as far as @addr goes. */
	if (ret == -EINVAL && moved && hm_vma_at((uintptr_t)addr, &v) == -ENOENT)
		ret = 0;
	pthread_mutex_unlock(&hm_lock);
	return ret;
#else
	(void)v;
	(void)next;
	(void)moved;
	(void)end;
	(void)ret;
	return -ENOSYS;
#endif
}
