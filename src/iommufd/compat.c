// SPDX-License-Identifier: MIT
/*
 * The legacy container's state: the groups joined to the compatibility
 * IOAS (VFIO_GROUP_SET_CONTAINER given an iommufd), the domain that
 * VFIO_SET_IOMMU makes for them, and EEH on the first real group. The
 * ioctls themselves - copies, argsz and flags, the VFIO type numbers - are
 * the ABI layer's (src/vfio/iommufd_fd.c); every call here takes the
 * context's lock.
 *
 * The domain is made once and lives until the context's last reference
 * goes (DESTROY refuses the compatibility IOAS and its HWPT), so the
 * container stce_iommufd_compat_container() returns stays valid while the
 * caller holds a reference, and its ioctls run on it as on a VFIO
 * container's IOMMU: without the context's lock.
 */
#include <errno.h>

#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>

#include "iommufd/iommufd_internal.h"

/* See <spapr_tce/iommufd.h>. */
unsigned int stce_iommufd_compat_nr_groups(struct stce_iommufd *ictx)
{
	unsigned int n;

	pthread_mutex_lock(&ictx->lock);
	n = ictx->nr_compat;
	pthread_mutex_unlock(&ictx->lock);
	return n;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_compat_group_attach(struct stce_iommufd *ictx,
				     struct stce_pe *pe)
{
	int ret = 0;

	pthread_mutex_lock(&ictx->lock);
	for (unsigned int i = 0; i < ictx->nr_compat; i++)
		if (ictx->compat_pes[i] == pe)
			ret = -EBUSY;
	if (!ret && ictx->nr_compat == IOFD_COMPAT_MAX_GROUPS)
		ret = -ENOSPC;
	if (!ret && ictx->compat_set)
		ret = stce_container_attach(ictx->compat_ioas->dom->c, pe);
	if (!ret)
		ictx->compat_pes[ictx->nr_compat++] = pe;
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_compat_group_detach(struct stce_iommufd *ictx,
				     struct stce_pe *pe)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&ictx->lock);
	for (unsigned int i = 0; i < ictx->nr_compat; i++) {
		if (ictx->compat_pes[i] != pe)
			continue;
		if (ictx->compat_set)
			stce_container_detach(ictx->compat_ioas->dom->c, pe);
		ictx->compat_pes[i] = ictx->compat_pes[--ictx->nr_compat];
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

static int set_iommu_locked(struct stce_iommufd *ictx)
{
	struct iofd_ioas *ioas = ictx->compat_ioas;
	unsigned int i;
	int ret;

	stce_assert_held(&ictx->lock);
	if (!ictx->nr_compat || ictx->compat_set)
		return -EINVAL;
	if (!ioas) {
		ret = iofd_ioas_alloc_locked(ictx, &ioas);
		if (ret)
			return ret;
		ictx->compat_ioas = ioas;
	}
	if (!ioas->dom) {
		ret = iofd_domain_create(ictx, ioas, ictx->compat_pes[0],
					 IOFD_DOMAIN_LEGACY, NULL);
		if (ret)
			return ret;
	}
	for (i = 0; i < ictx->nr_compat; i++) {
		ret = stce_container_attach(ioas->dom->c, ictx->compat_pes[i]);
		if (ret)
			goto unwind;
	}
	ictx->compat_set = true;
	return 0;
unwind:
	while (i--)
		stce_container_detach(ioas->dom->c, ictx->compat_pes[i]);
	if (!ioas->nr_areas)
		iofd_domain_destroy(ictx, ioas->dom);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_compat_set_iommu(struct stce_iommufd *ictx)
{
	int ret;

	pthread_mutex_lock(&ictx->lock);
	ret = set_iommu_locked(ictx);
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_compat_container(struct stce_iommufd *ictx,
				  struct stce_container **out)
{
	int ret = -EINVAL;

	pthread_mutex_lock(&ictx->lock);
	if (ictx->compat_set) {
		*out = ictx->compat_ioas->dom->c;
		ret = 0;
	}
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/*
 * EEH acts on the first real group, never on the domain's shadow PE
 * (the container's own EEH calls would take its first group: the
 * shadow). Under the lock, so the group cannot leave meanwhile.
 */
static struct stce_pe *eeh_pe_locked(struct stce_iommufd *ictx)
{
	stce_assert_held(&ictx->lock);
	return ictx->nr_compat ? ictx->compat_pes[0] : NULL;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_compat_eeh_op(struct stce_iommufd *ictx, unsigned int op)
{
	struct stce_pe *pe;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	pe = eeh_pe_locked(ictx);
	ret = pe ? stce_pe_eeh_op(pe, op) : -ENODEV;
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}

/* See <spapr_tce/iommufd.h>. */
int stce_iommufd_compat_eeh_inject(struct stce_iommufd *ictx,
				   unsigned int type, unsigned int func,
				   uint64_t addr, uint64_t mask)
{
	struct stce_pe *pe;
	int ret;

	pthread_mutex_lock(&ictx->lock);
	pe = eeh_pe_locked(ictx);
	ret = pe ? stce_pe_eeh_inject(pe, type, func, addr, mask) : -ENODEV;
	pthread_mutex_unlock(&ictx->lock);
	return ret;
}
