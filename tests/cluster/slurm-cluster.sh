#!/usr/bin/env bash
# slurm-cluster.sh — a throwaway single-node SLURM cluster for the `slurm` tests: Debian's
# slurmctld + slurmd + munge, and slurmdbd on a private MariaDB (accounts, QOS, sacct), started
# by hand (no systemd, no cgroups), every path (config, state, spool, logs, database, pid files)
# under one directory BASE. Used by tests/cluster.cmake as a ctest fixture (up before the slurm
# tests, down after them, even when they fail). The PBS/Torque wrappers over SLURM (qsub, qstat)
# are installed too.
#
#   slurm-cluster.sh up   BASE   install missing packages (apt-get), write slurm.conf, start
#                                munged/mariadbd/slurmdbd/slurmctld/slurmd, create the account
#                                `ci-acct` and the QOS `ci-qos` (enforced: another account or QOS
#                                is refused), wait for the node to be idle
#   slurm-cluster.sh down BASE   cancel our jobs, stop our daemons (by their pid files), kill
#                                any process left from our jobs (found by our SLURM_CONF)
#   slurm-cluster.sh env  BASE   print `export SLURM_CONF=...` for clients
#
# Root only (SlurmUser=root). Exit 77 = cannot run here (not root / no apt) → ctest SKIP.
# Env: CPUS [12] (declared CPUs; SlurmdParameters=config_overrides lets the tests' jobs, 2-3
#      tasks each, run side by side on 2 cores), MEM_MB [1024] (the node's RealMemory: what --mem
#      may ask for; memory is not a consumable here), CRED_EXPIRE [15 s] (AuthInfo cred_expire:
#      how long a requeued job is held, 120 s by default), SCHED_INTERVAL [5 s] (the schedulers'
#      passes: how soon a requeued job starts after its hold; 60/30 s by default),
#      START_TIMEOUT [60 s],
#      CTLD_PORT/SLURMD_PORT/DBD_PORT/DB_PORT [20000-27999, from BASE], INSTALL [1].
set -euo pipefail

