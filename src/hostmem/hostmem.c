// SPDX-License-Identifier: MIT
/*
 * Host memory: pins, host physical addresses, where moved pages are, and
 * the DMA side (see include/spapr_tce/hostmem.h for the model).
 *
 * State, all under hm_lock except what DMA reads:
 *  - cover: the pinned hpa ranges as disjoint segments, each with its
 *    reference count (the value). Read under hm_lock only.
 *  - moves: hpa ranges whose pages are not at the hpa (moved aside, moved
 *    by the program's mremap, synthetic hpas, lost ones), each a struct
 *    hm_moved. Read lock-free by DMA (grace period hm_readers), and kept
 *    on a list too, for the rare lookups by current place.
 *  - stce_hostmem_state: HM_STATE_MOVED while moves is not empty (DMA then
 *    resolves every hpa), HM_STATE_MOVING while a move runs (DMA backs
 *    off; see hm_quiesce()).
 *
 * An hpa is "identity" (its pages are at the address hpa) unless moves
 * holds it. Two hpas may name the same pages (the program registered
 * pages again at the place it had moved them to): both resolve to the
 * same place, and a move updates both.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spapr_tce/hostmem.h>

#include "common/alloc.h"
#include "common/common.h"
#include "common/lockdep.h"
#include "common/safecopy.h"
#include "hostmem/hostmem_internal.h"

/* The granule synthetic hpas keep the user address's offset within. */
#define SYN_ALIGN	(1ULL << 30)

struct hm_moved {
	struct hm_moved *next, *prev;	/* the list, under hm_lock */
	uint64_t hpa, len;
	uint64_t loc;		/* where the pages are now */
	bool aside;		/* loc is in the library's area */
	bool lost;		/* the pages are gone: DMA faults */
};

pthread_mutex_t hm_lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic unsigned int stce_hostmem_state;
__thread int hm_in_hook;

static struct stce_grace hm_readers = {
	.sync_lock = PTHREAD_MUTEX_INITIALIZER,
};
static struct stce_rindex cover;			/* no lock-free readers */
static struct stce_rindex moves = { .grace = &hm_readers };
static struct hm_moved *moved_list;
static uint64_t syn_next = STCE_HOSTMEM_SYNTHETIC_BASE;

static _Atomic uint64_t pinned_bytes, aside_bytes, lost_count, move_count;

/* /proc/self/mem, for pages the program protected (FOLL_FORCE). */
static _Atomic int mem_fd = -1;
static dev_t mem_dev;
static ino_t mem_ino;

/* The DMA grace domains a move waits out. */
static pthread_mutex_t dom_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stce_grace **domains;
static size_t nr_domains, cap_domains;

/* See hostmem/hostmem_internal.h. */
long hm_sys(long nr, long a, long b, long c, long d, long e, long f)
{
	long r;

	hm_in_hook++;
	r = syscall(nr, a, b, c, d, e, f);
	hm_in_hook--;
	return r == -1 ? -errno : r;
}

/* See <spapr_tce/hostmem.h>. */
bool stce_hostmem_in_hook(void)
{
	return hm_in_hook != 0;
}

/* See hostmem/hostmem_internal.h. */
bool hm_anything_pinned(void)
{
	return atomic_load_explicit(&pinned_bytes, memory_order_relaxed) != 0;
}

static void state_update_locked(void)
{
	stce_assert_held(&hm_lock);
	if (moved_list)
		atomic_fetch_or(&stce_hostmem_state, HM_STATE_MOVED);
	else
		atomic_fetch_and(&stce_hostmem_state, ~HM_STATE_MOVED);
}

/* ---- /proc/self/mem ------------------------------------------------ */

static void mem_open_locked(void)
{
	struct stat st;
	int fd = atomic_load(&mem_fd);

	stce_assert_held(&hm_lock);
	if (fd >= 0 && !fstat(fd, &st) && st.st_dev == mem_dev &&
	    st.st_ino == mem_ino)
		return;
	fd = (int)hm_sys(SYS_openat, AT_FDCWD, (long)"/proc/self/mem",
			 O_RDWR | O_CLOEXEC, 0, 0, 0);
	if (fd < 0 || fstat(fd, &st)) {
		atomic_store(&mem_fd, -1);
		return;
	}
	mem_dev = st.st_dev;
	mem_ino = st.st_ino;
	atomic_store(&mem_fd, fd);
}

/*
 * The rest of a copy that faulted: through /proc/self/mem, which reaches
 * protected pages as the kernel's FOLL_FORCE does. The descriptor is
 * checked first (a program may have closed it and reused the number).
 * -EFAULT with *@moved the bytes that did get through.
 */
