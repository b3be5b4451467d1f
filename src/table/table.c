// SPDX-License-Identifier: MIT
/*
 * Multi-level TCE tables.
 *
 * Every level is built of chunks of (1 << chunk_shift) bytes. A leaf chunk
 * holds the TCEs of (1 << entry_bits) consecutive entries, followed, when
 * the table keeps a userspace view, by as many user addresses. An indirect
 * chunk holds as many pointers to the chunks of the level below. The top
 * chunk is allocated with the table; the others when an entry below them
 * is first set, and they are only freed with the table, so a pointer read
 * once stays valid for the table's lifetime: readers need no lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <spapr_tce/table.h>

#include "common/alloc.h"
#include "common/common.h"
#include "common/grace.h"
#include "table/table_internal.h"

/* Counters a line apart: one thread's flush count per line. */
#define FLUSH_STRIDE	(64 / sizeof(uint64_t))

typedef _Atomic uint64_t tce_slot;
typedef void *_Atomic node_slot;

struct stce_table {
	uint64_t bus_offset;
	uint64_t window_size;
	uint64_t entries;
	uint64_t size_bytes;
	unsigned int page_shift;
	unsigned int levels;
	unsigned int chunk_shift;
	unsigned int entry_bits;	/* log2 of entries per chunk */
	unsigned int host_page_shift;
	bool has_view;
	uint64_t entry_mask;
	size_t chunk_bytes;
	void *root;
	stce_table_kill_fn kill;
	void *kill_ctx;
	/*
	 * Written by every flush and allocation: kept 64 bytes past what
	 * each lookup reads (calloc aligns to 16 only), so that one vCPU's
	 * flush does not take the line other vCPUs and DMAs walk from.
	 */
	char gap[64];
	atomic_uint_least64_t allocated_bytes;
	/*
	 * Flushes counted in the flushing thread's grace slot (one line
	 * each): a plain store on a line no other thread writes, where one
	 * shared counter cost every UNMAP a locked add; the threads on the
	 * shared slot add atomically. stce_table_flush_count() sums them.
	 */
	_Atomic uint64_t flushes[STCE_GRACE_SLOTS * FLUSH_STRIDE];
};

static size_t node_bytes(const struct stce_table *t, bool leaf)
{
	return leaf && t->has_view ? 2 * t->chunk_bytes : t->chunk_bytes;
}

static void *node_alloc(struct stce_table *t, bool leaf)
{
	size_t bytes = node_bytes(t, leaf);
	void *node = stce_zalloc(bytes);

	if (node)
		atomic_fetch_add_explicit(&t->allocated_bytes, bytes,
					  memory_order_relaxed);
	return node;
}

static void node_free(struct stce_table *t, void *node, unsigned int level)
{
	if (!node)
		return;
	if (level > 0) {
		node_slot *slots = node;

		for (uint64_t i = 0; i <= t->entry_mask; i++)
			node_free(t, atomic_load_explicit(&slots[i],
							  memory_order_relaxed),
				  level - 1);
	}
	atomic_fetch_sub_explicit(&t->allocated_bytes, node_bytes(t, level == 0),
				  memory_order_relaxed);
	stce_free(node);
}

/*
 * Install a new chunk in an empty slot. Two threads may race to fill the
 * same slot: the loser frees its chunk and uses the winner's.
 */
static void *node_install(struct stce_table *t, node_slot *slot, bool leaf)
{
	void *expected = NULL;
	void *node = node_alloc(t, leaf);

	if (!node)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(slot, &expected, node,
						    memory_order_acq_rel,
						    memory_order_acquire))
		return node;
	atomic_fetch_sub_explicit(&t->allocated_bytes, node_bytes(t, leaf),
				  memory_order_relaxed);
	stce_free(node);
	return expected;
}

enum walk_mode {
	WALK_LOOKUP,	/* a missing chunk means "no entry" */
	WALK_ALLOC,	/* create missing chunks */
};

