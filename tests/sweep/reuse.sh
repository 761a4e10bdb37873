#!/usr/bin/env bash
# reuse.sh ATTNSWEEP WORKDIR MPIEXEC... — `run --reuse`: runs whose complete configuration an OLD
# file finished are copied, not trained, and the new file is bit-identical (traces, parameters,
# results) to a from-scratch sweep of the new spec; with more seeds and more values, keys in
# another order, another rank count, several OLD files at once (array-job slices merged: nothing
# trained); OLD files never change; a run that differs in any key, or an OLD file of another
# model, gives nothing; --overwrite of a file that is also --reuse'd is refused.
source "$(dirname "$0")/lib.sh"
SPEC=$HERE/tiny.ini
FIX=(--set grid.lr=0.5 --progress 0) # lr 1e5 runs diverge: keep them out of the reference too
mpirun_np 3 run "$SPEC" --out scratch.h5 "${FIX[@]}" > scratch.log || { cat scratch.log; fail "reference"; }

# an older, smaller sweep: 2 seeds and one embed_dim
mpirun_np 2 run "$SPEC" --out old.h5 "${FIX[@]}" --set grid.seed=0..1 --set grid.embed_dim=8 > old.log
md5_old=$(md5sum < old.h5)
# the new spec has its [grid] keys in another order: other run ids, the same configurations
sed 's/^vocab_size = \(.*\)$/SEEDS/; s/^seed = \(.*\)$/vocab_size = 20, 50/; s/^SEEDS$/seed = 0..2/' \
  "$SPEC" > reordered.ini
grep -q "^seed = 0..2" reordered.ini && grep -q "^vocab_size = 20, 50" reordered.ini || fail "sed"
mpirun_np 4 run reordered.ini --out new.h5 "${FIX[@]}" --reuse old.h5 > new.log || { cat new.log; fail "reuse"; }
cat new.log
grep -q "reused 4 runs from old.h5" new.log || fail "the start line does not count the reused runs"
grep -q "^attnsweep: 8 runs to train" new.log || fail "12 runs minus 4 reused"
[ "$(md5sum < old.h5)" = "$md5_old" ] || fail "the OLD file changed"
mpirun_np 3 run reordered.ini --out fresh.h5 "${FIX[@]}" > fresh.log
compare fresh.h5 new.h5 || fail "the reused file differs from a from-scratch run of the new spec"
"$PY" - new.h5 <<'PY'
import sys, h5py
r = h5py.File(sys.argv[1])["runs"]
rid, rf = r["reuse_id"][()], r["reuse_file"][()]
assert (rid >= 0).sum() == 4 and all(f == b"old.h5" for f in rf[rid >= 0]), (rid, rf)
assert all(f == b"" for f in rf[rid < 0])
PY

# array-job slices (one seed each) merge into the full sweep without training anything
for s in 0 1 2; do
  mpirun_np 2 run "$SPEC" --out slice-$s.h5 "${FIX[@]}" --set grid.seed=$s > slice-$s.log
done
mpirun_np 3 run "$SPEC" --out all.h5 "${FIX[@]}" --reuse 'slice-*.h5' > all.log || { cat all.log; fail "merge"; }
cat all.log
grep -q "^attnsweep: 0 runs to train" all.log || fail "slices covering the grid must leave nothing to train"
compare scratch.h5 all.h5 || fail "merged slices differ from the from-scratch sweep"

# any other key value, or another model: nothing is reused
mpirun_np 2 run "$SPEC" --out other.h5 "${FIX[@]}" --set train.converge_loss=0.4 --reuse old.h5 > other.log
grep -q "reused 0 runs from old.h5" other.log || fail "a run with another converge_loss was reused"
mpirun_np 1 run "$HERE/../../examples/sakamoto2024-regimes.ini" --out sk.h5 --progress 0 \
  --set grid.dim=50 --set grid.signal_norm=5 --set grid.seed=0 --set train.steps=5 \
  --set task.n_test=10 > sk.log
mpirun_np 2 run "$SPEC" --out mixed.h5 "${FIX[@]}" --reuse sk.h5 --reuse old.h5 > mixed.log
grep -q "\-\-reuse sk.h5: model sakamoto2024, not lu2021; none of its runs is reused" mixed.log \
  || { cat mixed.log; fail "no note for a file of another model"; }
grep -q "reused 4 runs from old.h5" mixed.log || fail "the compatible file was not used"

# safety: never overwrite a file that is being reused; a pattern must match
rc=0; mpirun_np 2 run "$SPEC" --out old.h5 "${FIX[@]}" --overwrite --reuse old.h5 > ow.log 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "it is the file --overwrite replaces" ow.log || { cat ow.log; fail "--overwrite of a reused file"; }
[ "$(md5sum < old.h5)" = "$md5_old" ] || fail "the refused --overwrite changed old.h5"
rc=0; mpirun_np 2 run "$SPEC" --out x.h5 "${FIX[@]}" --reuse 'nothing-*.h5' > nm.log 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "nothing-\*.h5: cannot open it" nm.log || { cat nm.log; fail "a pattern matching nothing"; }
echo "PASS"
