#!/usr/bin/env bash
# test_slurm.sh — submit the job scripts to the test cluster of slurm-cluster.sh (already up:
# ctest fixture) and check the results against a plain mpirun of the same spec.
#
#   test_slurm.sh basic    ATTNSWEEP SRC BASE   small.ini, one job: COMPLETED 0:0, all runs done,
#                                               traces = reference; a sweep whose runs all fail:
#                                               exit 4, and one that attnsweep refuses to resume:
#                                               exit 1, both without a continuation (no endless
#                                               loop); the array variant: each slice's
#                                               file = its rows of the reference
#   test_slurm.sh chains   ATTNSWEEP SRC BASE   submit four walltime chains of long.ini side by
#                                               side (--time=1 or walltime=00:01:00, stop 20-25 s
#                                               before the limit, --grace 0), two report jobs that
#                                               depend on them, then run the reference
#   test_slurm.sh requeue|srun|fallback|pbs ATTNSWEEP SRC BASE
#                                               wait for that chain, then check it (see below);
#                                               every chain's final file equals the reference bit
#                                               for bit, only the runs in flight at a stop ran twice
# The chains: `requeue` slurm.sbatch with -A/--qos/--mem on the sbatch command line, continued
# by `scontrol requeue` (one job id, every option kept) + a report job (--dependency=afterok)
# that runs after the last continuation; `srun` the same with LAUNCHER=srun (srun --mpi=pmix);
# `fallback` the same options with --no-requeue: continued by copies of the job (new ids, the
# options copied) + a report job moved onto each copy; `pbs` a user's copy of jobs/pbs.pbs
# (walltime=00:01:00) through the PBS/Torque qsub wrapper: its own alarm, resubmitted with qsub.
# Bounded by the waits below; on exit the basic case cancels its jobs (the chains' jobs are
# cancelled by the cluster's cleanup fixture). Exit 77 = skip.
set -uo pipefail
CASE=$1; BIN=$(readlink -f "$2"); SRC=$(readlink -f "$3"); BASE=$4
HERE=$SRC/tests/cluster
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

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader              # one node: shared memory only
export ATTNSWEEP=$BIN
CW=$BASE/chains                             # the chains' files, shared by their cases
NAME=attnsweep-ci                           # the chains' job names: $NAME-<chain>
REF_PID=""

reference() {   # reference SPEC OUT [run options]: the uninterrupted sweep, plain mpirun (background)
  local spec=$1 out=$2; shift 2
  timeout -k 5 330 mpirun -np 3 --oversubscribe --bind-to none --mca io romio321 "$BIN" run "$spec" --out "$out" "$@" > "$out.log" 2>&1 &
  REF_PID=$!
}
wait_reference() {
  wait "$REF_PID"; local rc=$?; REF_PID=""
  [ $rc = 0 ] || { cat "$1.log"; fail "reference mpirun exited with $rc"; }
}
wait_gone() {   # wait_gone TIMEOUT_S JOBNAME: until no job named JOBNAME is queued or running
  local end=$(( $(date +%s) + $1 ))
  while [ -n "$(squeue -h -n "$2" -o %i 2>/dev/null)" ]; do
    [ "$(date +%s)" -lt "$end" ] || { squeue; fail "jobs named $2 still queued/running after $1 s"; }
    sleep 2
  done
}
SHOWN=" "
show_logs() {   # show_logs DIR GLOB: the job logs not shown yet
  local f
  for f in "$1"/$2; do
    [ -e "$f" ] || continue
    [[ $SHOWN == *" $f "* ]] && continue
    SHOWN="$SHOWN$f "; echo "------ $f"; cat "$f"
  done
}