/*
 * The leaf chunk holding @index, or NULL when it does not exist (and, in
 * WALK_ALLOC mode, could not be allocated).
 */
static tce_slot *leaf_walk(struct stce_table *t, uint64_t index,
			   enum walk_mode mode)
{
	void *node = t->root;

	for (unsigned int level = t->levels - 1; level > 0; level--) {
		node_slot *slots = node;
		uint64_t i = (index >> (t->entry_bits * level)) & t->entry_mask;
		void *next = atomic_load_explicit(&slots[i],
						  memory_order_acquire);

		if (!next) {
			if (mode == WALK_LOOKUP)
				return NULL;
			next = node_install(t, &slots[i], level == 1);
			if (!next)
				return NULL;
		}
		node = next;
	}
	return node;
}

/* A lookup never writes, so const callers may walk too. */
static tce_slot *leaf_lookup(const struct stce_table *t, uint64_t index)
{
	return leaf_walk((struct stce_table *)t, index, WALK_LOOKUP);
}

static tce_slot *view_of(const struct stce_table *t, tce_slot *leaf)
{
	return leaf + ((uint64_t)1 << t->entry_bits);
}

/* See <spapr_tce/table.h>. */
int stce_table_create(const struct stce_table_params *p,
		      struct stce_table **out)
{
	unsigned int host_page_shift = p->host_page_shift ?
		p->host_page_shift : STCE_HOST_PAGE_SHIFT_DEFAULT;
	struct stce_table *t;
	int chunk_shift;

	if (p->flags & ~STCE_TABLE_USERSPACE_VIEW)
		return -EINVAL;
	chunk_shift = stce_table_chunk_shift(p->page_shift, p->window_size,
					     p->levels, host_page_shift);
	if (chunk_shift < 0)
		return chunk_shift;
	if (!stce_is_aligned(p->bus_offset, 1ULL << p->page_shift) ||
	    !stce_range_fits(p->bus_offset, p->window_size))
		return -EINVAL;
	/*
	 * The hardware walks at most 55 bits of TCE-table address: more
	 * levels than the window needs, or chunks too big for the levels,
	 * make a table it cannot use.
	 */
	if ((unsigned int)(chunk_shift - 3) * p->levels + p->page_shift >= 55)
		return -EINVAL;

