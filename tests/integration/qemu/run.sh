#!/bin/sh
# QEMU pSeries passthrough on spapr-tce: Debian's unmodified
# qemu-system-ppc64 (-M pseries, TCG) passes the topology's DMA test device
# through with -device vfio-pci under the preload library; in the guest
# (Debian's ppc64el Linux 6.12 and a busybox initrd) guest.c drives it
# through the guest kernel's own VFIO: both DMA windows, INTx, EEH.
#
# Passes when the guest program ends with "guest: OK" and the trace of
# QEMU's VFIO calls shows what the guest did arriving on spapr-tce: MAP_DMA
# into the 32-bit window at 0 and into the DDW at 1 << 59, the DDW created
# there, INTx unmasked, the EEH state read as frozen and the PE reset.
# Prints the QEMU run's wall time and its counts of MAP_DMA and UNMAP_DMA.
#
# Usage: tests/integration/qemu/run.sh [BUILD_DIR]   (default build/release)
# Env: FLAVOR          guest kernel, k612-64k (default) or k612-4k
#      SPAPR_TCE_TOPOLOGY  the host (default: host.topo here); its first
#                      device is passed through
#      DEBIAN_PPC64EL_CACHE  downloads (scripts/debian-ppc64el.sh)
#      QEMU_TIMEOUT    seconds for the QEMU run (default 100)
#      KEEP            a directory: the console log, the trace and the
#                      initrd are left there (default build/integration/qemu)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build/release}" && pwd)
FLAVOR=${FLAVOR:-k612-64k}
TOPO=${SPAPR_TCE_TOPOLOGY:-$HERE/host.topo}
KEEP=${KEEP:-$ROOT/build/integration/qemu}
CLI=$BUILD/tools/spapr-tce

say() { echo "qemu: $*"; }
fail() { say "FAIL: $*"; exit 1; }

for t in qemu-system-ppc64 powerpc64le-linux-gnu-gcc cpio gzip xz dpkg-deb; do
	command -v $t >/dev/null 2>&1 ||
		fail "$t missing (as root: sh scripts/deps.sh integration)"
done
[ -x "$CLI" ] || fail "no $CLI (build first: make)"
BDF=$(awk '$1 == "device" { print $2; exit }' "$TOPO")
[ -n "$BDF" ] || fail "$TOPO declares no device"

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$KEEP"

