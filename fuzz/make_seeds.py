#!/usr/bin/env python3
# Writes the seed corpus of fuzz_vfio_ioctl: each seed is a program in the
# target's input language (see op_* in fuzz_vfio_ioctl.c), spelled here
# choice by choice. Re-run after changing the language; the seeds are
# committed.
import os, struct

# The target's request list: every row of the ioctl table once, by kind
# (container, group, device, iommufd; a number already listed is not
# listed again), then six common ones again (fuzz_vfio_ioctl.c's
# requests_init).
REQ = dict(MAP=0, UNMAP=1, EEH=2, API=3, CHECK=4, SET_IOMMU=5, TCE_INFO=6,
           ENABLE=7, DISABLE=8, REGISTER=9, UNREGISTER=10, CREATE=11,
           REMOVE=12, STATUS=13, SET_CONTAINER=14, UNSET_CONTAINER=15,
           DEVICE_FD=16, DEV_INFO=17, REGION_INFO=18, IRQ_INFO=19,
           SET_IRQS=20, RESET=21, IOAS_MAP=22, IOAS_UNMAP=23, DESTROY=24,
           IOAS_ALLOC=25, IOVA_RANGES=26, IOAS_COPY=27, HWPT_ALLOC=28)
# Struct sizes of the rows the target builds from the table.
ROW_SIZE = dict(DEV_INFO=20, REGION_INFO=32, IRQ_INFO=16, SET_IRQS=20,
                IOAS_MAP=40, IOAS_UNMAP=24, DESTROY=8, IOAS_ALLOC=12,
                IOVA_RANGES=32, IOAS_COPY=40, HWPT_ALLOC=40)
NREQ = 35


class P:
    def __init__(self, topo=0):
        self.b = bytearray([topo])
        self.slots = 0

    def pick(self, v, n):
        assert 0 <= v < n
        self.b.append(v)

    def u8(self, v): self.b.append(v)
    def u32(self, v): self.b += struct.pack('<I', v)
    def u64(self, v): self.b += struct.pack('<Q', v)

    def fd(self, slot):
        self.pick(slot, self.slots + 2)

    def open_container(self):
        self.pick(0, 8); self.pick(0, 6); self.slots += 1

    def open_group(self, n):
        self.pick(0, 8); self.pick(1, 6); self.pick(n, 5); self.slots += 1

    def open_iommufd(self):
        self.pick(0, 8); self.pick(4, 6); self.slots += 1

    def open_cdev(self, n):
        self.pick(0, 8); self.pick(5, 6); self.pick(n, 3); self.slots += 1

    def row(self, req, slot, fill=b''):
        """A struct the target sizes by its row: zeros (or @fill), its
        argsz or size the row's size."""
        self.ioctl(req, slot); self.pick(0, 8)
        raw = fill + bytes(ROW_SIZE[req] - len(fill))
        self.b += raw; self.pick(1, 4); self.pick(3, 8); self.place()

    def close(self, slot):
        self.pick(1, 8); self.fd(slot); self.slots -= 1

    def set_container(self, g, c):
        self.pick(2, 8); self.fd(g); self.fd(c)

    def ioctl(self, req, slot):
        self.pick(4, 8); self.pick(REQ[req], NREQ); self.fd(slot)

    def argsz(self): self.pick(3, 8)
    def flags0(self): self.pick(1, 6)
    def place(self): self.pick(3, 16)

    def vaddr(self, buf, off64k):
        self.pick(buf, 3); self.pick(1, 5); self.u8(off64k)

    def iova(self, base, pages4k):  # base: 0 -> 0, 1 -> 1<<59, 3 -> last
        if base == 3:
            self.pick(3, 4)
        else:
            self.pick(0, 4); self.pick(base, 3)
        self.pick(1, 4); self.u8(pages4k)

    def size4k(self, n):
        self.pick(0, 6); self.u8(n)

    def set_iommu(self, slot, v2):
        self.ioctl('SET_IOMMU', slot); self.pick(1 if v2 else 0, 7)

    def noarg(self, req, slot):
        self.ioctl(req, slot)

    def register(self, slot, buf, unreg=False):
        self.ioctl('UNREGISTER' if unreg else 'REGISTER', slot)
        self.argsz(); self.flags0(); self.pick(buf, 3); self.pick(0, 5)
        self.pick(3, 6); self.pick(buf, 3); self.place()

    def map(self, slot, buf, off64k, base, pages4k, n4k, dirn=3):
        self.ioctl('MAP', slot); self.argsz(); self.pick(1, 8)
        self.pick(dirn, 4); self.vaddr(buf, off64k)
        self.iova(base, pages4k); self.size4k(n4k); self.place()

    def unmap(self, slot, base, pages4k, n4k):
        self.ioctl('UNMAP', slot); self.argsz(); self.flags0()
        self.iova(base, pages4k); self.size4k(n4k); self.place()

    def create(self, slot, shift_i, win_log, levels):
        self.ioctl('CREATE', slot); self.pick(shift_i, 6); self.argsz()
        self.flags0(); self.pick(1, 4); self.pick(win_log - 20, 24)
        self.pick(1, 4); self.pick(levels - 1, 3); self.place()

    def remove(self, slot, base):
        self.ioctl('REMOVE', slot); self.argsz(); self.flags0()
        self.iova(base, 0); self.place()

    def info(self, slot):
        self.ioctl('TCE_INFO', slot); self.argsz(); self.place()

    def device(self, slot, name):
        self.ioctl('DEVICE_FD', slot); self.pick(name, 7); self.pick(1, 8)
        self.place(); self.slots += 1


