#!/usr/bin/env bash
# test_jobs.sh — the job scripts that CI cannot run on their real target, run for real here.
#
#   test_jobs.sh local ATTNSWEEP SRC DIR   jobs/local.sh: Ctrl-C (INT to its process group, as a
#                                          terminal sends it) stops the sweep cleanly (exit 130);
#                                          the same command again, with one rank killed -9
#                                          part-way, resumes by itself and completes (exit 0)
#   test_jobs.sh pbs   ATTNSWEEP SRC DIR   a user's copy of jobs/pbs.pbs outside PBS (PBS_* variables
#                                          set; qstat prints a PBS Pro record, qsub records its
#                                          arguments): its own pre-walltime alarm stops the sweep, it
#                                          resubmits the copy (named by the record, not the
#                                          template) with the right qsub arguments; the
#                                          continuation completes the sweep
# Both end with the file checked against a plain mpirun of the same spec (check_h5.py).
set -uo pipefail
CASE=$1; BIN=$(readlink -f "$2"); SRC=$(readlink -f "$3"); DIR=$4
HERE=$SRC/tests/cluster
SPEC=$HERE/multihost.ini
T0=$(date +%s)
log() { printf '[test_jobs %s +%3ds] %s\n' "$CASE" $(( $(date +%s) - T0 )) "$*"; }
fail() { log "FAIL: $*"; exit 1; }
/usr/bin/python3 -c 'import h5py' || fail "needs /usr/bin/python3 with h5py"
rm -rf "$DIR"; mkdir -p "$DIR"; cd "$DIR" || exit 1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_orte_tmpdir_base=$DIR ATTNSWEEP=$BIN
PIDS=""
children() {   # children PID COMM: child processes of PID named COMM (from /proc: no procps needed)
  local d st c f
  for d in /proc/[0-9]*; do
    { read -r st < "$d/stat" && read -r c < "$d/comm"; } 2>/dev/null || continue
    [ "$c" = "$2" ] || continue
    read -ra f <<<"${st##*) }"                     # fields after "pid (comm) ": state ppid ...
    [ "${f[1]}" = "$1" ] && echo "${d#/proc/}"
  done
  return 0
}
cleanup() {   # local.sh runs mpirun in its own process group: stop both groups
  local rc=$? p m; trap - EXIT
  for p in $PIDS; do
    for m in $(children "$p" mpirun); do kill -TERM -- "-$m" 2>/dev/null; done
    kill -TERM -- "-$p" 2>/dev/null
  done
  wait; exit $rc
}
trap cleanup EXIT

# shellcheck source=tests/cluster/lib.sh
. "$HERE/lib.sh"
# ~30 s of runs (4 lr values per seed), so each interruption lands part-way on a fast machine
t1=$(run_seconds "$BIN" "$SPEC")
nseed=$(seeds_for 30 "$t1" 4 10 200)
SET="--set grid.seed=0..$((nseed - 1))"
log "one run takes $t1 s: $SET ($((4 * nseed)) runs)"
# shellcheck disable=SC2086
timeout -k 5 200 mpirun -np 2 --oversubscribe --bind-to none --mca io romio321 "$BIN" run "$SPEC" \
    $SET --out ref.h5 > ref.log 2>&1 &
REF=$!
wait_bounded() {   # wait_bounded PID SECONDS: wait for PID; fail (cleanup stops it) past SECONDS
  local end=$(( $(date +%s) + $2 ))
  while kill -0 "$1" 2>/dev/null; do
    [ "$(date +%s)" -lt "$end" ] || fail "pid $1 still running after $2 s"
    sleep 0.2
  done
  wait "$1"
}
wait_done() {   # wait_done FILE N PID: until N runs are done in FILE (PID must stay alive)
  local end=$(( $(date +%s) + 90 ))
  until [ "$(done_count "$BIN" "$1")" -ge "$2" ]; do
    kill -0 "$3" 2>/dev/null || fail "the sweep ended before $2 runs were done"
    [ "$(date +%s)" -lt "$end" ] || fail "fewer than $2 runs done after 90 s"
    sleep 0.1
  done
}

