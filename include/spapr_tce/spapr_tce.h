/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: a userspace implementation of the Linux VFIO sPAPR TCE IOMMU.
 * This header pulls in every public part of the C API.
 */
#ifndef SPAPR_TCE_H
#define SPAPR_TCE_H

#include <spapr_tce/table.h>

#endif /* SPAPR_TCE_H */
