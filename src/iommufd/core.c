// SPDX-License-Identifier: MIT
/*
 * The iommufd context: objects by id, the sPAPR TCE domain (one domain,
 * two windows) and devices joining and leaving it.
 *
 * Attach and detach go through the domain's container, which joins a PE
 * to every window or to none: on failure part-way it unsets what it set
 * and gives the PE back to the platform. Whether a concurrent DMA can
 * see one window programmed and not the other is the PE's business: see
 * docs/iommufd.md ("atomic join") for the primitive that closes it.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>

#include "common/alloc.h"
#include "iommufd/iommufd_internal.h"

/* The shadow PE's group number: never one of a topology's. */
#define SHADOW_GROUP	UINT_MAX

/* ---- context and objects ------------------------------------------- */

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_create(struct stce_iommufd **out)
{
	struct stce_iommufd *ictx = stce_zalloc(sizeof(*ictx));

	if (!ictx)
		return -ENOMEM;
	pthread_mutex_init(&ictx->lock, NULL);
	atomic_init(&ictx->refs, 1);
	*out = ictx;
	return 0;
}

/* One reference more on @ictx; stce_iommufd_put() drops it. */
void stce_iommufd_get(struct stce_iommufd *ictx)
{
	atomic_fetch_add(&ictx->refs, 1);
}

/* See iommufd/iommufd_internal.h. */
struct iofd_obj *iofd_get(struct stce_iommufd *ictx, uint32_t id,
			  enum iofd_type type)
{
	struct iofd_obj *obj;

	stce_assert_held(&ictx->lock);
	if (!id || id > ictx->nr_slots)
		return NULL;
	obj = ictx->objs[id - 1];
	return obj && obj->type == type ? obj : NULL;
}

/* @obj in the first free slot, its id the slot + 1; -ENOMEM. ictx->lock held. */
int iofd_install(struct stce_iommufd *ictx, struct iofd_obj *obj,
		 enum iofd_type type)
{
	uint32_t i;

	stce_assert_held(&ictx->lock);
	for (i = 0; i < ictx->nr_slots; i++)
		if (!ictx->objs[i])
			break;
	if (i == ictx->nr_slots) {
		uint32_t n = ictx->nr_slots ? 2 * ictx->nr_slots : 16;
		struct iofd_obj **grown = stce_zalloc(n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		if (ictx->nr_slots)
			memcpy(grown, ictx->objs,
			       ictx->nr_slots * sizeof(*grown));
		stce_free(ictx->objs);
		ictx->objs = grown;
		ictx->nr_slots = n;
	}
	obj->type = type;
	obj->id = i + 1;
	ictx->objs[i] = obj;
	return 0;
}

/* @obj's id free again (not freed: the caller's). ictx->lock held. */
void iofd_remove(struct stce_iommufd *ictx, struct iofd_obj *obj)
{
	stce_assert_held(&ictx->lock);
	ictx->objs[obj->id - 1] = NULL;
}

/* ---- domains ------------------------------------------------------- */

static int create_windows(struct iofd_domain *d,
			  const struct iommu_hwpt_spapr_tce *g)
{
	struct stce_pe_caps caps;
	int ret;

	stce_pe_get_caps(d->shadow, &caps);
	/* The container's pending default window would take slot 0. */
	ret = stce_container_remove_window(d->c, 0);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
		const struct iommu_hwpt_spapr_tce_window *w = &g->window[i];
		uint64_t start, want = i ? caps.ddw_base : caps.dma32_start;

		if (!w->page_shift)
			continue;
		ret = stce_container_create_window(d->c, w->page_shift,
						   w->window_size, w->levels,
						   &start);
		if (ret)
			return ret;
		/* Windows are made in slot order: never anywhere else. */
		if (start != want)
			return -EINVAL;
	}
	return 0;
}

static int check_geometry(const struct iommu_hwpt_spapr_tce *g)
{
	if (g->flags || g->__reserved)
		return -EOPNOTSUPP;
	/* Window 1 sits in slot 1 only when slot 0 is taken. */
	if (!g->window[0].page_shift)
		return -EINVAL;
	return 0;
}