static int copy_forced(uint8_t *addr, uint8_t *buf, size_t n, bool to_mem,
		       size_t *moved)
{
	int fd = atomic_load(&mem_fd);
	struct stat st;
	ssize_t done;

	*moved = 0;
	if (fd < 0 || fstat(fd, &st) || st.st_dev != mem_dev ||
	    st.st_ino != mem_ino)
		return -EFAULT;
	while (n) {
		done = to_mem ? pwrite(fd, buf, n, (off_t)(uintptr_t)addr) :
				pread(fd, buf, n, (off_t)(uintptr_t)addr);
		if (done <= 0)
			return -EFAULT;
		addr += done;
		buf += done;
		n -= (size_t)done;
		*moved += (size_t)done;
	}
	return 0;
}

/* ---- coverage (pinned hpa segments) --------------------------------- */

static uint64_t seg_count(void *v)
{
	return (uint64_t)(uintptr_t)v;
}

static void *count_val(uint64_t n)
{
	return (void *)(uintptr_t)n;
}

/* A segment boundary at @at (splitting the segment that holds it). */
static int cover_cut(uint64_t at)
{
	uint64_t s, l;
	void *v = stce_rindex_find(&cover, at, &s, &l);

	if (!v || s == at)
		return 0;
	return stce_rindex_split(&cover, s, at, v);
}

/* One reference less on every segment of [hpa, hpa + len). */
static void cover_sub(uint64_t hpa, uint64_t len,
		      void (*zero)(uint64_t s, uint64_t l))
{
	uint64_t pos = hpa, end = hpa + len, s, l;
	void *v;

	while (pos < end && (v = stce_rindex_first(&cover, pos, end - pos,
						   &s, &l))) {
		assert(s >= pos && s + l <= end);
		if (seg_count(v) > 1) {
			stce_rindex_set(&cover, s, count_val(seg_count(v) - 1));
		} else {
			stce_rindex_remove(&cover, s);
			atomic_fetch_sub(&pinned_bytes, l);
			if (zero)
				zero(s, l);
		}
		pos = s + l;
	}
}

/* One reference more on [hpa, hpa + len); -ENOMEM leaves it as it was. */
static int cover_add(uint64_t hpa, uint64_t len)
{
	uint64_t pos = hpa, end = hpa + len, s, l, gap;
	int ret = cover_cut(hpa);
	void *v;

	if (!ret)
		ret = cover_cut(end);
	while (!ret && pos < end) {
		v = stce_rindex_first(&cover, pos, end - pos, &s, &l);
		gap = !v ? end - pos : s > pos ? s - pos : 0;
		if (gap) {
			ret = stce_rindex_insert(&cover, pos, gap, count_val(1));
			if (!ret) {
				atomic_fetch_add(&pinned_bytes, gap);
				pos += gap;
			}
			continue;
		}
		stce_rindex_set(&cover, s, count_val(seg_count(v) + 1));
		pos = s + l;
	}
	if (ret && pos > hpa)
		cover_sub(hpa, pos - hpa, NULL);
	return ret;
}

/* ---- moved ranges --------------------------------------------------- */

static void list_add(struct hm_moved *m)
{
	m->prev = NULL;
	m->next = moved_list;
	if (moved_list)
		moved_list->prev = m;
	moved_list = m;
}

static void list_del(struct hm_moved *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		moved_list = m->next;
	if (m->next)
		m->next->prev = m->prev;
}

static int moved_add(uint64_t hpa, uint64_t len, uint64_t loc, bool aside,
		     bool lost)
{
	struct hm_moved *m = stce_zalloc(sizeof(*m));
	int ret;

	stce_assert_held(&hm_lock);
	if (!m)
		return -ENOMEM;
	*m = (struct hm_moved){ .hpa = hpa, .len = len, .loc = loc,
				.aside = aside, .lost = lost };
	ret = stce_rindex_insert(&moves, hpa, len, m);
	if (ret) {
		stce_free(m);
		return ret;
	}
	list_add(m);
	if (aside)
		atomic_fetch_add(&aside_bytes, len);
	state_update_locked();
	return 0;
}

/* Cut @m at hpa @at: @m keeps the head, the tail is a new entry. */
static int moved_cut(struct hm_moved *m, uint64_t at)
{
	struct hm_moved *t;
	int ret;

	if (at <= m->hpa || at >= m->hpa + m->len)
		return 0;
	t = stce_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = *m;
	t->hpa = at;
	t->len = m->hpa + m->len - at;
	t->loc = m->loc + (at - m->hpa);
	ret = stce_rindex_split(&moves, m->hpa, at, t);
	if (ret) {
		stce_free(t);
		return ret;
	}
	/* Readers of the old piece resolve the tail the same way. */
	m->len = at - m->hpa;
	list_add(t);
	return 0;
}

