/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: multi-level TCE tables.
 *
 * A TCE table translates one DMA window. The window covers
 * [bus_offset, bus_offset + window_size) on the PCI bus and is cut into
 * IOMMU pages of (1 << page_shift) bytes; entry i translates the page at
 * bus address bus_offset + (i << page_shift). An entry (a TCE) holds the
 * page's "real" address (here: the process address of the pinned page)
 * with the permission bits in its low bits:
 *
 *	tce = page_address | STCE_TCE_WRITE (0x2) | STCE_TCE_READ (0x1)
 *
 * A table has 1..5 levels. Every level is made of chunks of the same size
 * (1 << (chunk_shift - 3) entries); the top chunk is allocated with the table,
 * the chunks below it on first use. The optional userspace view keeps one
 * extra 64-bit word per entry (the kernel's it_userspace: the user address
 * the entry was mapped from), so that the owner can find which
 * pre-registered region a cleared entry belonged to.
 *
 * Concurrency: stce_table_get() and stce_table_xchg() are lock-free and
 * may run on any number of threads at once; each entry is updated by one
 * atomic exchange, so a reader sees either the old or the new TCE, never a
 * mix. The TCE is the authority for DMA; the userspace view is exchanged
 * right after it and is only meaningful to an owner that does not race
 * with itself on the same entry.
 *
 * Every function returns 0 or a negative errno unless documented
 * otherwise.
 */
#ifndef SPAPR_TCE_TABLE_H
#define SPAPR_TCE_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include <spapr_tce/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STCE_TCE_READ		0x1ULL	/* the device may read the page */
#define STCE_TCE_WRITE		0x2ULL	/* the device may write the page */
#define STCE_TCE_PERM_MASK	(STCE_TCE_READ | STCE_TCE_WRITE)

#define STCE_TABLE_MAX_LEVELS		5
#define STCE_HOST_PAGE_SHIFT_DEFAULT	16	/* 64K, as POWER hosts run */

/* The IOMMU page shifts a table can be built with: 4K 64K 2M 16M 256M 1G. */
#define STCE_PAGE_SHIFTS_MASK	((1ULL << 12) | (1ULL << 16) | (1ULL << 21) | \
				 (1ULL << 24) | (1ULL << 28) | (1ULL << 30))

/* Build a TCE from a page address (aligned to the IOMMU page) and bits. */
static inline uint64_t stce_tce_make(uint64_t page_addr, uint64_t perm)
{
	return page_addr | (perm & STCE_TCE_PERM_MASK);
}

static inline uint64_t stce_tce_addr(uint64_t tce)
{
	return tce & ~STCE_TCE_PERM_MASK;
}

static inline uint64_t stce_tce_perm(uint64_t tce)
{
	return tce & STCE_TCE_PERM_MASK;
}

/* An entry is live when it grants any access. */
static inline bool stce_tce_live(uint64_t tce)
{
	return (tce & STCE_TCE_PERM_MASK) != 0;
}

static inline bool stce_page_shift_supported(unsigned int page_shift)
{
	return page_shift < 64 && (STCE_PAGE_SHIFTS_MASK >> page_shift) & 1;
}

/*
 * Bytes a table and its userspace view take, by the kernel's formula
 * (pnv_pci_ioda2_get_table_size): what the owner charges to locked_vm
 * before creating the table. The first form uses the default 64K host page.
 * Returns 0 for a request no table can satisfy: levels 0 or above 5, a
 * window that is not a power of two or smaller than one IOMMU page, an
 * unsupported page shift or host page shift (12..30).
 */
STCE_API
uint64_t stce_table_size(unsigned int page_shift, uint64_t window_size,
			 unsigned int levels);
STCE_API
uint64_t stce_table_size_hp(unsigned int page_shift, uint64_t window_size,
			    unsigned int levels, unsigned int host_page_shift);

/*
 * log2 of the bytes in one chunk of every level, as the kernel chooses it
 * (its level_shift): ceil(entries_shift / levels) + 3, at least one host
 * page; a chunk holds 1 << (chunk_shift - 3) entries. Returns a negative
 * errno for what stce_table_size_hp() refuses.
 */
STCE_API
int stce_table_chunk_shift(unsigned int page_shift, uint64_t window_size,
			   unsigned int levels, unsigned int host_page_shift);

enum stce_table_flags {
	STCE_TABLE_USERSPACE_VIEW = 1u << 0,	/* keep it_userspace */
};

