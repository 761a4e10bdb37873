#!/usr/bin/env bash
# phase_adaptive.sh — the worked example of README "Phase diagrams at a fraction of the runs":
# examples/sakamoto2024-phase-adaptive.ini (8 × 8) refined in ROUNDS rounds of `attnsweep refine`
# → `run --reuse`, against the paper's full 39 × 39 grid (1,521 runs) of the same settings, run
# once. Reports the runs each round used and how far its boundary lies from the full grid's
# (bench/phase_compare.py). Takes hours of CPU (the full grid ≈ 25 core-minutes on a quiet core,
# the rounds a fraction of it); never part of CI.
#
# usage: bench/phase_adaptive.sh [--out DIR] [--np N] [--rounds R] [--budget B] [--level V]
#                                [--metric NAME]
# env: ATTNSWEEP (default build/attnsweep), MPIRUN (default mpirun), PYTHON (/usr/bin/python3)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=build-bench/phase-$(date -u +%Y%m%dT%H%M%SZ) NP=3 ROUNDS=4 BUDGET=1000 LEVEL=0.825
METRIC=final_train_acc
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --np) NP=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    --level) LEVEL=$2; shift 2 ;;
    --metric) METRIC=$2; shift 2 ;;
    *) echo "phase_adaptive.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
B=${ATTNSWEEP:-$ROOT/build/attnsweep}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$B" ] || { echo "phase_adaptive.sh: no attnsweep at $B (build it or set ATTNSWEEP)" >&2; exit 2; }
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1
run() { ${MPIRUN:-mpirun} --oversubscribe --mca io romio321 --bind-to none -np "$NP" "$B" run "$@"; }
mkdir -p "$OUT"
cd "$OUT"

# the full grid once (resumable: rerunning the script goes on where it stopped)
[ -e full.h5 ] && mode=--resume || mode=
SECONDS=0
run "$ROOT/examples/sakamoto2024-phase.ini" --set "grid.dim=linspace(250, 5000, 39)" \
  --set "grid.signal_norm=linspace(5, 100, 39)" --out full.h5 --progress 300 $mode > full.log
echo "full grid: $SECONDS s wall" | tee times.txt

SECONDS=0
[ -e p0.h5 ] && mode=--resume || mode=
run "$ROOT/examples/sakamoto2024-phase-adaptive.ini" --out p0.h5 --progress 0 $mode > p0.log
for k in $(seq 1 "$ROUNDS"); do
  prev=p$((k - 1))
  "$B" refine $prev.h5 --x dim --y signal_norm --metric "$METRIC" --level "$LEVEL" \
    --budget "$BUDGET" --out p$k.ini | tee refine$k.log
  [ -e p$k.h5 ] && mode=--resume || mode=
  run p$k.ini --out p$k.h5 --progress 0 --reuse $prev.h5 $mode > p$k.log
done
echo "adaptive rounds: $SECONDS s wall" | tee -a times.txt

cd "$ROOT"
"$PYTHON" bench/phase_compare.py "$OUT/full.h5" $(for k in $(seq 0 "$ROUNDS"); do echo "$OUT/p$k.h5"; done) \
  --metric "$METRIC" --level "$LEVEL" | tee "$OUT/results.md"
