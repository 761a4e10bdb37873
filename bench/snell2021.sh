#!/usr/bin/env bash
# snell2021.sh — benchmark driver: `attnsweep train` against the same snell2021 model
# in PyTorch (bench/snell2021_torch.py): V = 40 permutations, L = 40, batch 128, Adam, one thread
# each, for E = H ∈ {32, 64, 128, 256} (256 = the paper's size). Per config: steps/s of both and
# the PyTorch/attnsweep time ratio (median over back-to-back pairs), from CPU seconds (user +
# sys: robust on a shared machine) and from wall seconds. attnsweep's time also holds process
# start, init and two evaluations (step 0 and the last) of 129 sequences ≈ 2/3 of a training
# step; PyTorch's excludes its 3 warm-up steps. Writes $OUT/results.md.
#
# usage: bench/snell2021.sh [--reps R] [--quick] [--out DIR] [--only 64,256]
# env: ATTNSWEEP=path/to/attnsweep (default: build it in build-bench), PYTHON (/usr/bin/python3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-/usr/bin/python3}
REPS=3
QUICK=0
OUT=""
ONLY="32,64,128,256"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --quick) QUICK=1; REPS=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "snell2021.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-build-bench/snell2021-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if [ -z "${ATTNSWEEP:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DATTNSWEEP_TESTS=OFF >/dev/null
  cmake --build build-bench -j2 --target attnsweep >/dev/null
  ATTNSWEEP=build-bench/attnsweep
fi
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cores; $(uptime)" | tee "$OUT/machine.txt"
echo "# attnsweep $(git rev-parse --short HEAD) ($ATTNSWEEP); $("$PYTHON" -c 'import torch; print("torch", torch.__version__)')" | tee -a "$OUT/machine.txt"

# steps per config: sized so one PyTorch run takes ~10-30 s here
steps_for() { case $1 in 32) echo 60 ;; 64) echo 40 ;; 128) echo 20 ;; *) echo 8 ;; esac; }

printf '| E = H | steps | attnsweep steps/CPU-s | PyTorch steps/CPU-s | ratio, CPU (PyTorch / attnsweep) | ratio, wall |\n' > "$OUT/results.md"
printf '|---|---|---|---|---|---|\n' >> "$OUT/results.md"
for D in ${ONLY//,/ }; do
  S=$(steps_for "$D")
  [ "$QUICK" = 1 ] && S=$(( (S + 4) / 5 ))
  for r in $(seq 1 "$REPS"); do
    /usr/bin/time -f 'cpu %U %S' -o "$OUT/c_${D}_$r.time" \
    "$ATTNSWEEP" train examples/snell2021-copy.ini --run 0 --set model.embed_dim="$D" \
      --set model.hidden_dim="$D" --set train.steps="$S" --set train.log_every="$S" \
      --set task.eval_size=1 > "$OUT/c_${D}_$r.csv" 2> "$OUT/c_${D}_$r.err"
    "$PYTHON" bench/snell2021_torch.py --vocab 40 --seq-len 40 --data-mode perm \
      --embed-dim "$D" --hidden-dim "$D" --batch 128 --steps "$S" > "$OUT/t_${D}_$r.json"
  done
  "$PYTHON" - "$OUT" "$D" "$S" "$REPS" >> "$OUT/results.md" <<'EOF'
import json, re, statistics, sys
out, D, S, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c, t, ratio, wratio = [], [], [], []
for r in range(1, reps + 1):
    m = re.search(r"in ([0-9.]+) s", open(f"{out}/c_{D}_{r}.err").read())
    cw = float(m.group(1))
    u, sy = open(f"{out}/c_{D}_{r}.time").read().split()[-2:]
    cc = float(u) + float(sy)
    j = json.loads(open(f"{out}/t_{D}_{r}.json").read().strip().splitlines()[-1])
    c.append(S / cc); t.append(S / j["cpu_seconds"])
    ratio.append(j["cpu_seconds"] / cc); wratio.append(j["seconds"] / cw)
med = statistics.median
print(f"| {D} | {S} | {med(c):.3f} | {med(t):.3f} | {med(ratio):.2f} | {med(wratio):.2f} |")
EOF
  tail -n 1 "$OUT/results.md"
done
echo "results: $OUT/results.md"