/* True when another moved entry's place meets [loc, loc + len). */
static bool place_shared(const struct hm_moved *self, uint64_t loc,
			 uint64_t len)
{
	for (struct hm_moved *m = moved_list; m; m = m->next)
		if (m != self && !m->lost && m->loc < loc + len &&
		    loc < m->loc + m->len)
			return true;
	return false;
}

/* The entry's pages are pinned no more: forget it, unmap what was aside. */
static void moved_drop(struct hm_moved *m)
{
	stce_assert_held(&hm_lock);
	stce_rindex_remove(&moves, m->hpa);
	list_del(m);
	if (m->aside) {
		atomic_fetch_sub(&aside_bytes, m->len);
		if (!m->lost && !place_shared(m, m->loc, m->len))
			hm_sys(SYS_munmap, (long)m->loc, (long)m->len, 0, 0, 0,
			       0);
	}
	/* DMA cannot reach these hpas any more, but a lookup may be near. */
	stce_grace_synchronize(&hm_readers);
	stce_free(m);
	state_update_locked();
}

/* A cover segment lost its last reference: so do its moved parts. */
static void moved_zero(uint64_t s, uint64_t l)
{
	struct hm_moved *m;

	while ((m = stce_rindex_first(&moves, s, l, NULL, NULL))) {
		/* On -ENOMEM the entry stays whole: harmless, just kept. */
		if (m->hpa < s) {
			if (moved_cut(m, s))
				return;
			continue;	/* the tail, from s, comes next */
		}
		if (m->hpa + m->len > s + l && moved_cut(m, s + l))
			return;
		moved_drop(m);
	}
}

/* ---- pinning -------------------------------------------------------- */

static bool range_ok(uint64_t ua, uint64_t size)
{
	return size && stce_range_fits(ua, size) &&
	       stce_is_aligned(ua | size, hm_page()) &&
	       ua < STCE_HOSTMEM_SYNTHETIC_BASE;
}

static int populate_works = -1;	/* MADV_POPULATE_* (Linux 5.14+) */

static bool have_populate(void)
{
	long p;

	if (populate_works >= 0)
		return populate_works;
	p = hm_sys(SYS_mmap, 0, (long)hm_page(), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	populate_works = p >= 0 && !hm_sys(SYS_madvise, p, (long)hm_page(),
					   MADV_POPULATE_WRITE, 0, 0, 0);
	if (p >= 0)
		hm_sys(SYS_munmap, p, (long)hm_page(), 0, 0, 0, 0);
	return populate_works;
}

/* Fault [ua, ua + len) in; 0 or -1 (some page could not be). */
static int populate_once(uint64_t ua, uint64_t len, bool write)
{
	if (have_populate())
		return (int)hm_sys(SYS_madvise, (long)ua, (long)len,
				   write ? MADV_POPULATE_WRITE :
					   MADV_POPULATE_READ, 0, 0, 0) ? -1 : 0;
	/* Older kernels: touch each page, writing nothing. */
	if (write)
		return stce_safe_touch_write((void *)(uintptr_t)ua, len,
					     hm_page()) ? -1 : 0;
	for (uint64_t off = 0; off < len; off += hm_page()) {
		uint8_t b;

		if (stce_safe_copy(&b, (void *)(uintptr_t)(ua + off), 1))
			return -1;
	}
	return 0;
}

/* See <spapr_tce/hostmem.h>. */
int stce_hostmem_populate(uint64_t ua, uint64_t size, bool write,
			  uint64_t *good)
{
	uint64_t lo = 0, hi, page = hm_page();

	if (!size || !stce_is_aligned(ua | size, page))
		return -EINVAL;
	if (good)
		*good = 0;
	/* Not process memory at all (the kernel's half, past 2^64): no page. */
	if (!range_ok(ua, size))
		return -EFAULT;
	if (!populate_once(ua, size, write))
		return 0;
	/* Rare: how far it got (pages [0, lo) are fine; hi is not). */
	hi = size / page;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (!populate_once(ua, mid * page, write))
			lo = mid;
		else
			hi = mid;
	}
	if (lo == 0 && populate_once(ua, page, write))
		lo = 0;
	else if (lo == 0)
		lo = 1;
	if (good)
		*good = lo * page;
	return -EFAULT;
}

