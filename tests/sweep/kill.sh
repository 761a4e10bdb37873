#!/usr/bin/env bash
# kill.sh MODE ATTNSWEEP WORKDIR MPIEXEC... — stop a sweep of slow.ini mid-way, resume it, and
# check the result is bit-identical to an uninterrupted sweep. MODE:
#   worker9  kill -9 of one worker rank (mpirun takes the job down), then --resume
#   mpirun9  kill -9 of mpirun itself (ranks die with it), then --resume
#   sigterm  SIGTERM to every rank (what a batch system does): clean stop, exit 3 (runs left),
#            --resume
#   usr1x2   SIGUSR1 twice to mpirun (forwarded): runs in flight are marked interrupted,
#            exit 3, then --resume with the static schedule and another rank count (8 longer
#            runs, so that both workers are surely mid-run at the second signal)
MODE=$1
shift
source "$(dirname "$0")/lib.sh"
SPEC=$HERE/slow.ini
K=k-$MODE.h5 # unique per mode: the process checks below match on it
SET=()
[ "$MODE" = usr1x2 ] && SET=(--set grid.seed=0..1 --set train.steps=2400)
mpirun_np 3 run "$SPEC" "${SET[@]}" --out ref.h5 --progress 0 >ref.log || { cat ref.log; fail "reference sweep"; }
total=$("$ATTNSWEEP" status ref.h5 | sed -n 's/^runs: \([0-9]*\) total.*/\1/p')

"${MPI[@]}" -np 3 "$ATTNSWEEP" run "$SPEC" "${SET[@]}" --out $K --progress 1 >$K.log 2>&1 &
pid=$!
wait_done $K 3 "$pid"
ranks=$(pgrep -P "$pid" -f "attnsweep run" || true)
[ -n "$ranks" ] || fail "no rank processes found under mpirun $pid"
case $MODE in
  worker9) kill -9 "$(echo "$ranks" | sort -n | tail -1)" ;;
  mpirun9) kill -9 "$pid" ;;
  sigterm) kill -TERM $ranks ;;
  usr1x2) kill -USR1 "$pid"; sleep 0.02; kill -USR1 "$pid" ;;
  *) fail "unknown mode $MODE" ;;
esac
rc=0
wait "$pid" || rc=$?
cat $K.log
case $MODE in
  worker9|mpirun9) [ "$rc" -ne 0 ] || fail "mpirun exited 0 after a kill -9" ;;
  *) [ "$rc" -eq 3 ] || fail "a signalled sweep must exit 3, runs left (got $rc)"
     grep -q -- "--resume" $K.log || fail "no resume command printed" ;;
esac
sleep 0.5 # any rank still alive after a kill -9 of mpirun would show up in the next check
pgrep -f -- "--out $K" >/dev/null && fail "ranks outlived the killed sweep"
rc=0
"$ATTNSWEEP" status $K > status.txt || rc=$?
cat status.txt
[ "$rc" = 3 ] || fail "status of the stopped sweep exited $rc, expected 3 (runs left)"
done_before=$(done_runs $K)
[ "$done_before" -lt "$total" ] || fail "the sweep finished before it was stopped: nothing was tested"
if [ "$MODE" = usr1x2 ]; then
  grep -q "interrupted [1-9]" status.txt || fail "the second SIGUSR1 did not interrupt the runs in flight"
fi
RESUME=(run "$SPEC" "${SET[@]}" --out $K --resume --progress 0)
if [ "$MODE" = usr1x2 ]; then
  mpirun_np 4 "${RESUME[@]}" --schedule static >resume.log || { cat resume.log; fail "resume"; }
else
  mpirun_np 3 "${RESUME[@]}" >resume.log || { cat resume.log; fail "resume"; }
fi
cat resume.log
grep -q "resuming $K: $done_before of $total runs done" resume.log || fail "resume did not keep the $done_before done runs"
compare ref.h5 $K || fail "resumed file differs from the uninterrupted one"
# attempts: every run started once, plus once more for each run in flight when it was stopped.
"$PY" - "$K" <<'PY' || fail "attempts column"
import sys, h5py
a = h5py.File(sys.argv[1])["runs/attempts"][()]
assert a.min() >= 1 and a.max() <= 2, a
PY
echo "PASS: $MODE, resumed to the uninterrupted result"
