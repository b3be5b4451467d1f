/* SPDX-License-Identifier: MIT */
/*
 * Grace periods for lock-free readers (a small sleepable-RCU).
 *
 * Readers bracket a read-side section with stce_grace_read_lock() and
 * stce_grace_read_unlock() on the same thread; sections nest. A writer
 * that has unpublished something (cleared a TCE, unset a window) calls
 * stce_grace_synchronize(), which returns once every read-side section
 * that may have seen the old state has ended; only then may it free or
 * release what it unpublished.
 *
 * How: each grace has per-slot counters cnt[2]; a reader adds one to
 * cnt[epoch & 1] of its slot on entry and subtracts it on exit (release:
 * its accesses happen before). synchronize flips the epoch and waits for
 * every slot's old side to drain, twice, so both sides are covered and
 * new readers cannot starve it.
 *
 * The entry needs a full barrier between the counter increment and the
 * reader's first load of shared state, paired with one on the writer
 * between its unpublish and the counter scan (a store-buffering pattern).
 * Two ways to provide it, chosen once per process:
 *
 *  - asymmetric (opt-in: STCE_GRACE_ASYMMETRIC=1 in the environment;
 *    docs/pe.md says when it pays): a thread owns its slot exclusively, so it
 *    increments with a plain load and store followed by a compiler
 *    barrier only; the writer's synchronize runs
 *    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which executes a full
 *    barrier on every CPU running a thread of this process. A reader's
 *    program order is cut by that barrier: if its increment came before
 *    it, the scan (after the membarrier) sees the increment; if after,
 *    its loads also come after and see the unpublished state. Readers
 *    cost ~1 ns; a synchronize costs a system call (plus an IPI to each
 *    CPU running one of our threads: microseconds under a VM).
 *  - fenced (the default; also without a usable membarrier, and in a
 *    ThreadSanitizer build, which does not model membarrier): readers
 *    enter with an atomic seq_cst add on their slot and a writer takes a
 *    full fence. In both modes a reader leaves an exclusive slot with a
 *    plain release store (it is the slot's only writer).
 *
 * There are STCE_GRACE_SLOTS - 1 exclusive slots (in both modes), taken
 * by a thread on its first section and given back when it exits; threads
 * beyond that share the last slot with atomic adds (always correct).
 *
 * Ranged waits (a TCE kill): a section may say which bus addresses it
 * will translate (stce_grace_read_lock_range; the plain lock says "all",
 * and so does a section nested in another of the same grace). Its slot
 * holds that range, stored before the counter is raised, and an idle
 * sequence that moves each time the slot's counters fall back to 0.
 * stce_grace_synchronize_range() samples every slot once, after its full
 * barrier: a slot seen idle, or whose open section's range misses the
 * unpublished one, needs nothing (a section begun after the sample sees
 * what was unpublished); for the others it waits until their idle
 * sequence moves, never for sections begun later, and takes no lock and
 * flips no epoch. A reader preempted inside a section of other addresses
 * therefore holds up no kill; one of the same addresses does, and the
 * waiter sleeps (not yields) so that the reader gets the CPU back. The
 * shared slot's sections have no range: seen open, they cost a full
 * stce_grace_synchronize().
 *
 * Spans: a kill that read every reader's slot would miss in the cache on
 * each one a device thread wrote since the last kill (it writes its slot
 * on every DMA's entry and exit): ~120 ns a kill with DMA running, more
 * than the rest of an unmap. So each exclusive slot also has a span, a
 * superset of its open section's range kept on a line of its own, which
 * its thread widens (before the counter rises, release) only when a
 * section leaves it, and shrinks back to one section's range once every
 * STCE_GRACE_SPAN_RESET sections (between sections, none open). A kill
 * reads the span first and goes on to the slot only where the span meets
 * its range: a device that keeps translating its own buffers costs the
 * kills of other pages no miss. Why skipping on the span is correct: a
 * section that may hold the old entry was entered before the writer's
 * barrier, so the span store that holds its range (this entry's, or an
 * earlier one still in place) came before the barrier of its entry. A
 * writer that reads an older span did its barrier first: that section's
 * loads see what was unpublished. One that reads a later span reads a
 * store made after the section ended (spans shrink only between
 * sections), and acquires it: the section's accesses happen before. The
 * reader stores lo before hi and the writer loads hi before lo: a pair
 * read from two spans has the later one's lo, which is lower (widened: a
 * superset of the earlier span) or was stored after the earlier span's
 * sections ended (shrunk: acquired as above).
 *
 * Nested sections (stce_grace_read_lock_nested): a section that ends
 * before the sections of the same grace its thread has open needs no
 * barrier of its own when one of those covers everything. It adds one to
 * its exclusive slot's counter with a plain store. The open section's
 * entry ordered its count before every later load of this thread, the
 * nested section's included, and it ends after the nested one: a writer
 * either missed the open section's count, and then every load of both
 * sections sees what it unpublished, or it waits for the open section to
 * end, by when the nested one has ended too (its decrement is released
 * before the open section's, whichever side of the counter each took).
 * The slot's range stays "all". Under a ranged section, or none, the
 * nested form is a full entry. Owners use it to let one section cover
 * the lookups of the layers below (the VFIO host's descriptor section
 * covers its containers' window lookups: they share the host's grace).
 *
 * fork: the child has only the forking thread, whose slot it keeps; the
 * other threads' slots are free again. A grace's counters may still
 * count sections of threads the child does not have: a grace the child
 * uses must be initialised again there (stce_grace_init), which is
 * correct only while no section of it is open (the forking thread was
 * not inside one: fork from a signal handler that interrupted a section
 * is not supported).
 */