static int ref_locked(uint64_t ua, uint64_t size, uint64_t granule,
		      uint64_t *hpa)
{
	uint64_t h = ua, done;
	int ret = 0;

	stce_assert_held(&hm_lock);
	/* Pages of this hpa range were moved away: a fresh identity. */
	if (stce_rindex_first(&moves, ua, size, NULL, NULL)) {
		h = stce_round_up(syn_next, SYN_ALIGN) + (ua & (SYN_ALIGN - 1));
		syn_next = stce_round_up(h + size, SYN_ALIGN);
	}
	for (done = 0; done < size && !ret; done += granule)
		ret = cover_add(h + done, granule);
	if (ret) {
		if (done > granule)
			cover_sub(h, done - granule, NULL);
		return ret;
	}
	if (h != ua) {
		ret = moved_add(h, size, ua, false, false);
		if (ret) {
			cover_sub(h, size, NULL);
			return ret;
		}
	}
	*hpa = h;
	return 0;
}

/* See <spapr_tce/hostmem.h>. */
int stce_hostmem_ref(uint64_t ua, uint64_t size, uint64_t granule,
		     uint64_t *hpa)
{
	int ret;

	if (!granule)
		granule = size;
	if (!range_ok(ua, size) || !stce_is_aligned(granule, hm_page()) ||
	    size % granule)
		return -EINVAL;
	if (stce_fault_should_fail(STCE_FAULT_PIN))
		return -ENOMEM;
	/* A program may have installed its own fault handler since. */
	stce_safe_copy_arm();
	pthread_mutex_lock(&hm_lock);
	mem_open_locked();
	ret = ref_locked(ua, size, granule, hpa);
	pthread_mutex_unlock(&hm_lock);
	return ret;
}

/* See <spapr_tce/hostmem.h>. */
int stce_hostmem_pin(uint64_t ua, uint64_t size, bool write, uint64_t *hpa,
		     uint64_t *good)
{
	int ret = stce_hostmem_populate(ua, size, write, good);

	if (ret)
		return ret;
	return stce_hostmem_ref(ua, size, 0, hpa);
}

/* See <spapr_tce/hostmem.h>. */
void stce_hostmem_unpin(uint64_t hpa, uint64_t size)
{
	if (!size)
		return;
	pthread_mutex_lock(&hm_lock);
	cover_sub(hpa, size, moved_zero);
	pthread_mutex_unlock(&hm_lock);
}

/* ---- where pinned pages are (hm_lock held) -------------------------- */

/* The first identity piece (pages at their hpa) meeting [from, end). */
static bool next_identity(uint64_t from, uint64_t end, uint64_t *ps,
			  uint64_t *pe)
{
	uint64_t s, l, ms, ml;

	while (from < end && stce_rindex_first(&cover, from, end - from, &s,
					       &l)) {
		uint64_t a = s > from ? s : from;
		uint64_t b = s + l < end ? s + l : end;

		if (!stce_rindex_first(&moves, a, b - a, &ms, &ml)) {
			*ps = a;
			*pe = b;
			return true;
		}
		if (ms > a) {
			*ps = a;
			*pe = ms;
			return true;
		}
		from = ms + ml;
	}
	return false;
}

/* The first moved (not lost) place meeting [from, end). */
static bool next_moved(uint64_t from, uint64_t end, uint64_t *ps,
		       uint64_t *pe)
{
	bool found = false;

	for (struct hm_moved *m = moved_list; m; m = m->next) {
		uint64_t a, b;

		if (m->lost || m->loc >= end || m->loc + m->len <= from)
			continue;
		a = m->loc > from ? m->loc : from;
		b = m->loc + m->len < end ? m->loc + m->len : end;
		if (!found || a < *ps || (a == *ps && b > *pe)) {
			*ps = a;
			*pe = b;
			found = true;
		}
	}
	return found;
}

static bool next_any(uint64_t from, uint64_t end, uint64_t *ps, uint64_t *pe)
{
	uint64_t is = 0, ie = 0, ms = 0, me = 0;
	bool i = next_identity(from, end, &is, &ie);
	bool m = moved_list && next_moved(from, end, &ms, &me);

	if (!i && !m)
		return false;
	if (i && (!m || is < ms || (is == ms && ie >= me))) {
		*ps = is;
		*pe = ie;
	} else {
		*ps = ms;
		*pe = me;
	}
	return true;
}

/* See hostmem/hostmem_internal.h. */
bool hm_next_pinned(uint64_t start, uint64_t len, uint64_t *pos,
		    uint64_t *piece, uint64_t *piece_len)
{
	uint64_t end = start + len, s, e, s2, e2;

	stce_assert_held(&hm_lock);
	if (*pos >= end || !next_any(*pos, end, &s, &e))
		return false;
	/* Pieces that touch or overlap make one. */
	while (e < end && next_any(e, end, &s2, &e2) && s2 == e)
		e = e2;
	*piece = s;
	*piece_len = e - s;
	*pos = e;
	return true;
}

