// SPDX-License-Identifier: MIT
/*
 * IOAS mappings ("areas") and the memory they pin.
 *
 * Pinning is pre-registration's (src/prereg): an area holds a user
 * reference on every region that covers its host pages, taken through
 * the domain's container. A region that exists already - registered by
 * the legacy path, by another mapping, by another domain - is shared:
 * registering its exact range again only adds a user. Host pages that no
 * region covers are registered as one new region per uncovered stretch.
 * So memory mapped through both ABIs is pinned and charged once, and the
 * account returns to zero when the last user goes.
 *
 * The TCEs are written by the container's map/unmap (batched, rolled back
 * on failure, pages released only after the flush).
 */
#include <errno.h>
#include <string.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/prereg.h>

#include "common/alloc.h"
#include "common/common.h"
#include "iommufd/iommufd_internal.h"

#define MAP_FLAGS	(STCE_IOAS_MAP_FIXED_IOVA | STCE_IOAS_MAP_WRITEABLE | \
			 STCE_IOAS_MAP_READABLE)

/*
 * Debug builds, after every map and unmap: the areas sorted by iova and
 * disjoint, none empty, none without a domain to hold their TCEs, every
 * pin used by some mapping.
 */
static inline bool ioas_ok(const struct iofd_ioas *ioas)
{
	if (ioas->nr_areas > ioas->areas_cap || ioas->nr_pins > ioas->pins_cap)
		return false;
	if (ioas->nr_areas && !ioas->dom)
		return false;
	for (unsigned int i = 0; i < ioas->nr_areas; i++) {
		const struct iofd_area *a = ioas->areas[i];

		if (!a->length || (i && a->iova <= ioas->areas[i - 1]->iova +
					     (ioas->areas[i - 1]->length - 1)))
			return false;
	}
	for (unsigned int i = 0; i < ioas->nr_pins; i++)
		if (!ioas->pins[i]->refs)
			return false;
	return true;
}

#define ioas_assert(ioas)	stce_debug_assert(ioas_ok(ioas))

/* ---- pins ---------------------------------------------------------- */

