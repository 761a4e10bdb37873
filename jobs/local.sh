#!/usr/bin/env bash
# jobs/local.sh — run an attnsweep sweep on a workstation: one rank per core, ROMIO, root
# handled, and a resume loop: if mpirun dies (a rank crashed, the machine ran out of memory…)
# the sweep is resumed from its file, as long as each attempt makes progress. Ctrl-C (or TERM)
# stops the sweep cleanly: no new runs, runs in flight finish (a second Ctrl-C interrupts them;
# they are rerun on resume), the file is closed; run the same command again to continue.
#
#   jobs/local.sh SPEC [OUT] [-- more `attnsweep run` options]
#   NP=4 jobs/local.sh examples/demo.ini demo.h5 -- --set grid.seed=0..3
#
# Env: NP [number of cores + 1: rank 0 coordinates and sleeps while it waits]
#      ATTNSWEEP [build/attnsweep next to this script's repo, else `attnsweep` in PATH]
#      MAX_TRIES [3] attempts in all; MPIRUN_ARGS [--mca io romio321 --bind-to none]
# Written for Open MPI (--oversubscribe, --mca); with another MPI edit the mpirun line.
# Exit: 0 complete · 1 setup error, or attnsweep refused to run (another spec, another writer) ·
#       2 an attempt made no progress · 3 tries used up ·
#       4 complete but some runs failed · 130 stopped by Ctrl-C/TERM, or a stop signal sent to
#       the sweep itself (resumable). Progress and completion come from `attnsweep status --json`.
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-1}"; }
[ $# -ge 1 ] || usage 1
case $1 in -h|--help) usage 0 ;; esac
SPEC=$1; shift
OUT=results.h5
if [ $# -ge 1 ] && [ "$1" != -- ]; then OUT=$1; shift; fi
[ "${1:-}" = -- ] && shift
EXTRA=("$@")

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${ATTNSWEEP:-}" ]; then
  if [ -x "$here/../build/attnsweep" ]; then ATTNSWEEP=$here/../build/attnsweep; else ATTNSWEEP=attnsweep; fi
fi
command -v "$ATTNSWEEP" >/dev/null || { echo "local.sh: no attnsweep binary ($ATTNSWEEP): build it (./setup.sh) or set ATTNSWEEP=" >&2; exit 1; }
[ -r "$SPEC" ] || { echo "local.sh: cannot read spec '$SPEC'" >&2; exit 1; }
cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
NP=${NP:-$((cores + 1))}
MAX_TRIES=${MAX_TRIES:-3}
# --oversubscribe: NP may exceed the cores Open MPI counts; --bind-to none: the coordinator
# sleeps, so do not pin ranks to cores. ROMIO: Open MPI 4.1's OMPIO hangs in collective writes.
MPIRUN_ARGS=${MPIRUN_ARGS:---mca io romio321 --bind-to none}
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
# a network filesystem (NFS, Lustre, GPFS…): HDF5's flock() fails or hangs there
case $(stat -f -c %T "$(dirname "$OUT")" 2>/dev/null) in
  nfs*|lustre|gpfs|fuse*|cifs|smb*) export HDF5_USE_FILE_LOCKING=${HDF5_USE_FILE_LOCKING:-FALSE} ;;
esac

