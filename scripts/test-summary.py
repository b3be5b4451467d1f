#!/usr/bin/env python3
"""Sum the results of one or more `meson test` runs and print the closing
line `N passed, N failed` (and how many conformance clients the passing
conformance runs counted as pending). Exit 1 when anything failed or
nothing ran."""
import json
import re
import sys


def results(build_dir):
    try:
        with open(f"{build_dir}/meson-logs/testlog.json") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)
    except FileNotFoundError:
        print(f"no test log in {build_dir}: its build failed", file=sys.stderr)
        yield {"name": build_dir, "result": "ERROR"}


def pending_clients(r):
    """Conformance clients the run counted as pending (not passed): the
    runner's last line is "N passed, N failed, N pending"."""
    m = re.search(r"^\d+ passed, \d+ failed, (\d+) pending$",
                  r.get("stdout", "") or "", re.M)
    return int(m.group(1)) if m else 0


passed = failed = skipped = pending = 0
for d in sys.argv[1:]:
    for r in results(d):
        pending += pending_clients(r)
        if r["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r["result"] == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"failed: {d}: {r['name']} ({r['result']})")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
if pending:
    line += f" ({pending} conformance client runs pending)"
print(line)
sys.exit(1 if failed or not passed else 0)
