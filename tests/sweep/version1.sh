#!/usr/bin/env bash
# version1.sh ATTNSWEEP WORKDIR MPIEXEC... — today's binary reproduces the files version 1 wrote.
# tests/data/*-v1.h5 were made by attnsweep 0.1.0 before the library was split out of the CLI:
# examples/demo.ini, and a --set-varied subset of examples/lu2021-grid.ini (classifiers fixed and
# mlp, full batch and mini-batch). Each file's own spec text and --set options are run again on 3
# ranks in float64 (version 1's only precision; float32 is lu2021's default now), and every trace
# and parameter/result dataset of the old file must come back bit for bit (the metrics added
# since are extra; the old CRCs are checked on the old metrics' rows). Then a copy of the demo
# file with 3 runs pending again is resumed: it keeps its metrics and verifies.
source "$(dirname "$0")/lib.sh"
for old in "$HERE"/../data/*-v1.h5; do
  name=$(basename "$old" .h5)
  # the canonical spec text is the file, then one "# --set k=v" line per override
  "$PY" - "$old" "$name.ini" "$name.sets" <<'PY'
import sys, h5py
text = h5py.File(sys.argv[1], "r").attrs["spec"]
text = text.decode() if isinstance(text, bytes) else text
lines = text.split("\n")
sets = []
while lines and (lines[-1] == "" or lines[-1].startswith("# --set ")):
    line = lines.pop()
    if line:
        sets.insert(0, line[len("# --set "):])
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
open(sys.argv[3], "w").write("".join(s + "\n" for s in sets))
PY
  args=(--set model.precision=float64)
  while IFS= read -r s; do args+=(--set "$s"); done < "$name.sets"
  mpirun_np 3 run "$name.ini" --out "$name.h5" --progress 0 "${args[@]}" > "$name.log" \
    || { cat "$name.log"; fail "$name: the sweep failed"; }
  "$PY" "$HERE/compare.py" --subset "$old" "$name.h5" || fail "$name: results differ from version 1"
done
# A file version 1 wrote resumes with today's binary (same spec, so today's default precision):
# it keeps the metrics of its time, the runs trained now fill them, and their CRCs verify.
cp "$HERE/../data/demo-v1.h5" resumed.h5
"$PY" - resumed.h5 <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
s = f["runs/status"][()]
s[[2, 9, 17]] = 0  # pending again
f["runs/status"][...] = s
PY
sets=()
while IFS= read -r s; do sets+=(--set "$s"); done < demo-v1.sets
mpirun_np 2 run demo-v1.ini --out resumed.h5 --resume --progress 0 "${sets[@]}" > resumed.log \
  || { cat resumed.log; fail "resuming a version-1 file"; }
grep -q "3 to run" resumed.log || { cat resumed.log; fail "3 runs to resume"; }
"$ATTNSWEEP" status resumed.h5 --verify > verify.log || { cat verify.log; fail "status --verify"; }
"$PY" - "$HERE/../data/demo-v1.h5" resumed.h5 <<'PY' || fail "the resumed version-1 file"
import sys, h5py, numpy as np
old, new = (h5py.File(p, "r") for p in sys.argv[1:])
assert new.attrs["metrics"] == old.attrs["metrics"] and set(new["traces"]) == set(old["traces"])
assert (new["runs/status"][()] == old["runs/status"][()]).all()
for m in ("train_loss", "topic_score"):  # float32 now, float64 then
    a, b = old["traces/" + m][[2, 9, 17]], new["traces/" + m][[2, 9, 17]]
    assert np.allclose(a, b, rtol=1e-3, atol=1e-5, equal_nan=True), m
PY
echo "PASS"
