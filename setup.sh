#!/usr/bin/env bash
# setup.sh — install attnsweep's Debian packages, build it, and (with --demo) run the demo sweep.
#   ./setup.sh           apt-get install (as root or via sudo) + configure + build into build/
#   ./setup.sh --demo    the same, then `mpirun -np <cores+1> attnsweep run examples/demo.ini`, its
#                        status, and the analysis report of the result (demo.h5, demo-report/)
#   ./setup.sh --prefix P   the same as ./setup.sh, then `cmake --install build --prefix P`
set -euo pipefail
cd "$(dirname "$0")"

# iproute2: the multi-host test's network namespaces (the SLURM test installs SLURM itself).
PKGS="build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
      libopenblas-dev libcriterion-dev libinih-dev zlib1g-dev python3-h5py python3-numpy
      python3-matplotlib python3-pytest python3-pandas python3-xarray python3-h5netcdf iproute2"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"

if [ "${1:-}" = "--prefix" ]; then
  [ -n "${2:-}" ] || { echo "setup: --prefix needs a directory" >&2; exit 2; }
  cmake --install build --prefix "$2" >/dev/null
  echo "setup: installed into $2; add it to PATH with: export PATH=$2/bin:\$PATH"
fi

if [ "${1:-}" = "--demo" ]; then
  # Open MPI refuses root unless told; ROMIO avoids OMPIO's collective-write hangs (README).
  [ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  rm -f demo.h5
  # Rank 0 coordinates and the others train: one rank more than cores keeps every core busy.
  mpirun -np $(( $(nproc) + 1 )) --oversubscribe --mca io romio321 \
    build/attnsweep run examples/demo.ini --out demo.h5
  build/attnsweep status demo.h5
  /usr/bin/python3 -m analysis report demo.h5 --out demo-report/
  echo "setup: demo sweep in demo.h5, report in demo-report/report.md"
fi
