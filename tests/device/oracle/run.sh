#!/bin/sh
# Run one oracle client (a program written only against <linux/vfio.h>)
# under the preload library and diff its output with what the real kernel
# printed for it (the .out file recorded by the oracle, see PROVENANCE).
# Usage: run.sh CLIENT EXPECTED [TOPOLOGY]
# Env:   ORACLE_PRELOAD  the LD_PRELOAD value for the client only
set -u
[ $# -ge 2 ] || { echo "usage: $0 CLIENT EXPECTED [TOPOLOGY]" >&2; exit 2; }
T=$(mktemp)
trap 'rm -f "$T"' EXIT
if [ $# -ge 3 ]; then
	SPAPR_TCE_TOPOLOGY=$3
	export SPAPR_TCE_TOPOLOGY
fi
env LD_PRELOAD="${ORACLE_PRELOAD:-}" "$1" > "$T"
rc=$?
if [ $rc -ne 0 ]; then
	cat "$T"
	echo "FAIL: $1 exited $rc"
	exit 1
fi
if ! diff -u "$2" "$T"; then
	echo "DIFF: $1 against $2 (the real kernel's output)"
	exit 1
fi
echo "ok: $(basename "$1") prints what the kernel printed ($(basename "$2"))"
