#!/usr/bin/env python3
"""Run every benchmark of a build and write bench/REPORT.md and
bench/scaling.png (gnuplot).

Usage: scripts/bench-report.py BUILD_DIR

Each benchmark's output is echoed as it runs. The report lists every
figure a benchmark printed with bench_report() (name, rate, ratio to its
same-run baseline), under the machine it ran on. The plot is bench-scaling's
TCE rate against batch size, one line a thread count. A benchmark that
fails fails the run (exit 1) and no report is written.
"""
import datetime
import glob
import os
import platform
import re
import shutil
import subprocess
import sys

FIGURE = re.compile(r'^(?P<name>.+?)\s+(?P<rate>[0-9.]+e[+-][0-9]+) '
                    r'(?P<unit>\S+)/s\s+(?P<ratio>[0-9.]+) x (?P<base>.+)$')
SCALING = re.compile(r'batch (\d+), (\d+) threads?$')


def machine():
    model = 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        'nproc': os.cpu_count(),
        'cpu': model,
        'kernel': platform.release(),
        'date': datetime.datetime.now(datetime.timezone.utc)
                .strftime('%Y-%m-%d %H:%M UTC'),
    }


def run(path):
    print('== ' + path, flush=True)
    p = subprocess.run([path], stdout=subprocess.PIPE, text=True)
    sys.stdout.write(p.stdout)
    sys.stdout.flush()
    if p.returncode:
        sys.exit('bench-report: %s failed (%d)' % (path, p.returncode))
    notes, figures = [], []
    for line in p.stdout.splitlines():
        m = FIGURE.match(line)
        if m:
            figures.append(m.groupdict())
        elif line.strip():
            notes.append(line.strip())
    return notes, figures


def plot(points, outdir):
    """points: {threads: [(batch, rate)]} -> scaling.png; False if no gnuplot."""
    if not points or not shutil.which('gnuplot'):
        return False
    data = os.path.join(outdir, 'scaling.dat')
    with open(data, 'w') as f:
        for t in sorted(points):
            f.write('# %d thread(s)\n' % t)
            for batch, rate in sorted(points[t]):
                f.write('%d %g\n' % (batch, rate / 1e6))
            f.write('\n\n')
    blocks = sorted(points)
    lines = ', '.join("'%s' index %d with linespoints lw 2 title '%d thread%s'"
                      % (data, i, t, 's' if t > 1 else '')
                      for i, t in enumerate(blocks))
    script = '\n'.join([
        "set terminal pngcairo size 900,560 font 'sans,11'",
        "set output '%s'" % os.path.join(outdir, 'scaling.png'),
        "set title 'v2 MAP+UNMAP: TCEs written and cleared per second'",
        "set xlabel 'batch size (64K pages a MAP call)'",
        "set ylabel 'million TCEs / s'",
        "set logscale x 2",
        "set grid",
        "set key top left",
        "plot " + lines,
    ])
    subprocess.run(['gnuplot'], input=script, text=True, check=True)
    os.remove(data)
    return True


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outdir = os.path.join(here, 'bench')
    m = machine()
    results = []
    for path in sorted(glob.glob(os.path.join(build, 'bench', '*', 'bench-*'))):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            results.append((os.path.basename(path), *run(path)))

    points = {}
    for name, _, figures in results:
        for fig in figures:
            s = SCALING.search(fig['name'])
            if name == 'bench-scaling' and s:
                points.setdefault(int(s.group(2)), []).append(
                    (int(s.group(1)), float(fig['rate'])))
    have_plot = plot(points, outdir)

    out = ['# Benchmark report', '',
           'Written by `make bench` (scripts/bench-report.py); do not edit.',
           'Every figure is a ratio to a baseline measured in the same run '
           'of the same program (the "x baseline" column): compare ratios, '
           'not bare rates, across machines.', '',
           '| Machine | |', '|---|---|',
           '| CPUs (nproc) | %s |' % m['nproc'],
           '| CPU | %s |' % m['cpu'],
           '| Kernel | %s |' % m['kernel'],
           '| Date | %s |' % m['date'],
           '| BENCH_SECONDS | %s |' % os.environ.get('BENCH_SECONDS', '0.3 (default)'),
           '| BENCH_ROUNDS | %s |' % os.environ.get('BENCH_ROUNDS', "(each benchmark's default)"),
           '',
           'A figure whose baseline column says "median of N paired rounds" '
           'was taken in N short rounds, each timing the baseline and then '
           'the subject back to back; its ratio is the median of the '
           'rounds\' ratios, and the range after it is the lowest and highest '
           'round (bench/bench_common.h).', '']
    if have_plot:
        out += ['## TCE rate against batch size and threads', '',
                '![v2 MAP+UNMAP rate](scaling.png)', '',
                'From bench-scaling: each thread maps and unmaps its own '
                'slice of one window in calls of the given number of 64K '
                'pages.' + (' This machine has %s CPUs: past that, threads '
                'share them.' % m['nproc']), '']
    for name, notes, figures in results:
        out += ['## ' + name, '']
        out += ['    ' + n for n in notes]
        if notes:
            out.append('')
        out += ['| Figure | Rate | Ratio | Baseline |', '|---|---:|---:|---|']
        for f in figures:
            out.append('| %s | %s %s/s | %s | %s |' % (
                f['name'].strip(), f['rate'], f['unit'], f['ratio'],
                f['base'].strip()))
        out.append('')
    with open(os.path.join(outdir, 'REPORT.md'), 'w') as f:
        f.write('\n'.join(out))
    print('bench-report: wrote bench/REPORT.md%s'
          % (' and bench/scaling.png' if have_plot else ' (no plot: gnuplot missing)'))


if __name__ == '__main__':
    main()
