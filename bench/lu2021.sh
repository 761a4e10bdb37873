#!/usr/bin/env bash
# lu2021.sh — the lu2021 speed benchmark: `attnsweep train` against the same lu2021 model in
# PyTorch (bench/lu2021_torch.py), same config and steps, for D ∈ {16,128,512} × N ∈ {2000,20000}
# plus the default config of examples/lu2021.ini. Per run: steps/s, the PyTorch/attnsweep ratio
# (median of back-to-back pairs), attnsweep's FLOP rate against the measured single-core SGEMM
# peak (bench/sgemm_peak.c), max RSS against parameters + data + activations, and the two
# trajectories (first step with loss < 0.5 / < 0.01, final attention, test accuracy).
#
# usage: bench/lu2021.sh [--reps R] [--quick] [--out DIR] [--spec INI] [--only D:N[,D:N...]]
#   --reps R   pairs per config (default 3)          --quick  steps / 5, reps 1 (smoke test)
#   --out DIR  raw outputs + results.md (default build-bench/lu2021-<UTC time>)
#   --only     a subset of the grid, e.g. --only 16:2000,default,sparse,f64
# env: ATTNSWEEP=path/to/attnsweep (default: build it in build-bench), PYTHON (/usr/bin/python3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-/usr/bin/python3}
SPEC=examples/lu2021.ini
REPS=3
QUICK=0
OUT=""
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --quick) QUICK=1; REPS=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    --spec) SPEC=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "lu2021.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -f "$SPEC" ] || { echo "lu2021.sh: spec $SPEC not found (run from the repo, or --spec)" >&2; exit 2; }
OUT=${OUT:-build-bench/lu2021-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1   # both sides single-threaded, no spinning

# --- binaries -------------------------------------------------------------------------------
# By default the committed HEAD is benchmarked: a `git archive` snapshot built in build-bench/head
# (the shared checkout may hold other engineers' edits in progress). ATTNSWEEP=path uses that
# binary instead, with this checkout's headers for lu2021_dump.
SRC=.
VERSION="$(git describe --always --dirty) (src/ include/ $(git diff --quiet HEAD -- src include && echo clean || echo MODIFIED) vs HEAD)"
if [ -z "${ATTNSWEEP:-}" ]; then
  SRC=build-bench/head/src-tree
  rm -rf "$SRC" && mkdir -p "$SRC"
  git archive HEAD | tar -x -C "$SRC"
  cmake -S "$SRC" -B build-bench/head -DCMAKE_BUILD_TYPE=Release -DATTNSWEEP_TESTS=OFF >/dev/null
  cmake --build build-bench/head -j2 --target attnsweep >/dev/null
  ATTNSWEEP=build-bench/head/attnsweep
  VERSION="$(git rev-parse --short HEAD) (committed HEAD, clean snapshot)"
fi
cmake -S bench -B build-bench/tools -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench/tools >/dev/null
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cores; $(uptime)" | tee "$OUT/machine.txt"
echo "# attnsweep $VERSION, $ATTNSWEEP; $("$PYTHON" -c 'import torch; print("torch", torch.__version__)')" | tee -a "$OUT/machine.txt"
# many short products: on a loaded machine the best of 40 finds a clean time slice
build-bench/tools/sgemm_peak 40 256 512 1024 | tee "$OUT/sgemm.txt"

# --- the grid: "D N steps" (steps sized so PyTorch takes ~10 CPU seconds per run here) ---------
# "default" = examples/lu2021.ini untouched (D=10, N=5000, its own 5000 steps); "sparse" = the
# same for 2000 steps against PyTorch with sparse embedding gradients (a tuned baseline, ~1.5x
# faster than the dense default); "f64" = the same against PyTorch in float64 (attnsweep's
# precision; the float32 rows favour PyTorch).
CONFIGS=("default" "sparse" "f64" "16 2000 1500" "128 2000 200" "512 2000 50"
         "16 20000 150" "128 20000 20" "512 20000 10")

# spec_args D N STEPS → the PyTorch arguments equal to the spec's run 0 with these overrides.
spec_args() {
  "$PYTHON" - "$SPEC" "$@" <<'EOF'
import configparser, sys
spec, D, N, steps = sys.argv[1:5]
cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
cp.read(spec)
get = lambda sec, key, dflt: (cp.get(sec, key, fallback=None) or "").strip() or dflt
over = {("model", "embed_dim"): D, ("task", "n_sentences"): N, ("train", "steps"): steps}
def val(sec, key, dflt):
    v = over.get((sec, key)) or get(sec, key, None) or get("grid", key, None) or dflt
    if "," in v or ".." in v or "(" in v:
        sys.exit("lu2021.sh: %s.%s = %s is swept; the benchmark needs one run" % (sec, key, v))
    return v
falsy = {"false", "0", "no", "off"}
for sec, key, ok in [("model", "classifier", {"fixed"}), ("train", "batch_size", {"0"}),
                     ("model", "freeze_keys", falsy), ("model", "freeze_embeddings", falsy),
                     ("model", "train_query", falsy)]:
    v = val(sec, key, sorted(ok)[0]).lower()
    if v not in ok:
        sys.exit("lu2021.sh: the PyTorch baseline is the FC model, full batch, nothing frozen, "
                 "fixed query; the spec has %s.%s = %s" % (sec, key, v))
args = [("--topics", "task", "topics", "4"), ("--topic-words", "task", "topic_words", "2"),
        ("--vocab-size", "task", "vocab_size", "5000"),
        ("--words-per-sentence", "task", "words_per_sentence", "20"),
        ("--n-sentences", "task", "n_sentences", "5000"), ("--train-frac", "task", "train_frac", "0.8"),
        ("--valid-frac", "task", "valid_frac", "0.01"), ("--embed-dim", "model", "embed_dim", "10"),
        ("--key-dim", "model", "key_dim", "0"), ("--embed-std", "model", "embed_std", "1e-6"),
        ("--query-std", "model", "query_std", "0.3"), ("--lr", "train", "lr", "0.1"),
        ("--steps", "train", "steps", "1000"), ("--log-every", "train", "log_every", "10")]
print(" ".join("%s %s" % (flag, val(sec, key, dflt)) for flag, sec, key, dflt in args))
EOF
}

# timed TAG CMD... → runs CMD under /usr/bin/time -v: stdout → TAG.csv, stderr → TAG.err
timed() {
  local tag=$1; shift
  /usr/bin/time -v -o "$OUT/$tag.time" "$@" >"$OUT/$tag.csv" 2>"$OUT/$tag.err" || {
    echo "lu2021.sh: '$*' failed, see $OUT/$tag.err:" >&2; tail -5 "$OUT/$tag.err" >&2; exit 1; }
}

# Baseline RSS of each process (libraries, interpreter) with a near-empty run.
timed base_attnsweep "$ATTNSWEEP" train "$SPEC" --run 0 --set model.embed_dim=16 \
  --set task.n_sentences=100 --set task.vocab_size=100 --set train.steps=1
timed base_torch "$PYTHON" bench/lu2021_torch.py --embed-dim 16 --n-sentences 100 \
  --vocab-size 100 --steps 1

# Cross-check: PyTorch (float64) from attnsweep's own data and initial weights (lu2021_dump) —
# the two traces must agree to rounding. Default config, XC_STEPS steps.
XC_STEPS=${XC_STEPS:-500}
LIBDIR=$(dirname "$ATTNSWEEP")
if [ -f "$LIBDIR/libattnsweep.a" ] && command -v mpicc >/dev/null; then
  # shellcheck disable=SC2046
  mpicc -O2 -std=c17 -D_POSIX_C_SOURCE=200809L -I"$SRC/include" -I"$SRC/src" -o "$OUT/lu2021_dump" \
    bench/lu2021_dump.c "$LIBDIR/libattnsweep.a" $(pkg-config --cflags --libs hdf5-openmpi openblas inih) -lm
  "$OUT/lu2021_dump" "$SPEC" "$OUT/xc_dump.bin" --set "train.steps=$XC_STEPS"
  timed xc_attnsweep "$ATTNSWEEP" train "$SPEC" --run 0 --set "train.steps=$XC_STEPS"
  # shellcheck disable=SC2046
  timed xc_torch "$PYTHON" bench/lu2021_torch.py $(spec_args "" "" "$XC_STEPS") \
    --init-from "$OUT/xc_dump.bin" --dtype float64
else
  echo "lu2021.sh: no $LIBDIR/libattnsweep.a or mpicc: skipping the same-init cross-check" >&2
fi

echo "impl,config,D,N,steps,rep,load1" > "$OUT/runs.csv"
for cfg in "${CONFIGS[@]}"; do
  extra=""
  if [ "$cfg" = default ] || [ "$cfg" = sparse ] || [ "$cfg" = f64 ]; then
    name=$cfg; sets=(); D=""; N=""; S=""
    [ "$cfg" = sparse ] && extra="--sparse --steps 2000" && sets=(--set train.steps=2000)
    [ "$cfg" = f64 ] && extra="--dtype float64 --steps 2000" && sets=(--set train.steps=2000)
  else
    read -r D N S <<<"$cfg"
    [ "$QUICK" = 1 ] && S=$(( S / 5 > 10 ? S / 5 : 10 ))
    name="D${D}_N${N}"
    sets=(--set "model.embed_dim=$D" --set "task.n_sentences=$N" --set "train.steps=$S")
  fi
  key=$name; [ -n "$D" ] && key="$D:$N"
  if [ -n "$ONLY" ] && ! grep -qw -- "$key" <<<"${ONLY//,/ }"; then
    continue
  fi
  targs="$(spec_args "$D" "$N" "$S") $extra"
  [ "$QUICK" = 1 ] && [ -z "$D" ] && targs="$targs --steps 1000" && sets=(--set train.steps=1000)
  for rep in $(seq 1 "$REPS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    [ "$rep" = 1 ] && "$ATTNSWEEP" plan "$SPEC" "${sets[@]}" > "$OUT/plan_${name}.txt" 2>&1
    timed "as_${name}_$rep" "$ATTNSWEEP" train "$SPEC" --run 0 "${sets[@]}"
    echo "attnsweep,$name,$D,$N,$S,$rep,$load" >> "$OUT/runs.csv"
    load=$(cut -d' ' -f1 /proc/loadavg)
    # shellcheck disable=SC2086
    timed "pt_${name}_$rep" "$PYTHON" bench/lu2021_torch.py $targs
    echo "torch,$name,$D,$N,$S,$rep,$load" >> "$OUT/runs.csv"
    echo "  $name rep $rep: $(tail -1 "$OUT/as_${name}_$rep.err") | $(tail -1 "$OUT/pt_${name}_$rep.err" | cut -d' ' -f2-4)"
  done
done

"$PYTHON" - "$OUT" <<'EOF' | tee "$OUT/results.md"
# Summary: medians over reps, ratios per back-to-back pair, FLOPs, memory, trajectories.
import csv, os, re, statistics as st, sys
out = sys.argv[1]
rd = lambda tag, ext: open(os.path.join(out, tag + ext)).read()

def measure(tag):
    """wall = seconds of init + training loop as the program reports it (no process start-up);
    cpu = CPU seconds of the same span (attnsweep: user+sys of the process minus the near-empty
    baseline run's; torch: time.process_time() around init + loop); rss = max RSS in MiB."""
    err, tm = rd(tag, ".err"), rd(tag, ".time")
    num = lambda pat, txt: float(re.search(pat, txt).group(1))
    rss = num(r"Maximum resident set size \(kbytes\): (\d+)", tm) / 1024
    cpu = num(r"User time \(seconds\): ([0-9.]+)", tm) + num(r"System time \(seconds\): ([0-9.]+)", tm)
    if "wall_seconds=" in err:
        return {"wall": num(r"wall_seconds=([0-9.]+)", err),
                "cpu": num(r"cpu_seconds=([0-9.]+)", err), "rss": rss, "proc_cpu": cpu}
    return {"wall": num(r"steps in ([0-9.]+) s", err), "cpu": cpu, "rss": rss, "proc_cpu": cpu}

def plan_mib(name):
    """attnsweep's own estimate of a run's memory (`attnsweep plan`), MiB, or NaN."""
    m = re.search(r"memory: peak ([0-9.]+) (KiB|MiB|GiB)", rd("plan_" + name, ".txt"))
    return float(m.group(1)) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[m.group(2)] if m else float("nan")

def trace(tag):
    rows = list(csv.DictReader(open(os.path.join(out, tag + ".csv"))))
    first = lambda th: next((int(r["step"]) for r in rows if float(r["train_loss"]) < th), None)
    big = [float(r["sen_residual"]) for r in rows if float(r["topic_score"]) > 0.5]
    return {"lt05": first(0.5), "lt001": first(0.01), "loss": float(rows[-1]["train_loss"]),
            "att": float(rows[-1]["topic_attention"]), "test": float(rows[-1]["test_acc"]),
            "q": float(rows[0]["query_norm"]), "score": float(rows[-1]["topic_score"]),
            "sen": max(big) if big else float("nan")}

def torch_args(tag):
    """The config actually run, read back from the PyTorch command line in its .time file."""
    toks = re.search(r'Command being timed: "(.*)"', rd(tag, ".time")).group(1).split()
    return {toks[i][2:]: float(toks[i + 1]) for i in range(len(toks) - 1)
            if toks[i].startswith("--") and re.match(r"^[-0-9.e]+$", toks[i + 1])}

def dims(a):
    N, D = a["n-sentences"], a["embed-dim"]
    return dict(N=N, D=D, Dk=a["key-dim"] or D, K=a["topics"], L=a["words-per-sentence"] + 1,
                V=a["topics"] * a["topic-words"] + a["vocab-size"],
                B=int(N * a["train-frac"] + 1e-9), log_every=a["log-every"])

# FLOPs of one full-batch step of the FC model written the textbook way (as the PyTorch
# baseline computes it). B = training sentences, L = m + 1 positions, D = embed_dim,
# Dk = key_dim, K = topics, V = K·W + V_n words (mult + add = 2 flops, exp = 1 flop):
#   forward:  scores s = Kx·q            2·B·L·Dk
#             softmax over L             5·B·L      (max, sub, exp, sum, div)
#             context h = Σ a_i v_i      2·B·L·D
#             logits = Uᵀh               2·B·D·K
#             cross-entropy              5·B·K
#   backward: dlogits = p − y            2·B·K
#             dh = U·dlogits             2·B·D·K    (U fixed: no dU)
#             dv_i += a_i·dh             2·B·L·D    (scatter into the embedding gradient)
#             da_i = dh·v_i              2·B·L·D
#             ds = a ⊙ (da − Σ a·da)     4·B·L
#             dκ_i += ds_i·q             2·B·L·Dk   (q fixed: no dq)
#   update:   θ −= lr·g on E and keys    2·V·(D + Dk)
#   step  = B·L·(6·D + 4·Dk + 9) + B·K·(4·D + 7) + 2·V·(D + Dk)
# evaluation (every log_every steps, forward only, over all N sentences; both sides do it):
#   eval  = N·L·(2·D + 2·Dk + 5) + N·K·(2·D + 5)
# flops per timed step = step + eval / log_every.
def model_flops(a):
    d = dims(a)
    B, L, D, Dk, K, V, N = (d[k] for k in "B L D Dk K V N".split())
    step = B * L * (6 * D + 4 * Dk + 9) + B * K * (4 * D + 7) + 2 * V * (D + Dk)
    ev = N * L * (2 * D + 2 * Dk + 5) + N * K * (2 * D + 5)
    return step + ev / d["log_every"]

# What attnsweep's lu2021 executes (fewer flops: scores once per vocabulary word, not per
# position; the score gradient from the embedding gradient, ds_w = v_w·gE_w − Σ a·(dh·h), so no
# per-position dh·v_i; keys updated as the rank-1 gword ⊗ q). The same count as its lu_cost
# (src/models/lu2021.c, fixed classifier, keys and embeddings trained):
#   pass(B) = B·(L·(2·D + 2) + 2·D + 2·D·K + 6·K)               forward over B sentences
#   step    = pass(B) + B·2·D·K + B·(3·D + 1) + B·L·(2·D + 2)     + backward
#             + V·(2·Dk + 20) + 2·V·D + 2·V·Dk + 2·V·D            + scores, ds, key/embedding update
#   eval    = pass(N) + V·(2·Dk + 2·D + 20)
def exec_flops(a):
    d = dims(a)
    B, L, D, Dk, K, V, N = (d[k] for k in "B L D Dk K V N".split())
    pas = lambda n: n * (L * (2 * D + 2) + 2 * D + 2 * D * K + 6 * K)
    step = (pas(B) + B * 2 * D * K + B * (3 * D + 1) + B * L * (2 * D + 2)
            + V * (2 * Dk + 20) + 2 * V * D + 2 * V * Dk + 2 * V * D)
    ev = pas(N) + V * (2 * Dk + 2 * D + 20)
    return step + ev / d["log_every"]

# The minimum a double-precision implementation needs (bytes): parameters E, keys (V·(D+Dk)),
# q, U; gradients gE (V·D) and per-word score gradients (V); scores and exp-scores (2·V); the
# data (int32 ids N·L + labels N); activations of a block of 256 sentences (A 256·L, H and dH
# 256·D, logits and dlogits 256·K), a few kB to a few MB. The goal is RSS ≈ this + a few MB.
def mem_needed(a):
    d = dims(a)
    L, D, Dk, K, V, N = (d[k] for k in "L D Dk K V N".split())
    c = min(256, N)
    return (8 * (V * (D + Dk) + Dk + D * K + V * D + V + 2 * V + c * (L + 2 * D + 2 * K))
            + 4 * N * (L + 1))

sg = rd("sgemm", ".txt")
peak_s = float(re.search(r"SGEMM ([0-9.]+)", sg).group(1))
peak_d = float(re.search(r"DGEMM ([0-9.]+)", sg).group(1))
base_as, base_pt = measure("base_attnsweep"), measure("base_torch")
runs = list(csv.DictReader(open(os.path.join(out, "runs.csv"))))
print(rd("machine", ".txt").strip())
print("# single-core peak measured in this run: SGEMM %.1f GFLOP/s, DGEMM %.1f GFLOP/s; baseline "
      "max RSS (near-empty run): attnsweep %.0f MiB, torch %.0f MiB\n"
      % (peak_s, peak_d, base_as["rss"], base_pt["rss"]))
print("| config | steps | attnsweep steps/s wall · cpu | PyTorch steps/s wall · cpu | "
      "ratio wall, median (range) | ratio cpu, median (range) | MFLOP/step model · executed | "
      "attnsweep GFLOP/s (cpu) model · executed | executed, % of DGEMM · SGEMM peak | "
      "max RSS attnsweep · torch (MiB) | attnsweep RSS − baseline · its plan estimate · minimum (MiB) | load1 before each run |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
traj = []
for name in dict.fromkeys(r["config"] for r in runs):
    reps = sorted({int(r["rep"]) for r in runs if r["config"] == name})
    A = [measure("as_%s_%d" % (name, k)) for k in reps]
    P = [measure("pt_%s_%d" % (name, k)) for k in reps]
    for x in A:
        x["cpu"] -= base_as["proc_cpu"]
    args = torch_args("pt_%s_1" % name)
    S = args["steps"]
    rw = [p["wall"] / a["wall"] for a, p in zip(A, P)]
    rc = [p["cpu"] / a["cpu"] for a, p in zip(A, P)]
    med = lambda xs, k: st.median(x[k] for x in xs)
    fm, fe = model_flops(args), exec_flops(args)
    t_cpu = med(A, "cpu")
    loads = [r["load1"] for r in runs if r["config"] == name]
    d = dims(args)
    label = {"default": "default (D=%d, N=%d)", "sparse": "default, PyTorch sparse grads (D=%d, N=%d)",
             "f64": "default, PyTorch float64 (D=%d, N=%d)"}.get(name, "D=%d, N=%d") % (d["D"], d["N"])
    print("| %s | %d | %.0f · %.0f | %.1f · %.1f | **%.1f×** (%.1f–%.1f) | **%.1f×** (%.1f–%.1f) "
          "| %.2f · %.2f | %.2f · %.2f | %.1f %% · %.1f %% | %.0f · %.0f | %.1f · %.1f · %.1f | %s |"
          % (label, S, S / med(A, "wall"), S / t_cpu, S / med(P, "wall"), S / med(P, "cpu"),
             st.median(rw), min(rw), max(rw), st.median(rc), min(rc), max(rc),
             fm * 1e-6, fe * 1e-6, fm * S / t_cpu * 1e-9, fe * S / t_cpu * 1e-9,
             100 * fe * S / t_cpu * 1e-9 / peak_d, 100 * fe * S / t_cpu * 1e-9 / peak_s,
             max(x["rss"] for x in A), max(x["rss"] for x in P),
             max(x["rss"] for x in A) - base_as["rss"], plan_mib(name), mem_needed(args) / 2**20,
             "/".join(loads)))
    traj.append((label, trace("as_%s_1" % name), trace("pt_%s_1" % name)))
print("\nsteps/s = steps / seconds of (init + training loop with the evaluation every log_every "
      "steps), without process start-up: wall as each program reports it, cpu = CPU seconds of "
      "the same span (robust to the shared machine's load). ratio = PyTorch time / attnsweep "
      "time of each back-to-back pair. attnsweep computes in float64, the PyTorch baseline in "
      "float32 (except the float64 row).\n")
if os.path.exists(os.path.join(out, "xc_torch.csv")):
    xa = list(csv.DictReader(open(os.path.join(out, "xc_attnsweep.csv"))))
    xp = list(csv.DictReader(open(os.path.join(out, "xc_torch.csv"))))
    worst, where = 0.0, ""
    for ra, rp in zip(xa, xp):
        for k in ra:
            x, y = float(ra[k]), float(rp[k])
            r = abs(x - y) / max(abs(x), abs(y), 1e-6)
            if r > worst:
                worst, where = r, "%s at step %s (%.9g vs %.9g)" % (k, ra["step"], x, y)
    print("Same-init cross-check (default config, %d steps, PyTorch float64 started from "
          "attnsweep's data and weights via lu2021_dump): %d trace rows × %d columns, largest "
          "relative difference %s.\n" % (int(xa[-1]["step"]), len(xa), len(xa[0]),
          "%.2g: %s" % (worst, where) if where else "0 (identical to the 9 significant digits "
          "printed)"))
print("Trajectories (rep 1; different RNGs, hence different data and initial weights: compare "
      "qualitatively; the speed of learning depends on the drawn ||q|| and U):\n")
print("| config | ‖q‖ attnsweep / torch | first step loss<0.5 | loss<0.01 | final loss | "
      "final topic score | final topic attention | final test acc | max SEN residual (score>0.5) |")
print("|---|---|---|---|---|---|---|---|---|")
fmt = lambda v: "—" if v is None else str(v)
for label, ta, tp in traj:
    print("| %s | %.2f / %.2f | %s / %s | %s / %s | %.3g / %.3g | %.2f / %.2f | %.3f / %.3f | "
          "%.3f / %.3f | %.4f / %.4f |"
          % (label, ta["q"], tp["q"], fmt(ta["lt05"]), fmt(tp["lt05"]), fmt(ta["lt001"]),
             fmt(tp["lt001"]), ta["loss"], tp["loss"], ta["score"], tp["score"], ta["att"],
             tp["att"], ta["test"], tp["test"], ta["sen"], tp["sen"]))
EOF
echo "lu2021.sh: raw outputs and results.md in $OUT"
