#!/bin/sh
# Start-up cost of the datasan binary: callgrind instruction counts (exact, load-independent) of
# three short commands, the binary's size, and the shared libraries it loads.
#   bench/startup.sh [BINARY]     (default .build/release/datasan; build it with `make release`)
# DATASAN_SUPERVISE=0: the command runs in this process (otherwise scan re-executes the binary as
# a supervised child and callgrind would count the parent only). Set WALL=1 to add hyperfine's
# wall-clock means (noisy on a loaded machine).
set -eu
BIN=${1:-.build/release/datasan}
FIXTURE=${FIXTURE:-Fixtures/csv/dirty.csv}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# valgrind 3.19 cannot read the DWARF 5 of Swift 6's debug info: count a stripped copy (the same code).
strip -o "$tmp/datasan" "$BIN"
count() {  # count NAME ARGS...: total instructions (Ir) of one run
  name=$(echo "$1" | tr -c 'a-z0-9\n' _); label=$1; shift
  DATASAN_SUPERVISE=0 valgrind --tool=callgrind --callgrind-out-file="$tmp/$name.out" "$tmp/datasan" "$@" >/dev/null 2>"$tmp/$name.err" || true
  ir=$(grep -m1 '^summary:' "$tmp/$name.out" | awk '{print $2}')
  printf '%-22s %8.2f M instructions\n' "$label" "$(echo "$ir / 1000000" | bc -l)"
}
count "scan $(basename "$FIXTURE")" scan "$FIXTURE"
count "--version" --version
count "scan --help" scan --help
printf '%-22s %8.1f MB (%.1f MB stripped)\n' "binary size" "$(echo "$(stat -c %s "$BIN") / 1000000" | bc -l)" \
  "$(echo "$(stat -c %s "$tmp/datasan") / 1000000" | bc -l)"
echo "shared libraries: $(ldd "$BIN" | awk '{print $1}' | sed 's/\.so.*//' | tr '\n' ' ')"
if [ "${WALL:-0}" = 1 ] && command -v hyperfine >/dev/null; then
  DATASAN_SUPERVISE=0 hyperfine -N -w 5 -r 50 --style basic "$BIN scan $FIXTURE" "$BIN --version" "$BIN scan --help" 2>&1 \
    | grep -E 'Benchmark|Time'
fi
