#!/bin/sh
# Fetch the Debian ppc64el packages the project boots under QEMU: a
# linux-image .deb (the guest kernel and its vfio modules) and busybox-static
# (the guest's shell), for the conformance oracle and the QEMU integration
# test. The host's apt sources, lists and architectures are never touched.
#
# Usage: scripts/debian-ppc64el.sh [-c CACHE] COMMAND
#   kernel FLAVOR  fetch and unpack the kernel of FLAVOR: k612-64k (default
#                  of the callers: 64K pages, as POWER hosts run), k612-4k,
#                  k61. Prints the directory it is unpacked in, CACHE/FLAVOR
#                  (boot/vmlinux-*, [usr/]lib/modules/*; CACHE/FLAVOR/pkg
#                  names the package).
#   busybox        fetch and unpack busybox-static; prints the binary's path
#                  (CACHE/bbpkg/[usr/]bin/busybox).
#   deb PACKAGE    fetch PACKAGE's .deb into CACHE; prints its path.
#   package FLAVOR prints the kernel package name of FLAVOR.
# CACHE: -c, else $DEBIAN_PPC64EL_CACHE, else build/debian-ppc64el in the
# checkout. What is there is used again: a second run downloads nothing.
# The layout is the oracle's (../shared/oracle/build.sh), so one cache
# serves both.
# Env: DEBIAN_MIRROR (default: the host's first non-security Debian source,
#      else http://deb.debian.org/debian), DEBIAN_KERNEL_PACKAGE (overrides
#      the pinned kernel package), DEBIAN_PPC64EL_NO_APT=1 (skip way 1).
#
# Two ways, the second when the first fails (seen: a ppc64el index failing
# apt's size check while the mirror syncs):
#  1. apt-get with a private configuration (its own sources.list, lists and
#     cache under CACHE/apt-SUITE, architecture ppc64el);
#  2. by hand: InRelease, checked with gpgv against debian-archive-keyring;
#     the Packages.xz it names, by hash (a mirror in mid-sync still serves
#     it), SHA256 checked; each .deb from the pool, SHA256 checked.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
CACHE=${DEBIAN_PPC64EL_CACHE:-$ROOT/build/debian-ppc64el}

say() { echo "debian-ppc64el: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
	sed -n '7,23p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# The pinned kernel of each flavour (the oracle's) and its suite.
kernel_package() {
	case $1 in
	k612-64k) echo linux-image-6.12.107+deb13-powerpc64le-64k ;;
	k612-4k) echo linux-image-6.12.107+deb13-powerpc64le ;;
	k61) echo linux-image-6.1.0-50-powerpc64le ;;
	*) die "unknown kernel flavour '$1' (k612-64k, k612-4k, k61)" ;;
	esac
}

kernel_suite() {
	case $1 in
	k61) echo bookworm ;;
	*) echo trixie ;;
	esac
}

# What another build of the same flavour is called (when the pinned one has
# left the archive, a point release replaced it).
kernel_pattern() {
	case $1 in
	k612-64k) echo '^linux-image-6\.12\.[0-9]+\+deb13-powerpc64le-64k$' ;;
	k612-4k) echo '^linux-image-6\.12\.[0-9]+\+deb13-powerpc64le$' ;;
	k61) echo '^linux-image-6\.1\.0-[0-9]+-powerpc64le$' ;;
	esac
}

# The Debian archive: $DEBIAN_MIRROR, else the host's first non-security
# source (deb822 or one-line format), else deb.debian.org.
mirror() {
	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		echo "${DEBIAN_MIRROR%/}"
		return
	fi
	u=$( { grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed 's/^[[:space:]]*URIs:[[:space:]]*//' | tr ' ' '\n'
	     grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' |
		awk '{ print $1 }'; } |
	     grep -E '^https?://' | grep -vi security | head -1) || true
	echo "${u:-http://deb.debian.org/debian}" | sed 's:/*$::'
}

