#!/bin/sh
# spapr-tce info, trace, run and demo.
# Usage: test_cli.sh SPAPR_TCE_CLI SPAPR_V1_EXAMPLE EEH_EXAMPLE IOMMUFD_EXAMPLE
cli=$1 v1=$2 eeh=$3 iofd=$4
fails=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

check() {	# check NAME EXPECTED_EXIT EXPECTED_OUTPUT_SUBSTRING -- ARGS...
	name=$1 want_rc=$2 want_out=$3
	shift 4
	out=$("$cli" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want_rc" ]; then
		echo "FAIL $name: exit $rc, wanted $want_rc: $out" | head -40
		fails=$((fails + 1))
		return
	fi
	case $out in
	*"$want_out"*) echo "ok   $name" ;;
	*) echo "FAIL $name: output lacks '$want_out':"; echo "$out" | head -40
	   fails=$((fails + 1)) ;;
	esac
}

check info 0 "PE 0 (IOMMU group 0, /dev/vfio/0)" -- info
check info-device 0 "0030:02:00.0  1014:daa0" -- info
check info-json 0 '"group": 1, "phb": 0' -- info --json
# Valid JSON whether the limit is a number or null (root is exempt; a
# child without CAP_IPC_LOCK is not: setpriv drops it where available).
json_ok() {	# json_ok NAME [WRAPPER...]
	name=$1
	shift
	if "$@" "$cli" info --json | python3 -c 'import json,sys; json.load(sys.stdin)'; then
		echo "ok   $name"
	else
		echo "FAIL $name: info --json is not valid JSON"
		fails=$((fails + 1))
	fi
}
json_ok info-json-valid
if command -v setpriv >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	json_ok info-json-valid-limit setpriv --inh-caps=-all --bounding-set=-ipc_lock
fi
check info-arg 2 "unexpected argument 'x'" -- info x
check info-preload 0 "libspapr-tce-preload.so" -- info
printf 'phb 0\npe 5 phb=0\ndevice 0000:00:03.0 pe=5\n' > "$T/topo"
SPAPR_TCE_TOPOLOGY=$T/topo check info-topology 0 "IOMMU group 5" -- info
SPAPR_TCE_TOPOLOGY=$T/missing check info-bad-topology 2 "missing" -- info

check trace-open 0 'open("/dev/vfio/vfio", O_RDWR|O_CLOEXEC) = ' -- trace -- "$v1"
check trace-set-iommu 0 'VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU) = 0' -- trace -- "$v1"
check trace-map 0 'VFIO_IOMMU_MAP_DMA, {argsz=32, flags=READ|WRITE, vaddr=0x' -- trace -- "$v1"
check trace-info 0 'dma32_window_size=0x80000000' -- trace -- "$v1"
check trace-region 0 'VFIO_DEVICE_GET_REGION_INFO, {argsz=32, index=0, flags=0x3, size=0x1000' -- trace -- "$v1"
check trace-pwrite 0 'pwrite(' -- trace -- "$v1"
check trace-irq 0 'VFIO_DEVICE_SET_IRQS, {argsz=24, flags=0x24, index=0, start=0, count=1, data=[' -- trace -- "$v1"
check trace-output 0 'spapr-v1: OK' -- trace -- "$v1"
check trace-file 0 'eeh: OK' -- trace -o "$T/trace.log" -- "$eeh"
if grep -q 'op=VFIO_EEH_PE_GET_STATE}) = 2' "$T/trace.log" &&
   grep -q 'pread(.*<device>, CONFIG+0x0, 4) = 4' "$T/trace.log"; then
	echo "ok   trace-file-content"
else
	echo "FAIL trace-file-content:"; head -20 "$T/trace.log"; fails=$((fails + 1))
fi
check trace-iommufd-open 0 'open("/dev/iommu", O_RDWR|O_CLOEXEC) = ' -- trace -- "$iofd"
check trace-iommufd-bind 0 'VFIO_DEVICE_BIND_IOMMUFD, {argsz=16, flags=0x0, iommufd=' -- trace -- "$iofd"
check trace-iommufd-hwpt 0 'IOMMU_HWPT_ALLOC, {size=40, flags=0x0, dev_id=1, pt_id=2, out_hwpt_id=3, data_type=0x53504154' -- trace -- "$iofd"
check trace-iommufd-map 0 'IOMMU_IOAS_MAP, {size=40, flags=FIXED_IOVA|WRITEABLE|READABLE, ioas_id=2' -- trace -- "$iofd"
check trace-iommufd-attach 0 '<device>, VFIO_DEVICE_ATTACH_IOMMUFD_PT, {argsz=12, flags=0x0, pt_id=3}) = 0' -- trace -- "$iofd"
check trace-iommufd-unmap 0 'IOMMU_IOAS_UNMAP, {size=24, ioas_id=2, iova=0x0, length=0x200000}) = 0' -- trace -- "$iofd"
check trace-none 2 "no program to run" -- trace
check trace-bad-opt 2 "unknown option '-x'" -- trace -x prog
check trace-missing 127 "No such file" -- trace -- /nonexistent/prog

# run: any program on the emulated host, no LD_PRELOAD spelled out (an
# ASan build's library needs the runtime first: run adds it, or cat and
# readlink, which are not instrumented, would not start).
check run-help 0 "usage: spapr-tce run [--topology FILE]" -- run --help
check run-example 0 "spapr-v1: OK" -- run -- "$v1"
check run-sysfs 0 "0x1014" -- run -- cat /sys/bus/pci/devices/0030:01:00.0/vendor
check run-realpath 0 "/sys/devices/pci0030:00/0030:00:00.0/0030:02:00.0" \
	-- run -- realpath /sys/bus/pci/devices/0030:02:00.0