def v2_full():
    p = P()
    p.open_container(); p.open_group(0); p.set_container(1, 0)
    p.set_iommu(0, True); p.info(0)
    p.register(0, 0)
    p.map(0, 0, 0, 0, 0, 16)          # default window, 64K of 4K pages
    p.create(0, 1, 30, 2)             # 1G of 64K pages, 2 levels
    p.map(0, 0, 2, 3, 0, 64, dirn=1)  # into it, read-only
    p.unmap(0, 0, 0, 16)
    p.remove(0, 3)
    p.register(0, 0, unreg=True)
    return p.b


def v2_two_groups():
    p = P()
    p.open_container(); p.open_group(0); p.open_group(1)
    p.set_container(1, 0); p.set_iommu(0, True); p.set_container(2, 0)
    p.register(0, 1)
    p.map(0, 1, 0, 0, 0, 32)
    p.device(1, 0)
    p.noarg('UNSET_CONTAINER', 2)
    p.close(1)                        # the group goes while mapped
    p.register(0, 1, unreg=True)
    return p.b


def v1_full():
    p = P()
    p.open_container(); p.open_group(1); p.set_container(1, 0)
    p.set_iommu(0, False); p.info(0)
    p.noarg('ENABLE', 0)
    p.map(0, 0, 1, 0, 0, 16)
    p.map(0, 1, 0, 0, 8, 16, dirn=2)  # overlaps: replaces half
    p.unmap(0, 0, 4, 8)
    p.noarg('DISABLE', 0)
    return p.b


def v2_device():
    p = P()
    p.open_container(); p.open_group(0); p.set_container(1, 0)
    p.set_iommu(0, True)
    p.device(1, 5)                    # 0030:01:00.0, slot 2
    for r in ['DEV_INFO', 'REGION_INFO', 'IRQ_INFO', 'SET_IRQS']:
        p.row(r, 2)
    p.noarg('RESET', 2)
    p.info(2)                         # the device's GET_PCI_HOT_RESET_INFO
    return p.b


def iommufd():
    p = P()
    p.open_iommufd()                  # slot 0
    p.row('IOAS_ALLOC', 0)
    p.row('IOVA_RANGES', 0, struct.pack('<II', 32, 1))
    p.row('IOAS_MAP', 0, struct.pack('<III', 40, 7, 1))
    p.row('IOAS_UNMAP', 0, struct.pack('<II', 24, 1))
    p.row('IOAS_COPY', 0)
    p.row('HWPT_ALLOC', 0)
    p.open_cdev(0)                    # slot 1: only BIND before the bind
    p.row('DEV_INFO', 1)
    p.row('DESTROY', 0, struct.pack('<II', 8, 1))
    return p.b


def alt_topology():
    p = P(topo=1)
    p.open_container(); p.open_group(2); p.open_group(3)
    p.set_container(1, 0); p.set_iommu(0, True)   # max_windows=1: refused
    p.set_iommu(0, False); p.set_container(2, 0)   # v1: one group only
    p.noarg('ENABLE', 0); p.map(0, 0, 0, 0, 0, 16)
    return p.b


here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, 'corpus', 'fuzz_vfio_ioctl')
for name, f in [('v2_full', v2_full), ('v2_two_groups', v2_two_groups),
                ('v1_full', v1_full), ('alt_topology', alt_topology),
                ('v2_device', v2_device), ('iommufd', iommufd)]:
    with open(os.path.join(out, name), 'wb') as fh:
        fh.write(f())