struct stce_table_params {
	uint64_t bus_offset;	/* aligned to the IOMMU page */
	uint64_t window_size;	/* bytes, a power of two */
	unsigned int page_shift;	/* one of STCE_PAGE_SHIFTS_MASK */
	unsigned int levels;	/* 1..STCE_TABLE_MAX_LEVELS */
	unsigned int host_page_shift;	/* 0 selects the default (64K) */
	unsigned int flags;	/* enum stce_table_flags */
};

struct stce_table;

/*
 * Invalidation ("kill") hook: called after a batch of entries has been
 * changed and before the pages they pointed to may be released, as the
 * hardware's TCE cache must be flushed before a page is reused. The
 * entries changed all lie in [@index, @index + @count) (the whole table
 * for stce_table_flush()): a kill need only wait for DMA through those.
 * The table orders the changes before the hook runs (a full barrier), so
 * a hook that waits for readers on other threads needs no fence of its
 * own before its first look at them (stce_pe_tce_kill_range_ordered).
 */
typedef void (*stce_table_kill_fn)(void *ctx, const struct stce_table *table,
				   uint64_t index, uint64_t count);

/*
 * Create a table. -EINVAL for any geometry the kernel refuses: unsupported
 * page or host page shift, window not a power of two or smaller than a
 * page, levels out of 1..5, bus_offset not page aligned or the window
 * running past 2^64, and levels whose per-level chunks would address more
 * than 55 bits ((chunk_shift - 3) * levels + page_shift >= 55: too many
 * levels for the window, or too large a window for the levels).
 * -ENOMEM when the top level cannot be allocated.
 */
STCE_API
int stce_table_create(const struct stce_table_params *params,
		      struct stce_table **out);

/* Free the table and every level. Pages the entries point to are the
 * caller's: clear the table first. NULL is a no-op. */
STCE_API
void stce_table_destroy(struct stce_table *table);

STCE_API
void stce_table_set_kill(struct stce_table *table, stce_table_kill_fn kill,
			 void *ctx);

struct stce_table_info {
	uint64_t bus_offset;
	uint64_t window_size;
	uint64_t entries;
	unsigned int page_shift;
	unsigned int levels;
	unsigned int chunk_shift;	/* log2 of the bytes of one chunk */
	unsigned int host_page_shift;
	bool userspace_view;
	uint64_t size_bytes;		/* the formula: what to charge */
	uint64_t allocated_bytes;	/* what is allocated now (<= size) */
	uint64_t flush_count;		/* kill hook calls so far */
};

STCE_API
void stce_table_get_info(const struct stce_table *table,
			 struct stce_table_info *info);
STCE_API
uint64_t stce_table_allocated_bytes(const struct stce_table *table);
STCE_API
uint64_t stce_table_entries(const struct stce_table *table);
STCE_API
unsigned int stce_table_page_shift(const struct stce_table *table);
STCE_API
uint64_t stce_table_bus_offset(const struct stce_table *table);
STCE_API
uint64_t stce_table_window_size(const struct stce_table *table);
STCE_API
uint64_t stce_table_flush_count(const struct stce_table *table);

/*
 * Index of the entry translating bus address @iova: -ENXIO when @iova is
 * outside the window.
 */
STCE_API
int stce_table_index(const struct stce_table *table, uint64_t iova,
		     uint64_t *index);

/* The TCE at @index (0 when outside the table or never set). Lock-free. */
STCE_API
uint64_t stce_table_get(const struct stce_table *table, uint64_t index);

#ifndef __cplusplus
/*
 * Fast read access for translation (device DMA): the TCEs of the leaf
 * chunk holding @index, starting at @index. Returns a pointer to the
 * entry at @index and sets *@nr to how many consecutive entries can be
 * read from it (to the end of that chunk or of the table, at least 1).
 * Returns NULL when @index is outside the table (*@nr = 0) or its leaf
 * chunk was never allocated (*@nr = the entries to the end of that chunk,
 * all of which read as 0). Chunks are only freed with the table, so the
 * pointer stays valid as long as the table does; read the entries with
 * stce_tce_load(). One walk for a whole run instead of one a entry:
 * stce_table_get(t, i + k) == stce_tce_load(&p[k]) for k < *nr.
 */
STCE_API
const _Atomic uint64_t *stce_table_leaf(const struct stce_table *table,
					uint64_t index, uint64_t *nr);

/* Load a TCE returned by stce_table_leaf() (acquire: the page's contents
 * written before the TCE was set are visible after it). */
