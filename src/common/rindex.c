// SPDX-License-Identifier: MIT
/*
 * The range index (see rindex.h for the shape and the rules).
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>

#include "common/alloc.h"
#include "common/rindex.h"

/* Leaves are built this full, so that a few inserts fit before a split. */
#define LEAF_FILL	(STCE_RINDEX_LEAF * 3 / 4)

struct rx_entry {
	uint64_t start;
	uint64_t len;
	void *_Atomic val;	/* NULL: removed */
};

struct rx_leaf {
	unsigned int nr;
	struct rx_entry e[STCE_RINDEX_LEAF];
};

/* Both may change in place (a leaf replaced by a fuller copy). */
struct rx_slot {
	_Atomic uint64_t first;		/* e[0].start of the leaf */
	struct rx_leaf *_Atomic leaf;
};

struct stce_rindex_dir {
	size_t nr;
	struct stce_rindex_dir *abandoned;	/* fork: kept reachable */
	struct rx_slot s[];
};

/* See common/rindex.h. */
void stce_rindex_init(struct stce_rindex *x, struct stce_grace *grace)
{
	atomic_init(&x->dir, NULL);
	x->grace = grace;
	x->live = 0;
}

static struct rx_leaf *slot_leaf(const struct stce_rindex_dir *d, size_t i)
{
	return atomic_load_explicit(&((struct stce_rindex_dir *)d)->s[i].leaf,
				    memory_order_acquire);
}

static uint64_t slot_first(const struct stce_rindex_dir *d, size_t i)
{
	return atomic_load_explicit(&((struct stce_rindex_dir *)d)->s[i].first,
				    memory_order_acquire);
}

static void dir_free(struct stce_rindex_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr; i++)
		stce_free(slot_leaf(d, i));
	stce_free(d);
}

/* See common/rindex.h. */
void stce_rindex_destroy(struct stce_rindex *x)
{
	dir_free(atomic_load(&x->dir));
	atomic_store(&x->dir, NULL);
	x->live = 0;
}

