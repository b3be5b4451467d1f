#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layer rule, checked: data flows down and nobody opens another
layer's private header.

The units (folders), their ranks and their headers are the layer table of
docs/architecture.md (between the "layer table" markers); this script reads
nothing else about them. Every #include of every C file and header under
the units' folders is resolved (the file's own folder, then the -I folders
its compile command gives, else include/ and src/), and every symbol an
object file of the build needs (nm) is matched to the object that defines
it: first in the same target, then in the library's objects. A pair that
breaks a rule below is a violation; scripts/check-layers.allow lists the
ones today's code still has, each with the issue item that removes it.

Rules, for a file of unit A using a file of another unit B:
  a layer (a number) uses only layers of a lower number;
  an app (preload/, tools/) uses the public API only: public headers, and
    symbols libspapr-tce.so exports; and examples/, which is on it too;
  a harness (tests/X/, fuzz/, bench/) uses anything of the library, a
    "shared" unit (tests/lib/) and examples/, but no other harness;
  standalone code (examples/) uses the public API only, as an app, and no
    other unit;
  a private header is for its own unit (and tests/X/ for X's), a
    "(tests)" header for its own unit and the harness. A header named
    *_audit.h under a unit's folder is a "(tests)" one whatever the table
    says: audits are built into the test library only.

Exits 1 on a violation that is not allowed, on an allowed one that no
longer exists (delete its line), and on a file in no unit of the table.

--graph prints, instead of checking, which unit uses which (includes and
symbols, counted by file pair) as the build has it.

usage: check-layers.py SOURCE_ROOT BUILD_DIR [--table FILE] [--allow FILE]
                       [--graph]
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
RANKS = ('app', 'harness', 'shared', 'standalone')


class Unit:
    def __init__(self, rank, folder, public, private, owns):
        self.rank = rank            # an int (a layer) or one of RANKS
        self.folder = folder        # 'src/pe/', or '' for header-only units
        self.public = public        # paths under include/spapr_tce/
        self.private = {}           # header path -> 'private' | 'tests'
        for p in private:
            test_only = p.endswith('(tests)')
            path = p.replace('(tests)', '').strip()
            self.private[os.path.join(folder, path)] = \
                'tests' if test_only else 'private'
        self.name = folder or '(%s)' % owns

    @property
    def layer(self):
        return isinstance(self.rank, int)


def cells(line):
    return [c.strip() for c in line.strip().strip('|').split('|')]


def names(cell):
    return [n.strip().strip('`') for n in cell.split(',')
            if n.strip().strip('`') not in ('', '-', '—')]


def read_table(path):
    text = open(path).read()
    m = re.search(r'<!-- layer table: begin -->(.*?)<!-- layer table: end -->',
                  text, re.S)
    if not m:
        sys.exit('%s: no "layer table" markers' % path)
    units = []
    for line in m.group(1).splitlines():
        if not line.startswith('|') or set(line) <= set('|-: '):
            continue
        c = cells(line)
        if c[0] == 'rank':
            continue
        rank = int(c[0]) if c[0].isdigit() else c[0]
        if not isinstance(rank, int) and rank not in RANKS:
            sys.exit('%s: unknown rank %r' % (path, c[0]))
        folder = c[1].strip('`')
        folder = '' if folder.startswith('(') else folder
        units.append(Unit(rank, folder, names(c[2]), names(c[3]),
                          c[1].strip('`()') if not folder else c[4]))
    return units


class Layers:
    def __init__(self, root, units):
        self.root = root
        self.units = units
        self.by_public = {}
        for u in units:
            for h in u.public:
                self.by_public[os.path.join('include/spapr_tce', h)] = u
        self.private = {}
        for u in units:
            self.private.update(u.private)
        self.subunits = {}      # tests/X/ for each X, made as met

    def unit_of(self, path):
        """The unit a file (relative to the root) belongs to, or None."""
        if path.startswith('include/spapr_tce/'):
            for h, u in self.by_public.items():
                if path == h or (h.endswith('/') and path.startswith(h)):
                    return u
            return None
        explicit = [u for u in self.units if u.folder and
                    not u.folder.endswith('*/') and path.startswith(u.folder)]
        best = max(explicit, key=lambda u: len(u.folder), default=None)
        for u in self.units:
            base = u.folder[:-2] if u.folder.endswith('*/') else None
            if not base or not path.startswith(base) or \
               '/' not in path[len(base):]:
                continue
            sub = base + path[len(base):].split('/')[0] + '/'
            if best is None or len(best.folder) < len(sub):
                if sub not in self.subunits:
                    self.subunits[sub] = Unit(u.rank, sub, [], [], '')
                best = self.subunits[sub]
        return best

    def mark_audit_headers(self, paths):
        """*_audit.h headers are test-only by their name."""
        for p in paths:
            if p.endswith('_audit.h') and not p.startswith('include/'):
                self.private[p] = 'tests'

    def read_declared(self):
        """Names each private header mentions before a '(' and no public
        header does: its functions (a call to one is a private use)."""
        def mentioned(path):
            text = open(os.path.join(self.root, path), errors='replace').read()
            text = re.sub(r'/\*.*?\*/|//[^\n]*', '', text, flags=re.S)
            return set(re.findall(r'\b([A-Za-z_]\w*)\s*\(', text))
        public = set()
        for h in self.by_public:
            full = os.path.join(self.root, h)
            if not os.path.exists(full):
                continue
            for d, _, files in os.walk(full) if os.path.isdir(full) else \
                    [(os.path.dirname(full), [], [os.path.basename(full)])]:
                for f in files:
                    if f.endswith('.h'):
                        public |= mentioned(rel(self.root, os.path.join(d, f)))
        self.declared_in = {}
        for h in self.private:
            if os.path.exists(os.path.join(self.root, h)):
                for name in mentioned(h) - public:
                    self.declared_in.setdefault(name, h)

    def mirror(self, harness, unit):
        """tests/X/ tests X: src/X/ or X/."""
        if not harness.folder.startswith('tests/'):
            return False
        x = harness.folder.split('/')[1]
        return unit.folder in ('src/%s/' % x, '%s/' % x)

    def rule(self, a, b, header=None, symbol=None, exported=None):
        """Why A may not use B (through @header or @symbol), or None."""
        if a.name == b.name:
            return None
        if symbol and header is None:
            header = self.declared_in.get(symbol)
        kind = self.private.get(header) if header else None
        if kind == 'private' and not (a.rank == 'harness' and self.mirror(a, b)):
            return 'private header of %s' % b.name
        if kind == 'tests' and a.rank not in ('harness', 'shared'):
            return 'test-only header of %s' % b.name
        if a.layer:
            if not b.layer:
                return 'upward (%s uses %s)' % (a.name, b.name)
            if b.rank > a.rank:
                return 'upward (rank %d uses rank %d)' % (a.rank, b.rank)
            if b.rank == a.rank:
                return 'between peers (rank %d)' % a.rank
            return None
        if a.rank in ('app', 'standalone'):
            who = 'app' if a.rank == 'app' else 'standalone code'
            if a.rank == 'app' and b.rank == 'standalone':
                return None     # examples/ is on the public API too
            if not b.layer:
                return '%s uses %s' % (who, b.name)
            if header and not header.startswith('include/'):
                return '%s includes an internal header' % who
            if symbol and exported is not None and symbol not in exported:
                return '%s calls a symbol outside the public API' % who
            return None
        # harness and shared
        if b.rank == 'harness' or (a.rank == 'shared' and b.rank == 'shared'):
            return 'test folder uses %s' % b.name
        return None


def rel(root, path):
    return os.path.relpath(os.path.realpath(path), root)


def compile_db(build):
    path = os.path.join(build, 'compile_commands.json')
    return json.load(open(path)) if os.path.exists(path) else []


def scan_files(root, layers):
    out = []
    for top in sorted({u.folder.split('/')[0] for u in layers.units if u.folder} |
                      {'include'}):
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            for f in sorted(files):
                if f.endswith(('.c', '.h')):
                    out.append(rel(root, os.path.join(d, f)))
    return out


def include_dirs(root, build, db):
    """-I folders (relative to the root, inside it) of each compiled file."""
    dirs = {}
    for e in db:
        args = e.get('arguments') or shlex.split(e['command'])
        inc = []
        for i, a in enumerate(args):
            d = None
            if a == '-I' and i + 1 < len(args):
                d = args[i + 1]
            elif a.startswith('-I') and len(a) > 2:
                d = a[2:]
            if d is None:
                continue
            r = rel(root, os.path.join(e['directory'], d))
            if not r.startswith('..') and os.path.isdir(os.path.join(root, r)) \
               and not os.path.realpath(os.path.join(root, r)).startswith(
                   os.path.realpath(build)):
                inc.append(r)
        src = rel(root, os.path.join(e['directory'], e['file']))
        dirs.setdefault(src, [])
        for d in inc:
            if d not in dirs[src]:
                dirs[src].append(d)
    return dirs


def resolve(root, path, quote, name, incdirs):
    here = [os.path.dirname(path)] if quote == '"' else []
    for d in here + incdirs:
        cand = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def include_edges(root, build, layers, db):
    """(file, header or None when it is not in the tree, as written) for
    every #include."""
    dirs = include_dirs(root, build, db)
    by_folder = {}
    for src, inc in dirs.items():
        by_folder.setdefault(os.path.dirname(src), []).extend(inc)
    default = ['include', 'src']
    for path in scan_files(root, layers):
        text = open(os.path.join(root, path), errors='replace').read()
        inc = dirs.get(path) or (by_folder.get(os.path.dirname(path), []) + default)
        for quote, name in INCLUDE_RE.findall(text):
            target = resolve(root, path, quote, name, inc)
            if target != path:
                yield path, target, name


def nm(obj):
    out = subprocess.run(['nm', obj], check=True, capture_output=True,
                         text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] in 'Uw':
            undefined.add(f[1])
        elif len(f) == 3 and f[1] in 'TDBRVWGSC':
            defined.add(f[2])
    return defined, undefined


def call_edges(root, build, db):
    """(source, defining source, symbol) for every symbol an object needs
    that another object of its target, or of the library, defines."""
    objs = []
    for e in db:
        obj = os.path.join(e['directory'], e['output'])
        if not os.path.exists(obj):
            sys.exit('%s: not built (run ninja first)' % obj)
        src = rel(root, os.path.join(e['directory'], e['file']))
        objs.append((src, os.path.dirname(e['output']), nm(obj)))
    defs_by_target, lib_defs = {}, {}
    for src, target, (defined, _) in objs:
        for s in defined:
            defs_by_target.setdefault(target, {}).setdefault(s, set()).add(src)
            if src.startswith('src/'):
                lib_defs.setdefault(s, set()).add(src)
    for src, target, (_, undefined) in objs:
        local = defs_by_target.get(target, {})
        for s in undefined:
            for d in sorted(local.get(s) or lib_defs.get(s, ())):
                if d != src:
                    yield src, d, s


def exported_api(build):
    lib = os.path.join(build, 'libspapr-tce.so')
    if not os.path.exists(lib):
        return None
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    return {l.split()[2] for l in out.splitlines() if len(l.split()) == 3}


def read_allow(path):
    allow = {}
    if not os.path.exists(path):
        return allow
    for n, line in enumerate(open(path), 1):
        line = line.split('#')[0].strip()
        if not line:
            continue
        m = re.match(r'^(15\.[1-7])\s+(\S+)\s+->\s+(\S+)\s+(include|call\s+\S+)$',
                     ' '.join(line.split()))
        if not m:
            sys.exit('%s:%d: expected "15.N FROM -> TO include|call SYMBOL"'
                     % (path, n))
        allow[(m.group(2), m.group(3), m.group(4))] = (m.group(1), n)
    return allow


class Check:
    """The violations found, against what the allowlist allows."""

    def __init__(self, layers, allow):
        self.layers, self.allow = layers, allow
        self.failures, self.found, self.graph = [], set(), {}
        self.unresolved = set()     # (file, header name) found nowhere

    def unit(self, path):
        u = self.layers.unit_of(path)
        if u is None:
            self.failures.append('%s: in no unit of the layer table' % path)
        return u

    def use(self, path, target, what, **how):
        a, b = self.unit(path), self.unit(target)
        if not a or not b or a.name == b.name:
            return
        self.graph.setdefault((a.name, b.name), set()).add((path, target))
        why = self.layers.rule(a, b, **how)
        if not why:
            return
        if what != 'include' and why.startswith(('private', 'test-only')):
            why = 'calls %s, declared in a %s' % (how['symbol'], why)
        key = (path, target, what)
        self.found.add(key)
        if key not in self.allow:
            self.failures.append('%s -> %s %s: %s' % (path, target, what, why))

    def stale(self, allow_path, compiled):
        for key, (item, n) in sorted(self.allow.items(), key=lambda kv: kv[1][1]):
            if key in self.found:
                continue
            if key[0] not in compiled and (
                    key[2].startswith('call') or
                    (key[0], os.path.basename(key[1])) in self.unresolved):
                continue        # not compiled here: its -I folders unknown
            self.failures.append('%s:%d: %s -> %s %s no longer happens: '
                                 'delete the line' % ((allow_path, n) + key))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('root')
    ap.add_argument('build')
    ap.add_argument('--table')
    ap.add_argument('--allow')
    ap.add_argument('--graph', action='store_true')
    args = ap.parse_args()
    root = os.path.realpath(args.root)
    layers = Layers(root, read_table(args.table or
                                     os.path.join(root, 'docs/architecture.md')))
    layers.mark_audit_headers(scan_files(root, layers))
    layers.read_declared()
    allow_path = args.allow or os.path.join(root, 'scripts/check-layers.allow')
    check = Check(layers, read_allow(allow_path))
    db = [e for e in compile_db(args.build)
          if not rel(root, os.path.join(e['directory'], e['file'])).startswith('..')]
    compiled = {rel(root, os.path.join(e['directory'], e['file'])) for e in db}
    exported = exported_api(args.build)

    for path in sorted(set(scan_files(root, layers)) | compiled):
        check.unit(path)
    n_inc = n_call = 0
    for path, target, name in include_edges(root, args.build, layers, db):
        if target is None:
            check.unresolved.add((path, os.path.basename(name)))
            continue
        n_inc += 1
        check.use(path, target, 'include', header=target)
    for src, d, sym in call_edges(root, args.build, db):
        n_call += 1
        check.use(src, d, 'call ' + sym, symbol=sym, exported=exported)
    if args.graph:
        for (a, b), pairs in sorted(check.graph.items()):
            print('%-16s -> %-16s %3d file pairs' % (a, b, len(pairs)))
        return 0
    check.stale(allow_path, compiled)
    failures = sorted(set(check.failures))
    for f in failures:
        print('FAIL:', f)
    print('layers: %d includes, %d symbol references checked; %d violations '
          'allowed (%s), %d failures'
          % (n_inc, n_call, len(check.found & set(check.allow)),
             os.path.basename(allow_path), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