case $CASE in
basic)
  WORK=$BASE/basic; BNAME=$NAME-basic-$$
  rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK" || exit 1
  export SBATCH_OUTPUT=$WORK/%x-%j.out SBATCH_JOB_NAME=$BNAME
  trap 'rc=$?; trap - EXIT; ids=$(squeue -h -n "$BNAME" -o %i); [ -n "$ids" ] && scancel $ids
        [ -n "$REF_PID" ] && kill -TERM "$REF_PID" 2>/dev/null; exit $rc' EXIT
  jobs_done() {   # the finished jobs of this case from jobcomp: "id state exitcode" lines
    sed -n "s/^JobId=\([0-9]*\) .* Name=$BNAME JobState=\([A-Z_]*\) .* ExitCode=\([0-9:]*\).*/\1 \2 \3/p" "$BASE/log/jobcomp.txt"
  }
  reference "$HERE/small.ini" ref.h5
  job=$(sbatch --parsable --ntasks=3 --time=10 \
        --export="ALL,SPEC=$HERE/small.ini,OUT=$WORK/out.h5" "$SRC/jobs/slurm.sbatch") || fail "sbatch"
  log "submitted job $job (small.ini, 3 tasks)"
  wait_gone 120 "$BNAME"
  wait_reference ref.h5
  show_logs "$WORK" "*.out"
  jobs_done | tee jobs.txt
  [ "$(wc -l < jobs.txt)" = 1 ] || fail "expected exactly one job, got $(wc -l < jobs.txt)"
  grep -q " COMPLETED 0:0$" jobs.txt || fail "job did not complete with exit 0"
  /usr/bin/python3 "$HERE/check_h5.py" out.h5 --ref ref.h5 --max-extra-attempts 0 || fail "result file"

  # every run fails (max_seconds too small): the job must stop with exit 4, not continue forever
  job=$(sbatch --parsable --ntasks=2 --time=10 \
        --export="ALL,SPEC=$HERE/small.ini,OUT=$WORK/failing.h5,SWEEP_ARGS=--set train.max_seconds=1e-9" \
        "$SRC/jobs/slurm.sbatch") || fail "sbatch"
  log "submitted job $job (every run fails)"
  wait_gone 60 "$BNAME"
  show_logs "$WORK" "*.out"
  jobs_done | tee jobs.txt
  grep -q "^$job FAILED 4:0$" jobs.txt || fail "the all-failing sweep: expected job $job FAILED with exit 4"
  [ "$(wc -l < jobs.txt)" = 2 ] || fail "the all-failing sweep was continued"

  # runs to do, but attnsweep refuses the file (the spec changed: --resume refuses it): exit 1
  # and no continuation
  cp out.h5 partial.h5
  /usr/bin/python3 -c 'import sys, h5py; h5py.File(sys.argv[1], "r+")["runs/status"][6:] = 0' partial.h5
  job=$(sbatch --parsable --ntasks=2 --time=10 \
        --export="ALL,SPEC=$HERE/small.ini,OUT=$WORK/partial.h5,SWEEP_ARGS=--set train.steps=50" \
        "$SRC/jobs/slurm.sbatch") || fail "sbatch"
  log "submitted job $job (6 runs to do, spec changed: --resume refuses the file)"
  wait_gone 60 "$BNAME"
  show_logs "$WORK" "*.out"
  jobs_done | tee jobs.txt
  grep -q "^$job FAILED 1:0$" jobs.txt || fail "the refused sweep: expected job $job FAILED with exit 1"
  grep -q "attnsweep refused to run (exit 1" "$BNAME-$job.out" || fail "the refused sweep: no reason in the log"
  [ "$(wc -l < jobs.txt)" = 3 ] || fail "the refused sweep was continued"

  # the array variant: 3 slices over the first grid key (lr), each = its rows of the reference
  job=$(sbatch --parsable --array=0-2 --ntasks=2 --time=10 \
        --export="ALL,SPEC=$HERE/small.ini,SLICE_KEY=grid.lr,SLICE_VALUES=0.1 0.5 1,OUT_PREFIX=$WORK/slice" \
        "$SRC/jobs/slurm-array.sbatch") || fail "sbatch --array"
  log "submitted array job $job (3 slices of small.ini over lr)"
  wait_gone 120 "$BNAME"
  show_logs "$WORK" "*.out"
  jobs_done | tee jobs.txt
  [ "$(grep -c ' COMPLETED 0:0$' jobs.txt)" = 4 ] && [ "$(wc -l < jobs.txt)" = 6 ] \
    || fail "expected the 3 array tasks to complete with exit 0"
  i=0
  for v in 0.1 0.5 1; do
    /usr/bin/python3 "$HERE/check_h5.py" "slice.$i.h5" --ref ref.h5 --where "lr=$v" \
      --max-extra-attempts 0 || fail "slice $i (lr=$v)"
    i=$((i + 1))
  done
  # joined by --reuse into one file of the whole spec: nothing trains, every run is the reference's
  timeout -k 5 300 mpirun -np 2 --oversubscribe --bind-to none --mca io romio321 "$BIN" run "$HERE/small.ini" --out merged.h5 --progress 0 \
    --reuse 'slice.*.h5' > merge.log || { cat merge.log; fail "joining the slices by --reuse"; }
  cat merge.log
  grep -q "^attnsweep: 0 runs to train" merge.log || fail "joining the slices trained runs"
  /usr/bin/python3 "$HERE/check_h5.py" merged.h5 --ref ref.h5 --max-extra-attempts 0 \
    || fail "the joined slices differ from the reference"
  ;;