	t = stce_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->bus_offset = p->bus_offset;
	t->window_size = p->window_size;
	t->page_shift = p->page_shift;
	t->entries = p->window_size >> p->page_shift;
	t->levels = p->levels;
	t->chunk_shift = (unsigned int)chunk_shift;
	t->entry_bits = (unsigned int)chunk_shift - 3;
	t->entry_mask = (1ULL << t->entry_bits) - 1;
	t->chunk_bytes = (size_t)1 << chunk_shift;
	t->host_page_shift = host_page_shift;
	t->has_view = p->flags & STCE_TABLE_USERSPACE_VIEW;
	t->size_bytes = stce_table_size_hp(p->page_shift, p->window_size,
					   p->levels, host_page_shift);
	t->root = node_alloc(t, p->levels == 1);
	if (!t->root) {
		stce_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

/* See <spapr_tce/table.h>. */
void stce_table_destroy(struct stce_table *t)
{
	if (!t)
		return;
	node_free(t, t->root, t->levels - 1);
	stce_free(t);
}

/* The hook a flush calls (see stce_table_kill_fn), with @ctx; NULL: none. */
void stce_table_set_kill(struct stce_table *t, stce_table_kill_fn kill,
			 void *ctx)
{
	t->kill = kill;
	t->kill_ctx = ctx;
}

/* The geometry, the sizes and the flush count, as struct stce_table_info. */
void stce_table_get_info(const struct stce_table *t,
			 struct stce_table_info *info)
{
	info->bus_offset = t->bus_offset;
	info->window_size = t->window_size;
	info->entries = t->entries;
	info->page_shift = t->page_shift;
	info->levels = t->levels;
	info->chunk_shift = t->chunk_shift;
	info->host_page_shift = t->host_page_shift;
	info->userspace_view = t->has_view;
	info->size_bytes = t->size_bytes;
	info->allocated_bytes = stce_table_allocated_bytes(t);
	info->flush_count = stce_table_flush_count(t);
}

/* Bytes of the levels allocated now (at most the formula's): a snapshot. */
uint64_t stce_table_allocated_bytes(const struct stce_table *t)
{
	return atomic_load_explicit(&t->allocated_bytes, memory_order_relaxed);
}

/* Kill hook calls so far: a relaxed sum, exact for the flushes whose
 * callers have returned. */
uint64_t stce_table_flush_count(const struct stce_table *t)
{
	return stce_grace_count_sum(t->flushes, FLUSH_STRIDE);
}

/* Entries of the window (fixed at create). */
uint64_t stce_table_entries(const struct stce_table *t)
{
	return t->entries;
}

/* The IOMMU page shift (fixed at create). */
unsigned int stce_table_page_shift(const struct stce_table *t)
{
	return t->page_shift;
}

/* The window's first bus address (fixed at create). */
uint64_t stce_table_bus_offset(const struct stce_table *t)
{
	return t->bus_offset;
}

/* The window's size in bytes (fixed at create). */
uint64_t stce_table_window_size(const struct stce_table *t)
{
	return t->window_size;
}

/* See <spapr_tce/table.h>. */
int stce_table_index(const struct stce_table *t, uint64_t iova,
		     uint64_t *index)
{
	if (iova < t->bus_offset || iova - t->bus_offset >= t->window_size)
		return -ENXIO;
	*index = (iova - t->bus_offset) >> t->page_shift;
	return 0;
}

/* See <spapr_tce/table.h>. */
uint64_t stce_table_get(const struct stce_table *t, uint64_t index)
{
	tce_slot *leaf;

	if (stce_unlikely(index >= t->entries))
		return 0;
	leaf = leaf_lookup(t, index);
	if (!leaf)
		return 0;
	return atomic_load_explicit(&leaf[index & t->entry_mask],
				    memory_order_acquire);
}

/* See <spapr_tce/table.h>. */
const _Atomic uint64_t *stce_table_leaf(const struct stce_table *t,
					uint64_t index, uint64_t *nr)
{
	uint64_t slot, run;
	tce_slot *leaf;

	if (stce_unlikely(index >= t->entries)) {
		*nr = 0;
		return NULL;
	}
	slot = index & t->entry_mask;
	run = t->entry_mask + 1 - slot;
	if (run > t->entries - index)
		run = t->entries - index;
	*nr = run;
	leaf = leaf_lookup(t, index);
	return leaf ? leaf + slot : NULL;
}

/* See <spapr_tce/table.h>. */
uint64_t stce_table_get_ua(const struct stce_table *t, uint64_t index)
{
	tce_slot *leaf;

	if (index >= t->entries || !t->has_view)
		return 0;
	leaf = leaf_lookup(t, index);
	if (!leaf)
		return 0;
	return atomic_load_explicit(&view_of(t, leaf)[index & t->entry_mask],
				    memory_order_acquire);
}

/* See <spapr_tce/table.h>. */
int stce_table_xchg(struct stce_table *t, uint64_t index, uint64_t *tce,
		    uint64_t *ua, unsigned int flags)
{
	bool setting = *tce != 0 || (t->has_view && ua && *ua != 0);
	uint64_t slot = index & t->entry_mask;
	tce_slot *leaf, *view;
	uint64_t old_ua;

	if (stce_unlikely(index >= t->entries))
		return -EINVAL;
	if (stce_unlikely(flags & ~STCE_XCHG_NOALLOC))
		return -EINVAL;

	leaf = leaf_lookup(t, index);
	if (stce_unlikely(!leaf)) {
		if (!setting) {
			/* Nothing below this pointer was ever set. */
			*tce = 0;
			if (ua && t->has_view)
				*ua = 0;
			return 0;
		}
		if (flags & STCE_XCHG_NOALLOC)
			return -EAGAIN;
		leaf = leaf_walk(t, index, WALK_ALLOC);
		if (!leaf)
			return -ENOMEM;
	}

	if (!t->has_view || !ua) {
		*tce = atomic_exchange(&leaf[slot], *tce);
		return 0;
	}
	/*
	 * The TCE is the authority and takes the one atomic exchange; the
	 * view is the owner's bookkeeping and only needs ordering: a new
	 * mapping publishes its user address before its TCE, and a clear
	 * takes the TCE out before it reads the address, so whoever takes a
	 * live TCE out finds the address that came with it (as long as the
	 * owner does not race with itself on one entry).
	 */
	view = view_of(t, leaf);
	old_ua = atomic_load_explicit(&view[slot], memory_order_relaxed);
	if (*tce) {
		atomic_store_explicit(&view[slot], *ua, memory_order_release);
		*tce = atomic_exchange(&leaf[slot], *tce);
	} else {
		*tce = atomic_exchange(&leaf[slot], 0);
		old_ua = atomic_load_explicit(&view[slot], memory_order_acquire);
		atomic_store_explicit(&view[slot], *ua, memory_order_relaxed);
	}
	*ua = old_ua;
	return 0;
}

/* Does any of the n new values from @tces (or @uas) need storage? */
static bool span_sets(const struct stce_table *t, const uint64_t *tces,
		      const uint64_t *uas, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (tces[i] || (t->has_view && uas && uas[i]))
			return true;
	return false;
}

/*
 * First pass of a range exchange: make sure every leaf the range will
 * write exists, so that the second pass cannot fail half-way.
 */
static int range_prepare(struct stce_table *t, uint64_t index, uint64_t count,
			 const uint64_t *tces, const uint64_t *uas,
			 unsigned int flags)
{
	uint64_t end = index + count, done = 0;

	while (index < end) {
		uint64_t chunk_end = (index | t->entry_mask) + 1;
		uint64_t n = (chunk_end < end ? chunk_end : end) - index;

		if (!leaf_lookup(t, index) &&
		    span_sets(t, tces + done, uas ? uas + done : NULL, n)) {
			if (flags & STCE_XCHG_NOALLOC)
				return -EAGAIN;
			if (!leaf_walk(t, index, WALK_ALLOC))
				return -ENOMEM;
		}
		index += n;
		done += n;
	}
	return 0;
}

/*
 * Ask for the leaf and view (if any) lines of the 64-entry span that
 * starts at entry @from of @n, to be written; nothing past @n. A prefetch
 * is not ordered with the locked exchanges, so the next span's misses
 * overlap this span's exchanges.
 */
static inline void span_prefetch(tce_slot *leaf, tce_slot *view,
				 uint64_t from, uint64_t n)
{
	uint64_t end = n - from < 64 ? n : from + 64;

	for (uint64_t i = from; i < end; i += 8) {
		__builtin_prefetch((const void *)&leaf[i], 1);
		if (view)
			__builtin_prefetch((const void *)&view[i], 1);
	}
}

/*
 * Exchange up to 64 entries of one leaf with their view. Each entry
 * keeps stce_table_xchg()'s order (a new mapping's address before its
 * TCE, a clear's TCE before its address), but the span takes it in
 * three passes: the new mappings' addresses, then the TCEs, then the
 * clears' addresses. A locked exchange waits for every earlier store to
 * reach the cache: interleaved, each one would wait for the view line
 * its own entry just dirtied; this way the view stores miss together
 * and the exchanges run back to back, as in a bare exchange loop.
 */
static inline __attribute__((always_inline))
void xchg_view_span(tce_slot *leaf, tce_slot *view, unsigned int n,
		    uint64_t *tces, uint64_t *uas, bool report)
{
	uint64_t clears = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t old_ua;

		if (!tces[i]) {
			clears |= 1ULL << i;
			continue;
		}
		if (!report) {
			atomic_store_explicit(&view[i], uas[i],
					      memory_order_release);
			continue;
		}
		old_ua = atomic_load_explicit(&view[i], memory_order_relaxed);
		atomic_store_explicit(&view[i], uas[i], memory_order_release);
		uas[i] = old_ua;
	}
	/* Unrolled: the loop's own instructions sit between exchanges. */
#pragma GCC unroll 4
	for (unsigned int i = 0; i < n; i++)
		tces[i] = atomic_exchange(&leaf[i], tces[i]);
	if (!clears)
		return;
	if (!report) {
		/* The TCEs are out (seq_cst): their addresses may go. */
		while (clears) {
			unsigned int i = (unsigned int)__builtin_ctzll(clears);

			atomic_store_explicit(&view[i], uas[i],
					      memory_order_relaxed);
			clears &= clears - 1;
		}
		return;
	}
	if (clears == ~0ULL >> (64 - n)) {
		/* All clears (an unmap): no mask to walk. */
		for (unsigned int i = 0; i < n; i++) {
			uint64_t old_ua = atomic_load_explicit(&view[i],
							memory_order_acquire);

			atomic_store_explicit(&view[i], uas[i],
					      memory_order_relaxed);
			uas[i] = old_ua;
		}
		return;
	}
	while (clears) {
		unsigned int i = (unsigned int)__builtin_ctzll(clears);
		uint64_t old_ua = atomic_load_explicit(&view[i],
						       memory_order_acquire);

		atomic_store_explicit(&view[i], uas[i], memory_order_relaxed);
		uas[i] = old_ua;
		clears &= clears - 1;
	}
}

static void xchg_leaf_span(const struct stce_table *t, tce_slot *leaf,
			   uint64_t slot, uint64_t n, uint64_t *tces,
			   uint64_t *uas, bool report)
{
	tce_slot *view = view_of(t, leaf) + slot;

	leaf += slot;
	if (!t->has_view || !uas) {
		for (uint64_t i = 0; i < n; i++)
			tces[i] = atomic_exchange(&leaf[i], tces[i]);
		return;
	}
	span_prefetch(leaf, view, 0, n);
	for (uint64_t i = 0; i < n; i += 64) {
		unsigned int m = n - i < 64 ? (unsigned int)(n - i) : 64;

		if (n - i > 64)
			span_prefetch(leaf, view, i + 64, n);
		/* Two instantiations: the test is out of the span's loops. */
		if (report)
			xchg_view_span(leaf + i, view + i, m, tces + i, uas + i,
				       true);
		else
			xchg_view_span(leaf + i, view + i, m, tces + i, uas + i,
				       false);
	}
}

/* See <spapr_tce/table.h>. */
int stce_table_xchg_range(struct stce_table *t, uint64_t index,
			  uint64_t count, uint64_t *tces, uint64_t *uas,
			  unsigned int flags)
{
	uint64_t end = index + count, done = 0;
	int ret;

	if (count == 0 || index >= t->entries || count > t->entries - index)
		return -EINVAL;
	if (flags & ~(STCE_XCHG_NOALLOC | STCE_XCHG_NO_OLD_UA))
		return -EINVAL;
	ret = range_prepare(t, index, count, tces, uas, flags);
	if (ret)
		return ret;

	while (index < end) {
		uint64_t chunk_end = (index | t->entry_mask) + 1;
		uint64_t n = (chunk_end < end ? chunk_end : end) - index;
		tce_slot *leaf = leaf_lookup(t, index);

		if (leaf) {
			xchg_leaf_span(t, leaf, index & t->entry_mask, n,
				       tces + done, uas ? uas + done : NULL,
				       !(flags & STCE_XCHG_NO_OLD_UA));
		} else {
			/* Only clears land here: nothing was ever set. */
			for (uint64_t i = done; i < done + n; i++) {
				tces[i] = 0;
				if (uas && t->has_view &&
				    !(flags & STCE_XCHG_NO_OLD_UA))
					uas[i] = 0;
			}
		}
		index += n;
		done += n;
	}
	return 0;
}

/*
 * Clear up to 64 entries of one leaf: the exchanges back to back, then
 * the view's addresses (each after its TCE is out, as a clear's order
 * wants); nothing is read from the view. The OR of the old TCEs.
 */
static uint64_t take_span(tce_slot *leaf, tce_slot *view, unsigned int n,
			  uint64_t *tces)
{
	uint64_t any = 0;

#pragma GCC unroll 4
	for (unsigned int i = 0; i < n; i++) {
		tces[i] = atomic_exchange(&leaf[i], 0);
		any |= tces[i];
	}
	if (view) {
#pragma GCC unroll 4
		for (unsigned int i = 0; i < n; i++)
			atomic_store_explicit(&view[i], 0, memory_order_relaxed);
	}
	return any;
}

/* See <spapr_tce/table.h>. */
int stce_table_take_range(struct stce_table *t, uint64_t index,
			  uint64_t count, uint64_t *tces)
{
	uint64_t end = index + count, any = 0;

	if (count == 0 || index >= t->entries || count > t->entries - index)
		return -EINVAL;
	while (index < end) {
		uint64_t chunk_end = (index | t->entry_mask) + 1;
		uint64_t n = (chunk_end < end ? chunk_end : end) - index;
		tce_slot *leaf = leaf_lookup(t, index);
		uint64_t slot = index & t->entry_mask;
		tce_slot *view = leaf && t->has_view ?
				 view_of(t, leaf) + slot : NULL;

		if (leaf) {
			leaf += slot;
			span_prefetch(leaf, view, 0, n);
		}
		for (uint64_t i = 0; i < n; i += 64) {
			unsigned int m = n - i < 64 ? (unsigned int)(n - i) : 64;

			if (leaf && n - i > 64)
				span_prefetch(leaf, view, i + 64, n);
			if (leaf)
				any |= take_span(leaf + i, view ? view + i : NULL,
						 m, tces + i);
			else	/* Nothing below this pointer was ever set. */
				memset(tces + i, 0, m * sizeof(tces[0]));
		}
		index += n;
		tces += n;
	}
	return stce_tce_live(any);
}

/*
 * The hook after the barrier that orders this thread's changes before
 * the hook's loads (stce_table_kill_fn): a full fence, or, @after_rmw,
 * the locked exchange that made the last change (stce_grace.h). Without
 * a hook nothing waits, and no barrier is paid.
 */
static void flush(struct stce_table *t, uint64_t index, uint64_t count,
		  bool after_rmw)
{
	if (!count || index >= t->entries || count > t->entries - index) {
		index = 0;
		count = t->entries;
	}
	if (t->kill) {
		if (after_rmw)
			stce_grace_fence_after_rmw();
		else
			atomic_thread_fence(memory_order_seq_cst);
		t->kill(t->kill_ctx, t, index, count);
	}
	stce_grace_count(t->flushes, FLUSH_STRIDE);
}

/* See <spapr_tce/table.h>. */
void stce_table_flush_range(struct stce_table *t, uint64_t index,
			    uint64_t count)
{
	flush(t, index, count, false);
}

/* See <spapr_tce/table.h>. */
void stce_table_flush_range_xchg(struct stce_table *t, uint64_t index,
				 uint64_t count)
{
	flush(t, index, count, true);
}

/* See <spapr_tce/table.h>. */
void stce_table_flush(struct stce_table *t)
{
	stce_table_flush_range(t, 0, t->entries);
}

struct clear_batch {
	struct stce_cleared entries[STCE_TABLE_CLEAR_BATCH];
	unsigned int count;
	uint64_t total;
	bool exclusive;		/* cleared with plain stores: a full fence */
};

/* Flush first, then release: the device must not reach a released page. */
static void batch_release(struct stce_table *t, struct clear_batch *b,
			  stce_table_release_fn release, void *ctx)
{
	if (!b->count)
		return;
	/* Entries go in in index order: the batch spans first..last. */
	flush(t, b->entries[0].index,
	      b->entries[b->count - 1].index + 1 - b->entries[0].index,
	      !b->exclusive);
	if (release)
		for (unsigned int i = 0; i < b->count; i++)
			release(ctx, &b->entries[i]);
	b->total += b->count;
	b->count = 0;
}

/*
 * Take one live entry out. The shared form exchanges, so that a racing
 * exchange and this clear never both believe they took the same TCE; the
 * exclusive form may use a plain store because its caller guarantees no
 * other writer (readers are fine either way: they see old or 0).
 */
static uint64_t take_entry(tce_slot *slot, bool exclusive)
{
	uint64_t old = atomic_load_explicit(slot, memory_order_relaxed);

	/* A plain load skips empty entries without dirtying lines. */
	if (!old)
		return 0;
	if (exclusive) {
		atomic_store_explicit(slot, 0, memory_order_relaxed);
		return old;
	}
	return atomic_exchange(slot, 0);
}

/* Clear the entries [first, first + n) that live in one leaf chunk. */
static void clear_leaf(struct stce_table *t, tce_slot *leaf, uint64_t first,
		       uint64_t n, struct clear_batch *b, bool exclusive,
		       stce_table_release_fn release, void *ctx)
{
	tce_slot *view = t->has_view ? view_of(t, leaf) : NULL;
	uint64_t slot = first & t->entry_mask;

	for (uint64_t i = 0; i < n; i++, slot++) {
		struct stce_cleared *e;
		uint64_t old = take_entry(&leaf[slot], exclusive);

		if (!old)
			continue;
		e = &b->entries[b->count++];
		e->index = first + i;
		e->tce = old;
		e->ua = 0;
		if (view) {
			e->ua = atomic_load_explicit(&view[slot],
						     memory_order_acquire);
			atomic_store_explicit(&view[slot], 0,
					      memory_order_relaxed);
		}
		if (b->count == STCE_TABLE_CLEAR_BATCH)
			batch_release(t, b, release, ctx);
	}
}

static int table_clear(struct stce_table *t, uint64_t index, uint64_t count,
		       bool exclusive, stce_table_release_fn release, void *ctx,
		       uint64_t *nr_cleared)
{
	uint64_t end = index + count;
	struct clear_batch b;

	if (count == 0 || index >= t->entries || count > t->entries - index)
		return -EINVAL;

	b.count = 0;
	b.total = 0;
	b.exclusive = exclusive;
	if (count == 1) {
		/* One entry (QEMU's UNMAP_DMA of one page): no walk of chunks. */
		tce_slot *leaf = leaf_lookup(t, index);

		if (leaf)
			clear_leaf(t, leaf, index, 1, &b, exclusive, release,
				   ctx);
		index = end;
	}
	while (index < end) {
		uint64_t chunk_end = (index | t->entry_mask) + 1;
		uint64_t n = (chunk_end < end ? chunk_end : end) - index;
		tce_slot *leaf = leaf_lookup(t, index);

		if (leaf)
			clear_leaf(t, leaf, index, n, &b, exclusive, release,
				   ctx);
		index += n;
	}
	batch_release(t, &b, release, ctx);
	if (nr_cleared)
		*nr_cleared = b.total;
	return 0;
}

/* See <spapr_tce/table.h>. */
int stce_table_clear(struct stce_table *t, uint64_t index, uint64_t count,
		     stce_table_release_fn release, void *ctx,
		     uint64_t *nr_cleared)
{
	return table_clear(t, index, count, false, release, ctx, nr_cleared);
}

/* See <spapr_tce/table.h>. */
int stce_table_clear_exclusive(struct stce_table *t, uint64_t index,
			       uint64_t count, stce_table_release_fn release,
			       void *ctx, uint64_t *nr_cleared)
{
	return table_clear(t, index, count, true, release, ctx, nr_cleared);
}
