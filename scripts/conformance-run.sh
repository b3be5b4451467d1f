#!/bin/sh
# Run the conformance clients on this host and diff each one's output against
# what the real kernel printed (tests/conformance/expected/<name>.out).
#
# Usage: scripts/conformance-run.sh CLIENT_BINARY_DIR
#   CLIENT_BINARY_DIR holds one executable per client, named like the client
#   (basics, info, v1, ...), built from tests/conformance/clients/<name>.c.
# Env:   CONFORMANCE_WRAPPER  command put in front of each client (e.g. a
#                             launcher that sets LD_PRELOAD), default none
#        CONFORMANCE_TIMEOUT  seconds per client (default 120)
#        CONFORMANCE_IGNORE_VMLCK=1  drop the "vmlck..." fields and the "#"
#                             notes about vmlck from both sides before diffing
#        SPAPR_TCE_CONTAINER, SPAPR_TCE_GROUP, SPAPR_TCE_DEVICE are passed
#        through to the clients (see docs/conformance.md).
# Expected output: tests/conformance/spapr-tce/<name>.out when it exists (the
# kernel's output with only the lines where spapr-tce deliberately differs,
# i.e. kernel leaks, corrected; see docs/quirks.md), else
# tests/conformance/expected/<name>.out (what the real kernel printed).
# Prints one line per client (ok / DIFF + the diff / FAIL) and a last line
# "N passed, N failed"; exits 1 when anything failed.
set -u

[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 CLIENT_BINARY_DIR" >&2; exit 2; }
BIN=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXP=$ROOT/tests/conformance/expected
OURS=$ROOT/tests/conformance/spapr-tce
TMO=${CONFORMANCE_TIMEOUT:-120}
WRAP=${CONFORMANCE_WRAPPER:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Drop locked-memory fields when asked to (CONFORMANCE_IGNORE_VMLCK=1).
filter() {
	if [ "${CONFORMANCE_IGNORE_VMLCK:-0}" = 1 ]; then
		sed -e '/^#.*vmlck/d' -e 's/ *vmlck[-+][0-9]*//' "$1"
	else
		cat "$1"
	fi
}

pass=0
fail=0
for kexp in "$EXP"/*.out; do
	n=$(basename "$kexp" .out)
	exp=$kexp
	[ -f "$OURS/$n.out" ] && exp=$OURS/$n.out
	filter "$exp" > "$T/$n.exp"
	b=$BIN/$n
	if [ ! -x "$b" ]; then
		echo "FAIL $n: no executable $b"
		fail=$((fail + 1))
		continue
	fi
	# shellcheck disable=SC2086 # the wrapper may be a command with arguments
	timeout "$TMO" $WRAP "$b" > "$T/$n.out" 2> "$T/$n.err"
	rc=$?
	filter "$T/$n.out" > "$T/$n.got"
	if [ $rc -ne 0 ]; then
		echo "FAIL $n: exit status $rc"
		sed 's/^/    stderr: /' "$T/$n.err" | head -20
		diff -u "$T/$n.exp" "$T/$n.got" | sed 's/^/    /' | head -60
		fail=$((fail + 1))
	elif diff -u --label "${exp#"$ROOT"/}" --label "here/$n.out" "$T/$n.exp" "$T/$n.got" > "$T/$n.diff"; then
		echo "ok   $n"
		pass=$((pass + 1))
	else
		echo "DIFF $n"
		sed 's/^/    /' "$T/$n.diff"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
