#!/usr/bin/env bash
# refuse.sh — --resume with a different spec (or different --set) is refused with a clear
# message and leaves the file byte-for-byte untouched; a fresh run never clobbers a file.
source "$(dirname "$0")/lib.sh"
SPEC=$HERE/tiny.ini
mpirun_np 2 run "$SPEC" --out a.h5 --progress 0 --set grid.seed=0 >/dev/null
before=$(md5sum <a.h5)
for change in "--set grid.seed=0..1" "--set train.steps=301"; do
  if mpirun_np 2 run "$SPEC" --out a.h5 --resume $change >out.log 2>&1; then
    cat out.log; fail "resume with '$change' was accepted"
  fi
  grep -q "different spec" out.log || { cat out.log; fail "no clear message for '$change'"; }
  grep -q "add --reuse a.h5: its finished runs are copied" out.log || { cat out.log; fail "the message does not name --reuse"; }
  [ "$(md5sum <a.h5)" = "$before" ] || fail "the file changed after a refused resume ('$change')"
done
cp "$SPEC" changed.ini && echo "# a comment changes the spec text" >>changed.ini
if mpirun_np 2 run changed.ini --out a.h5 --resume --set grid.seed=0 >out.log 2>&1; then
  fail "resume with an edited spec file was accepted"
fi
[ "$(md5sum <a.h5)" = "$before" ] || fail "the file changed after a refused resume (edited spec)"
# Without --resume an existing file is never overwritten.
if "$ATTNSWEEP" run "$SPEC" --out a.h5 --set grid.seed=0 >out.log 2>&1; then fail "existing file overwritten"; fi
grep -q "already exists" out.log || { cat out.log; fail "no clear message for an existing file"; }
[ "$(md5sum <a.h5)" = "$before" ] || fail "the file changed after a refused fresh run"
# The right spec resumes: 4 done and 4 diverged runs stay (nothing to do); --rerun-diverged
# reruns the diverged ones, to the same bytes.
cp a.h5 orig.h5
mpirun_np 2 run "$SPEC" --out a.h5 --resume --set grid.seed=0 --progress 0 >out.log || { cat out.log; fail "resume"; }
grep -q "resuming a.h5: 4 of 8 runs done, 4 diverged kept .*, 0 to run" out.log || { cat out.log; fail "resume of a finished sweep"; }
mpirun_np 2 run "$SPEC" --out a.h5 --resume --rerun-diverged --set grid.seed=0 --progress 0 >out.log || { cat out.log; fail "resume"; }
grep -q "resuming a.h5: 4 of 8 runs done, 4 to run" out.log || { cat out.log; fail "--rerun-diverged"; }
compare orig.h5 a.h5 || fail "rerun diverged runs changed"
"$PY" -c "
import h5py; f = h5py.File('a.h5'); a, s = f['runs/attempts'][()], f['runs/status'][()]
assert (a[s == 3] == 2).all() and (a[s == 1] == 1).all(), (a, s)" || fail "attempts after --rerun-diverged"
echo "PASS: changed spec refused, file untouched"