chains)
  # SLURM sends the warning at its first check (every 30 s) that finds at most lead + 30 s left:
  # with --time=1 and lead 20, 10-40 s after the start. (A lead of 30 s or more would send it
  # at the first check, which can come before the batch script has started: the signal is lost.)
  # Each chain's sweep must outlast that on any machine: ~54 s of one worker's runs, from the
  # time of one run measured now (the faster of two measurements: a busy moment must not shrink
  # the sweep), and the four chains' workers share the cores (the sweep takes longer, never
  # shorter). Each job does 10-40 s of it: typically 3-5 jobs per chain.
  # shellcheck source=tests/cluster/lib.sh
  . "$HERE/lib.sh"
  rm -rf "$CW"; mkdir -p "$CW"; cd "$CW" || exit 1
  ids=$(squeue -h -o '%i %j' | awk -v n="$NAME-" 'index($2, n) == 1 { print $1 }')
  [ -n "$ids" ] && { log "cancelling leftover chain jobs $ids"; scancel $ids; sleep 2; }
  t1=$( { run_seconds "$BIN" "$HERE/long.ini"; echo; run_seconds "$BIN" "$HERE/long.ini"; } | sort -g | head -1)
  nseed=$(seeds_for 54 "$t1" 3 8 200)
  SET="--set grid.seed=0..$((nseed - 1))"
  log "one run takes ${t1:-?} s: $SET ($((3 * nseed)) runs per chain)"
  OPTS=(-A ci-acct --qos=ci-qos --mem=100)       # must reach every continuation
  SWEEP="--grace 0 $SET"   # --grace 0: the run in flight at a stop is interrupted, rerun next job
  # the slurm.sbatch chains: USR1 20 s before the limit; logs $CW/<chain>-<jobid>.out (also for
  # the fallback's copies: SBATCH_* reach them through the environment)
  slurm_chain() {   # slurm_chain CHAIN [sbatch options] [-- VAR=value ...]: prints the job id
    local c=$1 o=() e=""; shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do o+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    for v in "$@"; do e="$e,$v"; done
    SBATCH_SIGNAL=B:USR1@20 SBATCH_OUTPUT=$CW/$c-%j.out sbatch --parsable -J "$NAME-$c" \
      --ntasks=2 --time=1 "${o[@]}" \
      --export="ALL,SPEC=$HERE/long.ini,OUT=$CW/$c.h5,MAX_RESUBMITS=20,SWEEP_ARGS=$SWEEP$e" \
      "$SRC/jobs/slurm.sbatch" || fail "sbatch of the $c chain"
  }
  report_job() {   # report_job CHAIN JOBID: `analysis report` of the chain's file after JOBID
    sbatch --parsable -J "$NAME-report-$1" -o "$CW/report-$1-%j.out" --dependency="afterok:$2" \
      --wrap "cd '$SRC' && /usr/bin/python3 -m analysis report '$CW/$1.h5' --out '$CW/report-$1'" ||
      fail "sbatch of the $1 report"
  }
  rq=$(slurm_chain requeue "${OPTS[@]}"); echo "$rq" > requeue.job
  report_job requeue "$rq" > report-requeue.job
  srun_job=$(slurm_chain srun -- LAUNCHER=srun); echo "$srun_job" > srun.job
  fb=$(slurm_chain fallback "${OPTS[@]}" --no-requeue); echo "$fb" > fallback.job
  report_job fallback "$fb" > report-fallback.job
  # the PBS chain: a user's copy of the template, edited as its comments say (Torque's nodes
  # line; a one-minute walltime), submitted through qsub; LEAD 40 s: the alarm fires ~20 s in
  sed -e "s/^#PBS -N .*/#PBS -N $NAME-pbs/" -e 's/^#PBS -l select=.*/#PBS -l nodes=1:ppn=2/' \
      -e 's/^#PBS -l walltime=.*/#PBS -l walltime=00:01:00/' "$SRC/jobs/pbs.pbs" > sweep.pbs
  grep -q "^#PBS -l walltime=00:01:00$" sweep.pbs && grep -q "^#PBS -l nodes=1:ppn=2$" sweep.pbs ||
    fail "jobs/pbs.pbs: its #PBS lines changed, fix the edits here"
  pbs=$(SPEC=$HERE/long.ini OUT=$CW/pbs.h5 SWEEP_ARGS=$SWEEP LEAD=40 MAX_RESUBMITS=20 \
        qsub -V -o "$CW/pbs-first.out" -j oe sweep.pbs) || fail "qsub: $pbs"
  echo "$pbs" > pbs.job
  log "submitted: requeue $rq, srun $srun_job, fallback $fb, pbs $pbs (report jobs after requeue and fallback)"
  squeue -o '%i %j %T %r %l %a %q %m' | sed 's/^/  /'
  reference "$HERE/long.ini" ref.h5 $SET
  wait_reference ref.h5
  ;;

