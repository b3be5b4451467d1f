#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scripts/check-layers.py on a small tree of its own: two layers and a
tool, compiled here. The clean tree passes; each way of breaking the rule
(an upward include, an upward call with no include to show it, a private
header opened from another layer, a tool calling outside the public API,
an example calling outside it or using a tool, a layer opening another's
*_audit.h, which only harnesses may, a file in no unit) fails with its
reason (a tool using an example on the public API is clean); an allowed violation passes,
and an allowed one that is gone fails (the list cannot go stale).

usage: test_check_layers.py CHECK_LAYERS_PY CC
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TABLE = '''# Architecture
<!-- layer table: begin -->
| rank | folder | public headers | private headers | owns |
| --- | --- | --- | --- | --- |
| 0 | (base) | `export.h` | | |
| 1 | `src/low/` | `low.h` | | the bottom |
| 2 | `src/high/` | `high.h` | `high_internal.h` | the top |
| app | `tools/` | | | a tool |
| standalone | `examples/` | | | an example on the public API |
| harness | `tests/*/` | | | a test folder each |
<!-- layer table: end -->
'''

CLEAN = {
    'include/spapr_tce/export.h': '#define STCE_API __attribute__((visibility("default")))\n',
    'include/spapr_tce/low.h': '#include <spapr_tce/export.h>\nSTCE_API int low_fn(void);\n',
    'include/spapr_tce/high.h': '#include <spapr_tce/export.h>\nSTCE_API int high_fn(void);\n',
    'src/low/low.c': '#include <spapr_tce/low.h>\nint low_fn(void) { return 1; }\n'
                     'int low_hidden(void) { return 4; }\n',
    'src/high/high_internal.h': 'int high_secret(void);\n',
    'src/low/low_audit.h': 'int low_audit(void);\n',
    'src/low/audit.c': '#include "low/low_audit.h"\nint low_audit(void) { return 5; }\n',
    'tests/t/t.c': '#include "low/low_audit.h"\nint t_fn(void) { return low_audit(); }\n',
    'src/high/high.c': '#include <spapr_tce/high.h>\n#include <spapr_tce/low.h>\n'
                       '#include "high/high_internal.h"\n'
                       'int high_secret(void) { return 2; }\n'
                       'int high_fn(void) { return low_fn() + high_secret(); }\n',
    'examples/model.h': '#include <spapr_tce/low.h>\nint model_fn(void);\n',
    'examples/model.c': '#include "model.h"\nint model_fn(void) { return low_fn(); }\n',
    'tools/main.c': '#include <spapr_tce/high.h>\n#include "../examples/model.h"\n'
                    'int main(void) { return high_fn() + model_fn(); }\n',
}