say() { printf '[local.sh %s] %s\n' "$(date +%T)" "$*"; }
# jget JSON KEY: a value of the one-line object `attnsweep status --json` prints (distinct keys)
jget() {
  local re="\"$2\": *(\"([^\"\\\\]|\\\\.)*\"|[^,}]*)" v
  [[ $1 =~ $re ]] || return 1
  v=${BASH_REMATCH[1]}; v=${v%\"}; printf '%s\n' "${v#\"}"
}
# read_status FILE: ST = exit code of `attnsweep status FILE --json` (0 every run finished, 3 runs
# left, 1 unreadable or missing), the counts into N DONE PENDING FAILED DIVERGED INTERRUPTED
read_status() {
  local k j
  j=$("$ATTNSWEEP" status "$1" --json 2>/dev/null); ST=$?
  N=0 DONE=0 PENDING=0 FAILED=0 DIVERGED=0 INTERRUPTED=0
  [ "$ST" = 0 ] || [ "$ST" = 3 ] || { ST=1; return 0; }
  for k in N:n_runs DONE:done PENDING:pending FAILED:failed DIVERGED:diverged \
           INTERRUPTED:interrupted; do
    printf -v "${k%%:*}" %d "$(jget "$j" "${k#*:}")"
  done
}

MPI_PID=""; STOPPED=0
stop() {   # 1st Ctrl-C: no new runs, runs in flight finish (attnsweep --grace); 2nd: interrupt them now
  STOPPED=$((STOPPED + 1))
  if [ "$STOPPED" = 1 ]; then say "stopping cleanly: no new runs; runs in flight finish (Ctrl-C again: interrupt them)"
  else say "interrupting the runs in flight (they become 'interrupted', rerun on resume)"; fi
  [ -n "$MPI_PID" ] && kill -USR1 "$MPI_PID" 2>/dev/null
}
trap stop INT TERM

for ((try = 1; try <= MAX_TRIES; try++)); do
  read_status "$OUT"
  before=$DONE
  [ -e "$OUT" ] && [ "$ST" = 1 ] && { say "$OUT exists but \`attnsweep status\` cannot read it: move it away to start over"; exit 1; }
  say "attempt $try/$MAX_TRIES: mpirun -np $NP $ATTNSWEEP run $SPEC --out $OUT --resume ${EXTRA[*]}"
  # background + wait: bash runs the Ctrl-C trap only between foreground commands; set -m puts
  # mpirun in its own process group, so Ctrl-C reaches only this script (mpirun would abort the
  # ranks at once) and the trap turns it into USR1: a clean stop. --resume continues OUT, or
  # starts it if it does not exist.
  set -m
  # shellcheck disable=SC2086
  mpirun -np "$NP" --oversubscribe $MPIRUN_ARGS "$ATTNSWEEP" run "$SPEC" --out "$OUT" --resume "${EXTRA[@]}" &
  MPI_PID=$!
  set +m
  rc=0
  while kill -0 "$MPI_PID" 2>/dev/null; do wait "$MPI_PID"; rc=$?; done
  wait "$MPI_PID" 2>/dev/null; r=$?; [ "$r" = 127 ] || rc=$r
  MPI_PID=""
  read_status "$OUT"
  [ "$ST" = 1 ] && { say "mpirun exited with $rc and left no readable $OUT"; exit 1; }
  todo=$((PENDING + INTERRUPTED))
  # attnsweep run: 0 complete, 3 stopped by a signal with runs left, 4 complete with failed runs,
  # 1 error; anything else: mpirun lost a rank (crash, out of memory)
  say "mpirun exited with $rc: $DONE done, $todo to do, $FAILED failed, $DIVERGED diverged of $N"
  if { [ "$rc" = 1 ] || [ "$rc" = 2 ]; } && [ "$DONE" = "$before" ]; then   # e.g. --resume refused
    say "ERROR: attnsweep refused to run (exit $rc, message above) and ran nothing; $OUT is as it was"; exit 1
  fi
  if [ "$ST" = 0 ]; then
    [ "$FAILED" = 0 ] && { say "sweep complete: $OUT"; exit 0; }
    say "sweep complete but $FAILED run(s) failed (see /runs/message)"; exit 4
  fi
  if [ "$STOPPED" -gt 0 ] || [ "$rc" = 3 ]; then   # our Ctrl-C, or a stop signal sent to the sweep
    say "stopped; to continue: $0 $SPEC $OUT${EXTRA[*]:+ -- ${EXTRA[*]}}"; exit 130
  fi
  [ "$DONE" -gt "$before" ] || { say "no progress in this attempt; not retrying"; exit 2; }
done
say "$MAX_TRIES attempts used with $todo run(s) to do; run the same command again to resume"
exit 3