#ifndef STCE_GRACE_H
#define STCE_GRACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_THREAD__)
#define STCE_GRACE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STCE_GRACE_TSAN 1
#endif
#endif

#define STCE_GRACE_SLOTS	32
#define STCE_GRACE_SHARED_SLOT	(STCE_GRACE_SLOTS - 1)
/* In a thread's slot number: count with atomic adds (fenced mode). */
#define STCE_GRACE_FENCED	0x80000000u
#define STCE_GRACE_NO_SLOT	0xffffffffu

/* One cache line per slot, written only by its thread (but the shared). */
struct stce_grace_slot {
	_Atomic uint64_t cnt[2];
	_Atomic uint64_t lo, hi;	/* the open section's range, inclusive */
	_Atomic uint64_t idle;		/* moves when cnt[] fall back to 0 */
	/* Ranged waits this slot's threads completed (stce_grace_periods). */
	_Atomic uint64_t ranged;
	char pad[64 - 6 * sizeof(uint64_t)];
} __attribute__((aligned(64)));

/*
 * An exclusive slot's span: a superset of the range of every section of
 * the slot open now, on lines away from the counters (four spans to a
 * line), which its thread writes only when a section leaves it (see
 * "Spans" above).
 */
struct stce_grace_span {
	_Atomic uint64_t lo, hi;	/* inclusive; lo > hi: none yet */
};

/* A slot's span shrinks back to its next section's range after this many
 * sections (a power of two): a thread that once translated far off stops
 * sending kills there to its counters. */
#define STCE_GRACE_SPAN_RESET	256u

struct stce_grace {
	_Atomic unsigned int epoch;	/* read by every section */
	/* Full grace periods (under sync_lock): a line away from epoch. */
	_Atomic uint64_t periods __attribute__((aligned(64)));
	pthread_mutex_t sync_lock;	/* one grace period at a time */
	struct stce_grace_slot readers[STCE_GRACE_SLOTS];
	struct stce_grace_span spans[STCE_GRACE_SLOTS]
		__attribute__((aligned(64)));
};

/* What a reader holds between lock and unlock. */
struct stce_grace_guard {
	unsigned int slot;	/* with STCE_GRACE_FENCED when counted so */
	unsigned int idx;
	bool held;
};

void stce_grace_init(struct stce_grace *g);
void stce_grace_destroy(struct stce_grace *g);

/* This thread's slot (0..STCE_GRACE_SLOTS - 1), assigned on first use. */
unsigned int stce_grace_thread_slot(void);

/* This thread's slot and mode; STCE_GRACE_NO_SLOT until first use. */
extern __thread unsigned int stce_grace_tls_slot
	__attribute__((tls_model("initial-exec")));

/* First section of a thread, or one on the shared slot. */
void stce_grace_read_lock_slow(struct stce_grace *g,
			       struct stce_grace_guard *guard, uint64_t lo,
			       uint64_t hi);

/*
 * Store the range of the section about to open in this thread's own slot
 * (before its counter rises, so a writer that sees the count sees the
 * range). Nested in an open section of this grace: all, since the slot
 * holds one range. @lo first: a writer reading halfway sees a superset.
 * Then widen the slot's span to hold it, or, once every
 * STCE_GRACE_SPAN_RESET sections, shrink the span to it.
 */
