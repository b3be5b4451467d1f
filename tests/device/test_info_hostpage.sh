#!/bin/sh
# spapr-tce info counts the locked-memory limit in the topology's host
# page, as a program under the preload library is charged: a limit of
# 1M+4K is 1M+4K with 4K pages and 1M (rounded down) with 64K pages.
# Usage: test_info_hostpage.sh SPAPR_TCE_CLI TOPOLOGY_DIR
set -u
CLI=$1
DIR=$2
LIMIT=1052672
fail=0

# Without CAP_IPC_LOCK (dropped when root), else the limit is "unlimited".
NOCAP=
[ "$(id -u)" = 0 ] && NOCAP="setpriv --inh-caps=-all --bounding-set=-ipc_lock"

check() {
	out=$(SPAPR_TCE_TOPOLOGY=$DIR/$1 prlimit --memlock=$LIMIT:$LIMIT \
		$NOCAP "$CLI" info --json 2>&1)
	case $out in
	*"\"host_page\": $2,"*"\"memlock_limit_bytes\": $3,"*)
		echo "ok: $1: host_page $2, limit $3" ;;
	*)
		echo "FAIL: $1: want host_page $2, limit $3; got: $out"
		fail=1 ;;
	esac
}

check topo-4k.txt 4096 1052672
check topo-64k.txt 65536 1048576
exit $fail