# 1. The guest: kernel, busybox, vfio modules, the program, init.
KDIR=$(sh "$ROOT/scripts/debian-ppc64el.sh" kernel "$FLAVOR")
BUSYBOX=$(sh "$ROOT/scripts/debian-ppc64el.sh" busybox)
for VMLINUX in "$KDIR"/boot/vmlinux-*; do break; done
for MODDIR in "$KDIR"/lib/modules/* "$KDIR"/usr/lib/modules/*; do
	[ -d "$MODDIR" ] && break
done
R=$W/root
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/lib/modules"
cp "$BUSYBOX" "$R/bin/busybox"
# Load order: the VFIO core, the sPAPR TCE IOMMU driver, vfio-pci.
MODS="vfio vfio_iommu_spapr_tce vfio-pci-core vfio-pci"
for m in $MODS; do
	f=$(find "$MODDIR/kernel/drivers/vfio" -name "$m.ko*" | head -1)
	[ -n "$f" ] || fail "no $m module in $(cat "$KDIR/pkg")"
	case $f in
	*.xz) xz -dc "$f" > "$R/lib/modules/$m.ko" ;;
	*) cp "$f" "$R/lib/modules/$m.ko" ;;
	esac
done
powerpc64le-linux-gnu-gcc -std=gnu11 -static -O2 -Wall -Wextra -Werror \
	-I"$ROOT/include" -I"$ROOT/examples" -o "$R/guest" "$HERE/guest.c"
cat > "$R/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $MODS; do insmod /lib/modules/\$m.ko || echo "insmod \$m failed"; done
echo "=== GUEST START"
/guest
echo "=== GUEST EXIT \$?"
poweroff -f
EOF
chmod +x "$R/init" "$R/bin/busybox"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 > "$W/initrd.gz")

# 2. QEMU on the emulated host (spapr-tce run: the preload library), every
# VFIO call traced. The default
# window is 64 MiB (QEMU's is 1 GiB): the guest kernel clears a window's
# whole TCE table when it sets one up, and QEMU turns every cleared TCE into
# one UNMAP_DMA, so this keeps each clear at 16384 calls.
# x-vof: QEMU's minimal firmware instead of SLOF (boot in 2 s, not 12).
# The caps: TCG has none of these Spectre mitigations, say so (no warnings).
# SPAPR_TCE_STATS: where QEMU's IOMMU time went, printed below.
TRACE=$W/trace
STATS=$W/stats
START=$(date +%s.%N)
set +e
SPAPR_TCE_STATS=$STATS timeout "${QEMU_TIMEOUT:-100}" "$CLI" run --topology "$TOPO" --trace="$TRACE" -- \
	qemu-system-ppc64 \
	-M pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off \
	-cpu POWER9 -smp 1 -m 512M -nographic -vga none -nic none -no-reboot \
	-kernel "$VMLINUX" -initrd "$W/initrd.gz" \
	-append "console=hvc0 rdinit=/init quiet" \
	-global spapr-pci-host-bridge.dma_win_size=0x4000000 \
	-device vfio-pci,host="$BDF" > "$W/console.raw" 2>&1
QRC=$?
set -e
WALL=$(echo "$(date +%s.%N) $START" | awk '{ printf "%.1f", $1 - $2 }')
tr -d '\r' < "$W/console.raw" > "$KEEP/console.log"
cp "$TRACE" "$KEEP/trace.txt" 2>/dev/null || : > "$KEEP/trace.txt"
cp "$STATS" "$KEEP/stats.txt" 2>/dev/null || : > "$KEEP/stats.txt"
cp "$W/initrd.gz" "$KEEP/initrd.gz"
CON=$KEEP/console.log
TR=$KEEP/trace.txt

# 3. What the guest saw (its lines, without the kernel's log lines).
GUEST=$KEEP/guest.log
sed -n '/^=== GUEST START/,/^=== GUEST EXIT/p' "$CON" | sed '1d;$d' | grep -v '^\[ *[0-9]' > "$GUEST" || :
sed 's/^/  guest| /' "$GUEST"
if ! grep -q '^=== GUEST EXIT 0$' "$CON" || ! grep -q '^guest: OK$' "$GUEST"; then
	say "QEMU exit status $QRC; what QEMU said:"
	grep -E '^(qemu-system-ppc64|qemu):' "$CON" | sed 's/^/  console| /' || :
	say "the console's end:"
	tail -15 "$CON" | sed 's/^/  console| /'
	fail "the guest program did not finish (console: $CON)"
fi

# 4. What reached spapr-tce. A MAP_DMA's iova below 4 GiB is in the 32-bit
# window at 0; from 1 << 59 on it is in the DDW.
mapped() { grep 'VFIO_IOMMU_MAP_DMA.*) = 0$' "$TR" | sed -n 's/.*iova=0x\([0-9a-f]*\),.*/\1/p'; }
maps=$(mapped | wc -l)
in32=$(mapped | awk 'length($1) <= 8' | wc -l)
in64=$(mapped | grep -c '^8[0-9a-f]\{14\}$' || :)
unmaps=$(grep -c 'VFIO_IOMMU_UNMAP_DMA.*) = 0$' "$TR" || :)
errs=$(grep -c ') = -1 ' "$TR" || :)
need() {
	grep -q "$1" "$TR" || fail "trace: no $2 (trace: $TR)"
}
need 'VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU) = 0' "v2 container"
need 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY.*) = 0' "guest RAM registration"
need 'VFIO_IOMMU_SPAPR_TCE_CREATE.*start_addr=0x0}) = 0' "32-bit window created at 0"
need 'VFIO_IOMMU_SPAPR_TCE_CREATE.*start_addr=0x800000000000000}) = 0' "DDW created at 1<<59"
need 'VFIO_DEVICE_SET_IRQS.*flags=0x24, index=0' "INTx eventfd"
need 'VFIO_DEVICE_SET_IRQS.*flags=0x11, index=0' "INTx unmask"
need 'op=VFIO_EEH_PE_GET_STATE}) = 2$' "EEH state read as frozen (2)"
need 'op=VFIO_EEH_PE_RESET_HOT}) = 0' "EEH hot reset"
need 'op=VFIO_EEH_PE_RESET_DEACTIVATE}) = 0' "EEH reset deactivate"
# Every TCE the guest set is one MAP_DMA in the window it set it in.
want32=$(sed -n 's/^expect: map32=\([0-9]*\) .*/\1/p' "$GUEST")
want64=$(sed -n 's/^expect: .* map64=\([0-9]*\)$/\1/p' "$GUEST")
[ "$in32" = "$want32" ] || fail "trace: $in32 MAP_DMA into the 32-bit window, the guest set $want32 TCEs"
[ "$in64" = "$want64" ] || fail "trace: $in64 MAP_DMA into the DDW, the guest set $want64 TCEs"
[ "$maps" = $((in32 + in64)) ] || fail "trace: $maps MAP_DMA, $((maps - in32 - in64)) outside both windows"
say "trace: MAP_DMA $maps (32-bit window $in32, DDW $in64), UNMAP_DMA $unmaps," \
    "calls that failed $errs"
# 5. SPAPR_TCE_STATS's report: printed; its MAP_DMA count is the trace's.
say "SPAPR_TCE_STATS (QEMU's calls, time in the library):"
sed 's/^/  stats| /' "$KEEP/stats.txt"
grep -q '^\[spapr-tce\] stats pid ' "$KEEP/stats.txt" || fail "no SPAPR_TCE_STATS report ($KEEP/stats.txt)"
smaps=$(awk '$2 == "ioctl" && $3 == "VFIO_IOMMU_MAP_DMA" { n += $4 } END { print n + 0 }' "$KEEP/stats.txt")
tmaps=$(grep -c 'VFIO_IOMMU_MAP_DMA' "$TR" || :)
[ "$smaps" = "$tmaps" ] || fail "stats: $smaps MAP_DMA, the trace $tmaps"
say "wall ${WALL}s for the QEMU run ($FLAVOR guest, $BDF from $(basename "$TOPO"))"
say "PASS"
