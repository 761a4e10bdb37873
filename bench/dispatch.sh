#!/usr/bin/env bash
# dispatch.sh — the sweep engine's three benchmarks (dispatch, scaling, HDF5 share), from the `summary:`
# lines that `attnsweep run` prints:
#   1. dispatch overhead: 5,000 lu2021 runs of 1 step each (a tiny task) on 3 ranks → runs/s,
#      dynamic (rank 0 coordinates, 2 workers) and static (3 workers, no messages);
#   2. examples/demo.ini on 1 worker (-np 1, serial) vs 2 workers (-np 3 dynamic: rank 0 only
#      coordinates and sleeps; and -np 2 static) → speedup and parallel efficiency
#      Σ run time / (workers × wall) (target ≥ 0.9 with LPT);
#   3. HDF5 share of wall time on the demo grid (create + per-run writes + close; target < 2 %).
# usage: bench/dispatch.sh [--runs N] [--out DIR]      env: ATTNSWEEP (default build/attnsweep)
# On a shared machine the timings are noisy: compare ratios within one invocation.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ATTNSWEEP=${ATTNSWEEP:-$ROOT/build/attnsweep}
N=5000
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) N=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: bench/dispatch.sh [--runs N] [--out DIR]" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$ROOT/build-bench/dispatch-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
cd "$OUT"
[ -x "$ATTNSWEEP" ] || { echo "dispatch.sh: no attnsweep at $ATTNSWEEP (set ATTNSWEEP)" >&2; exit 1; }
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI=(mpirun --oversubscribe --bind-to none --mca io romio321)

# field LOG REGEX: the first number after REGEX in the summary lines of LOG.
field() { grep '^summary:' "$1" | sed -n "s/.*$2 \([0-9.]*\).*/\1/p" | head -1; }
rate() { grep '^summary:' "$1" | sed -n 's/.*(\([0-9.]*\) runs\/s).*/\1/p' | head -1; }

cat >tiny1.ini <<INI
[model]
model = lu2021
embed_dim = 4
[task]
vocab_size = 20
words_per_sentence = 4
n_sentences = 100
[train]
steps = 1
log_every = 1
[grid]
seed = 0..$((N - 1))
INI

echo "== 1. dispatch: $N runs × 1 step on 3 ranks"
rm -f d-dyn.h5 d-sta.h5
"${MPI[@]}" -np 3 "$ATTNSWEEP" run tiny1.ini --out d-dyn.h5 --progress 0 >d-dyn.log
"${MPI[@]}" -np 3 "$ATTNSWEEP" run tiny1.ini --out d-sta.h5 --progress 0 --schedule static >d-sta.log
"$ATTNSWEEP" run tiny1.ini --out d-ser.h5 --progress 0 >d-ser.log
grep '^summary:' d-dyn.log d-sta.log d-ser.log

echo "== 2. + 3. demo grid: 1 worker vs 2 workers"
DEMO=$ROOT/examples/demo.ini
rm -f demo-1.h5 demo-2dyn.h5 demo-2sta.h5
"$ATTNSWEEP" run "$DEMO" --out demo-1.h5 --progress 0 >demo-1.log
"${MPI[@]}" -np 3 "$ATTNSWEEP" run "$DEMO" --out demo-2dyn.h5 --progress 0 >demo-2dyn.log
"${MPI[@]}" -np 2 "$ATTNSWEEP" run "$DEMO" --out demo-2sta.h5 --progress 0 --schedule static >demo-2sta.log
grep '^summary:' demo-1.log demo-2dyn.log demo-2sta.log

w1=$(field demo-1.log "runs in"); w2=$(field demo-2dyn.log "runs in"); w2s=$(field demo-2sta.log "runs in")
{
  echo "| benchmark | value |"
  echo "|---|---|"
  echo "| dispatch, $N × 1-step runs, -np 3 dynamic (2 workers) | $(rate d-dyn.log) runs/s |"
  echo "| dispatch, $N × 1-step runs, -np 3 static (3 workers) | $(rate d-sta.log) runs/s |"
  echo "| same runs serially (-np 1, no MPI messages) | $(rate d-ser.log) runs/s |"
  echo "| demo wall, 1 worker (-np 1) | $w1 s |"
  echo "| demo wall, 2 workers (-np 3 dynamic) | $w2 s (speedup $(echo "$w1 / $w2" | bc -l | cut -c1-4)) |"
  echo "| demo parallel efficiency, 2 workers dynamic | $(field demo-2dyn.log 'parallel efficiency') |"
  echo "| demo wall, 2 workers (-np 2 static) | $w2s s (speedup $(echo "$w1 / $w2s" | bc -l | cut -c1-4)) |"
  echo "| demo parallel efficiency, 2 workers static | $(field demo-2sta.log 'parallel efficiency') |"
  echo "| demo load imbalance, dynamic / static | $(field demo-2dyn.log 'load imbalance') % / $(field demo-2sta.log 'load imbalance') % |"
  for f in demo-1 demo-2dyn; do
    c=$(field $f.log "create"); wr=$(field $f.log "per-run writes"); cl=$(field $f.log "close")
    wall=$(field $f.log "runs in")
    echo "| demo HDF5 share ($f): create $c s + writes $wr s + close $cl s of $wall s wall | $(echo "100 * ($c + $wr + $cl) / $wall" | bc -l | cut -c1-5) % |"
  done
} | tee results.md
echo "dispatch.sh: logs and results.md in $OUT"
