#!/bin/sh
# Make sure the Debian packages the build needs are installed. As root,
# install the missing ones with apt-get; otherwise name them and fail.
# Usage: scripts/deps.sh [fuzz | bench | integration | extra-package ...]
#   fuzz:  clang and its libFuzzer runtime (make fuzz: -fsanitize=fuzzer
#          links libclang_rt.fuzzer from libclang-rt-14-dev on Debian 12)
#   bench: gnuplot, for the plot in bench/REPORT.md (make bench)
#   integration: what make integration runs and builds: QEMU for ppc64
#          (and its firmware), the static ppc64le cross compiler, and what
#          scripts/debian-ppc64el.sh needs to fetch and unpack the guest;
#          DPDK's development files (tests/integration/dpdk)
set -e
need="meson ninja-build pkg-config gcc libc6-dev libcmocka-dev linux-libc-dev python3"
for a in "$@"; do
	case "$a" in
	fuzz) need="$need clang libclang-rt-14-dev" ;;
	bench) need="$need gnuplot-nox" ;;
	integration) need="$need qemu-system-ppc qemu-system-data gcc-powerpc64le-linux-gnu
		libc6-dev-ppc64el-cross cpio xz-utils gzip curl gpgv debian-archive-keyring
		libdpdk-dev" ;;
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