check run-topology 0 "../../../kernel/iommu_groups/5" \
	-- run --topology "$T/topo" -- readlink /sys/bus/pci/devices/0000:00:03.0/iommu_group
# sysfs sizes its attributes by the page: the topology's host page.
printf 'host_page 4K\nphb 0\npe 0\ndevice 0030:01:00.0 pe=0\n' > "$T/topo4k"
check run-page-4k 0 "4096" -- run --topology "$T/topo4k" -- \
	stat -c %s /sys/bus/pci/devices/0030:01:00.0/vendor
check run-page-64k 0 "65536" -- run -- stat -c %s /sys/bus/pci/devices/0030:01:00.0/vendor
check run-trace 0 'VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU) = 0' -- run --trace -- "$v1"
check run-trace-file 0 'spapr-v1: OK' -- run --trace="$T/run.log" -- "$v1"
if grep -q 'VFIO_IOMMU_MAP_DMA' "$T/run.log"; then
	echo "ok   run-trace-file-content"
else
	echo "FAIL run-trace-file-content:"; head -5 "$T/run.log"; fails=$((fails + 1))
fi
out=$("$cli" run -- "$v1" 2>&1)
case $out in
*"[spapr-tce]"*) echo "FAIL run-no-trace: traced without --trace"; fails=$((fails + 1)) ;;
*) echo "ok   run-no-trace" ;;
esac
check run-bad-topology 2 "missing" -- run --topology "$T/missing" -- true
printf 'phb 0\npe 0\ndevice 0000:00:00.0 pe=1\n' > "$T/bad"
check run-bad-topology-line 2 "line 3: device 0000:00:00.0: pe 1 not declared" \
	-- run --topology "$T/bad" -- true
check run-topology-arg 2 "--topology needs a file" -- run --topology
check run-none 2 "no program to run" -- run
check run-bad-opt 2 "unknown option '--trace-x'" -- run --trace-x prog
check run-missing 127 "No such file" -- run -- /nonexistent/prog
check run-exit 3 "" -- run -- sh -c 'exit 3'

check demo-small 0 "released         everything" -- demo --guest-mem 16M --vcpus 3
check demo-4k 0 "TCEs mapped      4096 by 2 vCPUs" -- demo --guest-mem 16M --page 4K
check demo-json 0 '"recovered": true, "released": true' -- demo --guest-mem 8M --json
check demo-fault 0 "faults           1 (outside every window), recovered: yes" -- demo --guest-mem 8M
check demo-hcalls 0 "TCEs mapped      256 by 2 vCPUs, " -- demo --guest-mem 16M
check demo-put-calls 0 ": 3 H_PUT_TCE_INDIRECT, 0 H_TOO_HARD retried" -- demo --guest-mem 16M --vcpus 3
check demo-stuff 0 "TCEs unmapped    4096 by 2 vCPUs, " -- demo --guest-mem 16M --page 4K
check demo-rtas 0 "ibm,create-pe-dma-window: LIOBN 0x80000001, 16M of 64K pages at bus 0x800000000000000" \
	-- demo --guest-mem 16M
check demo-released 0 "locked_vm back to 0, 0 registered regions, 0 pinned pages" -- demo --guest-mem 8M
# A window of 8M TCEs has 2 levels: the one leaf the guest's RAM needs is
# allocated on the slow path, after one H_TOO_HARD.
check demo-too-hard 0 "8 H_PUT_TCE_INDIRECT, 1 H_TOO_HARD retried" \
	-- demo --guest-mem 16M --page 4K --window 32G --vcpus 1
check demo-json-hcalls 0 '"hcalls": {"put_tce_indirect": 8, "stuff_tce": 8, "get_tce": 4}, "too_hard_retries": 1, "rtas_calls": 4' \
	-- demo --guest-mem 16M --page 4K --window 32G --vcpus 1 --json
check demo-json-after 0 '"after": {"locked_vm_pages": 0, "regions": 0, "pinned_pages": 0}' -- demo --guest-mem 8M --json
check demo-window 2 "--window: a power of two" -- demo --window 3G
check demo-window-small 2 "--window: not smaller than --guest-mem" -- demo --guest-mem 16M --window 8M
check demo-vcpus 2 "--vcpus: '0'" -- demo --vcpus 0
check demo-page 2 "--page: 4K, 64K, 2M or 1G" -- demo --page 8K
check demo-mem 2 "--guest-mem: a multiple" -- demo --guest-mem 1000
check demo-arg 2 "unexpected argument 'x'" -- demo x

# As a user with the usual 8M RLIMIT_MEMLOCK (root without CAP_IPC_LOCK):
# a smaller guest and a small default window, everything released.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	out=$(ulimit -l 8192 && setpriv --inh-caps=-all --bounding-set=-all "$cli" demo 2>&1)
	case $out in
	*"guest gets 4M of RAM, a 32M default window"*"released         everything"*)
		echo "ok   demo-memlock" ;;
	*) echo "FAIL demo-memlock:"; echo "$out" | head -40; fails=$((fails + 1)) ;;
	esac
	out=$(ulimit -l 600 && setpriv --inh-caps=-all --bounding-set=-all "$cli" demo 2>&1)
	case $out in
	*"default window   removed by the guest to make room (the DDW got its LIOBN)"*"released         everything"*)
		echo "ok   demo-memlock-one-window" ;;
	*) echo "FAIL demo-memlock-one-window:"; echo "$out" | head -40; fails=$((fails + 1)) ;;
	esac
else
	echo "skip demo-memlock (needs root and setpriv)"
fi

echo "$fails failed"
[ "$fails" = 0 ]
