#!/bin/sh
# spapr-tce table-size: output, JSON and every usage error.
cli=$1
fails=0

check() {	# check NAME EXPECTED_EXIT EXPECTED_OUTPUT_SUBSTRING -- ARGS...
	name=$1 want_rc=$2 want_out=$3
	shift 4
	out=$("$cli" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want_rc" ]; then
		echo "FAIL $name: exit $rc, wanted $want_rc: $out"
		fails=$((fails + 1))
		return
	fi
	case $out in
	*"$want_out"*) echo "ok   $name" ;;
	*) echo "FAIL $name: output lacks '$want_out': $out"; fails=$((fails + 1)) ;;
	esac
}

check default-window 0 "total bytes      8388608" -- table-size --window 2G --page 4K
check one-level-64k 0 "table bytes      131072" -- table-size --window 1G --page 64K
check two-level 0 "total bytes      268566528" -- table-size --window 1T --page 64K --levels 2
check host-4k 0 "total bytes      270336" -- table-size --window 1G --page 64K --levels 2 --host-page 4K
check entries 0 "entries          16777216" -- table-size --window 1T --page 64K --levels 2
check refused 0 "the kernel refuses this table" -- table-size --window 64G --page 64K --levels 3
check json 0 '"entries": 16384, "table_bytes": 196608, "userspace_bytes": 196608, "total_bytes": 393216' \
	-- table-size --window 1G --page 64K --levels 2 --json
check json-refused 0 '"buildable": false' -- table-size --window 64G --page 64K --levels 3 --json
check help 0 "usage: spapr-tce table-size" -- table-size --help
check no-args 2 "--window and --page are required" -- table-size
check no-page 2 "--window and --page are required" -- table-size --window 2G
check bad-size 2 "--window: '2Q' is not a size" -- table-size --window 2Q --page 4K
check huge-size 2 "--page: '99999999999999999999' is too large" -- table-size --window 2G --page 99999999999999999999
check bad-page 2 "--page: 8K is not an IOMMU page size" -- table-size --window 2G --page 8K
check odd-page 2 "--page: 5000 is not an IOMMU page size" -- table-size --window 2G --page 5000
check not-pow2 2 "--window: 3G is not a power of two" -- table-size --window 3G --page 4K
check small 2 "--window: smaller than one IOMMU page" -- table-size --window 32K --page 64K
check levels-0 2 "--levels: '0' is not a number from 1 to 5" -- table-size --window 2G --page 4K --levels 0
check levels-6 2 "--levels: '6' is not a number from 1 to 5" -- table-size --window 2G --page 4K --levels 6
check levels-x 2 "--levels: '2x'" -- table-size --window 2G --page 4K --levels 2x
check host-8k 2 "--host-page: 8K is neither 4K nor 64K" -- table-size --window 2G --page 4K --host-page 8K
check unknown-opt 2 "unknown or incomplete option '--frob'" -- table-size --frob
check missing-arg 2 "unknown or incomplete option '--window'" -- table-size --page 4K --window
check extra-arg 2 "unexpected argument 'extra'" -- table-size --window 2G --page 4K extra
check unknown-cmd 2 "unknown command 'frob'" -- frob
check no-cmd 2 "usage: spapr-tce COMMAND" --
check demo-help 0 "usage: spapr-tce demo" -- demo --help

echo "$fails failed"
[ "$fails" = 0 ]
