#!/bin/sh
# Run the conformance clients on this host and diff each one's output against
# what the real kernel printed, for each kernel flavour recorded.
#
# Usage: scripts/conformance-run.sh CLIENT_BINARY_DIR [FLAVOUR ...]
#   CLIENT_BINARY_DIR holds one executable per client, named like the client
#   (basics, info, v1, ...), built from tests/conformance/clients/<name>.c.
#   FLAVOUR: k612-64k, k612-4k (default: every tests/conformance/expected/*/).
# Each flavour runs on the machine tests/conformance/topology/<flavour>.topo
# describes (SPAPR_TCE_TOPOLOGY; VFIO_GROUP<n>/VFIO_DEVICE<n> name its two
# groups and devices, as the oracle does).
# Env:   CONFORMANCE_WRAPPER  command put in front of each client (e.g. a
#                             launcher that sets LD_PRELOAD), default none
#        CONFORMANCE_TIMEOUT  seconds per client (default 120)
#        CONFORMANCE_IGNORE_VMLCK=1  drop the "vmlck..." fields and the "#"
#                             notes about vmlck from both sides before diffing
#        CONFORMANCE_KEEP=DIR keep what each client printed in
#                             DIR/<flavour>/<name>.out (to write a pending
#                             file from, or to look at)
#        SPAPR_TCE_CONTAINER, SPAPR_TCE_GROUP, SPAPR_TCE_DEVICE are passed
#        through to the clients (see docs/conformance.md).
# What a client must print, per flavour F:
#   tests/conformance/pending/F/<name>.out when it exists: what spapr-tce
#     prints today where it does not match the kernel yet (lines starting
#     "#! " say why and are not compared); a match counts as "pending", not
#     passed; matching the kernel instead is a failure ("STALE": delete the
#     pending file);
#   else tests/conformance/spapr-tce/F/<name>.out when it exists (the kernel's
#     output with only the lines where spapr-tce deliberately differs, listed
#     in docs/quirks.md, corrected);
#   else tests/conformance/expected/F/<name>.out (what the real kernel printed).
# Prints one line per client (ok / pending / DIFF + the diff / STALE / FAIL),
# one "F: N passed, N failed, N pending" line per flavour and a last line
# "N passed, N failed, N pending"; exits 1 when anything failed.
set -u

[ $# -ge 1 ] && [ -d "$1" ] || {
	echo "usage: $0 CLIENT_BINARY_DIR [FLAVOUR ...]" >&2
	exit 2
}
BIN=$(cd "$1" && pwd)
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONF=$ROOT/tests/conformance
TMO=${CONFORMANCE_TIMEOUT:-120}
WRAP=${CONFORMANCE_WRAPPER:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if [ $# -eq 0 ]; then
	set -- $(cd "$CONF/expected" && ls -d */ | tr -d /)
fi

# Drop locked-memory fields when asked to (CONFORMANCE_IGNORE_VMLCK=1), and
# the "#! " comments of a pending file.
filter() {
	if [ "${CONFORMANCE_IGNORE_VMLCK:-0}" = 1 ]; then
		sed -e '/^#!/d' -e '/^#.*vmlck/d' -e 's/ *vmlck[-+][0-9]*//' "$1"
	else
		sed -e '/^#!/d' "$1"
	fi
}

# The machine of flavour $1: its topology, and the two groups and devices
# in it named the way the oracle names them.
machine() {
	topo=$CONF/topology/$1.topo
	[ -f "$topo" ] || { echo "FAIL $1: no topology $topo"; return 1; }
	export SPAPR_TCE_TOPOLOGY="$topo"
	i=0
	for d in $(awk '$1 == "device" { print $2 }' "$topo"); do
		export VFIO_DEVICE$i="$d"
		export VFIO_GROUP$i="/dev/vfio/$(awk -v d="$d" '$1 == "device" && $2 == d {
			for (k = 3; k <= NF; k++) if ($k ~ /^pe=/) print substr($k, 4) }' "$topo")"
		i=$((i + 1))
	done
}

# Run client $2 of flavour $1; compare with what it must print.
run_one() {
	f=$1
	n=$2
	exp=$CONF/expected/$f/$n.out
	[ -f "$CONF/spapr-tce/$f/$n.out" ] && exp=$CONF/spapr-tce/$f/$n.out
	pfile=$CONF/pending/$f/$n.out
	b=$BIN/$n
	if [ ! -x "$b" ]; then
		echo "FAIL $f/$n: no executable $b"
		return 1
	fi
	# shellcheck disable=SC2086 # the wrapper may be a command with arguments
	timeout "$TMO" $WRAP "$b" > "$T/$n.out" 2> "$T/$n.err"
	rc=$?
	if [ -n "${CONFORMANCE_KEEP:-}" ]; then
		mkdir -p "$CONFORMANCE_KEEP/$f" && cp "$T/$n.out" "$CONFORMANCE_KEEP/$f/$n.out"
	fi
	filter "$T/$n.out" > "$T/$n.got"
	filter "$exp" > "$T/$n.exp"
	if [ $rc -ne 0 ]; then
		echo "FAIL $f/$n: exit status $rc"
		sed 's/^/    stderr: /' "$T/$n.err" | head -20
		diff -u "$T/$n.exp" "$T/$n.got" | sed 's/^/    /' | head -60
		return 1
	fi
	if [ -f "$pfile" ]; then
		filter "$pfile" > "$T/$n.pend"
		if cmp -s "$T/$n.pend" "$T/$n.got"; then
			echo "pending $f/$n: $(diff "$T/$n.exp" "$T/$n.got" | grep -c '^>') of $(wc -l < "$T/$n.got") lines not matched yet (${pfile#"$ROOT"/})"
			return 2
		fi
		if cmp -s "$T/$n.exp" "$T/$n.got"; then
			echo "STALE $f/$n: now prints what it must; delete ${pfile#"$ROOT"/}"
			return 1
		fi
		exp=$pfile
		cp "$T/$n.pend" "$T/$n.exp"
	fi
	if diff -u --label "${exp#"$ROOT"/}" --label "here/$f/$n.out" "$T/$n.exp" \
		"$T/$n.got" > "$T/$n.diff"; then
		echo "ok   $f/$n"
		return 0
	fi
	echo "DIFF $f/$n"
	sed 's/^/    /' "$T/$n.diff"
	return 1
}

tpass=0
tfail=0
tpend=0
for f in "$@"; do
	pass=0
	fail=0
	pend=0
	if [ ! -d "$CONF/expected/$f" ] || ! (machine "$f" > /dev/null); then
		echo "FAIL $f: no expected/$f or topology/$f.topo"
		tfail=$((tfail + 1))
		continue
	fi
	machine "$f"
	for e in "$CONF/expected/$f"/*.out; do
		run_one "$f" "$(basename "$e" .out)"
		case $? in
		0) pass=$((pass + 1)) ;;
		2) pend=$((pend + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
	done
	echo "$f: $pass passed, $fail failed, $pend pending"
	tpass=$((tpass + pass))
	tfail=$((tfail + fail))
	tpend=$((tpend + pend))
done
echo "$tpass passed, $tfail failed, $tpend pending"
[ $tfail -eq 0 ]
