#!/usr/bin/env bash
# A one-node Slurm cluster in a scratch folder, for trying examples/slurm/ and for make test-slurm.
#
#   . examples/slurm/cluster.sh    source it (bash; root): defines the two functions below
#   slurm_start DIR [CPUS]         writes DIR/slurm.conf for one node of CPUS CPUs (default nproc),
#                                  starts munged, slurmctld and slurmd as background jobs (their
#                                  pids in SLURM_PIDS), exports SLURM_CONF for sbatch, squeue and
#                                  the rest, waits until the node is idle; prints the daemons'
#                                  logs and returns 1 when it is not after 60 s
#   slurm_stop                     cancels the jobs left, stops exactly the daemons slurm_start
#                                  started
#
# Debian's slurm-wlm and munge; no cgroups, no systemd, no accounting database: processes are
# tracked through /proc (proctrack/linuxproc), tasks are not confined (task/none). The munge key
# and socket, Slurm's state and spool folders and the daemons' logs (DIR/log/NAME.log: they run in
# the foreground and log to stderr) live in DIR, and the ports are free ones picked at start, so
# the cluster touches nothing of the machine's own Slurm or munge.

SLURM_PIDS=()
SLURM_NAMES=()

# Starts a daemon in the background (its pid in $!) out of the caller's process group, so that a
# signal to the group (^C, timeout) reaches the caller, whose slurm_stop then stops the daemons in
# order. A script's background job is no group leader: setsid runs in its place. With job control
# (an interactive shell), the job already has a group of its own (and setsid would fork).
slurm_spawn() {
    if [[ $- == *m* ]]; then
        "$@" &
    else
        setsid "$@" &
    fi
}

slurm_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The last lines of every log in DIR, to say why something did not start.
slurm_logs() {
    local f
    for f in "$SLURM_DIR"/log/*; do
        [ -s "$f" ] || continue
        echo "--- $f (last 15 lines)"
        tail -n 15 "$f"
    done
}

slurm_start() {
    SLURM_DIR=$1
    local node cpus ctld_port d_port
    node=$(hostname -s)
    cpus=${2:-$(nproc)}
    ctld_port=$(slurm_free_port)
    d_port=$(slurm_free_port)
    while [ "$d_port" = "$ctld_port" ]; do d_port=$(slurm_free_port); done
    mkdir -p "$SLURM_DIR"/{munge,state,spool,log}
    chmod 755 "$SLURM_DIR/munge"

    # munge: a fresh key, a socket of our own.
    dd if=/dev/urandom of="$SLURM_DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$SLURM_DIR/munge/munge.key"
    local sock=$SLURM_DIR/munge/munge.socket
    slurm_spawn munged --foreground --force --socket="$sock" --key-file="$SLURM_DIR/munge/munge.key" \
        --pid-file="$SLURM_DIR/munge/munged.pid" --seed-file="$SLURM_DIR/munge/munged.seed" \
        >>"$SLURM_DIR/log/munged.log" 2>&1
    SLURM_PIDS+=($!) SLURM_NAMES+=(munged)
    local i
    for i in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
    if ! munge --socket="$sock" -n </dev/null | unmunge --socket="$sock" >/dev/null 2>&1; then
        echo "could not start Slurm: munged does not answer on $sock" >&2
        slurm_logs >&2
        return 1
    fi

    cat > "$SLURM_DIR/slurm.conf" <<CONF
ClusterName=datasan-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_interval=1
ReturnToService=2
SlurmdParameters=config_overrides
MailProg=/bin/true
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$SLURM_DIR/slurm.conf

    slurm_spawn slurmctld -D -i -f "$SLURM_CONF" >>"$SLURM_DIR/log/slurmctld.log" 2>&1
    SLURM_PIDS+=($!) SLURM_NAMES+=(slurmctld)
    slurm_spawn slurmd -D -f "$SLURM_CONF" -N "$node" >>"$SLURM_DIR/log/slurmd.log" 2>&1
    SLURM_PIDS+=($!) SLURM_NAMES+=(slurmd)

    # The node is idle when slurmd has registered with slurmctld.
    local state=""
    for i in $(seq 1 120); do
        state=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
        [ "$state" = idle ] && return 0
        local k
        for k in "${!SLURM_PIDS[@]}"; do
            if ! kill -0 "${SLURM_PIDS[$k]}" 2>/dev/null; then
                echo "could not start Slurm: ${SLURM_NAMES[$k]} exited at start" >&2
                slurm_logs >&2
                return 1
            fi
        done
        sleep 0.5
    done
    echo "could not start Slurm: node $node is '${state:-unknown}', not idle, after 60 s" >&2
    slurm_logs >&2
    return 1
}

# Returns 1, naming it, when a daemon slurm_start started is no longer running.
slurm_alive() {
    local k
    for k in "${!SLURM_PIDS[@]}"; do
        if ! kill -0 "${SLURM_PIDS[$k]}" 2>/dev/null; then
            echo "${SLURM_NAMES[$k]} (pid ${SLURM_PIDS[$k]}) is no longer running" >&2
            return 1
        fi
    done
}

# The processes of this cluster's jobs: slurmstepd and what it started (their environment names
# this cluster's slurm.conf, and the job's id). Only left when the daemons died under running jobs.
slurm_job_pids() {
    python3 - "$SLURM_DIR/slurm.conf" <<'PY'
import os, sys
conf = b"SLURM_CONF=" + sys.argv[1].encode()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) in (os.getpid(), os.getppid()):
        continue
    try:
        with open(f"/proc/{p}/environ", "rb") as f:
            env = f.read().split(b"\0")
        with open(f"/proc/{p}/comm", "rb") as f:
            comm = f.read().strip()
    except OSError:
        continue
    if conf in env and (comm == b"slurmstepd" or any(e.startswith(b"SLURM_JOB_ID=") for e in env)):
        print(p)
PY
}

slurm_stop() {
    local pid
    # Jobs still queued or running (after a failure or a timeout) are cancelled first, so that no
    # slurmstepd or job process outlives the cluster.
    # (Only while slurmctld runs: its clients retry for a minute when it does not answer.)
    if [ "${#SLURM_PIDS[@]}" -gt 0 ] && slurm_alive 2>/dev/null \
        && [ -n "$(timeout 10 squeue -h -o %i 2>/dev/null)" ]; then
        timeout 10 scancel --full --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 1 40); do [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.25; done
    fi
    # slurmd, slurmctld, munged: the reverse order of their start.
    for ((i = ${#SLURM_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${SLURM_PIDS[$i]}
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${SLURM_PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    # A daemon killed under running jobs (kill -9, an OOM) leaves their processes behind.
    if [ -n "${SLURM_DIR:-}" ]; then
        local left
        left=$(slurm_job_pids)
        if [ -n "$left" ]; then
            echo "slurm_stop: killing the processes left of this cluster's jobs:" $left >&2
            # shellcheck disable=SC2086
            kill -KILL $left 2>/dev/null || true
        fi
    fi
    SLURM_PIDS=() SLURM_NAMES=()
}
