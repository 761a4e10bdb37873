#!/usr/bin/env bash
# lu2021.sh — benchmark driver: `attnsweep train` (float32, the default, and float64, the previous
# code) against the same lu2021 model in PyTorch (bench/lu2021_torch.py), for the default config of
# examples/lu2021.ini and D ∈ {16,128,512} × N ∈ {2000,20000}. PyTorch runs its strongest
# formulations both ways — one run per process, and 8 runs side by side in one batched graph —
# and the fastest per run is the baseline. Per config: steps/s and the PyTorch/attnsweep ratio
# (median of back-to-back rounds), bytes moved and flops executed per float32 step against the
# core's measured L2/L3 bandwidth (bench/membw.c) and SGEMM peak (bench/sgemm_peak.c), max RSS,
# the same-init cross-check and the trajectories of the default config.
#
# usage: bench/lu2021.sh [--reps R] [--quick] [--out DIR] [--spec INI] [--only NAME[,NAME...]]
#   --reps R   rounds per config (default 3)         --quick  steps / 5, reps 1 (smoke test)
#   --out DIR  raw outputs + results.md (default build-bench/lu2021-<UTC time>)
#   --only     a subset: default, f64, textbook, and the grid as D:N, e.g. --only default,16:2000
# env: ATTNSWEEP=path/to/attnsweep (default: build it in build-bench), PYTHON (/usr/bin/python3),
#      TORCH_VARIANTS (default "pool:1 poolproj:1 poolproj:8": formulation:runs per process)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-/usr/bin/python3}
SPEC=examples/lu2021.ini
REPS=3
QUICK=0
OUT=""
ONLY=""
TORCH_VARIANTS=${TORCH_VARIANTS:-"pool:1 poolproj:1 poolproj:8"}
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --quick) QUICK=1; REPS=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    --spec) SPEC=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "lu2021.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -f "$SPEC" ] || { echo "lu2021.sh: spec $SPEC not found (run from the repo, or --spec)" >&2; exit 2; }
OUT=${OUT:-build-bench/lu2021-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1   # both sides single-threaded, no spinning

# --- binaries -------------------------------------------------------------------------------
# By default the committed HEAD is benchmarked: a `git archive` snapshot built in build-bench/head
# (the checkout may hold edits in progress). ATTNSWEEP=path uses that binary instead, with this
# checkout's headers for lu2021_dump.
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
# OpenBLAS 0.3.21 does not know some newer CPUs (in this VM it takes a Sapphire Rapids for a
# Prescott) and then runs its SSE3 kernels, 5-7x below the core's GEMM peak; PyTorch uses the same
# OpenBLAS. Unless OPENBLAS_CORETYPE is set, name the kernels after the CPU's flags.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  core=$(OPENBLAS_VERBOSE=2 build-bench/tools/sgemm_peak 1 64 2>&1 | sed -n 's/^Core: //p')
  if [ "$core" = Prescott ] && grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif [ "$core" = Prescott ] && grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell
  fi
fi
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cores, L2 $(getconf LEVEL2_CACHE_SIZE) B per core; $(uptime)" | tee "$OUT/machine.txt"
echo "# attnsweep $VERSION, $ATTNSWEEP; $("$PYTHON" -c 'import torch; print("torch", torch.__version__)'); OpenBLAS kernels $(OPENBLAS_VERBOSE=2 build-bench/tools/sgemm_peak 1 64 2>&1 | sed -n 's/^Core: //p')${OPENBLAS_CORETYPE:+ (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE)}" | tee -a "$OUT/machine.txt"
# many short products / timings: on a loaded machine the best of many finds a clean time slice
build-bench/tools/sgemm_peak 40 256 512 1024 | tee "$OUT/sgemm.txt"
build-bench/tools/membw 30 32 256 1024 8192 65536 262144 | tee "$OUT/membw.txt"

# --- the configs: name D N steps(attnsweep float32) steps(float64) steps(PyTorch) -------------
# Steps are sized so that each process takes a few CPU seconds here (the PyTorch ones with 8 runs
# per process the longest); every count is a multiple of log_every (10), so each side evaluates
# the trace every 10 steps. "default" = examples/lu2021.ini (D = 10, N = 5,000).
CONFIGS=("default 10 5000 5000 2000 500" "16:2000 16 2000 10000 1500 500"
         "128:2000 128 2000 10000 200 100" "512:2000 512 2000 10000 50 20"
         "16:20000 16 20000 2000 150 60" "128:20000 128 20000 2000 20 30"
         "512:20000 512 20000 2000 10 10")
# default-config extras: against PyTorch in float64 (attnsweep's float64 path is the like-for-like
# pair), and against the textbook PyTorch ([B, L, D] gathers + bmm), the previous baseline
EXTRAS=("f64 10 5000 5000 2000 300" "textbook 10 5000 5000 2000 300")

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

# Baseline CPU and RSS of each process (libraries, interpreter) with a near-empty run.
timed base_attnsweep "$ATTNSWEEP" train "$SPEC" --run 0 --set model.embed_dim=16 \
  --set task.n_sentences=100 --set task.vocab_size=100 --set train.steps=1
timed base_torch "$PYTHON" bench/lu2021_torch.py --embed-dim 16 --n-sentences 100 \
  --vocab-size 100 --steps 1

# Cross-check: PyTorch (float64, every formulation) from attnsweep's float64 data and initial
# weights (lu2021_dump): the traces must agree to rounding. Default config, XC_STEPS steps.
XC_STEPS=${XC_STEPS:-500}
LIBDIR=$(dirname "$ATTNSWEEP")
F64=(--set model.precision=float64)
if [ -f "$LIBDIR/libattnsweep.a" ] && command -v mpicc >/dev/null; then
  # shellcheck disable=SC2046
  mpicc -O2 -std=c17 -D_POSIX_C_SOURCE=200809L -I"$SRC/include" -I"$SRC/src" -o "$OUT/lu2021_dump" \
    bench/lu2021_dump.c "$LIBDIR/libattnsweep.a" $(pkg-config --cflags --libs hdf5-openmpi openblas inih) -lm
  "$OUT/lu2021_dump" "$SPEC" "$OUT/xc_dump.bin" --set "train.steps=$XC_STEPS" "${F64[@]}"
  timed xc_attnsweep "$ATTNSWEEP" train "$SPEC" --run 0 --set "train.steps=$XC_STEPS" "${F64[@]}"
  for impl in bmm pool poolproj; do
    # shellcheck disable=SC2046
    timed "xc_torch_$impl" "$PYTHON" bench/lu2021_torch.py $(spec_args "" "" "$XC_STEPS") \
      --init-from "$OUT/xc_dump.bin" --dtype float64 --impl "$impl"
  done
else
  echo "lu2021.sh: no $LIBDIR/libattnsweep.a or mpicc: skipping the same-init cross-check" >&2
fi

# Trajectories of the default config: attnsweep float32 and PyTorch (poolproj, one run), the
# whole 5,000 steps each (different random numbers: compare qualitatively).
if [ -z "$ONLY" ] || grep -qw -- default <<<"${ONLY//,/ }"; then
  TS=5000; [ "$QUICK" = 1 ] && TS=1000
  timed traj_attnsweep "$ATTNSWEEP" train "$SPEC" --run 0 --set "train.steps=$TS"
  # shellcheck disable=SC2046
  timed traj_torch "$PYTHON" bench/lu2021_torch.py $(spec_args "" "" "$TS") --impl poolproj
fi

echo "side,config,variant,runs,steps,rep,load1" > "$OUT/runs.csv"
for cfg in "${CONFIGS[@]}" "${EXTRAS[@]}"; do
  read -r name D N S32 S64 ST <<<"$cfg"
  if [ -n "$ONLY" ] && ! grep -qw -- "$name" <<<"${ONLY//,/ }"; then
    continue
  fi
  if [ "$QUICK" = 1 ]; then
    S32=$(( S32 / 5 / 10 * 10 > 10 ? S32 / 5 / 10 * 10 : 10 ))
    S64=$(( S64 / 5 / 10 * 10 > 10 ? S64 / 5 / 10 * 10 : 10 ))
    ST=$(( ST / 5 / 10 * 10 > 10 ? ST / 5 / 10 * 10 : 10 ))
  fi
  sets=(--set "model.embed_dim=$D" --set "task.n_sentences=$N")
  variants=$TORCH_VARIANTS dtype=float32
  [ "$name" = f64 ] && dtype=float64
  [ "$name" = textbook ] && variants="bmm:1"
  "$ATTNSWEEP" plan "$SPEC" "${sets[@]}" > "$OUT/plan_${name}_f32.txt" 2>&1
  "$ATTNSWEEP" plan "$SPEC" "${sets[@]}" "${F64[@]}" > "$OUT/plan_${name}_f64.txt" 2>&1
  for rep in $(seq 1 "$REPS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    timed "as32_${name}_$rep" "$ATTNSWEEP" train "$SPEC" --run 0 "${sets[@]}" --set "train.steps=$S32"
    echo "attnsweep,$name,float32,1,$S32,$rep,$load" >> "$OUT/runs.csv"
    load=$(cut -d' ' -f1 /proc/loadavg)
    timed "as64_${name}_$rep" "$ATTNSWEEP" train "$SPEC" --run 0 "${sets[@]}" --set "train.steps=$S64" "${F64[@]}"
    echo "attnsweep,$name,float64,1,$S64,$rep,$load" >> "$OUT/runs.csv"
    for v in $variants; do
      impl=${v%%:*} runs=${v##*:}
      load=$(cut -d' ' -f1 /proc/loadavg)
      # shellcheck disable=SC2046
      timed "pt_${name}_${impl}x${runs}_$rep" "$PYTHON" bench/lu2021_torch.py \
        $(spec_args "$D" "$N" "$ST") --impl "$impl" --runs "$runs" --dtype "$dtype"
      echo "torch,$name,$impl,$runs,$ST,$rep,$load" >> "$OUT/runs.csv"
    done
    echo "  $name rep $rep: $(tail -1 "$OUT/as32_${name}_$rep.err") | $(grep -h '^torch:' "$OUT"/pt_"${name}"_*_"$rep".err | cut -d' ' -f2-4 | tr '\n' ' ')"
  done
done

"$PYTHON" - "$OUT" <<'EOF' | tee "$OUT/results.md"
# Summary: per-step CPU times, ratios per round, the float32 step's bytes and flops against the
# measured limits, memory, the cross-check and the trajectories.
import csv, math, os, re, statistics as st, sys
out = sys.argv[1]
rd = lambda tag, ext: open(os.path.join(out, tag + ext)).read()
num = lambda pat, txt: float(re.search(pat, txt).group(1))

def measure(tag):
    """cpu = CPU seconds of init + training (attnsweep: user+sys of the process minus the
    near-empty baseline run's; torch: time.process_time() around init + loop); rss in MiB."""
    err, tm = rd(tag, ".err"), rd(tag, ".time")
    rss = num(r"Maximum resident set size \(kbytes\): (\d+)", tm) / 1024
    cpu = num(r"User time \(seconds\): ([0-9.]+)", tm) + num(r"System time \(seconds\): ([0-9.]+)", tm)
    if "cpu_seconds=" in err:
        return {"cpu": num(r"cpu_seconds=([0-9.]+)", err), "rss": rss, "proc": cpu}
    return {"cpu": cpu, "rss": rss, "proc": cpu}

def plan_mib(tag):
    m = re.search(r"memory: peak ([0-9.]+) (KiB|MiB|GiB)", rd(tag, ".txt"))
    return float(m.group(1)) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[m.group(2)] if m else float("nan")

sg = rd("sgemm", ".txt")
peak_s, peak_d = num(r"SGEMM ([0-9.]+)", sg), num(r"DGEMM ([0-9.]+)", sg)
bw = {}  # KiB -> (sequential GB/s, random 32-byte row ns)
for m in re.finditer(r"(\d+) KiB: sequential +([0-9.]+) GB/s; random 32-byte rows +([0-9.]+) GB/s \(([0-9.]+) ns/row\)", rd("membw", ".txt")):
    bw[int(m.group(1))] = (float(m.group(2)), float(m.group(4)))
level = lambda nbytes: next((k for k in sorted(bw) if k * 1024 >= nbytes), max(bw))

base_as = measure("base_attnsweep")
runs = list(csv.DictReader(open(os.path.join(out, "runs.csv"))))
# Sizes of a config (the FC model of examples/lu2021.ini with D, N set).
def dims(D, N):
    K, W_, Vn, m = 4, 2, 5000, 20
    B = int(N * 0.8 + 1e-9)
    return dict(D=D, N=N, K=K, L=m + 1, V=K * W_ + Vn, B=B, log_every=10)

# The float32 step (fixed classifier, projected low-rank rows of W = 8·⌈(K+1)/8⌉ floats), as
# luf32.c runs it. Rows gathered at random (32-byte rows at the membw random-row rate of the
# table's size): the forward pools B·L rows of T [V×W], the backward gathers B·L rows of G [B×W],
# and every log_every steps the evaluation pools N·L rows of T. Streamed bytes (at the membw
# sequential rate of the working set's size): the word ids of both passes (2·B·L·4); per
# sentence the pooled row, its G row and label, the per-sentence scalars (3·W·4 + 16); per word
# the score, exp and T row, the gathered row R, and the update of γ, β and the row X = P⁰ + UᵀUγ
# (4·(13 + 9·W)); the evaluation's word ids N·L·4, its per-word T rows and metrics V·4·(3·W + 6).
def f32_model(d):
    B, L, V, N, K, le = d["B"], d["L"], d["V"], d["N"], d["K"], d["log_every"]
    W = 8 * math.ceil((K + 1) / 8)
    rowT, rowG = B * L + N * L / le, B * L
    stream = 2 * B * L * 4 + B * (3 * W * 4 + 16) + V * 4 * (13 + 9 * W) + (N * L * 4 + V * 4 * (3 * W + 6)) / le
    tabT, tabG = V * W * 4, B * W * 4
    ws = tabT + tabG + 5 * V * W * 4 + 2 * B * L * 4 + N * L * 4
    t = rowT * bw[level(tabT)][1] * 1e-9 + rowG * bw[level(tabG)][1] * 1e-9 + stream / (bw[level(ws)][0] * 1e9)
    # executed flops (luf32_cost): per sentence L·W adds each way and the classifier/loss,
    # per word the exp, T row, gradient and low-rank update; the evaluation's forward
    fwd, bwd, per_word = L * W + 10 * K + 2 * W, L * W + 4 * W, 30 + 4 * W + 2 * K * W
    flops = B * (fwd + bwd) + V * per_word + (N * fwd + V * (30 + 2 * W + 2 * K * K)) / le
    return dict(rows=rowT + rowG, row_bytes=(rowT + rowG) * W * 4, stream=stream, bound=t,
                flops=flops, ws=ws, W=W)

# The float64 step (the previous code) gathers D-wide rows of doubles: B·L rows of E forward,
# B·L rows of dH backward (plus N·L / log_every for the evaluation).
def f64_row_bytes(d):
    return (2 * d["B"] * d["L"] + d["N"] * d["L"] / d["log_every"]) * d["D"] * 8

print(rd("machine", ".txt").strip())
print("# single-core peaks measured in this run: SGEMM %.1f, DGEMM %.1f GFLOP/s; read bandwidth "
      "(sequential; random 32-byte rows): %s\n" % (peak_s, peak_d, "; ".join(
          "%s %.0f GB/s, %.2f ns/row" % ("%d KiB" % k if k < 1024 else "%d MiB" % (k // 1024),
                                          v[0], v[1]) for k, v in sorted(bw.items()))))

configs = list(dict.fromkeys(r["config"] for r in runs))
def sel(cfg, side, variant=None):
    return [r for r in runs if r["config"] == cfg and r["side"] == side and (variant is None or r["variant"] == variant)]

def per_step(tag, steps, nruns=1, attnsweep=False):
    m = measure(tag)
    cpu = m["cpu"] - (base_as["proc"] if attnsweep else 0.0)
    return cpu / steps / nruns, m

summary = {}
for cfg in configs:
    reps = sorted({int(r["rep"]) for r in sel(cfg, "attnsweep")})
    a32, a64, best, bestv, rss = [], [], [], [], {"f32": 0, "f64": 0, "torch": 0}
    loads = []
    for k in reps:
        r32 = next(r for r in sel(cfg, "attnsweep", "float32") if int(r["rep"]) == k)
        r64 = next(r for r in sel(cfg, "attnsweep", "float64") if int(r["rep"]) == k)
        t32, m32 = per_step("as32_%s_%d" % (cfg, k), int(r32["steps"]), attnsweep=True)
        t64, m64 = per_step("as64_%s_%d" % (cfg, k), int(r64["steps"]), attnsweep=True)
        a32.append(t32), a64.append(t64)
        rss["f32"], rss["f64"] = max(rss["f32"], m32["rss"]), max(rss["f64"], m64["rss"])
        tv = []
        for r in [r for r in sel(cfg, "torch") if int(r["rep"]) == k]:
            t, m = per_step("pt_%s_%sx%s_%d" % (cfg, r["variant"], r["runs"], k), int(r["steps"]), int(r["runs"]))
            tv.append((t, "%s ×%s" % (r["variant"], r["runs"])))
            rss["torch"] = max(rss["torch"], m["rss"])
        t, v = min(tv)
        best.append(t), bestv.append(v)
        loads.append("/".join(r["load1"] for r in runs if r["config"] == cfg and int(r["rep"]) == k))
    summary[cfg] = dict(a32=a32, a64=a64, best=best, bestv=bestv, rss=rss, loads=loads)

med = st.median
label = {"default": "default (D=10, N=5000)", "f64": "default, PyTorch float64",
         "textbook": "default, PyTorch textbook (bmm)"}
print("| config | attnsweep float32 steps/s | attnsweep float64 steps/s | PyTorch steps/s per run, best (formulation × runs per process) | **ratio float32** median (range) | ratio float64 median (range) |")
print("|---|---|---|---|---|---|")
for cfg in configs:
    s = summary[cfg]
    r32 = [b / a for a, b in zip(s["a32"], s["best"])]
    r64 = [b / a for a, b in zip(s["a64"], s["best"])]
    lab = label.get(cfg, "D=%s, N=%s" % tuple(cfg.split(":")) if ":" in cfg else cfg)
    print("| %s | %.0f | %.0f | %.1f (%s) | **%.1f×** (%.1f–%.1f) | %.1f× (%.1f–%.1f) |" % (
        lab, 1 / med(s["a32"]), 1 / med(s["a64"]), 1 / med(s["best"]),
        max(set(s["bestv"]), key=s["bestv"].count), med(r32), min(r32), max(r32),
        med(r64), min(r64), max(r64)))
print("\nsteps/s = 1 / (CPU seconds per step, median over rounds), each program's init + training "
      "with the evaluation every 10 steps (attnsweep: process CPU minus a near-empty run's; "
      "PyTorch: time.process_time(), divided by the runs in the process). ratio = PyTorch's best "
      "per-run time / attnsweep's, per round of back-to-back runs. The float64 rows of the last "
      "two lines compare attnsweep's float64 path with PyTorch float64 and with the textbook "
      "PyTorch.\n")

print("The float32 step against the memory limit (bytes and flops per step as luf32.c moves and "
      "executes them, formulas in bench/lu2021.sh; bound = the gathered rows at the measured "
      "random-row rate + the streamed bytes at the measured sequential rate of their cache "
      "level):\n")
print("| config | rows gathered per step (float32 · float64 bytes) | streamed per step | memory bound µs/step | measured µs/step | **% of the bound** | executed MFLOP/step, GFLOP/s, % of SGEMM peak | max RSS MiB: float32 · float64 · PyTorch | plan estimate MiB float32 · float64 |")
print("|---|---|---|---|---|---|---|---|---|")
for cfg in configs:
    if cfg in ("f64", "textbook"):
        continue
    D, N = (10, 5000) if cfg == "default" else map(int, cfg.split(":"))
    d = dims(D, N)
    f = f32_model(d)
    s = summary[cfg]
    t = med(s["a32"])
    lab = label.get(cfg, "D=%d, N=%d" % (D, N))
    print("| %s | %.0fk rows: %.1f MB · %.0f MB | %.1f MB | %.0f | %.0f | **%.0f %%** | %.2f, %.1f, %.1f %% | %.0f · %.0f · %.0f | %.1f · %.1f |" % (
        lab, f["rows"] / 1e3, f["row_bytes"] / 1e6, f64_row_bytes(d) / 1e6, f["stream"] / 1e6,
        f["bound"] * 1e6, t * 1e6, 100 * f["bound"] / t, f["flops"] / 1e6,
        f["flops"] / t * 1e-9, 100 * f["flops"] / t * 1e-9 / peak_s,
        s["rss"]["f32"], s["rss"]["f64"], s["rss"]["torch"], plan_mib("plan_%s_f32" % cfg),
        plan_mib("plan_%s_f64" % cfg)))
print("\nload1 before each run, per config: " + "; ".join(
    "%s: %s" % (cfg, " ".join(summary[cfg]["loads"])) for cfg in configs) + "\n")

if os.path.exists(os.path.join(out, "xc_attnsweep.csv")):
    xa = list(csv.DictReader(open(os.path.join(out, "xc_attnsweep.csv"))))
    for impl in ("bmm", "pool", "poolproj"):
        xp = list(csv.DictReader(open(os.path.join(out, "xc_torch_%s.csv" % impl))))
        worst, where = 0.0, ""
        for ra, rp in zip(xa, xp):
            for k in ra:
                x, y = float(ra[k]), float(rp[k])
                r = abs(x - y) / max(abs(x), abs(y), 1e-6)
                if r > worst:
                    worst, where = r, "%s at step %s (%.9g vs %.9g)" % (k, ra["step"], x, y)
        print("Same-init cross-check, PyTorch %s (float64, from attnsweep's float64 data and "
              "weights via lu2021_dump, %d steps): %d trace rows × %d columns, largest relative "
              "difference %s." % (impl, int(xa[-1]["step"]), len(xa), len(xa[0]),
              "%.2g: %s" % (worst, where) if where else "0 (identical to the 9 digits printed)"))
    print()

if os.path.exists(os.path.join(out, "traj_attnsweep.csv")):
    def trace(tag):
        rows = list(csv.DictReader(open(os.path.join(out, tag + ".csv"))))
        first = lambda th: next((int(r["step"]) for r in rows if float(r["train_loss"]) < th), None)
        big = [float(r["sen_residual"]) for r in rows if float(r["topic_score"]) > 0.5]
        att = [float(r["topic_attention"]) for r in rows]
        return {"lt05": first(0.5), "lt001": first(0.01), "loss": float(rows[-1]["train_loss"]),
                "att": att[-1], "test": float(rows[-1]["test_acc"]), "q": float(rows[0]["query_norm"]),
                "score": float(rows[-1]["topic_score"]), "sen": max(big) if big else float("nan"),
                "mono": all(b >= a for a, b in zip(att, att[1:]))}
    ta, tp = trace("traj_attnsweep"), trace("traj_torch")
    fmt = lambda v: "—" if v is None else str(v)
    print("Trajectories, default config (attnsweep float32 and PyTorch poolproj, own random numbers: "
          "compare qualitatively):\n")
    print("| | ‖q‖ | first step loss<0.5 | loss<0.01 | final loss | final topic score | final topic attention | monotone | final test acc | max SEN residual (score>0.5) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, t in (("attnsweep", ta), ("PyTorch", tp)):
        print("| %s | %.2f | %s | %s | %.3g | %.2f | %.3f | %s | %.3f | %.4f |" % (
            name, t["q"], fmt(t["lt05"]), fmt(t["lt001"]), t["loss"], t["score"], t["att"],
            "yes" if t["mono"] else "no", t["test"], t["sen"]))
EOF
echo "lu2021.sh: raw outputs and results.md in $OUT"