# name: (files changed from CLEAN, allowlist text, exit status, message)
CASES = {
    'clean': ({}, '', 0, '0 failures'),
    'upward include': (
        {'src/low/low.c': '#include <spapr_tce/low.h>\n#include <spapr_tce/high.h>\n'
                          'int low_fn(void) { return 1; }\n'},
        '', 1, 'src/low/low.c -> include/spapr_tce/high.h include: upward (rank 1 uses rank 2)'),
    'upward call': (
        {'src/low/low.c': '#include <spapr_tce/low.h>\nint high_fn(void);\n'
                          'int low_fn(void) { return high_fn(); }\n'},
        '', 1, 'src/low/low.c -> src/high/high.c call high_fn: upward (rank 1 uses rank 2)'),
    'private header': (
        {'tools/main.c': '#include "high/high_internal.h"\n'
                         'int main(void) { return high_secret(); }\n'},
        '', 1, 'tools/main.c -> src/high/high_internal.h include: private header of src/high/'),
    'private call': (
        {'tools/main.c': 'int high_secret(void);\nint main(void) { return high_secret(); }\n'},
        '', 1, 'tools/main.c -> src/high/high.c call high_secret: calls high_secret, '
               'declared in a private header of src/high/'),
    'example outside the API': (
        {'examples/model.c': '#include "model.h"\nint low_hidden(void);\n'
                             'int model_fn(void) { return low_hidden(); }\n'},
        '', 1, 'examples/model.c -> src/low/low.c call low_hidden: standalone code '
               'calls a symbol outside the public API'),
    'example using a tool': (
        {'tools/tool.h': 'int tool_fn(void);\n',
         'examples/model.c': '#include "model.h"\n#include "../tools/tool.h"\n'
                             'int model_fn(void) { return low_fn(); }\n'},
        '', 1, 'examples/model.c -> tools/tool.h include: standalone code uses tools/'),
    'audit header in a layer': (
        {'src/high/high.c': '#include <spapr_tce/high.h>\n#include "low/low_audit.h"\n'
                            'int high_fn(void) { return low_audit(); }\n'},
        '', 1, 'src/high/high.c -> src/low/low_audit.h include: test-only header of src/low/'),
    'audit call from a layer': (
        {'src/high/high.c': '#include <spapr_tce/high.h>\nint low_audit(void);\n'
                            'int high_fn(void) { return low_audit(); }\n'},
        '', 1, 'src/high/high.c -> src/low/audit.c call low_audit: calls low_audit, '
               'declared in a test-only header of src/low/'),
    'outside the table': (
        {'src/new/new.c': 'int new_fn(void) { return 3; }\n'},
        '', 1, 'src/new/new.c: in no unit of the layer table'),
    'allowed': (
        {'src/low/low.c': '#include <spapr_tce/low.h>\n#include <spapr_tce/high.h>\n'
                          'int low_fn(void) { return 1; }\n'},
        '15.1 src/low/low.c -> include/spapr_tce/high.h include\n', 0,
        '1 violations allowed'),
    'stale allowance': (
        {}, '15.1 src/low/low.c -> include/spapr_tce/high.h include\n', 1,
        'src/low/low.c -> include/spapr_tce/high.h include no longer happens'),
    'allowance without an item': (
        {}, 'src/low/low.c -> include/spapr_tce/high.h include\n', 1,
        'expected "15.N FROM -> TO include|call SYMBOL"'),
}


def build_tree(root, files, cc):
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)
    with open(os.path.join(root, 'docs_architecture.md'), 'w') as f:
        f.write(TABLE)
    build = os.path.join(root, 'build')
    os.makedirs(build)
    db, lib_objs = [], []
    for path in sorted(files):
        if not path.endswith('.c'):
            continue
        obj = os.path.join('objs', path.replace('/', '_') + '.o')
        os.makedirs(os.path.join(build, 'objs'), exist_ok=True)
        cmd = cc + ['-I../include', '-I../src', '-fPIC', '-fvisibility=hidden',
                    '-c', os.path.join('..', path), '-o', obj]
        subprocess.run(cmd, cwd=build, check=True)
        db.append({'directory': build, 'file': os.path.join('..', path),
                   'output': obj, 'command': ' '.join(cmd)})
        if path.startswith('src/'):
            lib_objs.append(obj)
    subprocess.run(cc + ['-shared', '-o', 'libspapr-tce.so'] + lib_objs,
                   cwd=build, check=True)
    with open(os.path.join(build, 'compile_commands.json'), 'w') as f:
        json.dump(db, f)
    return build


def main():
    check, cc = sys.argv[1], sys.argv[2].split()
    failed = 0
    for name, (change, allow, status, message) in CASES.items():
        root = tempfile.mkdtemp(prefix='check-layers-')
        try:
            files = dict(CLEAN, **change)
            build = build_tree(root, files, cc)
            allow_path = os.path.join(root, 'allow')
            with open(allow_path, 'w') as f:
                f.write(allow)
            r = subprocess.run([sys.executable, check, root, build, '--table',
                                os.path.join(root, 'docs_architecture.md'),
                                '--allow', allow_path],
                               capture_output=True, text=True)
            out = r.stdout + r.stderr
            ok = r.returncode == status and message in out
            print('%s: %s' % ('ok' if ok else 'FAIL', name))
            if not ok:
                failed += 1
                print('  expected exit %d and %r; got exit %d:\n%s'
                      % (status, message, r.returncode, out))
        finally:
            shutil.rmtree(root)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
