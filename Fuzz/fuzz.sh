#!/bin/sh
# Builds the libFuzzer binary (Fuzz/README.md) and runs fuzz targets.
#
#   Fuzz/fuzz.sh build                      builds .build-fuzz/datasan-fuzz (ASan + libFuzzer)
#   Fuzz/fuzz.sh run SECONDS TARGET...      fuzzes each target for SECONDS, FUZZ_JOBS (2) processes at once
#   Fuzz/fuzz.sh triage TARGET...           replays the saved crashes, prints one signature each
#
# SwiftPM compiles the package's modules with coverage and ASan (--scratch-path .build-fuzz, so the
# normal builds are untouched); swiftc then links Fuzz/Entry/Entry.swift, which defines
# LLVMFuzzerTestOneInput, against their objects with libFuzzer's main.
set -eu
cd "$(dirname "$0")/.."
SCRATCH=.build-fuzz
BIN=${FUZZ_BIN:-$SCRATCH/datasan-fuzz}
SWIFT=${SWIFT:-swift}
SWIFTC=${SWIFTC:-swiftc}
JOBS=${FUZZ_JOBS:-2}

build() {
  $SWIFT build -c release --scratch-path $SCRATCH --target DatasanFuzzTargets \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xcc -fsanitize=fuzzer-no-link,address
  # Every module object but the command line's main, the test targets and the allocation counter.
  objects=$(find $SCRATCH/release/ -name '*.o' ! -path '*/datasan.build/*' ! -path '*Tests.build/*' \
    ! -path '*TestSupport.build/*' ! -path '*AllocationCounter.build/*' ! -path '*PackageTests.build/*' \
    ! -path '*PackageDiscoveredTests.build/*' ! -path '*/ModuleCache/*')
  # shellcheck disable=SC2046,SC2086
  $SWIFTC -O -parse-as-library -sanitize=fuzzer,address -I $SCRATCH/release/Modules \
    -Xcc -fmodule-map-file=Sources/CHDF5/module.modulemap -Xcc -fmodule-map-file=Sources/CLMDB/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CPNG/module.modulemap -Xcc -fmodule-map-file=Sources/CTurboJPEG/module.modulemap \
    $(for m in $SCRATCH/release/CDatasan*.build/module.modulemap; do echo -Xcc -fmodule-map-file=$m; done) \
    $(pkg-config --cflags-only-I hdf5 lmdb libpng libturbojpeg | sed 's/-I/-Xcc -I/g') \
    Fuzz/Entry/Entry.swift $objects $(pkg-config --libs hdf5 lmdb libpng libturbojpeg) -ldeflate -lz -lm \
    -o $BIN
  echo "built $BIN"
}

ASAN="detect_leaks=0:allow_user_segv_handler=1:handle_segv=1:handle_sigbus=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-$ASAN}"
# The Swift runtime's backtracer outlives a crashed target and holds its output open: ASan and
# libFuzzer print the stack instead.
export SWIFT_BACKTRACE=enable=no

# Runs one target for $1 seconds in libFuzzer's fork mode, $JOBS processes at once. Every crash,
# OOM and timeout is saved under Fuzz/crashes/<target>/ and the campaign goes on (libhdf5 alone
# faults on some corrupt files; one bug should not stop two hours of fuzzing): `triage` sorts them.
run_one() {
  seconds=$1 target=$2
  work=$SCRATCH/corpus/$target  # what the fuzzer learns; the committed seeds stay as they are
  crashes=Fuzz/crashes/$target
  mkdir -p "$work" "$crashes" "$SCRATCH/logs"
  # The fuzzer is given only its own folder (fork mode once wrote into a second corpus folder too).
  cp -p "Fuzz/corpus/$target"/* "$work"/
  dict=""
  base=${target%%-*}  # png-diff uses png.dict, datum-c datum.dict
  for d in "Fuzz/dict/$target.dict" "Fuzz/dict/$base.dict"; do
    if [ -z "$dict" ] && [ -f "$d" ]; then dict="-dict=$d"; fi
  done
  log=$SCRATCH/logs/$target.log
  echo "== $target: $seconds s, $JOBS processes (log: $log)"
  # shellcheck disable=SC2086
  DATASAN_FUZZ_TARGET=$target $BIN -fork="$JOBS" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -malloc_limit_mb=2048 -max_len=262144 \
    -print_final_stats=1 -artifact_prefix="$crashes/" $dict "$work" >"$log" 2>&1 || true
  summary "$target"
}

# The last coverage line of a target's log: executions, cov, ft, corpus, crashes, time.
summary() {
  line=$(grep -E '^#[0-9]+: cov:' "$SCRATCH/logs/$1.log" | tail -n 1)
  echo "$1: ${line:-no progress line (see $SCRATCH/logs/$1.log)}"
  found=$(find "Fuzz/crashes/$1" -type f -newer "$SCRATCH/logs/$1.started" 2>/dev/null | wc -l)
  [ "$found" -gt 0 ] && echo "$1: $found new file(s) in Fuzz/crashes/$1 -- run: Fuzz/fuzz.sh triage $1"
  return 0
}

# Replays each saved crash of a target and prints its signature (the first frames in datasan or
# libhdf5). For hdf5, inputs whose fault lies inside libhdf5 go to Fuzz/crashes/hdf5-libhdf5/
# (the regression test replays those through the command line); duplicates of a signature are removed.
triage() {
  target=$1
  seen=""
  for f in Fuzz/crashes/"$target"/*; do
    [ -f "$f" ] || continue
    out=$(DATASAN_FUZZ_TARGET=$target $BIN -timeout=20 -rss_limit_mb=2560 -malloc_limit_mb=2048 "$f" 2>&1 || true)
    kind=$(echo "$out" | grep -m1 -oE 'ERROR: (AddressSanitizer|libFuzzer): [A-Za-z -]+|Fatal error: [^:]*|fuzz check failed: .{0,80}|deadly signal|out-of-memory|timeout' | head -n 1)
    kind=${kind:-no crash}
    frames=$(echo "$out" | sed -nE 's/^ +#[0-9]+ 0x[0-9a-f]+ in ([^ ]+).*/\1/p' \
      | grep -vE '^(fuzzer::|__sanitizer|__asan|_*interceptor|malloc$|calloc$|realloc$|free$|_*mem[a-z_]*$|str[a-z]*$|operator|Swift$|abort$|raise$|gsignal|__libc|__pthread|_start$|main$|LLVMFuzzer|\$s4main|\$ss|swift_|_swift)' \
      | head -n 3 | swift-demangle --simplified --compact | sed -E 's/\(.*//' | tr '\n' ' ')
    sig="$kind | $frames"
    case "$seen" in *"$sig"*) echo "dup  $f"; rm -f "$f"; continue ;; esac
    seen="$seen
$sig"
    if [ "$target" = hdf5 ] && echo "$frames" | grep -qE '^ *H5'; then
      mkdir -p Fuzz/crashes/hdf5-libhdf5; mv "$f" Fuzz/crashes/hdf5-libhdf5/; echo "lib  $f: $sig"
    else
      echo "keep $f: $sig"
    fi
  done
}

case "${1:-}" in
  build) build ;;
  run)
    shift; seconds=$1; shift
    for t in "$@"; do mkdir -p $SCRATCH/logs; touch $SCRATCH/logs/$t.started; run_one "$seconds" "$t"; done ;;
  triage) shift; for t in "$@"; do triage "$t"; done ;;
  *) echo "usage: $0 build | run SECONDS TARGET..." >&2; exit 2 ;;
esac
