#!/usr/bin/env bash
# test_multihost.sh — sweeps across emulated hosts (netns-cluster.sh: TCP between network
# namespaces, mpirun's rsh agent = ip netns exec, each host its own hostname; the build directory
# is the filesystem every host shares).
#
#   test_multihost.sh loss ATTNSWEEP SRC DIR   a sweep on nodeA + nodeB, nodeB's orted killed with
#                        kill -9 part-way through, then --resume: every run done, traces
#                        bit-identical to a plain mpirun of the same spec, no run done before the
#                        kill run again, every other run started exactly once more
#   test_multihost.sh lock ATTNSWEEP SRC DIR   the one-writer lock across hosts: a sweep writes
#                        from nodeA; from nodeB `status --json` shows it live, jobs/slurm.sbatch
#                        sees its heartbeat renewed and does not start. nodeA's sweep is killed
#                        with kill -9: its lock stays, dead to nodeA, live to nodeB while its
#                        heartbeat is fresh, so a --resume from nodeB is refused and changes
#                        nothing. The lock aged to 80 s (touch -d), slurm.sbatch on nodeB, as a
#                        continuation, waits until it is 90 s old, takes it over and completes the
#                        sweep: = a plain run, no run done before the kill run again
# DIR: work area; the cluster lives in DIR/../cluster and is torn down on exit.
# Exit 77 = cannot run here (not root, no network namespaces).
set -uo pipefail
CASE=$1; BIN=$(readlink -f "$2"); SRC=$(readlink -f "$3"); DIR=$4
HERE=$SRC/tests/cluster
SPEC=$HERE/multihost.ini
T0=$(date +%s)
log() { printf '[test_multihost %s +%3ds] %s\n' "$CASE" $(( $(date +%s) - T0 )) "$*"; }
fail() { log "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { log "skip: needs root (network namespaces)"; exit 77; }
/usr/bin/python3 -c 'import h5py' || fail "needs /usr/bin/python3 with h5py"

rm -rf "$DIR"; mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd); cd "$DIR" || exit 1
CL=$(dirname "$DIR")/cluster
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
# shellcheck source=tests/cluster/lib.sh
. "$HERE/lib.sh"
on() { "$CL/nsexec" "$@"; }                  # on HOST CMD...: run CMD on an emulated host
ranks() { "$HERE/netns-cluster.sh" pids "$CL" nodeA attnsweep; "$HERE/netns-cluster.sh" pids "$CL" nodeB attnsweep; }
reference() {   # reference: the uninterrupted sweep, plain mpirun outside the namespaces (background)
  timeout -k 5 200 mpirun -np 3 --oversubscribe --bind-to none --mca io romio321 "$BIN" run "$SPEC" \
      "${SET[@]}" --out ref.h5 > ref.log 2>&1 &
  REF_PID=$!
}
wait_reference() {
  wait "$REF_PID"; local rc=$?; REF_PID=""
  [ $rc = 0 ] || { cat ref.log; fail "reference sweep exited with $rc"; }
}
wait_done() {   # wait_done FILE N LOG: until N runs are done in FILE (the sweep, MPI_PID, must run)
  local end=$(( $(date +%s) + 120 )) d
  while :; do
    d=$(done_count "$BIN" "$1")
    [ "$d" -ge "$2" ] && return 0
    kill -0 "$MPI_PID" 2>/dev/null || { cat "$3"; fail "the sweep ended before $2 runs were done ($d)"; }
    [ "$(date +%s)" -lt "$end" ] || fail "fewer than $2 runs done after 120 s"
    sleep 0.1
  done
}

case $CASE in
loss)
  # 4 ranks: 0 (coordinator) and 1 on nodeA, 2 and 3 on nodeB; mpirun itself on nodehead.
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
  reference
  log "one run takes $t1 s: sweep of $N runs on nodeA:2 + nodeB:2; kill nodeB's orted after a quarter of them"
  sweep out.h5 > run1.log 2>&1
  wait_done out.h5 $((N / 4)) run1.log
  orted=$("$HERE/netns-cluster.sh" pids "$CL" nodeB orted)
  [ -n "$orted" ] || fail "no orted on nodeB"
  log "$(done_count "$BIN" out.h5)/$N done: kill -9 orted $orted on nodeB"
  kill -9 $orted
  wait "$MPI_PID"; rc=$?; MPI_PID=""
  sed 's/^/  run1| /' run1.log | tail -15
  [ $rc != 0 ] || fail "mpirun exited 0 although a host died"
  log "mpirun exited with $rc"
  # ranks of the dead host are orphans now; on a real cluster the node is gone. Make sure no rank
  # can still write to the file while the resumed sweep runs (bounded wait, then kill: ours anyway).
  for _ in $(seq 50); do [ -z "$(ranks)" ] && break; sleep 0.1; done
  left=$(ranks)
  [ -n "$left" ] && { log "ranks still alive 5 s after mpirun ended: $left (killed)"; kill -9 $left; sleep 0.5; }
  cp out.h5 snapshot.h5

  # the killed sweep's lock, if left, is taken over at once: its rank 0 ran on nodeA, where this
  # resume's rank 0 runs too, and sees that process gone
  log "resume across both hosts"
  sweep out.h5 --resume > run2.log 2>&1
  wait "$MPI_PID"; rc=$?; MPI_PID=""
  sed 's/^/  run2| /' run2.log | tail -8
  [ $rc = 0 ] || fail "resumed sweep exited with $rc"
  wait_reference
  /usr/bin/python3 "$HERE/check_h5.py" out.h5 --ref ref.h5 --snapshot snapshot.h5 || fail "result file"
  ;;

