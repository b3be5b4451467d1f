#!/usr/bin/env python3
"""SPAPR_TCE_STATS (docs/preload.md): the report of a known client.

Usage: test_stats.py LD_PRELOAD CLIENT   (the client runs with that
LD_PRELOAD; this script does not)

CLIENT is examples/spapr-v2-ddw: its calls are known, so the report must
list each with its exact count, the header's total must be the rows' sum,
means must be total / count, "1" must go to stderr, a file is appended to
(two runs, two reports), and unset or "0" must print nothing. With the
statistics off and SPAPR_TCE_TRACE on, the trace must show each ioctl as
often (the ioctl path skips both with one branch when both are off).
"""
import os
import re
import subprocess
import sys
import tempfile

# examples/spapr-v2-ddw's served calls (as the trace shows them).
EXPECTED = {
    'ioctl VFIO_GET_API_VERSION': 1,
    'ioctl VFIO_CHECK_EXTENSION': 1,
    'ioctl VFIO_GROUP_GET_STATUS': 1,
    'ioctl VFIO_GROUP_SET_CONTAINER': 1,
    'ioctl VFIO_SET_IOMMU': 1,
    'ioctl VFIO_IOMMU_SPAPR_TCE_GET_INFO': 1,
    'ioctl VFIO_IOMMU_SPAPR_REGISTER_MEMORY': 1,
    'ioctl VFIO_IOMMU_SPAPR_TCE_CREATE': 1,
    'ioctl VFIO_IOMMU_MAP_DMA': 1,
    'ioctl VFIO_GROUP_GET_DEVICE_FD': 1,
    'ioctl VFIO_DEVICE_GET_INFO': 1,
    'ioctl VFIO_DEVICE_GET_REGION_INFO': 2,
    'ioctl VFIO_IOMMU_UNMAP_DMA': 1,
    'ioctl VFIO_IOMMU_SPAPR_TCE_REMOVE': 1,
    'ioctl VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY': 1,
    'pread': 5,     # config read, STATUS x3, RESULT
    'pwrite': 16,   # config write, 3 DMAs x 5 registers
    'close': 3,     # device, group, container
}
HEAD = re.compile(r'^\[spapr-tce\] stats pid (\d+): (\d+) calls, ([0-9.]+) ms$')
ROW = re.compile(r'^\[spapr-tce\]   (.+?)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)$')

failures = 0
preload = ''


def check(cond, what):
    global failures
    if not cond:
        print('FAIL ' + what)
        failures += 1


def run(client, value, trace=None):
    env = dict(os.environ, LD_PRELOAD=preload,
               ASAN_OPTIONS='detect_leaks=1:abort_on_error=1',
               UBSAN_OPTIONS='halt_on_error=1:print_stacktrace=1')
    env.pop('SPAPR_TCE_STATS', None)
    if value is not None:
        env['SPAPR_TCE_STATS'] = value
    env.pop('SPAPR_TCE_TRACE', None)
    if trace is not None:
        env['SPAPR_TCE_TRACE'] = trace
    p = subprocess.run([client, '1'], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    check(p.returncode == 0, 'client exit %d: %s' % (p.returncode, p.stdout))
    return p.stderr


def reports(text):
    """[(pid, calls, ms, {name: (count, ms, mean_us)})] in @text."""
    out = []
    for line in text.splitlines():
        m = HEAD.match(line)
        if m:
            out.append((int(m.group(1)), int(m.group(2)),
                        float(m.group(3)), {}))
            continue
        m = ROW.match(line)
        if m and out and m.group(1) != 'call':
            out[-1][3][m.group(1)] = (int(m.group(2)), float(m.group(3)),
                                      float(m.group(4)))
    return out


def check_report(rep, where):
    pid, calls, ms, rows = rep
    counts = {k: v[0] for k, v in rows.items()}
    check(counts == EXPECTED, '%s: counts %s' % (where, counts))
    check(calls == sum(counts.values()),
          '%s: header %d calls, rows %d' % (where, calls, sum(counts.values())))
    total = sum(v[1] for v in rows.values())
    check(abs(total - ms) <= 0.001 * len(rows) + 0.001,
          '%s: header %.3f ms, rows %.3f' % (where, ms, total))
    for name, (n, t, mean) in rows.items():
        check(abs(mean - t * 1e3 / n) <= 0.002 + 0.01 * mean
              or abs(mean - t * 1e3 / n) <= 0.5 * 1e3 / n,
              '%s: %s mean %.3f us for %d calls in %.3f ms' % (where, name, mean, n, t))
    times = [v[1] for v in rows.values()]
    check(times == sorted(times, reverse=True), '%s: not by time' % where)
    check(pid > 0, where + ': pid')


def main():
    global preload
    preload, client = sys.argv[1], sys.argv[2]
    err = run(client, '1')
    reps = reports(err)
    check(len(reps) == 1, 'stderr: %d reports in %r' % (len(reps), err))
    if reps:
        check_report(reps[0], 'stderr')
    for value in (None, '0', ''):
        err = run(client, value)
        check('stats' not in err, 'SPAPR_TCE_STATS=%r printed %r' % (value, err))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'stats.txt')
        check(run(client, path) == '', 'a file: stderr not empty')
        run(client, path)
        with open(path) as f:
            reps = reports(f.read())
        check(len(reps) == 2, 'file: %d reports, not 2 (appended)' % len(reps))
        for r in reps:
            check_report(r, 'file')
        check(len(reps) == 2 and reps[0][0] != reps[1][0], 'file: same pid twice')
        path = os.path.join(d, 'trace.txt')
        run(client, None, path)
        with open(path) as f:
            names = re.findall(r'^\[spapr-tce\] ioctl\(\d+<\w+>, (\w+)',
                               f.read(), re.M)
        traced = {'ioctl ' + n: names.count(n) for n in set(names)}
        want = {k: v for k, v in EXPECTED.items() if k.startswith('ioctl ')}
        check(traced == want, 'trace, statistics off: ioctls %s' % traced)
    print('%d failed' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
