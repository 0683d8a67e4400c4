#!/usr/bin/env bash
# make test-slurm: datasan on a real Slurm. Starts a one-node cluster (cluster.sh: munged, slurmctld
# and slurmd from Debian's slurm-wlm and munge, installed when missing), submits
# datasan-array.sbatch (a job array of TASKS shards) and datasan-merge.sbatch (afterok on the array)
# for one dataset of each format, waits, and checks that each merged report and the merge job's exit
# code are those of a single `datasan scan` of the same dataset. Stops the daemons it started, on
# success, failure or interrupt.
#
# Skips (exit 0, saying why) without root or passwordless sudo, or without the Slurm and munge
# binaries and apt-get to install them; DATASAN_REQUIRE_SLURM=1 turns a skip into a failure.
# DATASAN (default .build/release/datasan), TASKS (default 4), KEEP=1 keeps the scratch folder.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/examples/slurm
DATASAN=${DATASAN:-$ROOT/.build/release/datasan}
case $DATASAN in
    /*) ;;
    */*) DATASAN=$PWD/$DATASAN ;;
    *) DATASAN=$(command -v "$DATASAN" || echo "$DATASAN") ;;
esac
TASKS=${TASKS:-4}
JOB_TIMEOUT=${JOB_TIMEOUT:-180}

skip() {
    if [ "${DATASAN_REQUIRE_SLURM:-0}" = 1 ]; then
        echo "test-slurm: FAILED: cannot run (DATASAN_REQUIRE_SLURM=1): $*" >&2
        exit 1
    fi
    echo "test-slurm: skipped: $*"
    exit 0
}
fail() { echo "test-slurm: FAILED: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

# The single runs and the jobs get their shard from Slurm alone (this test may itself run inside
# a job array or a pod).
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_MAX \
    SLURM_ARRAY_JOB_ID JOB_COMPLETION_INDEX

[ -x "$DATASAN" ] || fail "no datasan binary at $DATASAN (make release)"
# Until issue 14's merge is in, there is nothing to test; any other failure of `merge --help` fails.
if ! help=$("$DATASAN" merge --help 2>&1); then
    case $help in
        *"Unknown subcommand 'merge'"*) skip "$DATASAN has no merge command (issue 14 items 1-3)" ;;
        *) fail "$DATASAN merge --help: $help" ;;
    esac
fi

# The daemons run as root: re-run under sudo when it needs no password.
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n env DATASAN="$DATASAN" TASKS="$TASKS" KEEP="${KEEP:-0}" JOB_TIMEOUT="$JOB_TIMEOUT" \
            DATASAN_REQUIRE_SLURM="${DATASAN_REQUIRE_SLURM:-0}" "$0" "$@"
    fi
    skip "munged, slurmctld and slurmd need root (or sudo without a password)"
fi

missing=""
for c in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
    command -v apt-get >/dev/null 2>&1 || skip "no$missing, and no apt-get to install slurm-wlm and munge"
    echo "installing slurm-wlm munge (for make test-slurm)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends slurm-wlm munge >/dev/null; }; then
        skip "apt-get could not install slurm-wlm and munge"
    fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/datasan-slurm.XXXXXX")
chmod 755 "$WORK"
. "$HERE/cluster.sh"
finish() {
    local status=$?
    trap - EXIT INT TERM
    slurm_stop
    if [ "$status" -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$WORK"
    else
        echo "test-slurm: the cluster's logs, jobs and reports are in $WORK"
    fi
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

t0=$(now)
# The node declares 8 CPUs whatever the machine has (SlurmdParameters=config_overrides): each
# task scans a small fixture in tens of milliseconds, and Slurm's scheduling passes, not the CPU,
# bound the time the jobs take; with 2 CPUs the 35 jobs queue through some 17 passes.
slurm_start "$WORK/cluster" 8 || fail "could not start Slurm (logs above, in $WORK/cluster/log)"
echo "test-slurm: one-node Slurm up in $(since "$t0") s ($(sinfo -h -o '%n %c CPUs %t'))"

# One dataset of each format, with findings of both kinds (sample and dataset), one that passes,
# and a real table whose column types come from its first 1,000 rows (every CSV shard must type
# them as one run does): NAME PATH [datasan scan options, split at spaces].
DATASETS=(
    "hdf5 Fixtures/hdf5/dirty.h5"
    "hdf5-clean Fixtures/hdf5/clean_small.h5"
    "lmdb Fixtures/lmdb/defects.lmdb"
    "png Fixtures/png/train"
    "jpeg Fixtures/jpeg/broken"
    "csv Fixtures/csv/dirty.csv"
    "csv-titanic Fixtures/tables/titanic_openml.csv --label-column survived"
)

declare -A ARRAY MERGE SINGLE

# Submits the array (sbatch options first, then --) and its dependent merge for dataset NAME:
#   submit NAME [sbatch options] -- [datasan scan options]
submit() {
    local name=$1 sbatch_opts=() path opts
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do sbatch_opts+=("$1"); shift; done
    shift
    read -r _ path opts <<<"$(printf '%s\n' "${DATASETS[@]}" | grep "^$name ")"
    # shellcheck disable=SC2086
    ARRAY[$name]=$(DATASAN=$DATASAN sbatch --parsable --chdir="$WORK/$name" --time=5 "${sbatch_opts[@]}" \
        "$HERE/datasan-array.sbatch" "$ROOT/$path" $opts "$@") || fail "$name: sbatch of the array failed"
    MERGE[$name]=$(DATASAN=$DATASAN sbatch --parsable --chdir="$WORK/$name" --time=5 \
        --dependency="afterok:${ARRAY[$name]}" --kill-on-invalid-dep=yes \
        "$HERE/datasan-merge.sbatch") || fail "$name: sbatch of the merge failed"
}

# Waits until the jobs (ids, comma-separated) have left the queue; fails after JOB_TIMEOUT s or
# when a daemon dies.
wait_jobs() {
    local deadline=$(( $(date +%s) + JOB_TIMEOUT )) queued
    while :; do
        if ! slurm_alive; then
            slurm_logs
            fail "a Slurm daemon died while the jobs ran (logs above)"
        fi
        queued=$(squeue -h -j "$1" -o %i) || fail "squeue failed while the jobs ran"
        [ -n "$queued" ] || return 0
        if [ "$(date +%s)" -ge "$deadline" ]; then
            squeue -j "$1"
            slurm_logs
            fail "jobs still queued or running after $JOB_TIMEOUT s"
        fi
        sleep 0.5
    done
}

# JobState and the exit code of a job (or of every task of an array), one "STATE CODE SIGNAL
# TASK" a line (TASK: the array task id, or - for a job that is no array).
job_states() {
    scontrol -o show job "$1" | awk '{
        state = code = signal = ""; task = "-"
        for (i = 1; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "JobState") state = kv[2]
            else if (kv[1] == "ArrayTaskId") task = kv[2]
            else if (kv[1] == "ExitCode") { split(kv[2], e, ":"); code = e[1]; signal = e[2] }
        }
        print state, code, signal, task
    }'
}

