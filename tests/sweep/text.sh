#!/usr/bin/env bash
# text.sh ATTNSWEEP WORKDIR MPIEXEC... — lu2021 on labelled sentences (data_file) under MPI: a
# sweep over two data files (split files given as NAME.train, one file split by the fractions)
# on 3 ranks, paths taken from the spec's folder; the root attribute data_files holds every
# file's SHA-256, /runs/data_file the paths; 1 rank gives the same bits. After one file changes,
# --resume is refused naming it (the results file untouched), and --reuse copies only the runs
# on the unchanged file (the result equals a from-scratch sweep). A bad line is a one-line error
# naming file:line before anything trains.
source "$(dirname "$0")/lib.sh"
mkdir -p data specs
# class 1 sentences hold "good"/"great", class 0 "bad"/"awful", among filler words
"$PY" - <<'PY'
import random
r = random.Random(5)
def lines(n):
    out = []
    for _ in range(n):
        y = r.randrange(2)
        w = ["w%d" % r.randrange(30) for _ in range(r.randrange(2, 12))]
        w.insert(r.randrange(len(w) + 1), r.choice([["bad", "awful"], ["good", "great"]][y]))
        out.append("%d%s%s ." % (y, r.choice([" ", "\t"]), " ".join(w)))
    return "\n".join(out) + "\n"
for name, n in (("s.train", 60), ("s.dev", 15), ("s.test", 15), ("one.tsv", 120)):
    open("data/" + name, "w").write(lines(n))
PY
cat > specs/text.ini <<'EOF'
[model]
model = lu2021
embed_dim = 8
[task]
topics = 2
[train]
steps = 100
log_every = 20
[grid]
data_file = ../data/s.train, ../data/one.tsv
lr = 0.2, 0.5
seed = 0..1
EOF
mpirun_np 3 run specs/text.ini --out a.h5 --progress 0 > a.log || { cat a.log; fail "the sweep"; }
grep -q "8 runs to train" a.log || { cat a.log; fail "8 runs"; }
"$PY" - "$WORK" <<'PY' || fail "data_files / data_file"
import hashlib, os, sys, h5py
work = sys.argv[1]
f = h5py.File("a.h5", "r")
want = "".join("%s  %s\n" % (hashlib.sha256(open(os.path.join(work, "data", n), "rb").read()).hexdigest(),
                             os.path.join(work, "data", n))
               for n in ("s.train", "s.dev", "s.test", "one.tsv"))
got = f.attrs["data_files"]
got = got.decode() if isinstance(got, bytes) else got
assert got == want, (got, want)
paths = [x.decode() for x in f["runs/data_file"][()]]
assert paths == [os.path.join(work, "data", "s.train")] * 4 + [os.path.join(work, "data", "one.tsv")] * 4, paths
assert (f["runs/status"][()] == 1).all()
assert f["traces/train_acc"][:, -1].min() > 0.7, f["traces/train_acc"][:, -1]
PY
"$ATTNSWEEP" plan specs/text.ini --list | grep -q "$WORK/data/one.tsv" || fail "plan --list shows no path"
# the SST example with the authors' settings, on this corpus: a valid spec that trains
EX=$HERE/../../examples/lu2021-sst.ini
"$ATTNSWEEP" plan "$EX" --no-calibrate --set task.data_file=data/s.train > ex.log 2>&1 \
  && grep -q "^runs: 6 = 2 points" ex.log || { cat ex.log; fail "examples/lu2021-sst.ini"; }
"$ATTNSWEEP" train "$EX" --run 3 --set task.data_file=data/s.train --set train.steps=20 > ex.csv 2>&1 \
  || { cat ex.csv; fail "a run of examples/lu2021-sst.ini"; }
mpirun_np 1 run specs/text.ini --out one.h5 --progress 0 > one.log || { cat one.log; fail "1 rank"; }
compare a.h5 one.h5 || fail "3 ranks and 1 rank differ"

# the dev file changes: --resume is refused naming it, the file stays as it was
echo "1 a new good line" >> data/s.dev
before=$(md5sum < a.h5)
rc=0; mpirun_np 3 run specs/text.ini --out a.h5 --resume --progress 0 > r.log 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat r.log; fail "--resume after a data change exited $rc"; }
grep -q "cannot resume a.h5: the data file $WORK/data/s.dev changed since its sweep started" r.log \
  || { cat r.log; fail "the refusal does not name the changed file"; }
[ "$(grep -c '^attnsweep' r.log)" = 1 ] || { cat r.log; fail "not one line"; }
[ "$(md5sum < a.h5)" = "$before" ] || fail "a refused resume changed the file"
# --reuse: the runs on the changed data are trained again, the others copied
mpirun_np 3 run specs/text.ini --out b.h5 --reuse a.h5 --progress 0 > b.log || { cat b.log; fail "reuse"; }
grep -q "reused 4 runs from a.h5" b.log || { cat b.log; fail "reuse of the unchanged file's runs"; }
grep -q "trained on other content of that data" b.log || { cat b.log; fail "no note on the changed data"; }
mpirun_np 2 run specs/text.ini --out c.h5 --progress 0 > c.log || { cat c.log; fail "from scratch"; }
compare c.h5 b.h5 || fail "the reused file differs from a sweep of the changed data"

# a bad line: one line naming file:line, nothing trained, no results file
printf '1 fine\nx not a label\n' > data/bad.tsv
rc=0; mpirun_np 3 run specs/text.ini --out bad.h5 --set 'grid.data_file=data/bad.tsv' > bad.log 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat bad.log; fail "a bad data file exited $rc"; }
grep -q "data_file: $WORK/data/bad.tsv:2: expected the label" bad.log || { cat bad.log; fail "message"; }
[ "$(grep -c '^attnsweep' bad.log)" = 1 ] || { cat bad.log; fail "not one line"; }
[ ! -e bad.h5 ] || fail "a results file was made"
echo "PASS"