/* See hostmem/hostmem_internal.h. */
bool hm_pinned_in(uint64_t start, uint64_t len)
{
	uint64_t pos = start, s, l;

	stce_assert_held(&hm_lock);
	return hm_anything_pinned() && hm_next_pinned(start, len, &pos, &s, &l);
}

/*
 * The pages at [from, from + len) are now at [to, to + len): every hpa
 * that named them follows (identity ones become moved entries). DMA is
 * quiesced. -ENOMEM: some did not follow (they are marked lost).
 */
static int relocate(uint64_t from, uint64_t len, uint64_t to, bool aside,
		    bool lost)
{
	uint64_t end = from + len, pos = from, s, e;
	int ret = 0;

	stce_assert_held(&hm_lock);
	/* Moved entries placed here; cut at the range's ends first. */
again:
	for (struct hm_moved *m = moved_list; m; m = m->next) {
		if (m->lost || m->loc >= end || m->loc + m->len <= from)
			continue;
		if (m->loc < from || m->loc + m->len > end) {
			uint64_t at = m->loc < from ? m->hpa + (from - m->loc) :
						      m->hpa + (end - m->loc);

			if (moved_cut(m, at)) {
				ret = -ENOMEM;
				m->lost = true;
			}
			goto again;
		}
		if (m->aside)
			atomic_fetch_sub(&aside_bytes, m->len);
		m->loc = to + (m->loc - from);
		m->aside = aside;
		m->lost = lost;
		if (aside)
			atomic_fetch_add(&aside_bytes, m->len);
	}
	/* Then identity pages: each becomes a moved entry. */
	while (next_identity(pos, end, &s, &e)) {
		int r = moved_add(s, e - s, to + (s - from), aside, lost);

		if (r && !lost && !moved_add(s, e - s, 0, false, true))
			atomic_fetch_add(&lost_count, 1);
		ret = ret ? ret : r;
		pos = e;
	}
	if (lost)
		atomic_fetch_add(&lost_count, 1);
	else
		atomic_fetch_add(&move_count, 1);
	state_update_locked();
	return ret;
}

/* See hostmem/hostmem_internal.h. */
void hm_follow(uint64_t old, uint64_t len, uint64_t new_addr)
{
	uint64_t pos = old, s, l;

	stce_assert_held(&hm_lock);
	while (hm_next_pinned(old, len, &pos, &s, &l))
		relocate(s, l, new_addr + (s - old), false, false);
}

/* See hostmem/hostmem_internal.h. */
void hm_lose(uint64_t start, uint64_t len)
{
	uint64_t pos = start, s, l;

	stce_assert_held(&hm_lock);
	while (hm_next_pinned(start, len, &pos, &s, &l))
		relocate(s, l, 0, false, true);
}