# Checks dataset NAME's last array (of TASKS_SUBMITTED tasks) and merge: every task COMPLETED
# with exit 0, TASKS parts, the merge job's exit code and merged report those of the single run.
check() {
    local name=$1 submitted=$2 dir=$WORK/$1 tasks bad parts state code signal task
    tasks=$(job_states "${ARRAY[$name]}" | wc -l)
    bad=$(job_states "${ARRAY[$name]}" | grep -v '^COMPLETED 0 0 ')
    if [ "$tasks" -ne "$submitted" ] || [ -n "$bad" ]; then
        echo "test-slurm: $name: array ${ARRAY[$name]} has $tasks tasks of $submitted; not COMPLETED with exit 0:" >&2
        while read -r state code signal task; do
            [ -n "$state" ] || continue
            echo "  task $task: $state, exit $code, signal $signal; its output:" >&2
            sed 's/^/    /' "$dir/datasan-scan-${ARRAY[$name]}_$task.out" >&2
        done <<<"$bad"
        return 1
    fi
    parts=$(find "$dir" -maxdepth 1 -name 'part-*.json' | wc -l)
    if [ "$parts" -ne "$TASKS" ]; then
        echo "test-slurm: $name: $parts partial reports, not $TASKS" >&2
        return 1
    fi
    read -r state code _ _ <<<"$(job_states "${MERGE[$name]}")"
    if { [ "$state" != COMPLETED ] && [ "$state" != FAILED ]; } || [ "$code" != "${SINGLE[$name]}" ]; then
        echo "test-slurm: $name: merge job ${MERGE[$name]} is $state with exit $code, the single run exits ${SINGLE[$name]}:" >&2
        sed 's/^/    /' "$dir/datasan-merge-${MERGE[$name]}.out" >&2
        return 1
    fi
    if ! python3 "$ROOT/examples/compare-reports.py" "$dir/single.json" "$dir/all.json" >&2; then
        echo "test-slurm: $name: the merged report differs from the single run's" >&2
        return 1
    fi
}

t1=$(now)
for entry in "${DATASETS[@]}"; do
    read -r name path opts <<<"$entry"
    dir=$WORK/$name
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    (cd "$dir" && "$DATASAN" scan "$ROOT/$path" $opts --report single.json --quiet >single.out 2>&1)
    SINGLE[$name]=$?
    [ "${SINGLE[$name]}" -le 1 ] || fail "$name: the single run could not run: $(cat "$dir/single.out")"
    submit "$name" --array="0-$((TASKS - 1))" --
done
ids=$(IFS=,; echo "${ARRAY[*]},${MERGE[*]}")
wait_jobs "$ids"
echo "test-slurm: $((${#DATASETS[@]} * (TASKS + 1))) jobs (${#DATASETS[@]} arrays of $TASKS + merges) done in $(since "$t1") s"

failures=0
for entry in "${DATASETS[@]}"; do
    read -r name _ <<<"$entry"
    if check "$name" "$TASKS"; then
        echo "test-slurm: $name: $TASKS shards merged = single run (exit ${SINGLE[$name]})"
    else
        failures=$((failures + 1))
    fi
done
[ "$failures" -eq 0 ] || fail "$failures of ${#DATASETS[@]} datasets"

# The README's recovery: the last shard of the first dataset run again alone, named with --shard
# (an array of one task has a task count of 1), then the merge again.
read -r name _ <<<"${DATASETS[0]}"
last=$((TASKS - 1))
rm -f "$WORK/$name/part-$last.json" "$WORK/$name/all.json"
t2=$(now)
submit "$name" --array="$last" -- --shard "$last/$TASKS"
wait_jobs "${ARRAY[$name]},${MERGE[$name]}"
check "$name" 1 || fail "$name: shard $last/$TASKS run again alone, then merged"
echo "test-slurm: $name: shard $last/$TASKS run again alone (sbatch --array=$last ... --shard $last/$TASKS) and merged = single run, in $(since "$t2") s"
echo "test-slurm: passed in $(since "$t0") s"