case $CASE in
local)
  # 1. Ctrl-C: setsid gives local.sh its own process group, like a terminal's foreground job;
  # python restores SIGINT, which bash ignores in background commands (a terminal's shell doesn't)
  NP=3 setsid /usr/bin/python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$SRC/jobs/local.sh" "$SPEC" out.h5 -- $SET > local1.log 2>&1 &
  L=$!; PIDS="$L"
  wait_done out.h5 4 "$L"
  log "Ctrl-C (INT to the process group of local.sh)"
  kill -INT -- "-$L"
  wait_bounded "$L" 120; rc=$?; PIDS=""
  cat local1.log
  [ $rc = 130 ] || fail "local.sh after Ctrl-C: exit $rc, expected 130"
  grep -q 'stopped by SIG' local1.log || fail "the sweep did not report a clean stop"
  d1=$(done_count "$BIN" out.h5)
  # 2. the same command again; kill -9 one rank part-way: local.sh must resume by itself
  NP=3 setsid "$SRC/jobs/local.sh" "$SPEC" out.h5 -- $SET > local2.log 2>&1 &
  L=$!; PIDS="$L"
  wait_done out.h5 $((d1 + 4)) "$L"
  mpi=$(children "$L" mpirun | head -1)
  victim=$(children "${mpi:-0}" attnsweep | tail -1)
  [ -n "$victim" ] || fail "no attnsweep rank (child of local.sh's mpirun) found to kill"
  log "kill -9 rank pid $victim"
  kill -9 "$victim"
  wait_bounded "$L" 120; rc=$?; PIDS=""
  cat local2.log
  [ $rc = 0 ] || fail "local.sh after a killed rank: exit $rc, expected 0 (resume loop)"
  grep -q 'attempt 2/' local2.log || fail "local.sh did not resume after the crash"
  extra=6     # ≤ 2 workers' runs in flight at each of the two interruptions, plus slack
  ;;
pbs)
  mkdir -p fakebin
  cat > fakebin/qsub <<'EOF'
#!/bin/sh
echo "$@" >> "$QSUB_LOG"; env -0 > "$QSUB_LOG.env"; echo 2.fakepbs
EOF
  # PBS Pro's qstat -f: attributes indented 4 spaces, long values continued on tab lines
  cat > fakebin/qstat <<EOF
#!/bin/sh
[ "\$1 \$2" = "-f \$PBS_JOBID" ] || exit 1
printf 'Job Id: %s\n    Job_Name = my-sweep\n    Account_Name = proj\n    queue = workq\n' "\$PBS_JOBID"
printf '    Resource_List.walltime = 00:00:06\n    Submit_arguments = -v SPEC=x.ini,OUT=out.h\n'
printf '\t5 $DIR/my-sweep.pbs\n    comment = Job run at Mon Nov 30\n'
EOF
  chmod +x fakebin/qsub fakebin/qstat
  cp "$SRC/jobs/pbs.pbs" my-sweep.pbs        # the user's copy: the continuation must submit it
  export PATH=$DIR/fakebin:$PATH QSUB_LOG=$DIR/qsub.log PBS_O_WORKDIR=$DIR
  # walltime 6 s with LEAD 5: the script's alarm fires after 1 s, during MPI startup; it must hold
  # the warning back until STARTUP_GRACE (3 s) or the ranks, not yet handling USR1, would die
  # (SWEEP_ARGS must reach the continuation through qsub -V: the spec hash includes it)
  PBS_JOBID=1.fakepbs PBS_WALLTIME=6 LEAD=5 STARTUP_GRACE=3 SPEC=$SPEC OUT=out.h5 SWEEP_ARGS="$SET" \
    MPIRUN_ARGS="-np 3 --oversubscribe --mca io romio321" bash my-sweep.pbs > pbs1.log 2>&1
  rc=$?
  cat pbs1.log; cat qsub.log 2>/dev/null
  [ $rc = 0 ] || fail "pbs.pbs: exit $rc, expected 0 (stopped, continuation queued)"
  grep -q 'USR1: walltime is near' pbs1.log || fail "the alarm did not fire"
  grep -q 'stopped by SIGUSR1' pbs1.log || fail "the sweep did not stop cleanly on the forwarded USR1"
  grep -qx -- "-V -W depend=afterany:1.fakepbs -v ATTNSWEEP_RESUBMIT=1 -l walltime=00:00:06 -A proj -q workq $DIR/my-sweep.pbs" qsub.log \
    || fail "qsub was not called with the expected dependency, variables, resources and script"

  [ "$(done_count "$BIN" out.h5)" -gt 0 ] || fail "no run done before the alarm"
  # the continuation, as PBS would start it: only the environment qsub -V exported, plus -v
  mapfile -d '' -t ENV < qsub.log.env
  env -i "${ENV[@]}" PBS_JOBID=2.fakepbs PBS_WALLTIME=600 ATTNSWEEP_RESUBMIT=1 \
    bash my-sweep.pbs > pbs2.log 2>&1
  rc=$?
  cat pbs2.log
  [ $rc = 0 ] || fail "pbs.pbs continuation: exit $rc, expected 0"
  grep -q 'sweep complete' pbs2.log || fail "the continuation did not complete the sweep"
  [ "$(wc -l < qsub.log)" = 1 ] || fail "the complete sweep was resubmitted"
  extra=2
  ;;
*) fail "unknown case $CASE" ;;
esac
wait "$REF"; rc=$?
[ $rc = 0 ] || { cat ref.log; fail "reference mpirun exited with $rc"; }
/usr/bin/python3 "$HERE/check_h5.py" out.h5 --ref ref.h5 --max-extra-attempts "$extra" || fail "result file"
log "PASS"