lock)
  # ~60 s of one worker's runs, measured: nodeA's sweep must still run while nodeB looks at it
  # (~15 s; the measure, two runs side by side, tends to overestimate a run)
  t1=$(run_seconds "$BIN" "$SPEC")
  nseed=$(seeds_for 60 "$t1" 4 10 300)
  SET=(--set "grid.seed=0..$((nseed - 1))")
  reference
  MPIARGS="${MCA[*]} --mca io romio321 --bind-to none --oversubscribe"
  log "one run takes $t1 s: $((4 * nseed)) runs, written from nodeA (2 ranks)"
  # shellcheck disable=SC2086
  on nodeA mpirun $MPIARGS -np 2 "$BIN" run "$SPEC" "${SET[@]}" --out f.h5 --grace 0 > a.log 2>&1 &
  MPI_PID=$!
  wait_done f.h5 2 a.log
  writer() {   # writer HOST: "host live" of f.h5's writer, as `status --json` on HOST shows it
    on "$1" "$BIN" status f.h5 --json |
      /usr/bin/python3 -c 'import json, sys; w = json.load(sys.stdin)["writer"] or {}; print(w.get("host"), w.get("live"))'
  }
  w=$(writer nodeB); log "nodeB sees the writer: $w"
  [ "$w" = "nodeA True" ] || fail "status --json on nodeB: writer '$w', expected nodeA, live"

  # a job script on nodeB meets a writer whose heartbeat is renewed: it must not start
  job() {   # job LOG [VAR=value...]: jobs/slurm.sbatch on nodeB, outside SLURM
    local out=$1; shift
    on nodeB env SLURM_JOB_ID=77 SPEC="$SPEC" OUT=f.h5 ATTNSWEEP="$BIN" SWEEP_ARGS="--grace 0 ${SET[*]}" \
        MPIRUN_ARGS="$MPIARGS -np 3" STARTUP_GRACE=0 "$@" bash "$SRC/jobs/slurm.sbatch" > "$out" 2>&1
  }
  s=$(date +%s)
  job b1.log LOCK_WAIT=60; rc=$?
  sed 's/^/  b1| /' b1.log
  [ $rc = 1 ] || fail "slurm.sbatch on nodeB beside a live writer: exit $rc, expected 1"
  grep -q "f.h5 is being written by another sweep on host nodeA, pid [0-9]*: its heartbeat is renewed" b1.log ||
    fail "slurm.sbatch did not name the live writer"
  grep -q "exited with" b1.log && fail "slurm.sbatch started a second writer"
  log "slurm.sbatch on nodeB gave up after $(( $(date +%s) - s )) s"
  kill -0 "$MPI_PID" 2>/dev/null || fail "nodeA's sweep ended too soon: size the sweep up"

  # kill -9 nodeA's sweep: its lock stays, with a fresh heartbeat
  # shellcheck disable=SC2046
  kill -9 $("$HERE/netns-cluster.sh" pids "$CL" nodeA mpirun) $(ranks) 2>/dev/null
  wait "$MPI_PID"; MPI_PID=""
  for _ in $(seq 50); do [ -z "$(ranks)" ] && break; sleep 0.1; done
  [ -z "$(ranks)" ] || fail "ranks of the killed sweep still run: $(ranks)"
  [ -e f.h5.lock ] || fail "kill -9 should leave the lock behind"
  cp f.h5 snapshot.h5
  log "killed nodeA's sweep at $(done_count "$BIN" f.h5) runs done; lock: $(tr '\n' ' ' < f.h5.lock)"
  w=$(writer nodeA); [ "$w" = "nodeA False" ] || fail "status on nodeA: writer '$w', expected dead (its pid is gone)"
  w=$(writer nodeB); [ "$w" = "nodeA True" ] || fail "status on nodeB: writer '$w', expected live (fresh heartbeat)"
  # shellcheck disable=SC2086
  on nodeB mpirun $MPIARGS -np 3 "$BIN" run "$SPEC" "${SET[@]}" --out f.h5 --resume > b2.log 2>&1; rc=$?
  sed 's/^/  b2| /' b2.log | head -3
  [ $rc = 1 ] || fail "--resume on nodeB beside a fresh lock: exit $rc, expected 1"
  grep -q "f.h5 is being written by another attnsweep (host nodeA, pid [0-9]*, .*(live))" b2.log ||
    fail "the refusal does not name the writer"
  cmp -s f.h5 snapshot.h5 || fail "the refused --resume changed f.h5"

  # the lock aged to 80 s: the continuation on nodeB waits until it is stale (90 s), takes over
  touch -d '-80 seconds' f.h5.lock
  s=$(date +%s)
  job b3.log ATTNSWEEP_RESUBMIT=1 LOCK_WAIT=60; rc=$?
  grep -v '^progress' b3.log | sed 's/^/  b3| /'
  [ $rc = 0 ] || fail "slurm.sbatch on nodeB after the stale lock: exit $rc, expected 0"
  grep -q "Waiting for it to go stale" b3.log || fail "slurm.sbatch did not wait for the lock"
  grep -q "took over f.h5.lock from a writer that no longer runs (host nodeA" b3.log ||
    fail "no takeover notice"
  grep -q "sweep complete" b3.log || fail "the continuation did not complete the sweep"
  log "slurm.sbatch on nodeB waited, took the lock over, completed the sweep in $(( $(date +%s) - s )) s"
  [ -e f.h5.lock ] && fail "the finished sweep left its lock"
  wait_reference
  /usr/bin/python3 "$HERE/check_h5.py" f.h5 --ref ref.h5 --snapshot snapshot.h5 || fail "result file"
  ;;
*) fail "unknown case $CASE" ;;
esac
log "PASS"
