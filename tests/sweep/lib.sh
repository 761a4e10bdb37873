# lib.sh — shared by the sweep tests: usage `X.sh ATTNSWEEP WORKDIR MPIEXEC [MPIEXEC ARGS...]`.
# Sets $ATTNSWEEP, $WORK (fresh), $HERE (this directory), the MPI array, and helpers.
set -euo pipefail
ATTNSWEEP=$1
WORK=$2
shift 2
MPI=("$@")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
# mpirun_np N ARGS...: attnsweep ARGS under mpiexec with N ranks.
mpirun_np() { local n=$1; shift; "${MPI[@]}" -np "$n" "$ATTNSWEEP" "$@"; }
compare() { "$PY" "$HERE/compare.py" "$1" "$2"; }
# done_runs FILE: how many runs are done (0 while the file is not readable yet).
done_runs() {
  local n
  n=$("$ATTNSWEEP" status "$1" 2>/dev/null | sed -n 's/^runs: .* done \([0-9]*\),.*/\1/p') || true
  echo "${n:-0}"
}
# wait_done FILE K PID: wait (≤ 60 s) until FILE has ≥ K done runs while PID still runs.
wait_done() {
  for _ in $(seq 600); do
    kill -0 "$3" 2>/dev/null || fail "the sweep ended before $2 runs were done"
    [ "$(done_runs "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "timeout waiting for $2 done runs in $1"
}
