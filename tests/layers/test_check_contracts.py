#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scripts/check-contracts.py on a small tree of its own. The clean tree
passes (an extern definition with a comment directly above it, its type
on a line of its own or not, attributes, static ones without); an extern
definition with no comment fails, and so does one whose comment is
separated from it by a blank line; an allowed one passes, and an allowed
one that has its comment now, or is gone, fails (the list cannot go
stale).

usage: test_check_contracts.py CHECK_CONTRACTS_PY
"""
import os
import subprocess
import sys
import tempfile

CLEAN = '''// SPDX-License-Identifier: MIT
#include <stdint.h>

/* Internal helpers need no comment. */
static int helper(int x)
{
	return x;
}

static inline __attribute__((always_inline)) int
inline_helper(int x)
{
	return x;
}

/* See <spapr_tce/a.h>. */
int a_one(int x)
{
	return helper(x);
}

/* The sum of @x and @y, a contract over
 * two lines. */
uint64_t
a_two(uint64_t x,
      uint64_t y)
{
	return x + y;
}

// A C99 comment counts too.
__attribute__((cold)) void a_three(void)
{
}

struct s { int v; };
static const struct s table[] = {
	{ 1 },
};
'''

BROKEN = {
    'no comment': 'int a_four(void)\n{\n\treturn 4;\n}\n',
    'blank line between': '/* Four. */\n\nint a_four(void)\n{\n\treturn 4;\n}\n',
    'comment on the body': 'int a_four(void)\n/* not here */\n{\n\treturn 4;\n}\n',
}


def run(check, root, allow=None):
    args = [sys.executable, check, root]
    if allow:
        args += ['--allow', allow]
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def tree(tmp, extra=''):
    os.makedirs(os.path.join(tmp, 'src', 'a'), exist_ok=True)
    with open(os.path.join(tmp, 'src', 'a', 'a.c'), 'w') as f:
        f.write(CLEAN + extra)


def expect(what, cond, out):
    if not cond:
        print('FAIL: %s\n%s' % (what, out))
        sys.exit(1)
    print('ok: %s' % what)


def main():
    check = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        allow = os.path.join(tmp, 'allow')
        tree(tmp)
        rc, out = run(check, tmp)
        expect('clean tree passes', rc == 0, out)
        for why, text in BROKEN.items():
            tree(tmp, text)
            rc, out = run(check, tmp)
            expect('%s fails' % why,
                   rc == 1 and 'src/a/a.c:a_four' in out, out)
        # 'comment on the body' is still in the tree: allow it.
        with open(allow, 'w') as f:
            f.write('# why\nsrc/a/a.c:a_four\n')
        rc, out = run(check, tmp, allow)
        expect('an allowed definition passes', rc == 0, out)
        tree(tmp, '/* Four. */\nint a_four(void)\n{\n\treturn 4;\n}\n')
        rc, out = run(check, tmp, allow)
        expect('an allowed one with its comment now fails',
               rc == 1 and 'delete its line' in out, out)
        tree(tmp)
        rc, out = run(check, tmp, allow)
        expect('an allowed one that is gone fails',
               rc == 1 and 'delete its line' in out, out)
        rc, out = run(check, tmp)
        expect('--list prints nothing for the clean tree', rc == 0, out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