# download URL FILE: curl, wget or apt's own helper, whichever there is.
download() {
	rm -f "$2.part"
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 3 -o "$2.part" "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2.part" "$1"
	else
		/usr/lib/apt/apt-helper download-file "$1" "$2.part" >/dev/null
	fi || { rm -f "$2.part"; return 1; }
	mv "$2.part" "$2"
}

# ---- way 1: apt-get, privately configured ----------------------------

apt_dir() { echo "$CACHE/apt-$SUITE"; }

apt_opts() {
	a=$(apt_dir)
	echo "-o Dir::Etc::SourceList=$a/sources.list -o Dir::Etc::SourceParts=/nonexistent" \
	     "-o Dir::State::Lists=$a/lists -o Dir::Cache=$a/cache" \
	     "-o APT::Architecture=ppc64el -o APT::Architectures::=ppc64el" \
	     "-o APT::Sandbox::User=root"
}

# apt-get update once per cache; "ok" records success. apt-get update exits
# 0 on some fetch failures, so the index itself must be there too.
apt_ready() {
	a=$(apt_dir)
	[ -n "${DEBIAN_PPC64EL_NO_APT:-}" ] && return 1
	[ -f "$a/ok" ] && return 0
	command -v apt-get >/dev/null 2>&1 || return 1
	rm -rf "$a"
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
	echo "deb [arch=ppc64el signed-by=$KEYRING] $(mirror) $SUITE main" > "$a/sources.list"
	# shellcheck disable=SC2046 # the options are words
	if apt-get $(apt_opts) update > "$a/update.log" 2>&1 &&
	   ! grep -qE '^(E|W): (Failed|Some index)' "$a/update.log" &&
	   ls "$a"/lists/*ppc64el_Packages* >/dev/null 2>&1; then
		touch "$a/ok"
		return 0
	fi
	say "apt-get update failed: $(grep -E '^(E|W):' "$a/update.log" | head -2 | tr '\n' ' ')"
	return 1
}

apt_fetch() {
	a=$(apt_dir)
	apt_ready || return 1
	# shellcheck disable=SC2046
	(cd "$CACHE" && apt-get $(apt_opts) download "$1") > "$a/download.log" 2>&1 && return 0
	say "apt-get download $1 failed: $(grep -E '^E:' "$a/download.log" | head -1)"
	return 1
}

# ---- way 2: by hand, every file verified ------------------------------

index() { echo "$CACHE/Packages-$SUITE-ppc64el"; }

index_by_hand() {
	idx=$(index)
	[ -s "$idx" ] && return 0
	uri=$(mirror)
	rel=$CACHE/InRelease-$SUITE
	download "$uri/dists/$SUITE/InRelease" "$rel" || die "cannot download $uri/dists/$SUITE/InRelease"
	if command -v gpgv >/dev/null 2>&1 && [ -f "$KEYRING" ]; then
		gpgv --keyring "$KEYRING" "$rel" >/dev/null 2>&1 ||
			{ rm -f "$rel"; die "$SUITE InRelease: bad signature"; }
	else
		say "warning: no gpgv or $KEYRING: the InRelease signature is not checked"
	fi
	sum=$(awk '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 }
		   s && $3 == "main/binary-ppc64el/Packages.xz" { print $1 }' "$rel")
	[ -n "$sum" ] || die "$SUITE InRelease names no main/binary-ppc64el/Packages.xz"
	base=$uri/dists/$SUITE/main/binary-ppc64el
	for u in "$base/by-hash/SHA256/$sum" "$base/Packages.xz"; do
		if download "$u" "$idx.xz" && echo "$sum  $idx.xz" | sha256sum -c --status; then
			xz -dc "$idx.xz" > "$idx.tmp" && mv "$idx.tmp" "$idx"
			rm -f "$idx.xz"
			return 0
		fi
		say "index $u: missing or bad SHA256"
	done
	rm -f "$idx.xz"
	die "no valid $SUITE ppc64el package index"
}

# field PACKAGE NAME: one field of PACKAGE's stanza in the index.
field() {
	awk -v p="$1" -v f="$2:" '/^Package: / { cur = $2 }
		cur == p && $1 == f { print $2; exit }' "$(index)"
}

hand_fetch() {
	index_by_hand
	file=$(field "$1" Filename)
	sum=$(field "$1" SHA256)
	[ -n "$file" ] && [ -n "$sum" ] || return 1
	deb=$CACHE/$(basename "$file")
	download "$(mirror)/$file" "$deb" || { say "cannot download $file"; return 1; }
	echo "$sum  $deb" | sha256sum -c --status || { rm -f "$deb"; say "$deb: bad SHA256"; return 1; }
	say "fetched $(basename "$deb") (SHA256 ok)"
}

# ---- commands -----------------------------------------------------------

# The cached .deb of a package (apt names it with an escaped epoch, the pool
# without one: both match).
cached_deb() {
	for f in "$CACHE/$1"_*_ppc64el.deb; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

fetch_deb() {
	cached_deb "$1" && return 0
	apt_fetch "$1" || hand_fetch "$1" || return 1
	cached_deb "$1"
}

# Every package name of the suite matching a pattern, newest first.
packages_like() {
	if apt_ready; then
		# shellcheck disable=SC2046
		apt-cache $(apt_opts) pkgnames linux-image- 2>/dev/null
	else
		index_by_hand
		sed -n 's/^Package: //p' "$(index)"
	fi | grep -E "$1" | sort -rV
}

kernel() {
	flavor=$1
	dir=$CACHE/$flavor
	if [ ! -f "$dir/pkg" ]; then
		pkg=${DEBIAN_KERNEL_PACKAGE:-$(kernel_package "$flavor")}
		if ! deb=$(fetch_deb "$pkg"); then
			for other in $(packages_like "$(kernel_pattern "$flavor")"); do
				[ "$other" = "$pkg" ] && continue
				say "warning: $pkg is not in $SUITE any more; using $other" \
				    "(DEBIAN_KERNEL_PACKAGE pins one)"
				deb=$(fetch_deb "$other") && { pkg=$other; break; }
			done
			[ -n "${deb:-}" ] || die "cannot fetch $pkg (nor another $flavor kernel) from $(mirror) $SUITE"
		fi
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir"
		echo "$pkg" > "$dir/pkg"
	fi
	ls "$dir"/boot/vmlinux-* >/dev/null 2>&1 || die "$dir: no boot/vmlinux-*"
	echo "$dir"
}

busybox_bin() {
	for b in "$CACHE/bbpkg/bin/busybox" "$CACHE/bbpkg/usr/bin/busybox"; do
		[ -x "$b" ] && { echo "$b"; return 0; }
	done
	return 1
}

busybox() {
	busybox_bin && return 0
	deb=$(fetch_deb busybox-static) || die "busybox-static is not in $SUITE ppc64el"
	rm -rf "$CACHE/bbpkg"
	mkdir -p "$CACHE/bbpkg"
	dpkg-deb -x "$deb" "$CACHE/bbpkg"
	busybox_bin || die "no busybox binary in $deb"
}

while getopts c: opt; do
	case $opt in
	c) CACHE=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb missing (apt-get install dpkg)"
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
SUITE=trixie

case $1 in
kernel)
	[ $# -eq 2 ] || usage
	SUITE=$(kernel_suite "$2")
	kernel "$2" ;;
busybox)
	[ $# -eq 1 ] || usage
	busybox ;;
deb)
	[ $# -eq 2 ] || usage
	fetch_deb "$2" || die "cannot fetch $2 from $(mirror) $SUITE" ;;
package)
	[ $# -eq 2 ] || usage
	kernel_package "$2" ;;
*)
	usage ;;
esac
