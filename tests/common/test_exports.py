#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the shipped libraries export, against what they promise.

libspapr-tce.so: exactly the functions that include/spapr_tce/ declares
(every one of them, nothing else: an internal helper exported, or a public
prototype without STCE_API, fails). libspapr-tce-preload.so: only names
the C library defines, the entry points it interposes. libspapr-tce.a (and
so the .so, the tools and the preload library built from its objects): no
test hook, neither the audits nor the fault-injection switches.

usage: test_exports.py CC INCLUDE_DIR LIBSPAPR_TCE_SO PRELOAD_SO LIBSPAPR_TCE_A
"""
import re
import subprocess
import sys

# What the toolchain adds to any shared object (sanitizer bookkeeping,
# the linker's section markers), not API.
TOOLCHAIN = re.compile(r'^(__odr_asan\.|_init$|_fini$|_edata$|_end$|__bss_start$)')

# The test library's hooks (meson.build: stce_test_sources, STCE_TEST_HOOKS).
TEST_HOOK = re.compile(r'(_audit_|^stce_fault_(arm|calls)$)')


def exported(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                 capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and not TOOLCHAIN.match(fields[2]):
            names.add(fields[2].split('@')[0])
    return names


def defined(archive):
    out = subprocess.run(['nm', '--defined-only', archive], check=True,
                         capture_output=True, text=True).stdout
    return {l.split()[2] for l in out.splitlines() if len(l.split()) == 3}


def public_text(cc, incdir):
    """The umbrella header preprocessed, keeping only the lines that come
    from include/spapr_tce/ (line markers say where each comes from)."""
    pp = subprocess.run(cc + ['-E', '-I', incdir, '-x', 'c', '-'],
                input='#include <spapr_tce/spapr_tce.h>\n',
                check=True, capture_output=True, text=True).stdout
    keep, ours = [], False
    for line in pp.splitlines():
        m = re.match(r'^# \d+ "([^"]*)"', line)
        if m:
            ours = '/spapr_tce/' in m.group(1)
        elif ours:
            keep.append(line)
    return '\n'.join(keep)


def statements(text):
    """Top-level declarations: split at ';' outside braces; an inline
    function's body ends its statement at its closing brace."""
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    stmt, depth = [], 0
    for ch in text:
        stmt.append(ch)
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
            head = ''.join(stmt).split('{')[0].rstrip()
            if depth == 0 and head.endswith(')'):
                yield ''.join(stmt)
                stmt = []
        elif ch == ';' and depth == 0:
            yield ''.join(stmt)
            stmt = []


def prototypes(text):
    names = set()
    for s in statements(text):
        s = re.sub(r'__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)', '', s)
        s = ' '.join(s.split())
        if not s.endswith(';') or '{' in s or '(' not in s:
            continue
        if re.match(r'(typedef|static|extern "C")\b', s):
            continue
        m = re.search(r'(\w+)\s*\(', s)
        if m:
            names.add(m.group(1))
    return names


def libc_names(cc):
    path = subprocess.run(cc + ['-print-file-name=libc.so.6'], check=True,
                  capture_output=True, text=True).stdout.strip()
    return exported(path)


def main():
    cc, incdir, lib, preload, archive = (sys.argv[1].split(), sys.argv[2],
                                         sys.argv[3], sys.argv[4], sys.argv[5])
    failures = []
    public = prototypes(public_text(cc, incdir))
    if len(public) < 100:
        failures.append('only %d public prototypes parsed: the parser is broken' % len(public))
    out = exported(lib)
    for name in sorted(out - public):
        failures.append('%s exports %s, which no public header declares' % (lib, name))
    for name in sorted(public - out):
        failures.append('%s does not export %s (its prototype needs STCE_API)' % (lib, name))
    libc = libc_names(cc)
    for name in sorted(exported(preload) - libc):
        failures.append('%s exports %s, which is no C library entry point' % (preload, name))
    for name in sorted(n for n in defined(archive) if TEST_HOOK.search(n)):
        failures.append('%s defines the test hook %s' % (archive, name))
    for f in failures:
        print('FAIL:', f)
    print('%d public prototypes, %d exported; preload: %d entry points'
          % (len(public), len(out), len(exported(preload))))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
