#!/usr/bin/env bash
# status.sh — `status`, `plan` and the per-run statuses in the file: diverged runs keep their
# trace so far, failed runs keep their message and the sweep goes on; `status` rejects files
# that are not attnsweep output; a done run whose trace no longer matches its CRC is found by
# `status --verify` and rerun by --resume, back to the original bytes.
source "$(dirname "$0")/lib.sh"
SPEC=$HERE/tiny.ini

"$ATTNSWEEP" plan "$SPEC" --np 3 >plan.txt || { cat plan.txt; fail "plan"; }
grep -q "^runs: 24 = 2 vocab_size × 2 embed_dim × 2 lr × 3 seed" plan.txt || { cat plan.txt; fail "plan: run count"; }
grep -q "mpirun -np 3 " plan.txt || fail "plan: no estimate for -np 3"
grep -q "^output: ≈" plan.txt || fail "plan: no output size"

mpirun_np 2 run "$SPEC" --out a.h5 --progress 0 --set grid.seed=0 >run.log || { cat run.log; fail "run"; }
"$ATTNSWEEP" status a.h5 --verify >status.txt || { cat status.txt; fail "status"; }
grep -q "runs: 8 total: done 4, diverged 4, failed 0, interrupted 0, pending 0" status.txt || { cat status.txt; fail "status counts"; }
grep -q "verify: 0 done or diverged runs" status.txt || fail "status --verify"
"$PY" - <<'PY' || fail "diverged runs in the file"
import h5py, numpy as np
f = h5py.File("a.h5")
st, lr = f["runs/status"][()], f["runs/lr"][()]
assert (st[lr > 1] == 3).all() and (st[lr < 1] == 1).all(), (st, lr)
loss = f["traces/train_loss"][()]
for i in np.nonzero(st == 3)[0]:
    n = f["runs/n_points"][i]
    assert 1 <= n < loss.shape[1], n
    assert np.isfinite(loss[i, 0]) and np.isnan(loss[i, n:]).all()
    assert b"non-finite" in f["runs/message"][i], f["runs/message"][i]
assert (f["runs/n_points"][st == 1] == loss.shape[1]).all()
assert (f["traces/step"][()] == np.arange(loss.shape[1]) * 10).all()
assert f["traces/train_loss"].dims[1][0].name == "/traces/step"
assert f.attrs["spec_sha256"].decode() and f.attrs["n_runs"] == 8
PY

# Failed runs: a time limit no run can meet. The sweep finishes with every run failed: exit 4.
rc=0
mpirun_np 2 run "$SPEC" --out failed.h5 --progress 0 --set grid.seed=0 --set train.max_seconds=1e-9 >f.log \
  || rc=$?
[ "$rc" = 4 ] || { cat f.log; fail "a sweep of failed runs must exit 4 (got $rc)"; }
"$ATTNSWEEP" status failed.h5 >fs.txt
grep -q "failed 8," fs.txt || { cat fs.txt; fail "runs past max_seconds are not 'failed'"; }
grep -q "^failed: run 0 (attempt 1): exceeded max_seconds" fs.txt || { cat fs.txt; fail "status does not show why runs failed"; }
grep -q "^failed: … 3 more" fs.txt || { cat fs.txt; fail "status does not count the failed runs it does not show"; }
"$PY" -c "
import h5py; m = h5py.File('failed.h5')['runs/message'][()]
assert all(b'max_seconds' in x for x in m), m" || fail "failed runs lost their message"

# Files that are not attnsweep output.
echo "not hdf5" >junk.txt
if "$ATTNSWEEP" status junk.txt 2>err.txt; then fail "status accepted a text file"; fi
grep -q "not an HDF5 file" err.txt || { cat err.txt; fail "message for a text file"; }
"$PY" -c "import h5py; h5py.File('other.h5', 'w')['x'] = [1, 2]"
if "$ATTNSWEEP" status other.h5 2>err.txt; then fail "status accepted a foreign HDF5 file"; fi
grep -q "not attnsweep output" err.txt || { cat err.txt; fail "message for a foreign HDF5 file"; }
if "$ATTNSWEEP" status missing.h5 2>err.txt; then fail "status accepted a missing file"; fi
head -c 3000 a.h5 >truncated.h5
if "$ATTNSWEEP" status truncated.h5 2>err.txt; then fail "status accepted a truncated file"; fi

# A damaged trace of a done run: found by --verify, rerun by --resume, restored bit for bit.
cp a.h5 damaged.h5
"$PY" -c "
import h5py; f = h5py.File('damaged.h5', 'r+'); d = f['traces/test_acc']; d[0, 3] = d[0, 3] + 1"
if "$ATTNSWEEP" status damaged.h5 --verify >v.txt; then fail "status --verify missed a damaged trace"; fi
grep -q "verify: 1 done or diverged run with a trace that does not match" v.txt || { cat v.txt; fail "verify count"; }
mpirun_np 2 run "$SPEC" --out damaged.h5 --resume --progress 0 --set grid.seed=0 >r.log || { cat r.log; fail "resume"; }
grep -q "did not match its CRC" r.log || { cat r.log; fail "resume did not report the CRC mismatch"; }
compare a.h5 damaged.h5 || fail "the damaged run was not restored"
# A spec of 80 KB (mostly comments) plans and runs: the file keeps its text in /spec, which has no
# attribute's 64 KB limit.
{ cat "$SPEC"; for i in $(seq 420); do printf '# %0190d\n' "$i"; done; } > big.ini
[ "$(stat -c %s big.ini)" -gt 80000 ] || fail "big.ini is too small"
"$ATTNSWEEP" plan big.ini --no-calibrate --set grid.seed=0 > /dev/null || fail "plan of an 80 KB spec"
mpirun_np 2 run big.ini --out big.h5 --set grid.seed=0 --set grid.lr=0.5 --progress 0 > big.log \
  || { cat big.log; fail "run of an 80 KB spec"; }
"$PY" - big.h5 big.ini <<'PY'
import sys, h5py
spec = h5py.File(sys.argv[1])["spec"][()].decode()
assert spec.startswith(open(sys.argv[2]).read()), "the stored spec is not the file's text"
PY
echo "PASS: status, plan, statuses in the file, CRC check, an 80 KB spec"