static inline uint64_t stce_tce_load(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_acquire);
}
#endif

/* The userspace view at @index (0 when never set or no view). */
STCE_API
uint64_t stce_table_get_ua(const struct stce_table *table, uint64_t index);

enum stce_xchg_flags {
	/*
	 * Never allocate: when setting a live entry needs a level that does
	 * not exist yet, fail with -EAGAIN (the hypercall path answers
	 * H_TOO_HARD and lets the slow path retry).
	 */
	STCE_XCHG_NOALLOC = 1u << 0,
};

/*
 * Atomically replace the TCE at @index with *@tce and return the old one
 * in *@tce; likewise the userspace view with *@ua when the table has one
 * (@ua may be NULL otherwise, and is then left alone). Does not call the
 * kill hook: after a batch, call stce_table_flush() before releasing what
 * the old entries pointed to.
 * -EINVAL: @index outside the table. -ENOMEM (or -EAGAIN with
 * STCE_XCHG_NOALLOC): a missing level could not be allocated; the table is
 * unchanged. Clearing an entry never allocates.
 */
STCE_API
int stce_table_xchg(struct stce_table *table, uint64_t index, uint64_t *tce,
		    uint64_t *ua, unsigned int flags);

/*
 * stce_table_xchg() over @count consecutive entries from @index: @tces
 * (and @uas, may be NULL) hold the new values on entry and the old ones
 * on return. Every level the range needs is allocated before any entry
 * changes, so a failure (-ENOMEM, or -EAGAIN with STCE_XCHG_NOALLOC)
 * leaves the table unchanged. -EINVAL: an empty range or one running
 * outside the table, or unknown flags. One walk a chunk, not an entry:
 * this is the form for map calls and H_PUT_TCE_INDIRECT batches.
 */
STCE_API
int stce_table_xchg_range(struct stce_table *table, uint64_t index,
			  uint64_t count, uint64_t *tces, uint64_t *uas,
			  unsigned int flags);

/* Call the kill hook (if any) for the whole table and count one flush. */
STCE_API
void stce_table_flush(struct stce_table *table);

/* The same for a change confined to [@index, @index + @count) (clipped to
 * the table; an empty range still calls the hook, for the whole table). */
STCE_API
void stce_table_flush_range(struct stce_table *table, uint64_t index,
			    uint64_t count);

/*
 * stce_table_flush_range() right after changes this thread made with
 * stce_table_xchg() only (its atomic exchange of the entry is the last
 * change readers depend on): on x86 that locked exchange is the barrier
 * the hook needs, which saves a fence an UNMAP.
 */
STCE_API
void stce_table_flush_range_xchg(struct stce_table *table, uint64_t index,
				 uint64_t count);

/* One entry a clear took out of the table. */
struct stce_cleared {
	uint64_t index;
	uint64_t tce;
	uint64_t ua;	/* 0 without a userspace view */
};

/* Called for each cleared entry, after the flush that covers it. */
typedef void (*stce_table_release_fn)(void *ctx,
				      const struct stce_cleared *entry);

/* Live entries taken out between two flushes. */
#define STCE_TABLE_CLEAR_BATCH	64

/*
 * Clear [@index, @index + @count): every live entry is exchanged for 0;
 * after each batch of up to STCE_TABLE_CLEAR_BATCH live entries the table
 * is flushed, and only then is @release (may be NULL) called for each of
 * them, so no page is released while the device could still reach it.
 * Entries that are 0, and levels never allocated, are skipped without a
 * write. On success, *@nr_cleared (may be NULL) holds the live entries
 * cleared. -EINVAL: the range is empty or runs outside the table; nothing
 * is cleared. Safe against concurrent stce_table_xchg() on the same
 * entries: each old TCE is released exactly once, by whoever took it out.
 */
STCE_API
int stce_table_clear(struct stce_table *table, uint64_t index, uint64_t count,
		     stce_table_release_fn release, void *ctx,
		     uint64_t *nr_cleared);

/*
 * The same as stce_table_clear() for a caller that guarantees nobody else
 * writes the range meanwhile (a window being removed, a container being
 * torn down): live entries are taken out with plain stores instead of
 * atomic exchanges, which is several times faster on a full table.
 * Concurrent readers remain safe.
 */
STCE_API
int stce_table_clear_exclusive(struct stce_table *table, uint64_t index,
			       uint64_t count, stce_table_release_fn release,
			       void *ctx, uint64_t *nr_cleared);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_TABLE_H */
