#!/bin/sh
# Does the real kernel answer QEMU's calls as spapr-tce did? Replays every
# container ioctl of a QEMU run's trace (run.sh keeps it in
# build/integration/qemu/trace.txt) on the real Linux sPAPR TCE driver (the
# oracle, ../shared/oracle: Linux 6.12 on QEMU powernv9, 64K pages) and on
# spapr-tce under the preload library, and diffs the answers: return
# values, errno, CREATE's start address, GET_INFO's 32-bit window. Not part
# of make integration: it needs the oracle (about 25 s).
#
# Usage: tests/integration/qemu/kernel-check.sh [TRACE [BUILD_DIR]]
# Env: ORACLE_DIR (default ../shared/oracle next to the checkout, else
#      /work/shared/oracle), SPAPR_TCE_TOPOLOGY (default host.topo here).
# Exits 0 when both printed the same lines.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TRACE=${1:-$ROOT/build/integration/qemu/trace.txt}
BUILD=$(cd "${2:-$ROOT/build/release}" && pwd)
ORACLE_DIR=${ORACLE_DIR:-}
for d in "$ROOT/../shared/oracle" /work/shared/oracle; do
	[ -z "$ORACLE_DIR" ] && [ -x "$d/run-client.sh" ] && ORACLE_DIR=$d
done
[ -n "$ORACLE_DIR" ] || { echo "kernel-check: no oracle (set ORACLE_DIR)" >&2; exit 1; }
[ -f "$TRACE" ] || { echo "kernel-check: no trace $TRACE (run run.sh first)" >&2; exit 1; }

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
python3 "$HERE/replay.py" "$TRACE" "$HERE/replay.c" > "$W/qemu_replay.c"
gcc -std=gnu11 -O1 -Wall -o "$W/replay" "$W/qemu_replay.c"
SPAPR_TCE_TOPOLOGY=${SPAPR_TCE_TOPOLOGY:-$HERE/host.topo} \
	LD_PRELOAD=$BUILD/preload/libspapr-tce-preload.so "$W/replay" > "$W/spapr-tce.out"
"$ORACLE_DIR/run-client.sh" "$W/qemu_replay.c" > "$W/oracle.raw"
sed -n '/^=== CLIENT qemu_replay$/,/^=== EXIT qemu_replay /p' "$W/oracle.raw" |
	sed '1d;$d' > "$W/kernel.out"
steps=$(wc -l < "$W/spapr-tce.out")
calls=$(awk '{ n += substr($5, 2) } END { print n }' "$W/spapr-tce.out")
if diff -u --label kernel --label spapr-tce "$W/kernel.out" "$W/spapr-tce.out"; then
	echo "kernel-check: $steps steps ($calls calls): the kernel's answers and spapr-tce's are the same"
else
	echo "kernel-check: the answers differ (above)"
	exit 1
fi