static inline void stce_grace_set_range(struct stce_grace_slot *r,
					struct stce_grace_span *sp,
					uint64_t lo, uint64_t hi)
{
	uint64_t slo, shi;
	bool reset;

	if (atomic_load_explicit(&r->cnt[0], memory_order_relaxed) |
	    atomic_load_explicit(&r->cnt[1], memory_order_relaxed)) {
		lo = 0;
		hi = UINT64_MAX;
	}
	atomic_store_explicit(&r->lo, lo, memory_order_relaxed);
	atomic_store_explicit(&r->hi, hi, memory_order_relaxed);
	slo = atomic_load_explicit(&sp->lo, memory_order_relaxed);
	shi = atomic_load_explicit(&sp->hi, memory_order_relaxed);
	/* The same range again (every plain section): nothing to do. */
	if (slo == lo && shi == hi)
		return;
	reset = !(atomic_load_explicit(&r->idle, memory_order_relaxed) &
		  (STCE_GRACE_SPAN_RESET - 1));
	if (slo <= lo && hi <= shi) {
		/* Held already: the common case stores nothing. */
		if (!reset)
			return;
	} else if (!reset) {
		lo = lo < slo ? lo : slo;
		hi = hi > shi ? hi : shi;
	}
	/* lo first, release both: see stce_grace_span_meets(). */
	atomic_store_explicit(&sp->lo, lo, memory_order_release);
	atomic_store_explicit(&sp->hi, hi, memory_order_release);
}

/* A section that will translate bus addresses [@lo, @hi] only. */
static inline void stce_grace_read_lock_range(struct stce_grace *g,
					      struct stce_grace_guard *guard,
					      uint64_t lo, uint64_t hi)
{
	unsigned int s = stce_grace_tls_slot;
	struct stce_grace_slot *r;
	_Atomic uint64_t *cnt;
	unsigned int idx;

	/* No slot yet, or the shared one: out of line. */
	if (__builtin_expect((s & ~STCE_GRACE_FENCED) >=
			     STCE_GRACE_SHARED_SLOT, 0)) {
		stce_grace_read_lock_slow(g, guard, lo, hi);
		return;
	}
	/* Only this thread writes its slot: no atomic add needed. */
	r = &g->readers[s & ~STCE_GRACE_FENCED];
	stce_grace_set_range(r, &g->spans[s & ~STCE_GRACE_FENCED], lo, hi);
	idx = atomic_load_explicit(&g->epoch, memory_order_relaxed) & 1;
	cnt = &r->cnt[idx];
	if (s & STCE_GRACE_FENCED) {
		/* seq_cst: the full barrier before the section's loads. */
		atomic_fetch_add_explicit(cnt, 1, memory_order_seq_cst);
	} else {
		/* release: a writer that sees the count sees the range. */
		atomic_store_explicit(cnt, atomic_load_explicit(
				cnt, memory_order_relaxed) + 1,
				      memory_order_release);
		/* The writer's membarrier makes this a full barrier. */
		atomic_signal_fence(memory_order_seq_cst);
	}
	guard->slot = s;
	guard->idx = idx;
	guard->held = true;
}

static inline void stce_grace_read_lock(struct stce_grace *g,
					struct stce_grace_guard *guard)
{
	stce_grace_read_lock_range(g, guard, 0, UINT64_MAX);
}

/*
 * Whether this thread has a section of this grace open on its own slot
 * @r with the range "all" (a plain one, or one with a section nested in
 * it): then a section that ends before it is covered by it.
 */
static inline bool stce_grace_open_all(const struct stce_grace_slot *r)
{
	if (!(atomic_load_explicit(&r->cnt[0], memory_order_relaxed) |
	      atomic_load_explicit(&r->cnt[1], memory_order_relaxed)))
		return false;
	return !atomic_load_explicit(&r->lo, memory_order_relaxed) &&
	       atomic_load_explicit(&r->hi, memory_order_relaxed) == UINT64_MAX;
}

/*
 * A plain section that the caller ends before every section of @g this
 * thread has open now (it nests inside them, last in first out): when
 * one of them covers everything, this one costs no barrier and no locked
 * instruction (see "Nested sections" above); else it is
 * stce_grace_read_lock(). Unlocked with stce_grace_read_unlock().
 */
static inline void stce_grace_read_lock_nested(struct stce_grace *g,
					       struct stce_grace_guard *guard)
{
	unsigned int s = stce_grace_tls_slot & ~STCE_GRACE_FENCED;
	_Atomic uint64_t *cnt;

	if (__builtin_expect(s >= STCE_GRACE_SHARED_SLOT, 0) ||
	    !stce_grace_open_all(&g->readers[s])) {
		stce_grace_read_lock(g, guard);
		return;
	}
	guard->slot = stce_grace_tls_slot;
	guard->idx = atomic_load_explicit(&g->epoch, memory_order_relaxed) & 1;
	cnt = &g->readers[s].cnt[guard->idx];
	/* Only this thread writes its slot; the open section orders it. */
	atomic_store_explicit(cnt, atomic_load_explicit(cnt,
							memory_order_relaxed) + 1,
			      memory_order_relaxed);
	guard->held = true;
}

