#!/usr/bin/env bash
# lock.sh ATTNSWEEP WORKDIR MPIEXEC... — one writer at a time. While a sweep writes FILE: a
# second `run --resume` and a `run --overwrite` on FILE are refused with exit 1 and a line naming
# the writer, and change nothing (every run of the finished file was started once); `status
# --json` shows the live writer (exit 3: not complete). After a kill -9 of the writer's mpirun, a
# --resume on the same host takes the dead writer's lock over at once and finishes the sweep.
source "$(dirname "$0")/lib.sh"
SPEC=$HERE/slow.ini
LONG=(--set train.steps=3000) # the first writer must still run while the others try
"${MPI[@]}" -np 3 "$ATTNSWEEP" run "$SPEC" "${LONG[@]}" --out f.h5 --progress 0 > a.log 2>&1 &
A=$!
wait_done f.h5 1 "$A"
for opt in --resume --overwrite; do
  rc=0
  mpirun_np 2 run "$SPEC" "${LONG[@]}" --out f.h5 $opt --progress 0 > b.log 2>&1 || rc=$?
  cat b.log
  [ "$rc" = 1 ] || fail "a second writer ($opt) exited $rc, expected 1"
  grep -q "f.h5 is being written by another attnsweep (host $(hostname), pid [0-9]*, since .*(live))" b.log \
    || fail "the refusal ($opt) does not name the writer"
done
rc=0
"$ATTNSWEEP" status f.h5 --json > s.json || rc=$?
kill -0 "$A" 2>/dev/null || fail "the first writer ended too soon: nothing was tested"
[ "$rc" = 3 ] || fail "status of a sweep in progress exited $rc, expected 3"
"$PY" - s.json <<'PY'
import json, sys, socket
s = json.load(open(sys.argv[1]))
w = s["writer"]
assert w and w["live"] is True and w["host"] == socket.gethostname(), s
assert s["complete"] is False and s["n_runs"] == 16, s
PY
wait "$A" || { cat a.log; fail "the first writer failed"; }
"$PY" - f.h5 <<'PY'
import sys, h5py
a = h5py.File(sys.argv[1])["runs/attempts"][()]
assert (a == 1).all(), "a refused writer started runs: attempts %s" % a
PY
[ -e f.h5.lock ] && fail "the finished writer left its lock"
"$ATTNSWEEP" status f.h5 --json > f.json || fail "status after the sweep exited $?"
grep -q '"writer": null, "complete": true}' f.json || fail "status after the sweep: $(cat f.json)"

# a writer killed with -9 leaves its lock: the next --resume on this host takes it over
"${MPI[@]}" -np 3 "$ATTNSWEEP" run "$SPEC" --out g.h5 --progress 0 > c.log 2>&1 &
C=$!
wait_done g.h5 2 "$C"
kill -9 "$C"
wait "$C" || true
sleep 0.5
[ -e g.h5.lock ] || fail "kill -9 should leave the lock behind"
"$ATTNSWEEP" status g.h5 > g.status || true
grep -q "^writer: .*(dead: its process is gone)" g.status || { cat g.status; fail "status does not see the dead writer"; }
mpirun_np 3 run "$SPEC" --out g.h5 --resume --progress 0 > d.log || { cat d.log; fail "resume after kill -9"; }
cat d.log
grep -q "took over g.h5.lock from a writer that no longer runs" d.log || fail "no takeover notice"
"$ATTNSWEEP" status g.h5 > /dev/null || fail "the resumed sweep is not complete"
echo "PASS"
