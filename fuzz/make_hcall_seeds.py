#!/usr/bin/env python3
# Writes the seed corpus of fuzz_hcall: each seed is a program in the
# target's input language (see op_* and pick_* in fuzz_hcall.c), spelled
# here choice by choice. Re-run after changing the language; the seeds are
# committed. A choice the target only reads at run time (the slow-path
# repeat after H_TOO_HARD) is spelled where the seed expects it.
import os, struct

A, B, E, P0, P1 = range(5)
RW_PERM = 4        # pick_tce: >= 4 is READ|WRITE


class P:
    def __init__(self, variant):
        self.b = bytearray([variant])

    def pick(self, v, n):
        assert 0 <= v < n
        self.b.append(v)

    def u8(self, v): self.b.append(v)
    def u16(self, v): self.b += struct.pack('<H', v)
    def u32(self, v): self.b += struct.pack('<I', v)

    # operands
    def lio(self, li): self.pick(li, 16)
    def ioba(self, idx): self.pick(4, 8); self.u16(idx)       # entry idx
    def tce_a(self, page, perm=RW_PERM):                       # slot 0 page
        self.pick(perm, 8); self.pick(6, 12); self.u16(page)
    def tce_b(self, page, perm=RW_PERM):                       # slot 1 page
        self.pick(perm, 8); self.pick(4, 12); self.u16(page)
    def flags(self, may_alloc=False): self.pick(0 if may_alloc else 1, 4)

    # operations
    def put(self, li, idx, page, slot=0, may_alloc=False, retry=None):
        self.pick(0, 12); self.lio(li); self.ioba(idx)
        (self.tce_a if slot == 0 else self.tce_b)(page)
        self.flags(may_alloc)
        if retry is not None:           # after H_TOO_HARD: slow path?
            self.pick(retry, 2)

    def indirect(self, li, idx, list_page, n, first_page, slot=0,
                 may_alloc=False, retry=None):
        self.pick(3, 12); self.lio(li); self.ioba(idx)
        self.pick(5, 10); self.u16(list_page)            # list in slot 0
        if n == 512:
            self.pick(0, 8)
        else:
            self.pick(1, 8); self.u16(n)                 # n % 601
        self.flags(may_alloc)
        self.pick(2, 4)                                  # sequential list
        (self.tce_a if slot == 0 else self.tce_b)(first_page)
        self.pick(0, 4)                                  # no changes
        if retry is not None:
            self.pick(retry, 2)

    def stuff(self, li, idx, n):
        self.pick(6, 12); self.lio(li); self.ioba(idx)
        self.pick(2, 6)                                  # value 0
        self.pick(3, 6); self.u8(n - 1)                  # 1 + u8 % 64
        self.flags()

    def get(self, li, idx):
        self.pick(8, 12); self.lio(li); self.ioba(idx)

    def other(self, what): self.pick(9, 12); self.pick(what, 8)

    def rtas_args(self):
        self.pick(1, 8); self.pick(1, 8)                 # nargs, nret right
        self.pick(1, 8); self.u32(0)                     # BUID, config

    def rtas_create(self, shift_i, extra):
        self.other(0); self.rtas_args()
        self.pick(1, 8); self.pick(shift_i, 4)           # 12 16 21 24
        self.pick(1, 8); self.pick(extra, 13)

    def rtas_remove(self, p1):
        self.other(1); self.pick(1, 8); self.pick(1, 8)
        self.pick(1 if p1 else 0, 8)

    def rtas_reset(self): self.other(2); self.rtas_args()
    def rtas_query(self): self.other(3); self.rtas_args()
    def liobn_remove(self, li): self.other(4); self.pick(li, 5)
    def liobn_create(self, li): self.other(5); self.pick(li, 3)
    def region(self, ri, ci): self.other(6); self.pick(ri, 3); self.pick(ci, 2)


def variant(a64k=False, b2m=False, l0=1, l1=1, b_twice=False):
    return (1 if a64k else 0) | (2 if b2m else 0) | ((l0 - 1) << 2) | \
           ((l1 - 1) << 3) | (0x10 if b_twice else 0)


seeds = {}

# One-level windows: map, read back, stuff, unmap through every kind.
p = P(variant())
p.put(A, 3, 5)
p.get(A, 3)
p.indirect(B, 0, 1000, 48, 0)           # 48 64K pages of slot 0
p.indirect(B, 0, 1001, 32, 8)
p.put(E, 7, 9)
p.stuff(A, 0, 16)
p.stuff(B, 0, 64)
p.get(B, 1)
seeds['basic'] = p

# 64K guest pages on 4K hardware, two-level window 0: the sub-batches; a
# list across the 32 MiB leaf boundary stops part-way, the slow path
# completes it.
p = P(variant(a64k=True, l0=2, l1=2))
p.put(A, 1, 2, retry=1)                 # level missing: slow path
p.indirect(A, 0, 1000, 64, 0)
p.indirect(A, 480, 1001, 64, 0, retry=1)       # entries 480..543: 2 leaves
p.put(B, 4, 3, may_alloc=True)
p.stuff(A, 500, 40)
p.get(A, 500)
seeds['subpages_levels'] = p

# 2M guest pages on the 64K DDW; the second slot: registered MiB, rest not.
p = P(variant(b2m=True))
p.put(B, 0, 0)
p.put(B, 1, 0, slot=1, retry=0)         # 2M page, 1M registered
p.put(A, 2, 0, slot=1)
p.put(A, 3, 300, slot=1, retry=1)       # past the registered MiB
p.indirect(A, 10, 1020, 600 % 601, 0)   # 600 entries: > 512
p.region(2, 0)
p.region(2, 1)
p.put(A, 4, 1, slot=1)
p.region(2, 1)
seeds['bigpages_regions'] = p

# RTAS: query, create a DDW, map into it, remove, reset; LIOBNs removed
# and created again.
p = P(variant())
p.rtas_query()
p.put(P0, 1, 1)
p.rtas_create(1, 8)                     # 64K pages, 16 MiB
p.put(P1, 2, 2)
p.indirect(P1, 0, 1000, 16, 4)
p.rtas_query()
p.rtas_remove(True)
p.put(P1, 2, 2)
p.rtas_create(0, 4)
p.rtas_reset()
p.liobn_remove(A)
p.put(A, 1, 1)
p.liobn_create(A)
p.put(A, 1, 1)
p.liobn_remove(E)
p.liobn_create(E); p.pick(1, 8); p.pick(0, 13); p.pick(1, 4); p.u16(0x40)
p.pick(1, 8); p.u16(31)
p.put(E, 0x41, 1)
seeds['rtas_liobns'] = p

# B on two windows: C1's DDW in one level, C3's in two. The first put
# fails in C3's (level missing) and is rolled back in C1's; the slow path
# then maps both; a list and a stuff cover both.
p = P(variant(b_twice=True))
p.put(B, 2, 3, retry=1)
p.indirect(B, 8, 1000, 32, 4)
p.stuff(B, 10, 8)
p.liobn_remove(B)
p.liobn_create(B)
p.put(B, 2, 3, may_alloc=True)
seeds['two_windows'] = p

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus',
                   'fuzz_hcall')
os.makedirs(out, exist_ok=True)
for name, prog in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes(prog.b))
