#!/bin/sh
# Re-record the conformance suite's expected output from the REAL kernels.
#
# Installs what the oracle needs (as root, through apt-get), builds the oracle
# (a Debian ppc64le kernel booted under QEMU powernv9, see ../shared/oracle/)
# when its cache lacks a kernel, and for each kernel flavour runs every
# tests/conformance/clients/*.c in ONE boot with two groups on two PHBs
# (ORACLE_GROUPS=2), then rewrites tests/conformance/expected/<flavour>/
# <name>.out and expected/<flavour>/PROVENANCE.
#
# Env: FLAVOR (default "k612-64k k612-4k": the 64K-page and the 4K-page
#      Linux 6.12 kernels; one or more, blank-separated), ORACLE_DIR
#      (default: ../shared/oracle next to the checkout, else
#      /work/shared/oracle), ORACLE_CACHE (default /tmp/oracle-cache),
#      MACHINE (default powernv9).
# Usage: scripts/conformance-kernel.sh [client.c ...]   (default: all clients)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONF=$ROOT/tests/conformance
EXP=$CONF/expected
FLAVORS=${FLAVOR:-k612-64k k612-4k}
export ORACLE_CACHE=${ORACLE_CACHE:-/tmp/oracle-cache}
ORACLE_DIR=${ORACLE_DIR:-}
if [ -z "$ORACLE_DIR" ]; then
	for d in "$ROOT/../shared/oracle" /work/shared/oracle; do
		[ -x "$d/run-client.sh" ] && { ORACLE_DIR=$(cd "$d" && pwd); break; }
	done
fi
[ -n "$ORACLE_DIR" ] || { echo "conformance-kernel: no oracle (set ORACLE_DIR)" >&2; exit 1; }

say() { echo "conformance-kernel: $*" >&2; }

# 1. Host tools: qemu-system-ppc64, the ppc64le cross compiler, cpio, xz.
install_tools() {
	missing=
	command -v qemu-system-ppc64 >/dev/null || missing="$missing qemu-system-ppc"
	command -v powerpc64le-linux-gnu-gcc >/dev/null || missing="$missing gcc-powerpc64le-linux-gnu"
	command -v cpio >/dev/null || missing="$missing cpio"
	command -v xz >/dev/null || missing="$missing xz-utils"
	command -v curl >/dev/null || missing="$missing curl"
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		say "missing:$missing (run as root to install them)"
		exit 1
	fi
	say "installing:$missing"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}

# Fallback when build.sh fails: fetch the kernel and busybox-static the
# project's way (scripts/debian-ppc64el.sh: signed index, SHA256-checked
# .debs) into the oracle's cache, in the layout build.sh expects, then let
# build.sh finish (it skips what it finds done).
fetch_debs_by_hand() {
	say "build.sh failed; fetching the packages with scripts/debian-ppc64el.sh"
	sh "$ROOT/scripts/debian-ppc64el.sh" -c "$ORACLE_CACHE" busybox >/dev/null
	sh "$ROOT/scripts/debian-ppc64el.sh" -c "$ORACLE_CACHE" kernel "$FLAVOR" >/dev/null
}

build_oracle() {
	[ -f "$ORACLE_CACHE/initrd-$FLAVOR.gz" ] && [ -e "$ORACLE_CACHE/vmlinux-$FLAVOR" ] && return 0
	if "$ORACLE_DIR/build.sh" "$FLAVOR"; then
		return 0
	fi
	fetch_debs_by_hand
	"$ORACLE_DIR/build.sh" "$FLAVOR"
}

install_tools

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cat > "$W/_provenance.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
int main(void)
{
	struct utsname u;
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	uname(&u);
	printf("guest kernel: %s %s %s\n", u.sysname, u.release, u.version);
	printf("guest machine: %s\n", u.machine);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu", 3) || !strncmp(line, "platform", 8) ||
		    !strncmp(line, "model", 5) || !strncmp(line, "machine", 7))
			printf("guest cpuinfo: %s", line);
	if (f)
		fclose(f);
	f = fopen("/proc/meminfo", "r");
	if (f && fgets(line, sizeof(line), f))
		printf("guest %s", line);
	return 0;
}
EOF
if [ $# -gt 0 ]; then
	CLIENTS="$*"
else
	CLIENTS=$(ls "$CONF"/clients/*.c)
fi

# 2. Run every client on kernel $FLAVOR in one boot and split the output.
# A client's file is rewritten only when it ran to its end and the console
# stayed quiet: a kernel line ("[   12.345678] ...") between its markers
# means the kernel complained (after an oops every message shows), a
# firmware one ("[  101.432603580,3] SBE: ...", seen when the host is
# loaded) may even land inside a line of the client's.
record() {
	out=$EXP/$FLAVOR
	raw=${TMPDIR:-/tmp}/conformance-$FLAVOR.raw
	mkdir -p "$out"
	build_oracle
	say "$FLAVOR: running $(for c in $CLIENTS; do basename "$c" .c; done | tr '\n' ' ')"
	FLAVOR=$FLAVOR ORACLE_GROUPS=2 "$ORACLE_DIR/run-client.sh" "$W/_provenance.c" \
		$CLIENTS > "$raw" < /dev/null
	for c in $CLIENTS; do
		n=$(basename "$c" .c)
		sed -n "/^=== CLIENT $n\$/,/^=== EXIT $n /p" "$raw" > "$W/$n.raw"
		rc=$(sed -n "s/^=== EXIT $n \([0-9]*\)\$/\1/p" "$W/$n.raw")
		klines=$(grep -cE '\[ *[0-9]+\.[0-9]+(,[0-9])?\] ' "$W/$n.raw" || true)
		if [ "$rc" != 0 ] || [ "$klines" != 0 ]; then
			say "$FLAVOR/$n: exit '${rc:-none}', $klines console lines (see $raw): not recorded"
			fail=1
			continue
		fi
		sed '1d;$d' "$W/$n.raw" > "$out/$n.out"
		say "$FLAVOR/$n: $(wc -l < "$out/$n.out") lines"
	done
	{
		echo "Recorded by scripts/conformance-kernel.sh from the real Linux sPAPR TCE driver."
		echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		echo "command: FLAVOR=$FLAVOR MACHINE=${MACHINE:-powernv9} scripts/conformance-kernel.sh $*"
		echo "oracle: $ORACLE_DIR/run-client.sh (QEMU TCG ${MACHINE:-powernv9}, -m 3G, ORACLE_GROUPS=2: two e1000e on vfio-pci, groups 0 and 1 on two PHBs)"
		sed -n 's/^=== ORACLE /oracle guest: /p' "$raw"
		echo "host qemu: $(qemu-system-ppc64 --version | head -1)"
		echo "host cross compiler: $(powerpc64le-linux-gnu-gcc --version | head -1) (-static -O1 -pthread)"
		echo "clients at commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet -- tests/conformance/clients tests/lib/conf.h tests/lib/vmlck.h 2>/dev/null || echo ' (+ local changes)')"
		sed -n '/^=== CLIENT _provenance$/,/^=== EXIT _provenance /p' "$raw" | sed '1d;$d'
	} > "$out/PROVENANCE"
}

fail=0
for FLAVOR in $FLAVORS; do
	kernel_package > /dev/null
	record "$@"
done
exit $fail
