#!/usr/bin/env bash
# netns-cluster.sh — emulate a small multi-host Open MPI cluster on one machine for the
# `multihost` tests: one network namespace per host (plus `nodehead`, where mpirun runs) on a
# bridge in a private switch namespace, veth pairs created directly between namespaces (nothing in
# the root namespace), a 10.77.0.0/24 subnet that exists only inside them. mpirun reaches the
# other hosts through an rsh agent that maps a host name to `ip netns exec` + its own UTS
# namespace (own hostname, else Open MPI's shared-memory segments collide) + private /etc/hosts.
#
#   netns-cluster.sh up   DIR [NHOSTS=2]   create hosts nodeA, nodeB, ...; writes into DIR:
#                          nsexec (run a command "on" a host), nsrsh (mpirun's plm_rsh_agent),
#                          hostmap, mca (mpirun options for this cluster), namespaces (ours)
#   netns-cluster.sh down DIR              kill every process in our namespaces, delete them
#   netns-cluster.sh pids DIR HOST [COMM]  pids running on HOST (optionally only command COMM)
#
# Root only; exit 77 = cannot run here (not root / no ip netns) → ctest SKIP.
set -uo pipefail
cmd=${1:-}; DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || { echo "usage: $0 up|down|pids DIR ..." >&2; exit 2; }
mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd)
SUBNET=10.77.0
P=as$(printf %s "$DIR" | md5sum | cut -c1-6)          # namespace prefix, fixed per DIR
SHM=/dev/shm/attnsweep-$P
log() { printf '[netns-cluster %s] %s\n' "$(date +%T)" "$*"; }
die() { log "FATAL: $*"; exit 1; }

down() {
  local ns p
  [ -s "$DIR/namespaces" ] || { rm -rf "$SHM"; return 0; }
  while read -r ns; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done < "$DIR/namespaces"
  sleep 0.3
  while read -r ns; do ip netns del "$ns" 2>/dev/null; done < "$DIR/namespaces"
  rm -f "$DIR/namespaces"; rm -rf "$SHM"
  log "down"
}

up() {
  local n=${1:-2} i h ns addr
  [ "$(id -u)" = 0 ] || { log "not root: network namespaces need CAP_SYS_ADMIN"; exit 77; }
  for c in ip unshare mount mpirun; do command -v $c >/dev/null || { log "no $c"; exit 77; }; done
  [ "$n" -ge 1 ] && [ "$n" -le 9 ] || die "NHOSTS must be 1..9"
  down >/dev/null
  ip netns add "${P}probe" 2>/dev/null || { log "cannot create network namespaces here"; exit 77; }
  # what nsexec needs: a UTS namespace with its own hostname and private bind mounts
  ip netns exec "${P}probe" unshare --uts /bin/sh -c 'hostname probe && mount --bind /etc/hosts /etc/hosts' \
      >/dev/null 2>&1 || { ip netns del "${P}probe"; log "no UTS namespaces / bind mounts here"; exit 77; }
  ip netns del "${P}probe"
  # shellcheck disable=SC2154  # rc is assigned inside the trap
  trap 'rc=$?; [ $rc = 0 ] || { log "setup failed, tearing down"; down; }; exit $rc' EXIT
  : > "$DIR/namespaces"; : > "$DIR/hostmap"
  mkns() { ip netns add "$1" && echo "$1" >> "$DIR/namespaces"; }
  mkns "${P}sw" || die "ip netns add ${P}sw"
  ip -n "${P}sw" link set lo up
  { ip -n "${P}sw" link add br0 type bridge && ip -n "${P}sw" link set br0 up; } || die "bridge"
  local hosts=(head); for i in $(seq 1 "$n"); do hosts+=("$(printf "\\x$(printf %x $((64 + i)))")"); done
  for i in "${!hosts[@]}"; do
    h=${hosts[$i]}; ns=$P$h
    [ "$i" = 0 ] && addr=$SUBNET.1 || addr=$SUBNET.$((10 + i))
    mkns "$ns" || die "ip netns add $ns"
    ip -n "${P}sw" link add "p$h" type veth peer name eth0 netns "$ns" || die "veth $h"
    ip -n "${P}sw" link set "p$h" master br0 && ip -n "${P}sw" link set "p$h" up
    ip -n "$ns" link set lo up
    { ip -n "$ns" addr add "$addr/24" dev eth0 && ip -n "$ns" link set eth0 up; } || die "address $h"
    echo "node$h $addr $ns" >> "$DIR/hostmap"
  done
  awk '{print $2, $1} END {print "127.0.0.1 localhost"}' "$DIR/hostmap" > "$DIR/etc_hosts"
  echo "nameserver 127.0.0.1" > "$DIR/etc_resolv.conf"     # stray DNS stays on the ns loopback
  cat > "$DIR/nsexec" <<'EOF'
#!/bin/bash
# nsexec HOST CMD ARGS...: run CMD "on" HOST (its netns, own UTS ns named HOST, private
# /etc/hosts and /etc/resolv.conf bind mounts; ip netns exec gives a private mount ns)
D=$(dirname "$(readlink -f "$0")")
host=$1; shift
read -r hname hip ns < <(awk -v h="$host" '$1==h || $2==h {print; exit}' "$D/hostmap")
[ -n "${ns:-}" ] || { echo "nsexec: unknown host '$host'" >&2; exit 255; }
exec ip netns exec "$ns" unshare --uts /bin/sh -c '
  hostname "$1" && mount --bind "$2/etc_hosts" /etc/hosts && mount --bind "$2/etc_resolv.conf" /etc/resolv.conf || exit 255
  shift 2; exec "$@"' nsexec "$hname" "$D" "$@"
EOF
  cat > "$DIR/nsrsh" <<'EOF'
#!/bin/bash
# nsrsh [-opts] HOST CMDLINE...: the "ssh" mpirun uses (plm_rsh_agent) to start orted on HOST
D=$(dirname "$(readlink -f "$0")")
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
host=$1; shift
exec "$D/nsexec" "$host" /bin/sh -c "$*"
EOF
  chmod +x "$DIR/nsexec" "$DIR/nsrsh"
  mkdir -p "$DIR/tmp" "$SHM"
  # mpirun options for this cluster: TCP between hosts on our subnet only, dead-peer detection
  # (a cut link otherwise hangs), session dirs and shared-memory files in our own directories.
  cat > "$DIR/mca" <<EOF
--mca plm_rsh_agent $DIR/nsrsh
--mca btl tcp,self,vader --mca btl_tcp_if_include $SUBNET.0/24 --mca oob_tcp_if_include $SUBNET.0/24
--mca oob_tcp_keepalive_time 5 --mca oob_tcp_keepalive_intvl 2 --mca oob_tcp_keepalive_probes 3
--mca orte_tmpdir_base $DIR/tmp --mca btl_vader_backing_directory $SHM
EOF
  trap - EXIT
  log "up: $(awk '{printf "%s=%s ", $1, $2}' "$DIR/hostmap")"
}

pids() {   # pids HOST [COMM]
  local ns c p
  ns=$(awk -v h="$1" '$1==h {print $3}' "$DIR/hostmap")
  [ -n "$ns" ] || die "unknown host $1"
  for p in $(ip netns pids "$ns" 2>/dev/null); do
    c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    [ -z "${2:-}" ] || [ "$c" = "$2" ] && echo "$p"
  done
  return 0
}

case $cmd in
  up) up "${3:-2}" ;;
  down) down ;;
  pids) pids "${3:?host}" "${4:-}" ;;
  *) echo "usage: $0 up|down|pids DIR ..." >&2; exit 2 ;;
esac