static void default_geometry(const struct stce_pe_caps *caps,
			     struct iommu_hwpt_spapr_tce *g)
{
	memset(g, 0, sizeof(*g));
	g->window[0].page_shift = caps->dma32_page_shift;
	g->window[0].levels = 1;
	g->window[0].window_size = caps->dma32_size;
	g->window[1].page_shift = STCE_IOMMUFD_DEFAULT_DDW_PAGE_SHIFT;
	g->window[1].levels = STCE_IOMMUFD_DEFAULT_DDW_LEVELS;
	g->window[1].window_size = STCE_IOMMUFD_DEFAULT_DDW_SIZE;
}

/* @ioas's domain for @pe's caps (a shadow PE, its container and windows);
 * -EEXIST, -EINVAL, -ENOMEM, the container's errnos. ictx->lock held. */
int iofd_domain_create(struct stce_iommufd *ictx, struct iofd_ioas *ioas,
		       struct stce_pe *pe, unsigned int mode,
		       const struct iommu_hwpt_spapr_tce *geom)
{
	struct iommu_hwpt_spapr_tce def;
	struct stce_pe_caps caps;
	struct iofd_domain *d;
	int ret;

	stce_assert_held(&ictx->lock);
	if (ioas->dom)
		return -EEXIST;
	stce_pe_get_caps(pe, &caps);
	if (caps.max_windows < STCE_PE_MAX_WINDOWS)
		return -EINVAL;
	if (mode == IOFD_DOMAIN_GEOMETRY && !geom) {
		default_geometry(&caps, &def);
		geom = &def;
	}
	if (geom) {
		ret = check_geometry(geom);
		if (ret)
			return ret;
	}
	d = stce_zalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	ret = stce_pe_create(&caps, SHADOW_GROUP, &d->shadow);
	if (ret)
		goto free;
	ret = stce_container_create(STCE_IOMMU_V2,
				    mode == IOFD_DOMAIN_LEGACY ?
				    STCE_CONTAINER_KERNEL_QUIRKS : 0, &d->c);
	if (ret)
		goto shadow;
	ret = stce_container_attach(d->c, d->shadow);
	if (ret)
		goto container;
	if (geom) {
		ret = create_windows(d, geom);
		if (ret)
			goto container;
	}
	ret = iofd_install(ictx, &d->obj, IOFD_HWPT);
	if (ret)
		goto container;
	d->ioas = ioas;
	ioas->dom = d;
	return 0;

container:
	stce_container_destroy(d->c);	/* windows, charges, the shadow */
shadow:
	stce_pe_destroy(d->shadow);
free:
	stce_free(d);
	return ret;
}

/* The domain goes: no device attached, no IOAS mapping left. */
void iofd_domain_destroy(struct stce_iommufd *ictx, struct iofd_domain *d)
{
	stce_assert_held(&ictx->lock);
	iofd_remove(ictx, &d->obj);
	d->ioas->dom = NULL;
	stce_container_destroy(d->c);
	stce_pe_destroy(d->shadow);
	stce_free(d);
}

/* ---- IOAS ---------------------------------------------------------- */

/* A new empty IOAS installed in @ictx; -ENOMEM. ictx->lock held. */
int iofd_ioas_alloc_locked(struct stce_iommufd *ictx, struct iofd_ioas **out)
{
	struct iofd_ioas *ioas = stce_zalloc(sizeof(*ioas));
	int ret;

	stce_assert_held(&ictx->lock);
	if (!ioas)
		return -ENOMEM;
	ret = iofd_install(ictx, &ioas->obj, IOFD_IOAS);
	if (ret) {
		stce_free(ioas);
		return ret;
	}
	*out = ioas;
	return 0;
}

