#!/bin/sh
# ubsan.sh — a one-off proof run: builds the library and the Criterion unit tests with
# -fsanitize=undefined (plus float-cast-overflow, which GCC leaves out of it) and
# -fno-sanitize-recover=all in a separate build tree, then runs them; the first undefined
# behaviour aborts the test that hit it, so a clean pass means none was reached.
#   tests/ubsan.sh                      the spec parser's tests (test_param, test_spec, test_grid)
#   tests/ubsan.sh 'test_.*'            any ctest -R regex, e.g. every unit test
# Build tree: build-ubsan/ next to this checkout's sources (override with UBSAN_BUILD_DIR).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${UBSAN_BUILD_DIR:-$src/build-ubsan}
tests=${1:-'^test_(param|spec|grid)$'}
flags="-fsanitize=undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=undefined,float-cast-overflow" >/dev/null
targets=$(ctest --test-dir "$build" -N -R "$tests" | sed -n 's/^ *Test *#[0-9]*: //p')
[ -n "$targets" ] || { echo "ubsan.sh: no unit test matches '$tests'" >&2; exit 1; }
for t in $targets; do cmake --build "$build" -j2 --target "$t"; done
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OPENBLAS_NUM_THREADS=1 \
    ctest --test-dir "$build" -R "$tests" -L unit --output-on-failure