/* A fresh place for @len bytes aligned to @align (PROT_NONE for now). */
static uint64_t aside_reserve(uint64_t len, uint64_t align)
{
	long p = hm_sys(SYS_mmap, 0, (long)(len + align), PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t a, end;

	if (p < 0)
		return 0;
	a = stce_round_up((uint64_t)p, align);
	end = (uint64_t)p + len + align;
	if (a > (uint64_t)p)
		hm_sys(SYS_munmap, p, (long)(a - (uint64_t)p), 0, 0, 0, 0);
	if (end > a + len)
		hm_sys(SYS_munmap, (long)(a + len), (long)(end - a - len), 0, 0,
		       0, 0);
	return a;
}

/* Move one piece that lies in one VMA aside; 0 or a negative errno. */
static int move_piece(uint64_t s, uint64_t len, uint64_t page,
		      enum hm_move_kind kind)
{
	uint64_t to = aside_reserve(len, page > hm_page() ? page : hm_page());
	long flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	long r;

	if (!to)
		return -ENOMEM;
	if (kind == HM_ASIDE_KEEP)
		flags |= MREMAP_DONTUNMAP;
	r = hm_sys(SYS_mremap, (long)s, (long)len, (long)len, flags, (long)to,
		   0);
	if (r < 0) {
		hm_sys(SYS_munmap, (long)to, (long)len, 0, 0, 0, 0);
		return (int)r;
	}
	/* Ours now: reachable by the device, not by a fork child. */
	hm_sys(SYS_mprotect, (long)to, (long)len, PROT_READ | PROT_WRITE, 0, 0,
	       0);
	hm_sys(SYS_madvise, (long)to, (long)len, MADV_DONTFORK, 0, 0, 0);
	hm_sys(SYS_munlock, (long)to, (long)len, 0, 0, 0, 0);
	return relocate(s, len, to, true, false);
}

/* See hostmem/hostmem_internal.h. */
int hm_move_aside(uint64_t start, uint64_t len, enum hm_move_kind kind)
{
	uint64_t pos = start, s, l;
	int ret = 0;

	stce_assert_held(&hm_lock);
	while (hm_next_pinned(start, len, &pos, &s, &l)) {
		uint64_t end = s + l;

		/* mremap moves within one VMA: cut the piece at VMA ends. */
		while (s < end) {
			struct hm_vma v;
			uint64_t n;
			int r = hm_vma_at(s, &v);

			if (r) {
				/* Not mapped (an unseen munmap): lost. */
				relocate(s, end - s, 0, false, true);
				break;
			}
			n = (v.end < end ? v.end : end) - s;
			if (kind == HM_ASIDE_KEEP && v.shared) {
				/* DONTNEED keeps shared pages: nothing to do. */
				s += n;
				continue;
			}
			r = move_piece(s, n, v.page_size, kind);
			if (r) {
				relocate(s, n, 0, false, true);
				ret = ret ? ret : r;
			}
			s += n;
		}
	}
	return ret;
}

/* ---- moves and DMA -------------------------------------------------- */

/* See hostmem/hostmem_internal.h. */
void hm_quiesce(void)
{
	stce_assert_held(&hm_lock);
	atomic_fetch_or(&stce_hostmem_state, HM_STATE_MOVING);
	pthread_mutex_lock(&dom_lock);
	for (size_t i = 0; i < nr_domains; i++)
		stce_grace_synchronize(domains[i]);
	pthread_mutex_unlock(&dom_lock);
}

/* See hostmem/hostmem_internal.h: DMA may resolve addresses again. */
void hm_unquiesce(void)
{
	stce_assert_held(&hm_lock);
	atomic_fetch_and(&stce_hostmem_state, ~HM_STATE_MOVING);
}

/* See hostmem/hostmem_dma.h. */
void stce_hostmem_wait_moves(void)
{
	while (atomic_load(&stce_hostmem_state) & HM_STATE_MOVING)
		sched_yield();
}

/* See hostmem/hostmem_dma.h. */
int stce_hostmem_dma_domain_add(struct stce_grace *g)
{
	int ret = 0;

	stce_safe_copy_arm();
	pthread_mutex_lock(&dom_lock);
	if (nr_domains == cap_domains) {
		size_t cap = cap_domains ? 2 * cap_domains : 16;
		struct stce_grace **d = stce_zalloc(cap * sizeof(*d));

		if (!d) {
			ret = -ENOMEM;
			goto out;
		}
		if (nr_domains)
			memcpy(d, domains, nr_domains * sizeof(*d));
		stce_free(domains);
		domains = d;
		cap_domains = cap;
	}
	domains[nr_domains++] = g;
out:
	pthread_mutex_unlock(&dom_lock);
	return ret;
}

/* The domain added with stce_hostmem_dma_domain_add() is waited for no more. */
void stce_hostmem_dma_domain_del(struct stce_grace *g)
{
	pthread_mutex_lock(&dom_lock);
	for (size_t i = 0; i < nr_domains; i++)
		if (domains[i] == g) {
			domains[i] = domains[--nr_domains];
			break;
		}
	if (!nr_domains) {
		stce_free(domains);
		domains = NULL;
		cap_domains = 0;
	}
	pthread_mutex_unlock(&dom_lock);
}

/* Where [hpa, hpa + n) is, as far as it is contiguous: 0 or -EFAULT. */
static int resolve_moved(uint64_t hpa, size_t n, uint8_t **addr, size_t *run)
{
	struct stce_grace_guard g;
	struct hm_moved *m;
	uint64_t s, l;
	int ret = 0;

	stce_grace_read_lock(&hm_readers, &g);
	m = stce_rindex_first(&moves, hpa, n, &s, &l);
	if (!m || s > hpa) {
		*addr = (uint8_t *)(uintptr_t)hpa;
		*run = m ? (size_t)(s - hpa) : n;
	} else if (m->lost) {
		ret = -EFAULT;
	} else {
		uint64_t left = s + l - hpa;

		*addr = (uint8_t *)(uintptr_t)(m->loc + (hpa - s));
		*run = left < n ? (size_t)left : n;
	}
	stce_grace_read_unlock(&hm_readers, &g);
	return ret;
}

/* See <spapr_tce/hostmem.h>. */
int stce_hostmem_resolve(uint64_t hpa, size_t n, void **addr, size_t *run)
{
	uint8_t *a;
	int ret;

	if (stce_likely(!(atomic_load_explicit(&stce_hostmem_state,
					       memory_order_relaxed) &
			  HM_STATE_MOVED))) {
		*addr = (void *)(uintptr_t)hpa;
		*run = n;
		return 0;
	}
	ret = resolve_moved(hpa, n, &a, run);
	if (!ret)
		*addr = a;
	return ret;
}

/* What the fast copy of copy_at() left, @left of @n bytes. */
static __attribute__((noinline)) int
copy_rest(uint8_t *addr, uint8_t *buf, size_t n, size_t left, bool to_mem,
	  size_t *done)
{
	int ret = copy_forced(addr + (n - left), buf + (n - left), left,
			      to_mem, done);

	*done += n - left;
	return ret;
}

/* -EFAULT with *@done the bytes moved before the one that failed. */
static int copy_at(uint8_t *addr, uint8_t *buf, size_t n, bool to_mem,
		   size_t *done)
{
	size_t left = to_mem ? stce_safe_copy(addr, buf, n) :
			       stce_safe_copy(buf, addr, n);

	if (stce_likely(!left))
		return 0;
	return copy_rest(addr, buf, n, left, to_mem, done);
}

static inline bool nothing_moved(void)
{
	return stce_likely(!(atomic_load_explicit(&stce_hostmem_state,
						  memory_order_relaxed) &
			     HM_STATE_MOVED));
}

/*
 * The DMA copies' slow paths are out of line (noinline): the common one,
 * nothing moved, is then a tail call that saves no registers (a DMA loop
 * that streams memory pays for every store of its fixed path).
 */
static __attribute__((noinline)) int
copy_moved(uint64_t hpa, uint8_t *b, size_t n, bool to_mem, size_t *done)
{
	uint8_t *addr;
	size_t run, at = 0;
	int ret;

	while (n) {
		*done = 0;
		ret = resolve_moved(hpa, n, &addr, &run);
		if (!ret)
			ret = copy_at(addr, b, run, to_mem, done);
		if (ret) {
			*done += at;
			return ret;
		}
		hpa += run;
		b += run;
		n -= run;
		at += run;
	}
	return 0;
}

/* See hostmem/hostmem_dma.h (the DMA's copies). */
int stce_hostmem_copy_n(uint64_t hpa, void *buf, size_t n, bool to_mem,
			size_t *done)
{
	if (nothing_moved())
		return copy_at((uint8_t *)(uintptr_t)hpa, buf, n, to_mem, done);
	return copy_moved(hpa, buf, n, to_mem, done);
}

/* See <spapr_tce/hostmem.h>. */
int stce_hostmem_copy(uint64_t hpa, void *buf, size_t n, bool to_mem)
{
	size_t done;

	return stce_hostmem_copy_n(hpa, buf, n, to_mem, &done);
}

/*
 * The slow way for what a fast move or fill left: through a bounce buffer,
 * each side with copy_at's forced fallback (a page the program made
 * inaccessible is still the device's).
 */
#define BOUNCE	4096

/* What the fast move of move_at() left, @left of @n bytes. */
static __attribute__((noinline)) int
move_rest(uint8_t *d, uint8_t *s, size_t n, size_t left, size_t *done,
	  bool *src_fault)
{
	uint8_t b[BOUNCE];
	size_t k, at, part;
	int ret;

	for (at = n - left; at < n; at += k) {
		k = n - at < BOUNCE ? n - at : BOUNCE;
		ret = copy_at(s + at, b, k, false, &part);
		if (ret)
			*src_fault = true;
		else
			ret = copy_at(d + at, b, k, true, &part);
		if (ret) {
			*done = at + part;
			return ret;
		}
	}
	return 0;
}

/* [@s, +@n) to [@d, +@n), both resolved (stce_hostmem_move's returns). */
static int move_at(uint8_t *d, uint8_t *s, size_t n, size_t *done,
		   bool *src_fault)
{
	size_t left = stce_safe_move(d, s, n);

	if (stce_likely(!left))
		return 0;
	return move_rest(d, s, n, left, done, src_fault);
}

/* stce_hostmem_move() when some pinned page has moved. */
static __attribute__((noinline)) int
move_moved(uint64_t dst, uint64_t src, size_t n, size_t *done,
	   bool *src_fault)
{
	uint8_t *da, *sa;
	size_t dr, sr, at = 0;
	int ret;

	while (n) {
		*done = 0;
		ret = resolve_moved(src, n, &sa, &sr);
		if (ret)
			*src_fault = true;
		else
			ret = resolve_moved(dst, sr, &da, &dr);
		if (!ret)
			ret = move_at(da, sa, dr, done, src_fault);
		if (ret) {
			*done += at;
			return ret;
		}
		dst += dr;
		src += dr;
		n -= dr;
		at += dr;
	}
	return 0;
}

/* See hostmem/hostmem_dma.h (the DMA's copies). */
int stce_hostmem_move(uint64_t dst, uint64_t src, size_t n, size_t *done,
		      bool *src_fault)
{
	*src_fault = false;
	if (nothing_moved())
		return move_at((uint8_t *)(uintptr_t)dst,
			       (uint8_t *)(uintptr_t)src, n, done, src_fault);
	return move_moved(dst, src, n, done, src_fault);
}

/* What the fast fill of fill_at() left, @left of @n bytes. */
static __attribute__((noinline)) int
fill_rest(uint8_t *a, int c, size_t n, size_t left, size_t *done)
{
	uint8_t b[BOUNCE];
	size_t k, at, part;
	int ret;

	memset(b, c, left < BOUNCE ? left : BOUNCE);
	for (at = n - left; at < n; at += k) {
		k = n - at < BOUNCE ? n - at : BOUNCE;
		ret = copy_at(a + at, b, k, true, &part);
		if (ret) {
			*done = at + part;
			return ret;
		}
	}
	return 0;
}

/* @n bytes of @c at the resolved @a (stce_hostmem_fill's returns). */
static int fill_at(uint8_t *a, int c, size_t n, size_t *done)
{
	size_t left = stce_safe_set(a, c, n);

	if (stce_likely(!left))
		return 0;
	return fill_rest(a, c, n, left, done);
}

/* stce_hostmem_fill() when some pinned page has moved. */
static __attribute__((noinline)) int
fill_moved(uint64_t hpa, int c, size_t n, size_t *done)
{
	uint8_t *addr;
	size_t run, at = 0;
	int ret;

	while (n) {
		*done = 0;
		ret = resolve_moved(hpa, n, &addr, &run);
		if (!ret)
			ret = fill_at(addr, c, run, done);
		if (ret) {
			*done += at;
			return ret;
		}
		hpa += run;
		n -= run;
		at += run;
	}
	return 0;
}

/* See hostmem/hostmem_dma.h (the DMA's copies). */
int stce_hostmem_fill(uint64_t hpa, int c, size_t n, size_t *done)
{
	if (nothing_moved())
		return fill_at((uint8_t *)(uintptr_t)hpa, c, n, done);
	return fill_moved(hpa, c, n, done);
}

/* ---- audit and fork -------------------------------------------------- */

/* See <spapr_tce/hostmem.h>. */
uint64_t stce_hostmem_pinned_bytes(void)
{
	return atomic_load(&pinned_bytes);
}

/* See <spapr_tce/hostmem.h>. */
uint64_t stce_hostmem_aside_bytes(void)
{
	return atomic_load(&aside_bytes);
}

/* See <spapr_tce/hostmem.h>. */
uint64_t stce_hostmem_lost_count(void)
{
	return atomic_load(&lost_count);
}

/* See <spapr_tce/hostmem.h>. */
uint64_t stce_hostmem_move_count(void)
{
	return atomic_load(&move_count);
}

/*
 * fork child: the pins are the parent's (the kernel's belong to its mm)
 * and the aside area is not in the child (MADV_DONTFORK). Start empty;
 * what the parent's threads were changing is abandoned, never touched.
 */
/* A fork child's abandoned domain list: reachable for leak checkers. */
static struct stce_grace **domains_kept;

static void atfork_child(void)
{
	int fd = atomic_load(&mem_fd);

	pthread_mutex_init(&hm_lock, NULL);
	pthread_mutex_init(&dom_lock, NULL);
	stce_grace_init(&hm_readers);
	stce_rindex_abandon(&cover);
	stce_rindex_abandon(&moves);
	moved_list = NULL;
	if (domains)
		domains_kept = domains;
	domains = NULL;
	nr_domains = cap_domains = 0;
	atomic_store(&stce_hostmem_state, 0);
	atomic_store(&pinned_bytes, 0);
	atomic_store(&aside_bytes, 0);
	/* The parent's /proc/self/mem names the parent's memory. */
	if (fd >= 0)
		close(fd);
	atomic_store(&mem_fd, -1);
	hm_vma_forget();
}

__attribute__((constructor)) static void hostmem_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}
