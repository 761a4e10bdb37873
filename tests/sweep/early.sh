#!/usr/bin/env bash
# early.sh ATTNSWEEP WORKDIR MPIEXEC... — early stopping in a sweep: with stop_when_converged the
# converged runs end done at their first converged logged step, their trace up to there is bit
# for bit that of the same run without stopping and NaN after it, final_* are the values at the
# stop, and the summary counts the steps saved. tests/sweep/tiny.ini on 3 ranks.
source "$(dirname "$0")/lib.sh"
SET=(--set train.converge_loss=0.9 --set grid.lr=0.5 --progress 0)  # lr 1e5 runs diverge
mpirun_np 3 run "$HERE/tiny.ini" --out full.h5 "${SET[@]}" > full.log || { cat full.log; fail "full run"; }
mpirun_np 3 run "$HERE/tiny.ini" --out early.h5 "${SET[@]}" --set train.stop_when_converged=true \
  > early.log || { cat early.log; fail "early-stopped run"; }
cat early.log
grep -Eq "^summary: early stopping: [1-9][0-9]* of [0-9]+ done runs stopped before their last step, [1-9][0-9]* steps saved$" early.log \
  || fail "the summary does not count the early stops"
"$PY" - full.h5 early.h5 <<'PY'
import sys, h5py, numpy as np
full, early = (h5py.File(p, "r") for p in sys.argv[1:])
er, fr = early["runs"], full["runs"]
step = early["traces/step"][()]
steps = er["steps"][()]
stopped = er["steps_done"][()] < steps
assert stopped.any() and not stopped.all(), "some runs, not all, should stop: %s" % er["steps_done"][()]
assert (er["status"][()] == 1).all(), "stopped runs are done"
assert (er["steps_done"][()][stopped] == er["steps_to_converge"][()][stopped]).all()
metrics = [m for m in early["traces"] if early["traces"][m].ndim == 2]
for r in range(len(steps)):
    k = int(np.searchsorted(step, er["steps_done"][r])) + 1
    for m in metrics:
        a, b = early["traces"][m][r], full["traces"][m][r]
        assert a[:k].tobytes() == b[:k].tobytes(), "run %d %s: prefix differs" % (r, m)
        assert np.isnan(a[k:]).all(), "run %d %s: values after the stop" % (r, m)
    assert np.float32(er["final_train_loss"][r]) == early["traces/train_loss"][r][k - 1]
    assert er["n_points"][r] == k
same = ~stopped
for k in ("final_train_loss", "final_test_acc", "steps_done", "trace_crc32"):
    assert (er[k][()][same] == fr[k][()][same]).all(), k
print("early stopping: %d of %d runs stopped, prefixes identical" % (stopped.sum(), len(steps)))
PY
echo "PASS"
