#!/bin/sh
# make integration: run every integration test, i.e. every
# tests/integration/<name>/run.sh, each with the build directory as its
# argument, in name order. A test passes when its run.sh exits 0. Each
# test's output is shown as it runs; the last line counts them:
# "N passed, N failed". Exits 1 when one failed.
#
# Usage: tests/integration/run.sh [BUILD_DIR]   (default build/release)
# Env:   INTEGRATION  names of the tests to run (default: all), e.g. "qemu"
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build/release}
pass=0
fail=0
failed=
for t in "$HERE"/*/run.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$(dirname "$t")")
	if [ -n "${INTEGRATION:-}" ]; then
		case " $INTEGRATION " in
		*" $name "*) ;;
		*) continue ;;
		esac
	fi
	echo "== integration: $name"
	start=$(date +%s)
	if sh "$t" "$BUILD"; then
		pass=$((pass + 1))
		echo "== $name: passed ($(( $(date +%s) - start )) s)"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "== $name: FAILED ($(( $(date +%s) - start )) s)"
	fi
done
[ $fail -eq 0 ] || echo "failed:$failed"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
