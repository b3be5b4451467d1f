// SPDX-License-Identifier: MIT
/*
 * The device descriptor's region offsets (vfio-pci's: the region index in
 * the offset's bits 40 and up) and what the DMA test device's BAR0 reads
 * at offset 0, for the tests that read and write a device descriptor.
 * Needs <linux/vfio.h> and <sys/types.h>.
 */
#ifndef TESTS_LIB_VFIO_REGION_H
#define TESTS_LIB_VFIO_REGION_H

#define CFG	((off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40)
#define BAR0	((off_t)VFIO_PCI_BAR0_REGION_INDEX << 40)
#define DEV_ID	0x53544345444d4131ULL	/* "STCEDMA1" */

#endif
