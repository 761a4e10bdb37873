#!/usr/bin/env bash
# version1.sh ATTNSWEEP WORKDIR MPIEXEC... — today's binary reproduces the files version 1 wrote.
# tests/data/*-v1.h5 were made by attnsweep 0.1.0 before the library was split out of the CLI:
# examples/demo.ini, and a --set-varied subset of examples/lu2021-grid.ini (classifiers fixed and
# mlp, full batch and mini-batch). Each file's own spec text and --set options are run again on 3
# ranks in float64 (version 1's only precision; float32 is lu2021's default now), and every trace
# and parameter/result dataset of the old file must come back bit for bit.
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
echo "PASS"