/* See <spapr_tce/iommufd.h> (objects): an empty IOAS, its id in *@ioas_id. */
int stce_iommufd_ioas_alloc(struct stce_iommufd *ictx, uint32_t *ioas_id)
{
	struct iofd_ioas *ioas;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	ret = iofd_ioas_alloc_locked(ictx, &ioas);
	if (!ret)
		*ioas_id = ioas->obj.id;
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

static struct iofd_ioas *get_ioas(struct stce_iommufd *ictx, uint32_t id)
{
	return (struct iofd_ioas *)iofd_get(ictx, id, IOFD_IOAS);
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_iova_ranges(struct stce_iommufd *ictx, uint32_t ioas_id,
			     struct stce_iova_range *ranges, uint32_t *num,
			     uint64_t *alignment)
{
	struct stce_container_stats s;
	struct iofd_ioas *ioas;
	uint32_t n = 0;
	uint64_t align = 0;
	int ret = 0;

	pthread_mutex_lock(&ictx->lock);
	ioas = get_ioas(ictx, ioas_id);
	if (!ioas) {
		ret = -ENOENT;
		goto out;
	}
	if (ioas->dom) {
		stce_container_get_stats(ioas->dom->c, &s);
		for (unsigned int i = 0; i < STCE_PE_MAX_WINDOWS; i++) {
			if (!s.window[i].size)
				continue;
			if (n < *num) {
				ranges[n].start = s.window[i].start;
				ranges[n].last = s.window[i].start +
						 (s.window[i].size - 1);
			}
			n++;
			if ((1ULL << s.window[i].page_shift) > align)
				align = 1ULL << s.window[i].page_shift;
		}
	}
	if (n > *num)
		ret = -EMSGSIZE;
	*num = n;
	*alignment = align ? align : 1;
out:
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_map(struct stce_iommufd *ictx, uint32_t ioas_id,
		     uint32_t flags, uint64_t ua, uint64_t length,
		     uint64_t *iova)
{
	struct iofd_ioas *ioas;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	ioas = get_ioas(ictx, ioas_id);
	ret = ioas ? iofd_ioas_map_locked(ioas, flags, ua, length, iova)
		   : -ENOENT;
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_unmap(struct stce_iommufd *ictx, uint32_t ioas_id,
		       uint64_t iova, uint64_t length, uint64_t *unmapped)
{
	struct iofd_ioas *ioas;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	ioas = get_ioas(ictx, ioas_id);
	ret = ioas ? iofd_ioas_unmap_locked(ioas, iova, length, unmapped)
		   : -ENOENT;
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_copy(struct stce_iommufd *ictx, uint32_t flags,
		      uint32_t dst_id, uint32_t src_id, uint64_t src_iova,
		      uint64_t length, uint64_t *dst_iova)
{
	struct iofd_ioas *src, *dst;
	struct iofd_area *a;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	src = get_ioas(ictx, src_id);
	dst = get_ioas(ictx, dst_id);
	ret = -ENOENT;
	if (!src || !dst)
		goto out;
	a = iofd_area_exact(src, src_iova, length);
	if (!a)
		goto out;
	/* The same user memory: its regions are found, not pinned again. */
	ret = iofd_ioas_map_locked(dst, flags, a->ua, length, dst_iova);
out:
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* ---- devices ------------------------------------------------------- */

static struct iofd_device *get_dev(struct stce_iommufd *ictx, uint32_t id)
{
	return (struct iofd_device *)iofd_get(ictx, id, IOFD_DEVICE);
}

static bool pe_bound(struct stce_iommufd *ictx, const struct stce_pe *pe)
{
	stce_assert_held(&ictx->lock);
	for (uint32_t i = 0; i < ictx->nr_slots; i++) {
		struct iofd_obj *o = ictx->objs[i];

		if (o && o->type == IOFD_DEVICE &&
		    ((struct iofd_device *)o)->pe == pe)
			return true;
	}
	for (unsigned int i = 0; i < ictx->nr_compat; i++)
		if (ictx->compat_pes[i] == pe)
			return true;
	return false;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_bind(struct stce_iommufd *ictx, struct stce_pe *pe,
		      uint32_t *dev_id)
{
	struct iofd_device *dev;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	ret = -EBUSY;
	if (pe_bound(ictx, pe))
		goto out;
	ret = -ENOMEM;
	dev = stce_zalloc(sizeof(*dev));
	if (!dev)
		goto out;
	dev->pe = pe;
	ret = iofd_install(ictx, &dev->obj, IOFD_DEVICE);
	if (ret) {
		stce_free(dev);
		goto out;
	}
	*dev_id = dev->obj.id;
out:
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

static int detach_locked(struct iofd_device *dev)
{
	int ret;

	if (!dev->dom)
		return -EINVAL;
	ret = stce_container_detach(dev->dom->c, dev->pe);
	if (ret)
		return ret;
	dev->dom->nr_attached--;
	dev->dom = NULL;
	return 0;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_unbind(struct stce_iommufd *ictx, uint32_t dev_id)
{
	struct iofd_device *dev;
	int ret = 0;

	pthread_mutex_lock(&ictx->lock);
	dev = get_dev(ictx, dev_id);
	if (!dev) {
		ret = -ENOENT;
		goto out;
	}
	if (dev->dom)
		detach_locked(dev);
	iofd_remove(ictx, &dev->obj);
	stce_free(dev);
out:
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_hwpt_alloc(struct stce_iommufd *ictx, uint32_t dev_id,
			    uint32_t pt_id, uint32_t flags, uint32_t data_type,
			    const void *data, uint32_t data_len,
			    uint32_t *hwpt_id)
{
	const struct iommu_hwpt_spapr_tce *geom = NULL;
	struct iofd_device *dev;
	struct iofd_ioas *ioas;
	int ret;

	if (flags)
		return -EOPNOTSUPP;
	if (data_type == IOMMU_HWPT_DATA_SPAPR_TCE) {
		if (!data || data_len < sizeof(*geom))
			return -EINVAL;
		geom = data;
	} else if (data_type == 0) {	/* IOMMU_HWPT_DATA_NONE */
		if (data_len)
			return -EINVAL;
	} else {
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&ictx->lock);
	dev = get_dev(ictx, dev_id);
	ioas = get_ioas(ictx, pt_id);
	ret = -ENOENT;
	if (!dev || !ioas)
		goto out;
	ret = iofd_domain_create(ictx, ioas, dev->pe, IOFD_DOMAIN_GEOMETRY,
				 geom);
	if (!ret)
		*hwpt_id = ioas->dom->obj.id;
out:
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* The domain @pt_id names: a HWPT, or an IOAS's (made if missing). */
static int resolve_domain(struct stce_iommufd *ictx, struct iofd_device *dev,
			  uint32_t pt_id, struct iofd_domain **out)
{
	struct iofd_obj *hwpt = iofd_get(ictx, pt_id, IOFD_HWPT);
	struct iofd_ioas *ioas;
	int ret;

	stce_assert_held(&ictx->lock);
	if (hwpt) {
		*out = (struct iofd_domain *)hwpt;
		return 0;
	}
	ioas = get_ioas(ictx, pt_id);
	if (!ioas)
		return -ENOENT;
	if (!ioas->dom) {
		ret = iofd_domain_create(ictx, ioas, dev->pe,
					 IOFD_DOMAIN_GEOMETRY, NULL);
		if (ret)
			return ret;
	}
	*out = ioas->dom;
	return 0;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_attach(struct stce_iommufd *ictx, uint32_t dev_id,
			uint32_t *pt_id)
{
	struct iofd_device *dev;
	struct iofd_domain *d;
	bool made;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	dev = get_dev(ictx, dev_id);
	ret = -ENOENT;
	if (!dev)
		goto out;
	made = !iofd_get(ictx, *pt_id, IOFD_HWPT) &&
	       get_ioas(ictx, *pt_id) && !get_ioas(ictx, *pt_id)->dom;
	ret = resolve_domain(ictx, dev, *pt_id, &d);
	if (ret)
		goto out;
	if (dev->dom == d) {
		*pt_id = d->obj.id;
		goto out;
	}
	ret = -EBUSY;
	if (dev->dom)
		goto undo;
	/* Both windows, or neither (the container unwinds a failure). */
	ret = stce_container_attach(d->c, dev->pe);
	if (ret)
		goto undo;
	d->nr_attached++;
	dev->dom = d;
	*pt_id = d->obj.id;
	goto out;
undo:
	/* An automatic domain nobody joined goes again. */
	if (made)
		iofd_domain_destroy(ictx, d);
out:
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_detach(struct stce_iommufd *ictx, uint32_t dev_id)
{
	struct iofd_device *dev;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	dev = get_dev(ictx, dev_id);
	ret = dev ? detach_locked(dev) : -ENOENT;
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* ---- destroy ------------------------------------------------------- */

static int destroy_locked(struct stce_iommufd *ictx, uint32_t id)
{
	struct iofd_obj *obj;

	stce_assert_held(&ictx->lock);
	if (!id || id > ictx->nr_slots || !ictx->objs[id - 1])
		return -ENOENT;
	obj = ictx->objs[id - 1];
	switch (obj->type) {
	case IOFD_IOAS: {
		struct iofd_ioas *ioas = (struct iofd_ioas *)obj;

		if (ioas->dom || ioas == ictx->compat_ioas)
			return -EBUSY;
		iofd_remove(ictx, obj);
		iofd_ioas_free(ioas);
		return 0;
	}
	case IOFD_HWPT: {
		struct iofd_domain *d = (struct iofd_domain *)obj;

		if (d->nr_attached || d->ioas->nr_areas ||
		    d->ioas == ictx->compat_ioas)
			return -EBUSY;
		iofd_domain_destroy(ictx, d);
		return 0;
	}
	default:
		return -EBUSY;
	}
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_destroy(struct stce_iommufd *ictx, uint32_t id)
{
	int ret;

	pthread_mutex_lock(&ictx->lock);
	ret = destroy_locked(ictx, id);
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h> (audit): a snapshot under the context's lock. */
void stce_iommufd_get_stats(struct stce_iommufd *ictx,
			    struct stce_iommufd_stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&ictx->lock);
	for (uint32_t i = 0; i < ictx->nr_slots; i++) {
		struct iofd_obj *o = ictx->objs[i];

		if (!o)
			continue;
		s->nr_objects++;
		if (o->type == IOFD_HWPT)
			s->nr_domains++;
		if (o->type == IOFD_IOAS) {
			s->nr_areas += ((struct iofd_ioas *)o)->nr_areas;
			s->nr_pins += ((struct iofd_ioas *)o)->nr_pins;
		}
	}
	pthread_mutex_unlock(&ictx->lock);
}

/* Teardown in dependency order: devices, compat groups, IOASes. */
static void teardown(struct stce_iommufd *ictx)
{
	stce_assert_held(&ictx->lock);
	for (uint32_t i = 0; i < ictx->nr_slots; i++) {
		struct iofd_obj *o = ictx->objs[i];

		if (o && o->type == IOFD_DEVICE) {
			struct iofd_device *dev = (struct iofd_device *)o;

			if (dev->dom)
				detach_locked(dev);
			iofd_remove(ictx, o);
			stce_free(dev);
		}
	}
	for (unsigned int i = 0; i < ictx->nr_compat; i++)
		if (ictx->compat_ioas && ictx->compat_ioas->dom)
			stce_container_detach(ictx->compat_ioas->dom->c,
					      ictx->compat_pes[i]);
	ictx->nr_compat = 0;
	for (uint32_t i = 0; i < ictx->nr_slots; i++) {
		struct iofd_obj *o = ictx->objs[i];
		struct iofd_ioas *ioas = (struct iofd_ioas *)o;
		uint64_t unmapped;

		if (!o || o->type != IOFD_IOAS)
			continue;
		if (ioas->nr_areas)
			iofd_ioas_unmap_locked(ioas, 0, UINT64_MAX, &unmapped);
		if (ioas->dom)
			iofd_domain_destroy(ictx, ioas->dom);
		iofd_remove(ictx, o);
		iofd_ioas_free(ioas);
	}
}

/* See <spapr_tce/iommufd.h>. */
void stce_iommufd_put(struct stce_iommufd *ictx)
{
	if (!ictx || atomic_fetch_sub(&ictx->refs, 1) != 1)
		return;
	pthread_mutex_lock(&ictx->lock);
	teardown(ictx);
	pthread_mutex_unlock(&ictx->lock);
	stce_free(ictx->objs);
	pthread_mutex_destroy(&ictx->lock);
	stce_free(ictx);
}