cmd=${1:-}; BASE=${2:-}
[ -n "$cmd" ] && [ -n "$BASE" ] || { echo "usage: $0 up|down|env BASE" >&2; exit 2; }
BASE=$(mkdir -p "$BASE" && cd "$BASE" && pwd)
CPUS=${CPUS:-12}; MEM_MB=${MEM_MB:-1024}; CRED_EXPIRE=${CRED_EXPIRE:-15}; SCHED_INTERVAL=${SCHED_INTERVAL:-5}
START_TIMEOUT=${START_TIMEOUT:-60}; INSTALL=${INSTALL:-1}
# ports from BASE: clusters of different build dirs on one machine do not collide (below the
# ephemeral range, which starts at 32768)
h=$(( 16#$(printf %s "$BASE" | md5sum | cut -c1-4) % 2000 ))
CTLD_PORT=${CTLD_PORT:-$((20000 + 2 * h))}; SLURMD_PORT=${SLURMD_PORT:-$((20001 + 2 * h))}
DBD_PORT=${DBD_PORT:-$((24000 + 2 * h))}; DB_PORT=${DB_PORT:-$((24001 + 2 * h))}
ETC=$BASE/etc; RUN=$BASE/run; LOG=$BASE/log; MUNGE=$BASE/munge; DB=$BASE/db
# munge's and MariaDB's socket paths must stay short (108-byte sun_path): a per-BASE dir in /tmp
MSOCKDIR=/tmp/attnsweep-munge-$(printf %s "$BASE" | md5sum | cut -c1-10)
MUNGE_SOCK=$MSOCKDIR/munge.socket; DB_SOCK=$MSOCKDIR/mysqld.sock
export SLURM_CONF=$ETC/slurm.conf
unset SLURM_JOB_ID SLURM_JOBID

log() { printf '[slurm-cluster %s] %s\n' "$(date +%T)" "$*"; }
die() { log "FATAL: $*"; exit 1; }
# skip: cannot run here (exit 77, ctest SKIP); the marker tells the tests of the fixture to skip too
skip() { log "skip: $*"; echo "$*" > "$BASE/skipped"; exit 77; }

stop_pidfile() {   # stop_pidfile FILE GRACE_S COMM: TERM, bounded wait, KILL — only our own pid
  local f=$1 g=$2 c=$3 p i
  [ -s "$f" ] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$c" ]; then
    kill -TERM "$p" 2>/dev/null || true
    for ((i = 0; i < g * 4; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$p" 2>/dev/null && { log "pid $p ($c) ignored SIGTERM, SIGKILL"; kill -KILL "$p" 2>/dev/null || true; }
  fi
  rm -f "$f"
}

our_job_pids() {   # processes of our cluster's jobs: environment has SLURM_JOB_ID and our SLURM_CONF
  local d p env
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
    env=$( { tr '\0' '\n' < "$d/environ"; } 2>/dev/null) || continue
    grep -qxF "SLURM_CONF=$SLURM_CONF" <<<"$env" && grep -q '^SLURM_JOB_ID=' <<<"$env" && echo "$p"
  done
  return 0
}

down() {
  set +e
  if [ -s "$RUN/slurmctld.pid" ] && kill -0 "$(cat "$RUN/slurmctld.pid")" 2>/dev/null; then
    local jobs; jobs=$(squeue -h -o %i 2>/dev/null)
    if [ -n "$jobs" ]; then
      log "cancelling jobs: $(echo $jobs)"
      scancel $jobs 2>/dev/null
      for _ in $(seq 60); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.5; done
    fi
    scontrol shutdown >/dev/null 2>&1
  fi
  stop_pidfile "$RUN/slurmd.pid" 15 slurmd
  stop_pidfile "$RUN/slurmctld.pid" 15 slurmctld
  stop_pidfile "$RUN/slurmdbd.pid" 15 slurmdbd
  stop_pidfile "$RUN/mariadbd.pid" 30 mariadbd
  stop_pidfile "$RUN/munged.pid" 10 munged
  local left; left=$(our_job_pids)
  if [ -n "$left" ]; then
    log "killing leftovers of our jobs: $(echo $left)"
    kill -KILL $left 2>/dev/null
  fi
  rm -rf "$MSOCKDIR"
  log "down"
  return 0
}

install_packages() {
  local need="" p made_policy=0
  for p in slurmctld slurmd slurm-client munge slurmdbd mariadb-server-core mariadb-client-core \
           slurm-wlm-torque; do   # "rc" (removed, config left) counts as missing
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need="$need $p"
  done
  [ -z "$need" ] && return 0
  command -v apt-get >/dev/null || skip "missing$need and no apt-get"
  log "installing$need"
  # keep the packages' init scripts from starting daemons with /etc defaults
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends $need >/dev/null; } || rc=$?
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || die "apt-get install$need failed ($rc)"
  log "install done"
}

wait_for() {  # wait_for TIMEOUT_S WHAT CMD...
  local t=$1 d=$2; shift 2; local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timeout (${t}s) waiting for $d"
    sleep 0.25
  done
}

# The accounting database: a private MariaDB (socket under MSOCKDIR, port DB_PORT on 127.0.0.1),
# slurmdbd on DBD_PORT. The account ci-acct and the QOS ci-qos exist; with
# AccountingStorageEnforce=associations,qos a job asking for any other is refused at submission.
start_accounting() {
  mkdir -p "$DB/data"
  mariadb-install-db --no-defaults --user=root --datadir="$DB/data" --skip-test-db \
      --auth-root-authentication-method=socket > "$LOG/mariadb-install.log" 2>&1 ||
    { tail -20 "$LOG/mariadb-install.log"; die "mariadb-install-db failed"; }
  mariadbd --no-defaults --user=root --datadir="$DB/data" --socket="$DB_SOCK" --port="$DB_PORT" \
      --bind-address=127.0.0.1 --pid-file="$RUN/mariadbd.pid" --log-error="$LOG/mariadbd.err" \
      --innodb-buffer-pool-size=32M --skip-log-bin </dev/null >/dev/null 2>&1 &
  wait_for 60 mariadbd mariadb --socket="$DB_SOCK" -u root -e 'select 1'
  mariadb --socket="$DB_SOCK" -u root -e "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'ci';
      GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;" ||
    die "cannot create the database user"
  cat > "$ETC/slurmdbd.conf" <<EOF
# written by tests/cluster/slurm-cluster.sh
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=ci
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$ETC/slurmdbd.conf"
  slurmdbd                                  # reads slurmdbd.conf next to $SLURM_CONF
  wait_for 60 slurmdbd sacctmgr -n list cluster
  # before slurmctld starts, so that it loads them: cluster, QOS, account, root's associations
  { sacctmgr -i add cluster attnsweep-ci && sacctmgr -i add qos ci-qos &&
    sacctmgr -i add account ci-acct cluster=attnsweep-ci description=ci organization=ci &&
    sacctmgr -i add user root account=ci-acct cluster=attnsweep-ci &&
    sacctmgr -i modify user root set qos=normal,ci-qos; } > "$LOG/sacctmgr.log" 2>&1 ||
    { cat "$LOG/sacctmgr.log"; die "sacctmgr could not create the account and QOS"; }
}

up() {
  rm -f "$BASE/skipped"
  [ "$(id -u)" = 0 ] || skip "not root: the test cluster runs its daemons as root"
  [ "$INSTALL" = 1 ] && install_packages
  for c in munged slurmctld slurmd sbatch slurmdbd mariadbd mariadb-install-db qsub; do
    command -v $c >/dev/null || skip "no $c"
  done
  down >/dev/null                     # leftovers of an earlier run in the same BASE
  rm -rf "$ETC" "$RUN" "$LOG" "$MUNGE" "$DB" "$BASE/state" "$BASE/spool" "$BASE/tmp"
  mkdir -p "$ETC" "$RUN" "$LOG" "$BASE/state" "$BASE/spool" "$BASE/tmp" "$MUNGE" "$MSOCKDIR"
  chmod 755 "$BASE" "$MSOCKDIR"; chmod 700 "$MUNGE"     # munged: socket dir o+x, no g/o write
  trap 'rc=$?; [ $rc = 0 ] || { log "start failed, tearing down"; tail -5 "$LOG"/*.log 2>/dev/null; down; }; exit $rc' EXIT
  dd if=/dev/urandom of="$MUNGE/munge.key" bs=1024 count=1 status=none
  chmod 400 "$MUNGE/munge.key"
  local host; host=$(hostname -s)
  cat > "$SLURM_CONF" <<EOF
# written by tests/cluster/slurm-cluster.sh: single node, root, every path under $BASE
ClusterName=attnsweep-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK,cred_expire=$CRED_EXPIRE
CredType=cred/munge
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
TmpFS=$BASE/tmp
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=$SCHED_INTERVAL,bf_interval=$SCHED_INTERVAL
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
DependencyParameters=kill_invalid_depend
MailProg=/bin/true
KillWait=30
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
# the munge socket for slurmctld/sacct -> slurmdbd (AuthInfo is not used for that connection)
AccountingStoragePass=$MUNGE_SOCK
AccountingStorageEnforce=associations,qos
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.txt
NodeName=$host NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  log "starting munged, mariadbd, slurmdbd, slurmctld, slurmd (BASE=$BASE)"
  munged --key-file="$MUNGE/munge.key" --socket="$MUNGE_SOCK" --pid-file="$RUN/munged.pid" \
         --log-file="$LOG/munged.log" --seed-file="$MUNGE/munged.seed"
  wait_for 10 munge bash -c "munge -S '$MUNGE_SOCK' -n | unmunge -S '$MUNGE_SOCK'"
  start_accounting
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF" -N "$host"
  wait_for "$START_TIMEOUT" "node $host idle" bash -c "[ \"\$(sinfo -h -n '$host' -o %T)\" = idle ]"
  log "up: $(sinfo -h -o '%P %a %D %T %c-cpus %m-MB %N'); associations (account qos):" \
      "$(sacctmgr -n -P list assoc user=root format=account,qos | tr '|\n' ' ;')"
}

case $cmd in
  up) up ;;
  down) down ;;
  env) echo "export SLURM_CONF=$SLURM_CONF" ;;
  *) echo "usage: $0 up|down|env BASE" >&2; exit 2 ;;
esac
