#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every extern function definition under src/ carries its contract: a
comment that ends on the line directly above the definition (its first
line: the return type, or the name when the type has a line of its own).
The comment is the one-line contract, or a pointer to the header that has
it: /* See <spapr_tce/x.h>. */ or /* See pe_internal.h. */.

A definition is extern when it is at file scope (a line at column 0 opens
it, a line "{" at column 0 starts its body) and "static" is not among its
specifiers. Only the .c files count: a header's inline functions are
static and have their contract in the header.

scripts/check-contracts.allow lists, as FILE:FUNCTION, the definitions
that still have none (each folder's owner removes its lines); the check
fails on a definition with no comment that is not listed, and on a listed
one that has a comment now or is gone (delete the line), so the list
cannot go stale.

usage: check-contracts.py SOURCE_ROOT [--allow FILE] [--list]
  --list prints every definition without a comment (FILE:FUNCTION), the
         allowlist's format, and exits 0.
"""
import argparse
import os
import re
import sys

# The function's name: the last identifier before the declarator's "(".
NAME_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*$')
ATTR_RE = re.compile(r'__attribute__\s*\(\(.*?\)\)')


def ends_head(line):
    """True when @line cannot be part of a definition's head: the head
    starts on the line after it."""
    s = line.rstrip()
    return (not s or s.startswith(('#', '//', '}')) or s.endswith(('*/', ';'))
            or s == '{')


def is_comment_line(line):
    s = line.strip()
    return s.startswith('//') or (s.startswith('/*') and s.endswith('*/'))


def definitions(lines):
    """(first line index, name, specifiers) of each file-scope function
    definition in @lines: kernel style opens a function's body, and only a
    function's, with a "{" alone at column 0."""
    out = []
    for i, line in enumerate(lines):
        if line != '{' or i == 0:
            continue
        start = i
        # A comment between the head and the "{" is not the contract.
        while start > 0 and is_comment_line(lines[start - 1]):
            start -= 1
        while start > 0 and not ends_head(lines[start - 1]):
            start -= 1
        head = ' '.join(l.strip() for l in lines[start:i]
                        if not is_comment_line(l))
        head = ATTR_RE.sub('', head)
        paren = head.find('(')
        m = NAME_RE.search(head[:paren]) if paren > 0 else None
        if m:
            out.append((start, m.group(1), head[:m.start(1)].split()))
    return out


def has_comment_above(lines, idx):
    if idx == 0:
        return False
    above = lines[idx - 1].rstrip()
    return above.endswith('*/') or above.lstrip().startswith('//')


def missing(root):
    """FILE:FUNCTION of every extern definition under src/ with no
    comment directly above it."""
    found = []
    for folder, dirs, files in os.walk(os.path.join(root, 'src')):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith('.c'):
                continue
            path = os.path.join(folder, f)
            rel = os.path.relpath(path, root)
            lines = open(path, encoding='utf-8').read().split('\n')
            for idx, name, spec in definitions(lines):
                if 'static' in spec:
                    continue
                if not has_comment_above(lines, idx):
                    found.append('%s:%s' % (rel, name))
    return found


def read_allow(path):
    allowed = []
    if not path or not os.path.exists(path):
        return allowed
    for line in open(path):
        line = line.split('#', 1)[0].strip()
        if line:
            allowed.append(line)
    return allowed


def commented(root, entry):
    """True when FILE:FUNCTION exists and has its comment."""
    rel, name = entry.rsplit(':', 1)
    path = os.path.join(root, rel)
    if not os.path.exists(path):
        return None
    lines = open(path, encoding='utf-8').read().split('\n')
    for idx, n, spec in definitions(lines):
        if n == name and 'static' not in spec:
            return has_comment_above(lines, idx)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('root')
    ap.add_argument('--allow')
    ap.add_argument('--list', action='store_true')
    args = ap.parse_args()
    found = missing(args.root)
    if args.list:
        print('\n'.join(found))
        return 0
    allowed = read_allow(args.allow)
    bad = [f for f in found if f not in allowed]
    for f in bad:
        print('%s: extern function with no comment directly above its '
              'definition (a one-line contract, or "See <header>.")' % f)
    stale = []
    for a in allowed:
        if a in found:
            continue
        state = commented(args.root, a)
        stale.append(a)
        print('%s: listed in the allowlist but %s: delete its line' %
              (a, 'has its contract now' if state else
               'is no extern definition'))
    checked = len(found) - len(bad)
    if bad or stale:
        print('check-contracts: %d without a contract, %d stale allowlist '
              'lines' % (len(bad), len(stale)))
        return 1
    print('check-contracts: every extern definition has its contract '
          '(%d allowed still without)' % checked)
    return 0


if __name__ == '__main__':
    sys.exit(main())
