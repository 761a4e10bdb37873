# tests/cluster/lib.sh — helpers the cluster test drivers source. The test sweeps are sized from
# a measured run time (the model keeps getting faster; the machine may be loaded), so that a kill
# or a signal always lands part-way through, whatever the speed.

# run_seconds BIN SPEC [N=2]: mean wall time of one run, N runs measured side by side (the tests
# run two things at once: the sweep under test and its reference)
run_seconds() {
  local bin=$1 spec=$2 n=${3:-2} r
  for ((r = 0; r < n; r++)); do "$bin" train "$spec" --run "$r" 2>&1 >/dev/null & done |
    sed -n 's/.* in \([0-9.]*\) s.*/\1/p' | awk '{ s += $1; k++ } END { printf "%.3f", k ? s / k : 1 }'
}

# seeds_for WORK_S RUN_S RUNS_PER_SEED MIN MAX: seeds for about WORK_S seconds of runs, clamped
seeds_for() {
  awk -v w="$1" -v t="$2" -v k="$3" -v lo="$4" -v hi="$5" \
    'BEGIN { n = int(w / (k * (t > 0 ? t : 1))) + 1; print (n < lo ? lo : n > hi ? hi : n) }'
}

# done_count BIN FILE: runs done in FILE, read with `attnsweep status --json` (fast, works while a
# sweep writes the file); 0 when unreadable
done_count() {
  local n
  n=$("$1" status "$2" --json 2>/dev/null | sed -n 's/.*"done": *\([0-9]*\).*/\1/p')
  echo "${n:-0}"
}