/* Index of the last slot whose leaf starts at or below @addr (0 if none). */
static size_t dir_slot(const struct stce_rindex_dir *d, uint64_t addr)
{
	size_t lo = 0, hi = d->nr;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (slot_first(d, mid) <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first entry of @l starting above @addr. */
static unsigned int leaf_upper(const struct rx_leaf *l, uint64_t addr)
{
	unsigned int lo = 0, hi = l->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (l->e[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void *entry_get(struct rx_entry *e, uint64_t *start, uint64_t *len)
{
	void *v = atomic_load_explicit(&e->val, memory_order_acquire);

	if (v) {
		if (start)
			*start = e->start;
		if (len)
			*len = e->len;
	}
	return v;
}

/* The entry (live or dead) with the last start at or below @addr. */
static struct rx_entry *last_at_or_below(struct stce_rindex *x, uint64_t addr)
{
	struct stce_rindex_dir *d = atomic_load_explicit(&x->dir,
							 memory_order_acquire);
	struct rx_leaf *l;
	unsigned int i;

	if (!d)
		return NULL;
	l = slot_leaf(d, dir_slot(d, addr));
	i = leaf_upper(l, addr);
	return i ? &l->e[i - 1] : NULL;
}

/* See common/rindex.h. */
void *stce_rindex_find(struct stce_rindex *x, uint64_t addr, uint64_t *start,
		       uint64_t *len)
{
	struct rx_entry *e = last_at_or_below(x, addr);

	if (!e || addr - e->start >= e->len)
		return NULL;
	return entry_get(e, start, len);
}

/* See common/rindex.h. */
void *stce_rindex_first(struct stce_rindex *x, uint64_t start, uint64_t len,
			uint64_t *s, uint64_t *l)
{
	struct stce_rindex_dir *d = atomic_load_explicit(&x->dir,
							 memory_order_acquire);
	uint64_t last = len ? start + (len - 1) : UINT64_MAX;
	size_t k;
	unsigned int i;

	if (!d)
		return NULL;
	k = dir_slot(d, start);
	i = leaf_upper(slot_leaf(d, k), start);
	/* The entry before may reach into the range. */
	if (i) {
		struct rx_entry *e = &slot_leaf(d, k)->e[i - 1];

		if (start - e->start < e->len) {
			void *v = entry_get(e, s, l);

			if (v)
				return v;
		}
	}
	for (; k < d->nr; k++, i = 0) {
		struct rx_leaf *lf = slot_leaf(d, k);

		for (; i < lf->nr; i++) {
			void *v;

			if (lf->e[i].start > last)
				return NULL;
			v = entry_get(&lf->e[i], s, l);
			if (v)
				return v;
		}
	}
	return NULL;
}

/*
 * The live entries of leaves [la, lb] of @d plus the new one, in order,
 * into @out (tombstones dropped). Returns how many.
 */
static size_t gather(const struct stce_rindex_dir *d, size_t la, size_t lb,
		     const struct rx_entry *add, struct rx_entry *out)
{
	size_t n = 0;
	bool placed = false;

	for (size_t k = la; d && k <= lb; k++) {
		const struct rx_leaf *l = slot_leaf(d, k);

		for (unsigned int i = 0; i < l->nr; i++) {
			void *v = atomic_load_explicit(&l->e[i].val,
						       memory_order_relaxed);

			if (!v)
				continue;
			if (!placed && l->e[i].start > add->start) {
				out[n++] = *add;
				placed = true;
			}
			out[n].start = l->e[i].start;
			out[n].len = l->e[i].len;
			atomic_init(&out[n].val, v);
			n++;
		}
	}
	if (!placed)
		out[n++] = *add;
	return n;
}

/* Leaves [la, lb] of @d that a new range [start, last] must rebuild. */
static void span_of(const struct stce_rindex_dir *d, uint64_t start,
		    uint64_t last, size_t *la, size_t *lb)
{
	size_t a = dir_slot(d, start), b = a;

	/* A (dead) range at the end of the previous leaf may reach ours. */
	if (a) {
		const struct rx_leaf *p = slot_leaf(d, a - 1);
		const struct rx_entry *e = &p->e[p->nr - 1];

		if (start - e->start < e->len)
			a--;
	}
	while (b + 1 < d->nr && slot_first(d, b + 1) <= last)
		b++;
	*la = a;
	*lb = b;
}

/*
 * Replace leaves [la, lb] of @d (none when @d is NULL) by leaves built
 * from the @n sorted entries of @buf, publish, wait for readers, free the
 * replaced pieces. -ENOMEM: nothing changed.
 */
static int publish(struct stce_rindex *x, struct stce_rindex_dir *d,
		   size_t la, size_t lb, const struct rx_entry *buf, size_t n)
{
	size_t nnew = (n + LEAF_FILL - 1) / LEAF_FILL;
	size_t total = (d ? d->nr - (lb - la + 1) : 0) + nnew;
	struct stce_rindex_dir *nd;

	nd = stce_zalloc(sizeof(*nd) + total * sizeof(nd->s[0]));
	if (!nd)
		return -ENOMEM;
	nd->nr = total;
	for (size_t k = 0; k < nnew; k++) {
		size_t from = k * n / nnew, to = (k + 1) * n / nnew;
		struct rx_leaf *l = stce_zalloc(sizeof(*l));

		if (!l) {
			for (size_t j = 0; j < k; j++)
				stce_free(slot_leaf(nd, la + j));
			stce_free(nd);
			return -ENOMEM;
		}
		l->nr = (unsigned int)(to - from);
		for (size_t j = from; j < to; j++) {
			l->e[j - from].start = buf[j].start;
			l->e[j - from].len = buf[j].len;
			atomic_init(&l->e[j - from].val,
				    atomic_load_explicit(&buf[j].val,
							 memory_order_relaxed));
		}
		atomic_init(&nd->s[la + k].first, l->e[0].start);
		atomic_init(&nd->s[la + k].leaf, l);
	}
	for (size_t k = 0; d && k < la; k++) {
		atomic_init(&nd->s[k].first, slot_first(d, k));
		atomic_init(&nd->s[k].leaf, slot_leaf(d, k));
	}
	for (size_t k = lb + 1; d && k < d->nr; k++) {
		atomic_init(&nd->s[k - lb - 1 + la + nnew].first,
			    slot_first(d, k));
		atomic_init(&nd->s[k - lb - 1 + la + nnew].leaf,
			    slot_leaf(d, k));
	}
	atomic_store_explicit(&x->dir, nd, memory_order_release);
	if (!d)
		return 0;
	if (x->grace)
		stce_grace_synchronize(x->grace);
	for (size_t k = la; k <= lb; k++)
		stce_free(slot_leaf(d, k));
	stce_free(d);
	return 0;
}

/*
 * The common insert: the @n entries fit one leaf replacing leaf @k in
 * place (no directory copy). The leaf pointer is stored before the first
 * key, so a reader sees the old leaf, or the new one under either key:
 * at worst it misses the range being inserted, never another.
 */
static int publish_leaf(struct stce_rindex *x, struct stce_rindex_dir *d,
			size_t k, const struct rx_entry *buf, size_t n)
{
	struct rx_leaf *old = slot_leaf(d, k), *l = stce_zalloc(sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->nr = (unsigned int)n;
	for (size_t j = 0; j < n; j++) {
		l->e[j].start = buf[j].start;
		l->e[j].len = buf[j].len;
		atomic_init(&l->e[j].val,
			    atomic_load_explicit(&buf[j].val,
						 memory_order_relaxed));
	}
	atomic_store_explicit(&d->s[k].leaf, l, memory_order_release);
	atomic_store_explicit(&d->s[k].first, l->e[0].start,
			      memory_order_release);
	if (x->grace)
		stce_grace_synchronize(x->grace);
	stce_free(old);
	return 0;
}

/* See common/rindex.h. */
int stce_rindex_insert(struct stce_rindex *x, uint64_t start, uint64_t len,
		       void *val)
{
	struct stce_rindex_dir *d = atomic_load(&x->dir);
	struct rx_entry add = { start, len, val }, *buf;
	size_t la = 0, lb = 0, n = 0;
	int ret;

	assert(val && len);
	if (d) {
		span_of(d, start, start + (len - 1), &la, &lb);
		for (size_t k = la; k <= lb; k++)
			n += slot_leaf(d, k)->nr;
	}
	buf = stce_zalloc((n + 1) * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	n = gather(d, la, lb, &add, buf);
	if (d && la == lb && n <= STCE_RINDEX_LEAF)
		ret = publish_leaf(x, d, la, buf, n);
	else
		ret = publish(x, d, la, lb, buf, n);
	if (!ret)
		x->live++;
	stce_free(buf);
	return ret;
}

/* See common/rindex.h. */
int stce_rindex_split(struct stce_rindex *x, uint64_t start, uint64_t at,
		      void *val)
{
	struct stce_rindex_dir *d = atomic_load(&x->dir);
	struct rx_entry *buf;
	struct rx_leaf *l;
	size_t k, n = 0;
	int ret;

	if (!d)
		return -ENOENT;
	k = dir_slot(d, start);
	l = slot_leaf(d, k);
	buf = stce_zalloc((l->nr + 1) * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	ret = -ENOENT;
	for (unsigned int i = 0; i < l->nr; i++) {
		void *v = atomic_load_explicit(&l->e[i].val,
					       memory_order_relaxed);

		if (!v)
			continue;
		buf[n].start = l->e[i].start;
		buf[n].len = l->e[i].len;
		atomic_init(&buf[n].val, v);
		if (l->e[i].start == start && at > start &&
		    at - start < l->e[i].len) {
			buf[n].len = at - start;
			n++;
			buf[n].start = at;
			buf[n].len = l->e[i].len - (at - start);
			atomic_init(&buf[n].val, val);
			ret = 0;
		}
		n++;
	}
	if (!ret)
		ret = n <= STCE_RINDEX_LEAF ? publish_leaf(x, d, k, buf, n) :
					      publish(x, d, k, k, buf, n);
	if (!ret)
		x->live++;
	stce_free(buf);
	return ret;
}

/* The live entry starting exactly at @start, or NULL. */
static struct rx_entry *exact(struct stce_rindex *x, uint64_t start)
{
	struct rx_entry *e = last_at_or_below(x, start);

	if (!e || e->start != start ||
	    !atomic_load_explicit(&e->val, memory_order_relaxed))
		return NULL;
	return e;
}

/* See common/rindex.h. */
int stce_rindex_set(struct stce_rindex *x, uint64_t start, void *val)
{
	struct rx_entry *e = exact(x, start);

	assert(val);
	if (!e)
		return -ENOENT;
	atomic_store_explicit(&e->val, val, memory_order_release);
	return 0;
}

/* See common/rindex.h. */
int stce_rindex_shrink(struct stce_rindex *x, uint64_t start, uint64_t len)
{
	struct rx_entry *e = exact(x, start);

	if (!e)
		return -ENOENT;
	assert(len);
	e->len = len;
	return 0;
}

/* See common/rindex.h. */
void stce_rindex_remove(struct stce_rindex *x, uint64_t start)
{
	struct stce_rindex_dir *d = atomic_load(&x->dir);
	struct rx_entry *e = exact(x, start);

	if (!e)
		return;
	atomic_store_explicit(&e->val, NULL, memory_order_release);
	assert(x->live);
	if (--x->live)
		return;
	/* Nothing left: give the memory back. */
	atomic_store_explicit(&x->dir, NULL, memory_order_release);
	if (x->grace)
		stce_grace_synchronize(x->grace);
	dir_free(d);
}

/* See common/rindex.h. */
void stce_rindex_abandon(struct stce_rindex *x)
{
	static struct stce_rindex_dir *kept;	/* reachable for leak checkers */
	struct stce_rindex_dir *d = atomic_load(&x->dir);

	if (d) {
		d->abandoned = kept;
		kept = d;
	}
	atomic_store(&x->dir, NULL);
	x->live = 0;
}
