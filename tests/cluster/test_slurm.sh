#!/usr/bin/env bash
# test_slurm.sh — submit jobs/slurm.sbatch to the test cluster of slurm-cluster.sh (already up:
# ctest fixture) and check the result against a plain mpirun of the same spec.
#
#   test_slurm.sh basic    ATTNSWEEP SRC BASE   small.ini, one job: COMPLETED 0:0, all runs done,
#                                               traces = reference; a sweep whose runs all fail:
#                                               exit 4, and one that cannot advance: exit 2, both
#                                               without resubmission (no endless loop); the array
#                                               variant + merge-slices.py = reference
#   test_slurm.sh walltime ATTNSWEEP SRC BASE   long.ini with --time=1 and USR1 20 s before the
#                                               limit: the job is signalled, stops cleanly,
#                                               resubmits itself (≥ 2 jobs, all COMPLETED 0:0),
#                                               and the final file equals the reference bit for bit
# Bounded by DEADLINE (s); on exit our jobs are cancelled and our mpirun stopped. Exit 77 = skip.
set -uo pipefail
CASE=$1; BIN=$(readlink -f "$2"); SRC=$(readlink -f "$3"); BASE=$4
HERE=$SRC/tests/cluster
WORK=$BASE/$CASE
T0=$(date +%s)
log() { printf '[test_slurm %s +%3ds] %s\n' "$CASE" $(( $(date +%s) - T0 )) "$*"; }
fail() { log "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { log "skip: needs root (the test cluster runs as root)"; exit 77; }
[ -e "$BASE/skipped" ] && { log "skip: the test cluster could not start here: $(cat "$BASE/skipped")"; exit 77; }
eval "$("$HERE/slurm-cluster.sh" env "$BASE")"
{ [ -s "$BASE/run/slurmctld.pid" ] && kill -0 "$(cat "$BASE/run/slurmctld.pid")" 2>/dev/null &&
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)$'; } ||
  fail "no test cluster at $BASE (fixture slurm_cluster_up failed?)"
command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c 'import h5py' || fail "needs /usr/bin/python3 with h5py"

rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK" || exit 1
NAME=attnsweep-ci-$CASE-$$
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_orte_tmpdir_base=$WORK     # Open MPI session dirs stay in our directory
export OMPI_MCA_btl=self,vader              # one node: shared memory only
export ATTNSWEEP=$BIN SBATCH_OUTPUT=$WORK/%x-%j.out SBATCH_JOB_NAME=$NAME
REF_PID=""
cleanup() {
  local rc=$?
  trap - EXIT
  local ids; ids=$(squeue -h -n "$NAME" -o %i 2>/dev/null)
  [ -n "$ids" ] && { log "cancelling leftover jobs $ids"; scancel $ids; }
  if [ -n "$REF_PID" ] && kill -0 "$REF_PID" 2>/dev/null; then kill -TERM "$REF_PID"; wait "$REF_PID"; fi
  exit $rc
}
trap cleanup EXIT

reference() {   # reference SPEC OUT [run options]: the uninterrupted sweep, plain mpirun (background)
  local spec=$1 out=$2; shift 2
  timeout -k 5 330 mpirun -np 2 --oversubscribe --bind-to none --mca io romio321 "$BIN" run "$spec" --out "$out" "$@" > "$out.log" 2>&1 &
  REF_PID=$!
}
wait_reference() {
  wait "$REF_PID"; local rc=$?; REF_PID=""
  [ $rc = 0 ] || { cat "$1.log"; fail "reference mpirun exited with $rc"; }
}

chain() {   # chain TIMEOUT_S: wait until no job named $NAME is left; prints nothing
  local end=$(( $(date +%s) + $1 ))
  while [ -n "$(squeue -h -n "$NAME" -o %i 2>/dev/null)" ]; do
    [ "$(date +%s)" -lt "$end" ] || { squeue; fail "jobs still queued/running after $1 s"; }
    sleep 1
  done
}
jobs_done() {   # the chain's finished jobs from jobcomp: "id state exitcode" lines
  sed -n "s/^JobId=\([0-9]*\) .* Name=$NAME JobState=\([A-Z_]*\) .* ExitCode=\([0-9:]*\).*/\1 \2 \3/p" "$BASE/log/jobcomp.txt"
}
SHOWN=" "
show_logs() {   # the job logs not shown yet
  local f
  for f in "$WORK"/*.out; do
    [[ $SHOWN == *" $f "* ]] && continue
    SHOWN="$SHOWN$f "; echo "------ $f"; cat "$f"
  done
}

case $CASE in
basic)
  reference "$HERE/small.ini" ref.h5
  job=$(sbatch --parsable --ntasks=3 --time=10 \
        --export="ALL,SPEC=$HERE/small.ini,OUT=$WORK/out.h5" "$SRC/jobs/slurm.sbatch") || fail "sbatch"
  log "submitted job $job (small.ini, 3 tasks)"
  chain 120
  wait_reference ref.h5
  show_logs
  jobs_done | tee jobs.txt
  [ "$(wc -l < jobs.txt)" = 1 ] || fail "expected exactly one job, got $(wc -l < jobs.txt)"
  grep -q " COMPLETED 0:0$" jobs.txt || fail "job did not complete with exit 0"
  /usr/bin/python3 "$HERE/check_h5.py" out.h5 --ref ref.h5 --max-extra-attempts 0 || fail "result file"

  # every run fails (max_seconds too small): the job must stop with exit 4, not resubmit forever
  job=$(sbatch --parsable --ntasks=2 --time=10 \
        --export="ALL,SPEC=$HERE/small.ini,OUT=$WORK/failing.h5,SWEEP_ARGS=--set train.max_seconds=1e-9" \
        "$SRC/jobs/slurm.sbatch") || fail "sbatch"
  log "submitted job $job (every run fails)"
  chain 60
  show_logs
  jobs_done | tee jobs.txt
  grep -q "^$job FAILED 4:0$" jobs.txt || fail "the all-failing sweep: expected job $job FAILED with exit 4"
  [ "$(wc -l < jobs.txt)" = 2 ] || fail "the all-failing sweep was resubmitted"

  # runs to do, but the job cannot advance (the spec changed: --resume refuses the file): no
  # progress -> exit 2 and no continuation
  cp out.h5 partial.h5
  /usr/bin/python3 -c 'import sys, h5py; h5py.File(sys.argv[1], "r+")["runs/status"][6:] = 0' partial.h5
  job=$(sbatch --parsable --ntasks=2 --time=10 \
        --export="ALL,SPEC=$HERE/small.ini,OUT=$WORK/partial.h5,SWEEP_ARGS=--set train.steps=50" \
        "$SRC/jobs/slurm.sbatch") || fail "sbatch"
  log "submitted job $job (6 runs to do, spec changed: no progress possible)"
  chain 60
  show_logs
  jobs_done | tee jobs.txt
  grep -q "^$job FAILED 2:0$" jobs.txt || fail "the stuck sweep: expected job $job FAILED with exit 2"
  [ "$(wc -l < jobs.txt)" = 3 ] || fail "the stuck sweep was resubmitted"

  # the array variant: 3 slices over the first grid key (lr), merged = the unsliced reference
  job=$(sbatch --parsable --array=0-2 --ntasks=2 --time=10 \
        --export="ALL,SPEC=$HERE/small.ini,SLICE_KEY=grid.lr,SLICE_VALUES=0.1 0.5 1,OUT_PREFIX=$WORK/slice" \
        "$SRC/jobs/slurm-array.sbatch") || fail "sbatch --array"
  log "submitted array job $job (3 slices of small.ini over lr)"
  chain 120
  show_logs
  jobs_done | tee jobs.txt
  [ "$(grep -c ' COMPLETED 0:0$' jobs.txt)" = 4 ] && [ "$(wc -l < jobs.txt)" = 6 ] \
    || fail "expected the 3 array tasks to complete with exit 0"
  /usr/bin/python3 "$SRC/jobs/merge-slices.py" merged.h5 slice.0.h5 slice.1.h5 slice.2.h5 || fail "merge"
  /usr/bin/python3 "$HERE/check_h5.py" merged.h5 --ref ref.h5 --max-extra-attempts 0 || fail "merged file"
  ;;
walltime)
  # SLURM sends the warning at its first check (every 30 s) that finds at most lead + 30 s left:
  # with --time=1 and lead 20, 10-40 s after the start. (A lead of 30 s or more would send it
  # at the first check, which can come before the batch script has started: the signal is lost.)
  # The sweep must outlast it on any machine: size it for ~70 s of work from the time of one run,
  # measured as the test runs (two at once: the reference and the job run side by side).
  # shellcheck source=tests/cluster/lib.sh
  . "$HERE/lib.sh"
  t1=$(run_seconds "$BIN" "$HERE/long.ini")
  nseed=$(seeds_for 70 "$t1" 3 8 200)
  SET="--set grid.seed=0..$((nseed - 1))"
  log "one run takes ${t1:-?} s: $SET ($((3 * nseed)) runs)"
  # reference and chain run side by side (1 worker each, 2 cores): bounded wall time
  reference "$HERE/long.ini" ref.h5 $SET
  # --grace 0: the run in flight at the signal is interrupted at once and rerun by the next job
  job=$(SBATCH_SIGNAL=B:USR1@20 sbatch --parsable --ntasks=2 --time=1 \
        --export="ALL,SPEC=$HERE/long.ini,OUT=$WORK/out.h5,MAX_RESUBMITS=20,SWEEP_ARGS=--grace 0 $SET" \
        "$SRC/jobs/slurm.sbatch") || fail "sbatch"
  log "submitted job $job (long.ini, --time=1, USR1 20 s before the limit, --grace 0)"
  chain 300
  wait_reference ref.h5
  show_logs
  jobs_done | tee jobs.txt
  n=$(wc -l < jobs.txt)
  [ "$n" -ge 2 ] || fail "expected the job to be signalled and resubmitted (≥ 2 jobs), got $n"
  [ "$(grep -c ' COMPLETED 0:0$' jobs.txt)" = "$n" ] || fail "every job of the chain must end COMPLETED 0:0"
  [ "$(grep -l 'USR1: walltime is near' ./*.out | wc -l)" -ge $((n - 1)) ] || fail "a job ended without the USR1 warning"
  last=$(sort -n jobs.txt | tail -1 | cut -d' ' -f1)
  grep -q 'sweep complete' "$NAME-$last.out" || fail "the last job ($last) did not report completion"
  # one worker: exactly the run in flight at each signal is run again (nearly always one per
  # interrupted job; the signal may fall between two runs, so at least one in all)
  /usr/bin/python3 "$HERE/check_h5.py" out.h5 --ref ref.h5 --min-extra-attempts 1 \
    --max-extra-attempts $((n - 1)) || fail "result file"
  grep -q 'interrupted [1-9]' ./*.out || fail "no job reported an interrupted run"
  ;;
*) fail "unknown case $CASE" ;;
esac
log "PASS ($(( $(date +%s) - T0 )) s)"