requeue|srun|fallback|pbs)
  cd "$CW" 2>/dev/null && [ -s "$CASE.job" ] && [ -s ref.h5 ] || fail "no $CASE chain (test slurm_chains failed?)"
  first=$(cat "$CASE.job")
  wait_gone 400 "$NAME-$CASE"
  [ -e "report-$CASE.job" ] && wait_gone 120 "$NAME-report-$CASE"
  # the chain from the accounting database: one line per job or requeued run, in start order
  # (the last record can take a moment to reach slurmdbd)
  for _ in $(seq 30); do
    sacct -n -P -X -D -S now-3hours --name="$NAME-$CASE" \
      -o JobID,State,ExitCode,Account,QOS,ReqMem,Timelimit,Start,End | sort -t'|' -k8 > jobs.$CASE
    tail -1 "jobs.$CASE" | grep -qE '\|(COMPLETED|FAILED|CANCELLED|TIMEOUT)\|' && break
    sleep 1
  done
  sed 's/^/  /' "jobs.$CASE"
  n=$(wc -l < "jobs.$CASE")
  [ "$n" -ge 2 ] || fail "expected a stop before the walltime and a continuation (>= 2 jobs), got $n"
  # the continuation timings: from the end of one job (or requeued run) to the start of the next
  awk -F'|' 'NR > 1 { cmd = "date -d " e " +%s"; cmd | getline a; close(cmd)
                      cmd = "date -d " $8 " +%s"; cmd | getline b; close(cmd)
                      printf "  continuation %d: %d s between the end of one job and the start of the next\n", NR - 1, b - a }
             { e = $9 }' "jobs.$CASE"
  case $CASE in
  requeue|srun)
    # one job id; every run but the last REQUEUED, the last COMPLETED 0:0; one appended log
    [ "$(cut -d'|' -f1 "jobs.$CASE" | sort -u)" = "$first" ] || fail "the chain has more than one job id"
    [ "$(head -n -1 "jobs.$CASE" | grep -vc '|REQUEUED|')" = 0 ] || fail "a run of the job before the last was not REQUEUED"
    tail -1 "jobs.$CASE" | grep -q '^[0-9]*|COMPLETED|0:0|' || fail "the last run of the job did not end COMPLETED 0:0"
    log=$CW/$CASE-$first.out
    show_logs "$CW" "$CASE-$first.out"
    [ "$(grep -c 'USR1: walltime is near' "$log")" -ge $((n - 1)) ] || fail "a run of the job ended without the USR1 warning"
    [ "$(grep -c "requeueing: job $first runs again" "$log")" = $((n - 1)) ] || fail "expected $((n - 1)) requeues in the log"
    grep -q 'scontrol requeue .* refused' "$log" && fail "a requeue was refused"
    grep -q 'sweep complete' "$log" || fail "the last run did not report completion"
    grep -q 'status: .* [1-9][0-9]* interrupted' "$log" || fail "no run of a worker was interrupted: did the signal reach the ranks?"
    ;;
  fallback)
    # new job ids, each COMPLETED 0:0; every job but the last submitted a copy after requeue was refused
    [ "$(cut -d'|' -f1 "jobs.$CASE" | sort -u | wc -l)" = "$n" ] || fail "a job id appears twice: requeued?"
    [ "$(grep -c '|COMPLETED|0:0|' "jobs.$CASE")" = "$n" ] || fail "every job of the chain must end COMPLETED 0:0"
    show_logs "$CW" "fallback-*.out"
    [ "$(cat fallback-*.out | grep -c 'scontrol requeue [0-9]* refused')" = $((n - 1)) ] || fail "expected $((n - 1)) refused requeues"
    [ "$(cat fallback-*.out | grep -c 'submitted the continuation as job')" = $((n - 1)) ] || fail "expected $((n - 1)) copies"
    grep -q 'status: .* [1-9][0-9]* interrupted' fallback-*.out || fail "no job reported an interrupted run"
    ;;
  pbs)
    # new job ids, each COMPLETED 0:0 with the copy's one-minute walltime (the template's is 2 h)
    [ "$(grep -c '|COMPLETED|0:0|' "jobs.$CASE")" = "$n" ] || fail "every job of the chain must end COMPLETED 0:0"
    show_logs "$CW" "pbs-first.out"; show_logs "$CW" "sweep.pbs.[oe]*"
    [ "$(cut -d'|' -f7 "jobs.$CASE" | sort -u)" = 00:01:00 ] || fail "a job of the chain did not have the copy's walltime (00:01:00)"
    [ "$(cat pbs-first.out sweep.pbs.o* | grep -c "resubmitted $CW/sweep.pbs as job")" = $((n - 1)) ] ||
      fail "expected $((n - 1)) resubmissions of the copy $CW/sweep.pbs"
    [ "$(cat pbs-first.out sweep.pbs.o* | grep -c 'USR1: walltime is near')" -ge $((n - 1)) ] || fail "a job ended without its alarm"
    ;;
  esac
  if [ "$CASE" = requeue ] || [ "$CASE" = fallback ]; then
    # -A/--qos/--mem given on the first sbatch command line, on every job of the chain
    [ "$(cut -d'|' -f4-7 "jobs.$CASE" | sort -u)" = "ci-acct|ci-qos|100M|00:01:00" ] ||
      fail "the account, QOS, memory or time limit of a continuation differs from the first job's"
    # the report: submitted with --dependency=afterok:<first job>, ran after the last continuation
    rj=$(cat "report-$CASE.job")
    r=$(sacct -n -P -X -j "$rj" -o State,ExitCode,Start)
    show_logs "$CW" "report-$CASE-$rj.out"
    [ "${r%%|*}" = COMPLETED ] || fail "the report job $rj: $r"
    last_end=$(tail -1 "jobs.$CASE" | cut -d'|' -f9)
    [ "$(date -d "${r##*|}" +%s)" -ge "$(date -d "$last_end" +%s)" ] ||
      fail "the report job started (${r##*|}) before the last continuation ended ($last_end)"
    [ -s "report-$CASE/report.md" ] || fail "the report job wrote no report-$CASE/report.md"
    log "report job $rj started ${r##*|}, after the chain's end $last_end"
  fi
  /usr/bin/python3 "$HERE/check_h5.py" "$CASE.h5" --ref ref.h5 --min-extra-attempts 1 \
    --max-extra-attempts $((n - 1)) || fail "result file"
  ;;
*) fail "unknown case $CASE" ;;
esac
log "PASS ($(( $(date +%s) - T0 )) s)"
