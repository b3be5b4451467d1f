/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: a userspace implementation of the Linux VFIO sPAPR TCE IOMMU.
 * This header pulls in every public part of the C API.
 */
#ifndef SPAPR_TCE_H
#define SPAPR_TCE_H

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/device.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/hostmem.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/size.h>
#include <spapr_tce/table.h>
#include <spapr_tce/topology.h>
#include <spapr_tce/vfio.h>

#endif /* SPAPR_TCE_H */