static int ptr_push(void ***arr, unsigned int *nr, unsigned int *cap,
		    void *p)
{
	if (*nr == *cap) {
		unsigned int n = *cap ? 2 * *cap : 8;
		void **grown = stce_zalloc(n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		if (*nr)
			memcpy(grown, *arr, *nr * sizeof(*grown));
		stce_free(*arr);
		*arr = grown;
		*cap = n;
	}
	(*arr)[(*nr)++] = p;
	return 0;
}

static void pin_put(struct iofd_ioas *ioas, struct iofd_pin *pin)
{
	if (--pin->refs)
		return;
	if (pin->owned)
		stce_container_unregister(ioas->dom->c, pin->ua, pin->size);
	for (unsigned int i = 0; i < ioas->nr_pins; i++) {
		if (ioas->pins[i] == pin) {
			ioas->pins[i] = ioas->pins[--ioas->nr_pins];
			break;
		}
	}
	stce_free(pin);
}

static int pin_get(struct iofd_ioas *ioas, uint64_t ua, uint64_t size,
		   struct iofd_pin **out)
{
	struct iofd_pin *pin;
	int ret;

	for (unsigned int i = 0; i < ioas->nr_pins; i++) {
		pin = ioas->pins[i];
		if (pin->ua == ua && pin->size == size) {
			pin->refs++;
			*out = pin;
			return 0;
		}
	}
	pin = stce_zalloc(sizeof(*pin));
	if (!pin)
		return -ENOMEM;
	ret = ptr_push((void ***)&ioas->pins, &ioas->nr_pins,
		       &ioas->pins_cap, pin);
	if (ret)
		goto free;
	/* -EBUSY: this container registered it (the legacy path did). */
	ret = stce_container_register(ioas->dom->c, ua, size);
	if (ret && ret != -EBUSY) {
		ioas->nr_pins--;
		goto free;
	}
	pin->owned = !ret;
	pin->ua = ua;
	pin->size = size;
	pin->refs = 1;
	*out = pin;
	return 0;
free:
	stce_free(pin);
	return ret;
}

/* The region holding host page @pos: its range, or false. */
static bool covered(uint64_t pos, uint64_t hp, uint64_t *ua, uint64_t *size)
{
	struct stce_region *r;

	if (stce_prereg_lookup(pos, hp, &r))
		return false;
	*ua = stce_region_ua(r);
	*size = stce_region_size(r);
	stce_prereg_mapped_dec(r);	/* the lookup's hold */
	return true;
}

static void area_unpin(struct iofd_ioas *ioas, struct iofd_area *a)
{
	for (unsigned int i = 0; i < a->nr_pins; i++)
		pin_put(ioas, a->pins[i]);
	stce_free(a->pins);
	a->pins = NULL;
	a->nr_pins = 0;
}

/* Hold every region over the host pages of the area's memory. */
static int area_pin(struct iofd_ioas *ioas, struct iofd_area *a)
{
	uint64_t hp = stce_host_page_size();
	uint64_t pos = a->ua & ~(hp - 1);
	uint64_t hi = stce_round_up(a->ua + a->length, hp);
	unsigned int cap = 0;
	int ret = 0;

	while (pos < hi) {
		struct iofd_pin *pin;
		uint64_t ua, size, end;

		if (!covered(pos, hp, &ua, &size)) {
			end = pos + hp;
			while (end < hi && !covered(end, hp, &ua, &size))
				end += hp;
			ua = pos;
			size = end - pos;
		}
		ret = pin_get(ioas, ua, size, &pin);
		if (ret)
			break;
		ret = ptr_push((void ***)&a->pins, &a->nr_pins, &cap, pin);
		if (ret) {
			pin_put(ioas, pin);
			break;
		}
		pos = ua + size;
	}
	if (ret)
		area_unpin(ioas, a);
	return ret;
}

/* ---- areas --------------------------------------------------------- */

static bool overlaps(const struct iofd_area *a, uint64_t first,
		     uint64_t last)
{
	return a->iova <= last && first <= a->iova + (a->length - 1);
}

static bool range_free(struct iofd_ioas *ioas, uint64_t first, uint64_t last)
{
	for (unsigned int i = 0; i < ioas->nr_areas; i++)
		if (overlaps(ioas->areas[i], first, last))
			return false;
	return true;
}

/* The area mapped at exactly [iova, iova + length), or NULL. */
struct iofd_area *iofd_area_exact(struct iofd_ioas *ioas, uint64_t iova,
				  uint64_t length)
{
	for (unsigned int i = 0; i < ioas->nr_areas; i++)
		if (ioas->areas[i]->iova == iova &&
		    ioas->areas[i]->length == length)
			return ioas->areas[i];
	return NULL;
}

static int area_insert(struct iofd_ioas *ioas, struct iofd_area *a)
{
	unsigned int i;
	int ret;

	ret = ptr_push((void ***)&ioas->areas, &ioas->nr_areas,
		       &ioas->areas_cap, a);
	if (ret)
		return ret;
	/* Keep them sorted: shift the pushed slot down into place. */
	for (i = ioas->nr_areas - 1; i && ioas->areas[i - 1]->iova > a->iova; i--)
		ioas->areas[i] = ioas->areas[i - 1];
	ioas->areas[i] = a;
	return 0;
}

static void area_delete(struct iofd_ioas *ioas, unsigned int i)
{
	memmove(&ioas->areas[i], &ioas->areas[i + 1],
		(ioas->nr_areas - i - 1) * sizeof(*ioas->areas));
	ioas->nr_areas--;
}

/* ---- windows ------------------------------------------------------- */

struct win {
	uint64_t start, last, page;
};

static unsigned int windows(struct iofd_ioas *ioas, struct win *w)
{
	struct stce_container_stats s;
	unsigned int n = 0;

	stce_container_get_stats(ioas->dom->c, &s);
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		if (!s.window[i].size)
			continue;
		w[n].start = s.window[i].start;
		w[n].last = s.window[i].start + (s.window[i].size - 1);
		w[n].page = 1ULL << s.window[i].page_shift;
		n++;
	}
	return n;
}

/* The lowest free IOVA of @w for @length bytes, page aligned. */
static bool find_gap(struct iofd_ioas *ioas, const struct win *w,
		     uint64_t length, uint64_t *iova)
{
	uint64_t pos = w->start;

	for (unsigned int i = 0; i < ioas->nr_areas; i++) {
		const struct iofd_area *a = ioas->areas[i];
		uint64_t a_last = a->iova + (a->length - 1);

		if (a_last < pos || a->iova > w->last)
			continue;
		if (a->iova > pos && a->iova - pos >= length) {
			*iova = pos;
			return true;
		}
		if (a_last >= w->last)
			return false;
		pos = stce_round_up(a_last + 1, w->page);
	}
	if (pos > w->last || w->last - pos < length - 1)
		return false;
	*iova = pos;
	return true;
}