/* The last section of an exclusive slot ended: move its idle sequence
 * (release: a writer that sees it move sees the section's accesses). */
static inline void stce_grace_slot_idle(struct stce_grace_slot *r)
{
	if (atomic_load_explicit(&r->cnt[0], memory_order_relaxed) |
	    atomic_load_explicit(&r->cnt[1], memory_order_relaxed))
		return;
	atomic_store_explicit(&r->idle, atomic_load_explicit(
			&r->idle, memory_order_relaxed) + 1,
			      memory_order_release);
}

/*
 * Leaving needs no barrier beyond release, in either mode: an exclusive
 * slot has one writer, so a plain store of the count less one will do;
 * only the shared slot needs the atomic subtraction.
 */
static inline void stce_grace_read_unlock(struct stce_grace *g,
					  struct stce_grace_guard *guard)
{
	struct stce_grace_slot *r;
	_Atomic uint64_t *cnt;
	unsigned int s;

	if (!guard->held)
		return;
	guard->held = false;
	s = guard->slot & ~STCE_GRACE_FENCED;
	r = &g->readers[s];
	cnt = &r->cnt[guard->idx];
	if (__builtin_expect(s == STCE_GRACE_SHARED_SLOT, 0)) {
		atomic_fetch_sub_explicit(cnt, 1, memory_order_release);
		return;
	}
	atomic_store_explicit(cnt, atomic_load_explicit(cnt,
							memory_order_relaxed) - 1,
			      memory_order_release);
	stce_grace_slot_idle(r);
}

/* Wait for every read-side section that began before this call. Never
 * call it from inside a read-side section of the same @g. */
void stce_grace_synchronize(struct stce_grace *g);

/* The same for sections whose range meets [@lo, @hi] (see above); a
 * completed grace period for stce_grace_periods(). Never call it from
 * inside a read-side section of the same @g. */
void stce_grace_synchronize_range(struct stce_grace *g, uint64_t lo,
				  uint64_t hi);

/*
 * The full barrier a writer needs between its unpublishing and its look
 * at the readers, when the unpublishing ended with a locked
 * read-modify-write of this thread (an atomic exchange of the entry): on
 * x86 that instruction already is one (a locked instruction orders every
 * earlier store before every later load; the kernel's
 * smp_mb__after_atomic), so only the compiler is held back. Elsewhere,
 * and under TSan (which does not model it), a real fence.
 */
static inline void stce_grace_fence_after_rmw(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && !defined(STCE_GRACE_TSAN)
	atomic_signal_fence(memory_order_seq_cst);
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* stce_grace_synchronize_range() for a caller that has ordered its
 * unpublishing before this call's loads already (a full fence, or
 * stce_grace_fence_after_rmw()): it makes no fence of its own. */
void stce_grace_synchronize_range_ordered(struct stce_grace *g, uint64_t lo,
					  uint64_t hi);

/* Grace periods completed so far, full ones and ranged waits: a relaxed
 * sum, exact for the waits whose callers have returned. */
uint64_t stce_grace_periods(const struct stce_grace *g);

/*
 * Per-thread event counts for any owner (a grace's ranged waits, a
 * table's flushes): STCE_GRACE_SLOTS counters, @stride counters apart
 * (64 bytes or more, so that threads do not share a line). The calling
 * thread adds one to the counter of its slot with a plain store (only it
 * writes that one: no locked instruction), or atomically on the shared
 * slot. The sum is relaxed, exact for the counts whose callers have
 * returned.
 */
void stce_grace_count_slow(_Atomic uint64_t *counters, size_t stride);

static inline void stce_grace_count(_Atomic uint64_t *counters, size_t stride)
{
	unsigned int s = stce_grace_tls_slot & ~STCE_GRACE_FENCED;
	_Atomic uint64_t *n;

	/* No slot yet, or the shared one: out of line. */
	if (__builtin_expect(s >= STCE_GRACE_SHARED_SLOT, 0)) {
		stce_grace_count_slow(counters, stride);
		return;
	}
	n = &counters[s * stride];
	atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed)
				 + 1, memory_order_relaxed);
}

uint64_t stce_grace_count_sum(const _Atomic uint64_t *counters, size_t stride);

/* Whether this process runs the asymmetric (membarrier) mode. */
bool stce_grace_asymmetric(void);

#endif /* STCE_GRACE_H */
