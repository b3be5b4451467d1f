#!/bin/sh
# Make sure the Debian packages the build needs are installed. As root,
# install the missing ones with apt-get; otherwise name them and fail.
# Usage: scripts/deps.sh [fuzz | bench | extra-package ...]
#   fuzz:  clang and its libFuzzer runtime (make fuzz: -fsanitize=fuzzer
#          links libclang_rt.fuzzer from libclang-rt-14-dev on Debian 12)
#   bench: gnuplot, for the plot in bench/REPORT.md (make bench)
set -e
need="meson ninja-build pkg-config gcc libc6-dev libcmocka-dev linux-libc-dev python3"
for a in "$@"; do
	case "$a" in
	fuzz) need="$need clang libclang-rt-14-dev" ;;
	bench) need="$need gnuplot-nox" ;;
	*) need="$need $a" ;;
	esac
done
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "spapr-tce: missing Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "spapr-tce: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