/* Choose or check the IOVA: the window it lies in, fully. */
static int place(struct iofd_ioas *ioas, uint32_t flags, uint64_t ua,
		 uint64_t length, uint64_t *iova)
{
	struct win w[STCE_PE_MAX_WINDOWS];
	unsigned int n = windows(ioas, w);
	bool aligned_somewhere = false;

	if (flags & STCE_IOAS_MAP_FIXED_IOVA) {
		uint64_t last;

		if (__builtin_add_overflow(*iova, length - 1, &last))
			return -EOVERFLOW;
		for (unsigned int i = 0; i < n; i++) {
			if (*iova < w[i].start || last > w[i].last)
				continue;
			if (!stce_is_aligned(*iova | ua | length, w[i].page))
				return -EINVAL;
			return range_free(ioas, *iova, last) ? 0 : -EEXIST;
		}
		return -EINVAL;		/* outside the windows: reserved */
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!stce_is_aligned(ua | length, w[i].page))
			continue;
		aligned_somewhere = true;
		if (find_gap(ioas, &w[i], length, iova))
			return 0;
	}
	return aligned_somewhere ? -ENOSPC : -EINVAL;
}

/* See iommufd/iommufd_internal.h. */
int iofd_ioas_map_locked(struct iofd_ioas *ioas, uint32_t flags, uint64_t ua,
			 uint64_t length, uint64_t *iova)
{
	struct iofd_area *a;
	unsigned int dir = 0;
	uint64_t last, at = *iova;
	int ret;

	if (flags & ~MAP_FLAGS)
		return -EOPNOTSUPP;
	if (!length || !(flags & (STCE_IOAS_MAP_READABLE |
				  STCE_IOAS_MAP_WRITEABLE)))
		return -EINVAL;
	if (__builtin_add_overflow(ua, length - 1, &last))
		return -EOVERFLOW;
	if (!ioas->dom)
		return -EINVAL;
	ret = place(ioas, flags, ua, length, &at);
	if (ret)
		return ret;

	a = stce_zalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->iova = at;
	a->length = length;
	a->ua = ua;
	a->flags = flags;
	ret = area_pin(ioas, a);
	if (ret)
		goto free;
	if (flags & STCE_IOAS_MAP_READABLE)
		dir |= STCE_MAP_READ;
	if (flags & STCE_IOAS_MAP_WRITEABLE)
		dir |= STCE_MAP_WRITE;
	ret = stce_container_map(ioas->dom->c, ua, at, length, dir);
	if (ret)
		goto unpin;
	ret = area_insert(ioas, a);
	if (ret)
		goto unmap;
	ioas_assert(ioas);
	*iova = at;
	return 0;

unmap:
	stce_container_unmap(ioas->dom->c, at, length);
unpin:
	area_unpin(ioas, a);
free:
	stce_free(a);
	ioas_assert(ioas);
	return ret;
}

/* Every area inside [iova, iova + length) unmapped, none split: -ENOENT if
 * one only overlaps or none is there (0 for the whole space). */
int iofd_ioas_unmap_locked(struct iofd_ioas *ioas, uint64_t iova,
			   uint64_t length, uint64_t *unmapped)
{
	bool all = iova == 0 && length == UINT64_MAX;
	uint64_t last, done = 0;
	unsigned int i, found = 0;

	*unmapped = 0;
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (all)
		last = UINT64_MAX;
	/* Nothing is split: check every overlapping area first. */
	for (i = 0; i < ioas->nr_areas; i++) {
		struct iofd_area *a = ioas->areas[i];

		if (!overlaps(a, iova, last))
			continue;
		if (a->iova < iova || a->iova + (a->length - 1) > last)
			return -ENOENT;
		found++;
	}
	if (!found)
		return all ? 0 : -ENOENT;
	for (i = 0; i < ioas->nr_areas;) {
		struct iofd_area *a = ioas->areas[i];

		if (!overlaps(a, iova, last)) {
			i++;
			continue;
		}
		stce_container_unmap(ioas->dom->c, a->iova, a->length);
		area_unpin(ioas, a);
		done += a->length;
		area_delete(ioas, i);
		stce_free(a);
	}
	ioas_assert(ioas);
	*unmapped = done;
	return 0;
}

/* Free an IOAS that has no area and no domain left. */
void iofd_ioas_free(struct iofd_ioas *ioas)
{
	stce_free(ioas->areas);
	stce_free(ioas->pins);
	stce_free(ioas);
}
