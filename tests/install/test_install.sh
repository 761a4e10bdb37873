#!/usr/bin/env bash
# test_install.sh SOURCE BUILD WORK MPIEXEC... — `cmake --install` into a temporary prefix, then
# use only what was installed: the demo sweep by the installed binary (bit-identical to version
# 1's demo file), the example plugin built OUT of tree with `pkg-config --cflags --libs
# attnsweep`, swept under MPI into HDF5, its status and its analysis report through the installed
# attnsweep-analysis, and the installed job script naming the installed binary.
set -euo pipefail
SRC=$1 BUILD=$2 WORK=$3
shift 3
MPI=("$@")
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1
rm -rf "$WORK"
mkdir -p "$WORK"
P=$WORK/prefix
cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log" || { cat "$WORK/install.log"; fail "cmake --install"; }
for f in bin/attnsweep bin/attnsweep-analysis lib/libattnsweep.so lib/libattnsweep.a \
         include/attnsweep/model.h lib/pkgconfig/attnsweep.pc share/attnsweep/examples/demo.ini \
         share/attnsweep/jobs/slurm.sbatch share/attnsweep/analysis/__main__.py; do
  [ -e "$P/$f" ] || fail "$f was not installed"
done
grep -q "^ATTNSWEEP=\${ATTNSWEEP:-$P/bin/attnsweep}" "$P/share/attnsweep/jobs/slurm.sbatch" \
  || fail "the installed slurm.sbatch does not default to the installed binary"
ldd "$P/bin/attnsweep" | grep -E "$P/(bin/\.\./)?lib/libattnsweep.so" > /dev/null \
  || fail "the installed binary does not load the installed library: $(ldd "$P/bin/attnsweep" | grep attnsweep)"

# the demo, from the installed files only, as README's first command runs it
cd "$WORK"
# (version 1 had no early stopping and trained in float64: so set, the demo's results are version
# 1's, bit for bit)
"${MPI[@]}" -np 3 "$P/bin/attnsweep" run "$P/share/attnsweep/examples/demo.ini" --out demo.h5 \
  --progress 0 --set train.stop_when_converged=false --set model.precision=float64 > demo.log \
  || { cat demo.log; fail "the installed demo sweep failed"; }
/usr/bin/python3 "$SRC/tests/sweep/compare.py" --subset "$SRC/tests/data/demo-v1.h5" demo.h5 \
  || fail "the installed binary's demo differs from version 1's"

# the plugin, out of tree
cp -r "$P/share/attnsweep/examples/plugin" plugin
cd plugin
PKG_CONFIG_PATH=$P/lib/pkgconfig make > make.log 2>&1 || { cat make.log; fail "make of the plugin"; }
grep -q 'pkg-config --cflags attnsweep' Makefile || fail "the plugin is not built with pkg-config"
"$P/bin/attnsweep" keys plugin:./libmqa.so | grep "queries" > /dev/null || fail "keys of the plugin"
"$P/bin/attnsweep" plan mqa.ini --no-calibrate --set grid.seed=0 | grep "model mqa from" > /dev/null \
  || fail "plan of the plugin"
"${MPI[@]}" -np 3 "$P/bin/attnsweep" run mqa.ini --out mqa.h5 --progress 0 \
  --set train.steps=200 --set grid.seed=0..1 > run.log || { cat run.log; fail "plugin sweep"; }
cat run.log
"$P/bin/attnsweep" status mqa.h5 | tee status.log
grep -q "runs: 16 total: done 16," status.log || fail "the plugin sweep did not finish every run"
"$P/bin/attnsweep" train mqa.ini --run 5 --set train.steps=20 > run5.csv 2>/dev/null
head -1 run5.csv | grep -q "^step,train_loss,train_acc,test_acc,test_loss,topic_attention" \
  || fail "train of the plugin"
"$P/bin/attnsweep-analysis" report mqa.h5 --out report > report.log 2>&1 || { cat report.log; fail "analysis report"; }
grep -q "16 runs" report/report.md || fail "the report does not count the runs"
"$P/bin/attnsweep" run mqa.ini --out bad.h5 --set model.model=plugin:nope.so 2> bad.log && fail "a missing plugin was accepted"
grep -q "plugin nope.so: no such file" bad.log || fail "message for a missing plugin: $(cat bad.log)"
echo "PASS"
