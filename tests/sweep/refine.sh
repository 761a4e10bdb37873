#!/usr/bin/env bash
# refine.sh PHASE_PLUGIN ATTNSWEEP WORKDIR MPIEXEC... — `attnsweep refine` on a known boundary: a
# test family whose runs "learn" (test_acc 1) iff inside a circle. From a coarse 8 × 8 grid,
# every proposed point lies within one coarse cell of the circle (a small budget takes the
# coarse crossing cells first); three rounds of refine → run --reuse (only the new points are
# trained), each with a budget that splits every crossing cell, halve the cells at the boundary
# and keep every proposal within one current cell of it; points, resume and status work on a
# refined spec. Then a 1-D threshold along a log-spaced key.
PLUGIN=$1
shift
source "$(dirname "$0")/lib.sh"
cat > r0.ini <<INI
[model]
model = plugin:$PLUGIN
[task]
cx = 3.6
cy = 4.1
r = 2.3
[train]
steps = 1
[grid]
x = linspace(0, 7, 8)
y = linspace(0, 7, 8)
seed = 0..1
INI
# every proposal within `cell` (a cell's diagonal) of the circle
near() {
  "$PY" - "$1" "$2" <<'PY'
import sys, re, math
spec, cell = open(sys.argv[1]).read(), float(sys.argv[2])
pts = [tuple(map(float, m.split(","))) for m in re.findall(r"^point = (.*)$", spec, re.M)]
new = int(re.search(r": (\d+) new points", spec).group(1))
assert new > 0, "no new points"
far = [(x, y) for x, y in pts[-new:] if abs(math.hypot(x - 3.6, y - 4.1) - 2.3) > cell]
assert not far, "%d of %d new points farther than %g from the circle: %s" % (len(far), new, cell, far[:5])
print("%d new points, all within %g of the circle" % (new, cell))
PY
}
mpirun_np 3 run r0.ini --out r0.h5 --progress 0 > r0.log || { cat r0.log; fail "round 0"; }
"$ATTNSWEEP" refine r0.h5 --x x --y y --metric test_acc --level 0.5 --budget 10 --out small.ini \
  > small.log || { cat small.log; fail "refine with a small budget"; }
grep -q "^refine: 10 new points" small.log || fail "the budget was not spent exactly"
near small.ini 1.415 || fail "a proposal is more than one coarse cell from the boundary"
cell=1.0
for k in 1 2 3; do
  prev=r$((k - 1))
  "$ATTNSWEEP" refine $prev.h5 --x x --y y --metric test_acc --level 0.5 --budget 400 --out r$k.ini \
    > refine$k.log || { cat refine$k.log; fail "refine round $k"; }
  cat refine$k.log
  near r$k.ini "$(echo "$cell * 1.415" | bc -l)" || fail "round $k: a proposal is off the boundary"
  mpirun_np 3 run r$k.ini --out r$k.h5 --progress 0 --reuse "$prev.h5" > run$k.log || { cat run$k.log; fail "run $k"; }
  new=$(sed -n 's/.*: \([0-9]*\) new points.*/\1/p' r$k.ini | head -1)
  grep -q "^attnsweep: $((2 * new)) runs to train" run$k.log || { cat run$k.log; fail "round $k trained more than its new points"; }
  cell=$(echo "$cell / 2" | bc -l)
done
"$ATTNSWEEP" status r3.h5 > /dev/null || fail "status of the refined sweep"
grep -q "product grid at the finest spacing would need" refine3.log || fail "no full-grid count"
# a refined spec resumes, and the hash covers its points
mpirun_np 2 run r3.ini --out r3.h5 --resume --progress 0 | grep -q "nothing to do" || fail "resume of a refined sweep"
sed 's/^\(point = 0, 0\)$/\1.5/' r3.ini > r3b.ini
! cmp -s r3.ini r3b.ini || fail "sed"
rc=0; mpirun_np 2 run r3b.ini --out r3.h5 --resume --progress 0 > h.log 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "different spec" h.log || { cat h.log; fail "a changed point was not refused"; }

# 1-D: a threshold at x = 10^2.2 along a log-spaced x (1 .. 10^4)
cat > t0.ini <<INI
[model]
model = plugin:$PLUGIN
[task]
log_x = true
cx = 6.2
r = 4
[train]
steps = 1
[grid]
x = logspace(1, 10000, 9)
INI
mpirun_np 2 run t0.ini --out t0.h5 --progress 0 > t0.log
"$ATTNSWEEP" refine t0.h5 --x x --metric test_acc --level 0.5 --budget 1 --out t1.ini > t1.log
cat t1.log
grep -q "(log x)" t1.log || fail "x spanning four decades is not refined in log spacing"
"$PY" - t1.ini <<'PY'
import sys, re, math
x = [float(v) for v in re.findall(r"^point = (.*)$", open(sys.argv[1]).read(), re.M)][-1]
assert abs(math.log10(x) - 2.25) < 1e-9, x   # the geometric midpoint of 10^2 and 10^2.5
PY
echo "PASS"
