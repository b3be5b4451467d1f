#!/usr/bin/env python3
# replay.py TRACE REPLAY_C: print replay.c with its step table filled from a
# spapr-tce trace (SPAPR_TCE_TRACE=file) of a QEMU run: every container
# ioctl QEMU made, in order, MAP/UNMAP on consecutive pages folded into one
# step. Device, group and region calls are left out: they belong to the
# device, which differs between the oracle (an e1000e) and spapr-tce.
import re
import sys

CALL = re.compile(r'ioctl\(\d+<container>, (\w+), (.*)\) = -?\d+')
FIELD = re.compile(r'(\w+)=(0x[0-9a-f]+|\w+)')


def steps(trace):
    ram = None
    for line in open(trace):
        m = CALL.search(line)
        if not m:
            continue
        name, f = m.group(1), dict(FIELD.findall(m.group(2)))
        num = lambda k: int(f[k], 0)
        if name == 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY':
            ram = ram if ram is not None else num('vaddr')
            yield ['REGISTER', 0, num('size'), 0]
        elif name == 'VFIO_IOMMU_SPAPR_TCE_GET_INFO':
            yield ['GET_INFO', 0, 0, 0]
        elif name == 'VFIO_IOMMU_SPAPR_TCE_CREATE':
            yield ['CREATE', num('page_shift'), num('window_size'), num('levels')]
        elif name == 'VFIO_IOMMU_SPAPR_TCE_REMOVE':
            yield ['REMOVE', num('start_addr'), 0, 0]
        elif name == 'VFIO_IOMMU_MAP_DMA':
            yield ['MAP', num('iova'), num('size'), num('vaddr') - ram]
        elif name == 'VFIO_IOMMU_UNMAP_DMA':
            yield ['UNMAP', num('iova'), num('size'), 0]
        elif name == 'VFIO_EEH_PE_OP':
            yield ['EEH', f['op'], 0, 0]


def folded(trace):
    out = []
    for s in steps(trace):
        p = out[-1] if out else None
        # The next page of a run: same call and size, iova (and for MAP
        # the RAM offset) one size further.
        if p and s[0] == p[0] and s[0] in ('MAP', 'UNMAP') and s[2] == p[2] and \
                s[1] == p[1] + p[2] * p[4] and \
                (s[0] == 'UNMAP' or s[3] == p[3] + p[2] * p[4]):
            p[4] += 1
        else:
            out.append(s + [1])
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: replay.py TRACE REPLAY_C')
    table = ''.join('\t{ %s, %s, 0x%x, 0x%x, %d },\n' %
                    (k, a if isinstance(a, str) else '0x%x' % a, b, c, n)
                    for k, a, b, c, n in folded(sys.argv[1]))
    sys.stdout.write(open(sys.argv[2]).read().replace('/* @STEPS@ */\n', table))


main()
