#!/usr/bin/env bash
# create_kill.sh ATTNSWEEP WORKDIR MPIEXEC... — a sweep killed while it creates its file can be
# resumed. A 100,000-run grid (a ~90 MB file whose creation takes seconds) is killed with -9 at
# many moments of its start-up and creation — mpirun, rank 0, a worker rank — and each time the
# results file is either absent (its creation is interrupted: only FILE.partial remains, which
# `status` explains) or complete; then `run --resume` starts (replacing any .partial) and a stop
# request leaves a valid file. An --overwrite killed mid-creation leaves the old file intact.
source "$(dirname "$0")/lib.sh"
cat > big.ini <<'INI'
[model]
model = lu2021
embed_dim = 4
[task]
vocab_size = 30
words_per_sentence = 5
n_sentences = 40
valid_frac = 0.1
[train]
steps = 0
[grid]
lr = 0.1, 0.2
seed = 0..49999
INI
# pid of the attnsweep of MPI rank $2 among the children of mpirun $1 (empty if none yet)
rank_pid() {
  local p
  for p in $(pgrep -P "$1" -f "attnsweep run" 2>/dev/null); do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && { echo "$p"; return; }
  done
}
# the file is either absent (a .partial may be there) or a complete, readable results file
check_state() {
  local rc=0
  "$ATTNSWEEP" status k.h5 > st.txt 2> st.err || rc=$?
  if [ -e k.h5 ]; then
    [ "$rc" = 3 ] || { cat st.txt st.err; fail "$1: k.h5 exists but status exited $rc"; }
    grep -q "runs: 100000 total" st.txt || fail "$1: k.h5 is not the complete layout"
  else
    [ "$rc" = 1 ] || fail "$1: status of a missing file exited $rc"
    if [ -e k.h5.partial ]; then
      grep -q "k.h5.partial is a file whose creation was interrupted; run the sweep again" st.err \
        || { cat st.err; fail "$1: status does not explain the leftover .partial"; }
    fi
  fi
}
# --resume must start and, stopped once it runs (SIGUSR1, forwarded by mpirun as a batch system
# would), leave a valid file (exit 3)
resume_ok() {
  "${MPI[@]}" -np 3 "$ATTNSWEEP" run big.ini --out k.h5 --resume --progress 0 > r.log 2>&1 &
  local p=$!
  for _ in $(seq 600); do
    grep -q "runs to train" r.log && break
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "runs to train" r.log || { cat r.log; fail "$1: --resume did not start"; }
  kill -USR1 "$p"
  local rc=0
  wait "$p" || rc=$?
  [ "$rc" = 3 ] || { cat r.log; fail "$1: the resumed sweep, stopped, exited $rc (expected 3)"; }
  [ ! -e k.h5.partial ] || fail "$1: a .partial survived a successful creation"
  "$ATTNSWEEP" status k.h5 > /dev/null || [ $? = 3 ] || fail "$1: the resumed file is not valid"
}
# wait (≤ 120 s) until FILE appears while mpirun $2 runs; 1 if mpirun ended first
wait_for() {
  for _ in $(seq 2400); do
    [ -e "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# moments: during start-up; as the .partial appears; inside its creation; as the file gets its
# name; while it runs. Victims rotate over mpirun, rank 0 and a worker.
n=0
victims=(mpirun rank0 rank2)
for moment in startup partial partial+0.3 partial+0.8 named named+0.5; do
  for k in 0; do
    victim=${victims[$(( (n + k) % 3 ))]}
    rm -f k.h5 k.h5.partial k.h5.lock
    "${MPI[@]}" -np 3 "$ATTNSWEEP" run big.ini --out k.h5 --progress 0 > k.log 2>&1 &
    m=$!
    case $moment in
      startup) sleep 0.3 ;;
      partial*) wait_for k.h5.partial "$m" || fail "no .partial appeared" ;;&
      named*) wait_for k.h5 "$m" || fail "k.h5 never appeared" ;;&
      *+*) sleep "${moment#*+}" ;;
    esac
    case $victim in
      mpirun) kill -9 "$m" ;;
      rank0) p=$(rank_pid "$m" 0); [ -n "$p" ] && kill -9 "$p" || kill -9 "$m" ;;
      rank2) p=$(rank_pid "$m" 2); [ -n "$p" ] && kill -9 "$p" || kill -9 "$m" ;;
    esac
    wait "$m" 2>/dev/null || true
    sleep 0.5
    state="absent"; [ -e k.h5 ] && state="complete"; [ -e k.h5.partial ] && state="$state+partial"
    echo "kill -9 $victim at $moment: $state"
    check_state "$victim@$moment"
    resume_ok "$victim@$moment"
    n=$((n + 1))
  done
done
# --overwrite of a complete file, killed while it creates the new one: the old file survives
mpirun_np 2 run "$HERE/tiny.ini" --out k.h5 --overwrite --progress 0 > small.log
before=$(md5sum < k.h5)
"${MPI[@]}" -np 3 "$ATTNSWEEP" run big.ini --out k.h5 --overwrite --progress 0 > o.log 2>&1 &
m=$!
for _ in $(seq 300); do [ -e k.h5.partial ] && break; sleep 0.05; done
[ -e k.h5.partial ] || fail "the --overwrite never started creating"
kill -9 "$m"; wait "$m" 2>/dev/null || true; sleep 0.5
[ "$(md5sum < k.h5)" = "$before" ] || fail "an interrupted --overwrite damaged the old file"
echo "PASS: $n kills during start-up and creation, each resumed"
