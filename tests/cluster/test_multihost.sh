#!/usr/bin/env bash
# test_multihost.sh — a sweep across two emulated hosts (netns-cluster.sh: TCP between network
# namespaces, mpirun's rsh agent = ip netns exec), one host's orted killed with kill -9 part-way
# through, then --resume: every run done, traces bit-identical to a plain mpirun of the same spec,
# no run done before the kill run again, every other run started exactly once more.
#
#   test_multihost.sh ATTNSWEEP SRC DIR      (DIR: work area; the cluster is torn down on exit)
# Exit 77 = cannot run here (not root, no network namespaces).
set -uo pipefail
BIN=$(readlink -f "$1"); SRC=$(readlink -f "$2"); DIR=$3
HERE=$SRC/tests/cluster
SPEC=$HERE/multihost.ini
T0=$(date +%s)
log() { printf '[test_multihost +%3ds] %s\n' $(( $(date +%s) - T0 )) "$*"; }
fail() { log "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { log "skip: needs root (network namespaces)"; exit 77; }
/usr/bin/python3 -c 'import h5py' || fail "needs /usr/bin/python3 with h5py"

rm -rf "$DIR"; mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd); cd "$DIR" || exit 1
CL=$DIR/cluster
REF_PID=""; MPI_PID=""
cleanup() {
  local rc=$? p
  trap - EXIT
  for p in $MPI_PID $REF_PID; do kill -TERM "$p" 2>/dev/null; done
  "$HERE/netns-cluster.sh" down "$CL"       # kills whatever is left in our namespaces
  [ -n "$REF_PID" ] && wait "$REF_PID" 2>/dev/null
  exit $rc
}
trap cleanup EXIT
"$HERE/netns-cluster.sh" up "$CL" 2; rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "could not set up the emulated hosts"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
mapfile -t MCA < <(tr ' ' '\n' < "$CL/mca" | grep .)
# 4 ranks: 0 (coordinator) and 1 on nodeA, 2 and 3 on nodeB; mpirun itself on nodehead
# shellcheck source=tests/cluster/lib.sh
. "$HERE/lib.sh"
# ~24 s of runs (4 lr values per seed): long enough to kill part-way on a fast machine
t1=$(run_seconds "$BIN" "$SPEC")
nseed=$(seeds_for 24 "$t1" 4 10 200)
SET=(--set "grid.seed=0..$((nseed - 1))")
N=$((4 * nseed))
sweep() {   # sweep OUT [--resume]: mpirun across the emulated hosts, in the background
  timeout -k 5 150 "$CL/nsexec" nodehead mpirun "${MCA[@]}" --mca io romio321 --bind-to none \
      --timeout 140 -np 4 --host nodeA:2,nodeB:2 "$BIN" run "$SPEC" "${SET[@]}" --out "$@" &
  MPI_PID=$!
}

timeout -k 5 200 mpirun -np 2 --oversubscribe --bind-to none --mca io romio321 "$BIN" run "$SPEC" \
    "${SET[@]}" --out ref.h5 > ref.log 2>&1 &
REF_PID=$!
log "one run takes $t1 s: sweep of $N runs on nodeA:2 + nodeB:2; kill nodeB's orted after a quarter of them"
sweep out.h5 > run1.log 2>&1
end=$(( $(date +%s) + 120 ))
while :; do
  d=$(done_count "$BIN" out.h5)
  [ "$d" -ge $((N / 4)) ] && break
  kill -0 "$MPI_PID" 2>/dev/null || { cat run1.log; fail "the sweep ended before the kill ($d done)"; }
  [ "$(date +%s)" -lt "$end" ] || fail "no progress to kill at"
  sleep 0.1
done
orted=$("$HERE/netns-cluster.sh" pids "$CL" nodeB orted)
[ -n "$orted" ] || fail "no orted on nodeB"
log "$d/$N done: kill -9 orted $orted on nodeB"
kill -9 $orted
wait "$MPI_PID"; rc=$?; MPI_PID=""
sed 's/^/  run1| /' run1.log | tail -15
[ $rc != 0 ] || fail "mpirun exited 0 although a host died"
log "mpirun exited with $rc"
# ranks of the dead host are orphans now; on a real cluster the node is gone. Make sure no rank
# can still write to the file while the resumed sweep runs (bounded wait, then kill: ours anyway).
ranks() { "$HERE/netns-cluster.sh" pids "$CL" nodeA attnsweep; "$HERE/netns-cluster.sh" pids "$CL" nodeB attnsweep; }
for _ in $(seq 50); do [ -z "$(ranks)" ] && break; sleep 0.1; done
left=$(ranks)
[ -n "$left" ] && { log "ranks still alive 5 s after mpirun ended: $left (killed)"; kill -9 $left; sleep 0.5; }
cp out.h5 snapshot.h5

log "resume across both hosts"
sweep out.h5 --resume > run2.log 2>&1
wait "$MPI_PID"; rc=$?; MPI_PID=""
sed 's/^/  run2| /' run2.log | tail -8
[ $rc = 0 ] || fail "resumed sweep exited with $rc"
wait "$REF_PID"; rc=$?; REF_PID=""
[ $rc = 0 ] || { cat ref.log; fail "reference sweep exited with $rc"; }
/usr/bin/python3 "$HERE/check_h5.py" out.h5 --ref ref.h5 --snapshot snapshot.h5 || fail "result file"
log "PASS"
