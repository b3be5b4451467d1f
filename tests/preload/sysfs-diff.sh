#!/bin/sh
# The emulated sysfs, walked by sysfs_walk under the preload library
# (LD_PRELOAD from the environment), against the recorded listing.
# Usage: sysfs-diff.sh SYSFS_WALK EXPECTED
# SYSFS_UPDATE=1 rewrites EXPECTED instead (after a deliberate change).
walk=$1 expected=$2
out=$("$walk" 0030:01:00.0 0) || { echo "sysfs_walk failed"; exit 1; }
if [ -n "$SYSFS_UPDATE" ]; then
	printf '%s\n' "$out" > "$expected"
	echo "rewrote $expected"
	exit 0
fi
printf '%s\n' "$out" | diff -u "$expected" - && echo "sysfs as recorded"
