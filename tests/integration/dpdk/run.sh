#!/bin/sh
# DPDK's sPAPR path on spapr-tce (docs/dpdk.md): a program using only
# DPDK 22.11's public API (Debian 12's libdpdk-dev) runs under
# `spapr-tce run --trace` on a 4K-host-page topology; this checks its own
# verdict, then the trace: DPDK selected sPAPR v2, replaced the default
# window by one 1-level window at 0, REGISTERed and MAPped every 4K page
# of its heap and both user buffers, and sent the two UNMAPs that DPDK
# 22.11's sPAPR code gets wrong (iova=0, size=the buffer's iova). Then
# dpdk_ioctls (the same ioctls without DPDK) must answer as recorded from
# the real kernel (kernel-k612-4k.out), where spapr-tce.out differs only
# in VmLck figures of leaks the kernel has (docs/quirks.md 14, 15).
#
# Usage: tests/integration/dpdk/run.sh [RELEASE_BUILD_DIR]
#   (as make integration runs it: tests/integration/run.sh passes
#   build/release, already built; without it this builds build/release)
# Exit 0 when everything holds, 1 otherwise; the figures (ioctl counts,
# wall time) are printed either way.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
if [ $# -ge 1 ]; then
	rel=$(cd "$1" && pwd) || exit 1
else
	make -C "$root" --no-print-directory all >/dev/null ||
		{ echo "FAIL: building spapr-tce (make all)"; exit 1; }
	rel=$root/build/release
fi
out=$(dirname "$rel")/integration/dpdk
cli=$rel/tools/spapr-tce
bdf=0030:01:00.0
# Why each: docs/dpdk.md, "The command".
eal="--no-huge --no-pci -m 64 --iova-mode=va --base-virtaddr=0x10000000
     --no-shconf --no-telemetry -l 0"
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# ---- build the two programs ----
sh "$root/scripts/deps.sh" libdpdk-dev || exit 1
[ -x "$cli" ] || { echo "FAIL: no $cli (build spapr-tce first: make)"; exit 1; }
mkdir -p "$out"
rm -f "$out"/trace.txt "$out"/*.log "$out"/dpdk_ioctls.out
cflags="-std=gnu11 -O2 -Wall -Wextra -I$root/include"
# shellcheck disable=SC2046 # pkg-config's words are separate arguments
cc $cflags $(pkg-config --cflags libdpdk) -o "$out/dpdk_spapr" "$here/dpdk_spapr.c" \
	$(pkg-config --libs libdpdk) || { echo "FAIL: compiling dpdk_spapr.c"; exit 1; }
cc $cflags -o "$out/dpdk_ioctls" "$here/dpdk_ioctls.c" ||
	{ echo "FAIL: compiling dpdk_ioctls.c"; exit 1; }

# ---- run DPDK, as a user would (docs/dpdk.md) ----
t0=$(date +%s.%N)
# shellcheck disable=SC2086 # $eal is a list of arguments
timeout 120 "$cli" run --topology "$here/topology" --trace="$out/trace.txt" -- \
	"$out/dpdk_spapr" "$bdf" $eal >"$out/dpdk_spapr.log" 2>&1
rc=$?
t1=$(date +%s.%N)
wall=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
grep -E '^(ok|FAIL) - ' "$out/dpdk_spapr.log"
[ "$rc" = 0 ] || { fail "dpdk_spapr exited $rc (log: $out/dpdk_spapr.log)";
	grep -E '^EAL: .*(VFIO|IOMMU|DMA|window|vaddr)' "$out/dpdk_spapr.log" | head -20; }

# ---- the trace ----
tr=$out/trace.txt
[ -f "$tr" ] || : >"$tr"
count() { grep -c -- "$1" "$tr"; }
ok_count() { grep -- "$1" "$tr" | grep -c ') = 0$'; }
figure() { sed -n "s/^figure $1 //p" "$out/dpdk_spapr.log"; }
segs=$(figure heap_segs); segs=${segs:-0}
window=$(figure window); window=${window:-0}
high_iova=$(printf '0x%x' $((window - 1048576)))	# dpdk_spapr's high buffer
reg=$(count 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY,')
map=$(count 'VFIO_IOMMU_MAP_DMA,')
unmap=$(count 'VFIO_IOMMU_UNMAP_DMA,')
unreg=$(count 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,')
echo "figures: REGISTER $reg MAP $map UNMAP $unmap UNREGISTER $unreg" \
	"(heap: $segs memsegs of $(figure heap_page) bytes), wall ${wall} s," \
	"VmLck after setup $(figure vmlck_after_setup_kb) kB, at the end $(figure vmlck_end_kb) kB"

grep -q 'VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU) = 0$' "$tr" ||
	fail "DPDK did not select sPAPR v2"
grep -q 'VFIO_IOMMU_SPAPR_TCE_REMOVE, {argsz=16, flags=0x0, start_addr=0x0}) = 0$' "$tr" ||
	fail "DPDK did not remove the default window"
[ "$(count 'VFIO_IOMMU_SPAPR_TCE_CREATE,')" = 1 ] &&
	grep -q "page_shift=12, window_size=$window, levels=1, start_addr=0x0}) = 0$" "$tr" ||
	fail "DPDK's window: not one 1-level CREATE of 4K pages, size $window, at 0"
[ "$segs" -gt 0 ] && [ "$reg" = $((segs + 2)) ] && [ "$(ok_count 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY,')" = "$reg" ] ||
	fail "REGISTER: $reg, wanted $segs memsegs + 2 buffers, all = 0"
[ "$map" = $((segs + 2)) ] && [ "$(ok_count 'VFIO_IOMMU_MAP_DMA,')" = "$map" ] ||
	fail "MAP_DMA: $map, wanted $segs memsegs + 2 buffers, all = 0"
# DPDK 22.11 unmaps [0, iova) instead of [iova, iova + len): the bug
# docs/dpdk.md describes. A DPDK that fixed it fails here: update then.
[ "$unmap" = 2 ] &&
	grep -q 'UNMAP_DMA, {argsz=24, flags=0x0, iova=0x0, size=0x100000}) = 0$' "$tr" &&
	grep -q "UNMAP_DMA, {argsz=24, flags=0x0, iova=0x0, size=$high_iova}) = 0\$" "$tr" ||
	fail "UNMAP_DMA: not DPDK 22.11's two (iova=0x0, size=the buffers' iova)"
[ "$unreg" = 2 ] && [ "$(ok_count 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,')" = 2 ] ||
	fail "UNREGISTER: $unreg, wanted 2, both = 0"
grep -q 'VFIO_GROUP_GET_DEVICE_FD, "'$bdf'") = ' "$tr" ||
	fail "DPDK did not get the device fd"
unexpected=$(grep -- ') = -1 ' "$tr" | grep -v 'VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) = -1 ENODEV')
[ -z "$unexpected" ] || fail "calls that failed: $unexpected"

# ---- the same ioctls without DPDK, against the kernel's answers ----
timeout 60 "$cli" run --topology "$here/topology" -- \
	"$out/dpdk_ioctls" /dev/vfio/0 >"$out/dpdk_ioctls.out" 2>&1 ||
	fail "dpdk_ioctls exited $?"
diff -u "$here/spapr-tce.out" "$out/dpdk_ioctls.out" >"$out/dpdk_ioctls.diff" ||
	{ fail "dpdk_ioctls differs from spapr-tce.out:"; cat "$out/dpdk_ioctls.diff"; }
novm() { sed 's/ vmlck=[0-9-]*$//' "$1"; }
novm "$here/kernel-k612-4k.out" >"$out/kernel.novm"
novm "$here/spapr-tce.out" >"$out/spapr-tce.novm"
cmp -s "$out/kernel.novm" "$out/spapr-tce.novm" ||
	fail "spapr-tce.out answers differently from the kernel (not only VmLck)"

if [ "$fails" = 0 ]; then
	echo "integration dpdk: PASS in ${wall} s"
	exit 0
fi
echo "integration dpdk: FAIL ($fails), logs in $out"
exit 1
