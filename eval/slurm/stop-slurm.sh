#!/usr/bin/env bash
# Stops the daemons eval/slurm/start-slurm.sh started (listed in $KPEVAL_SLURM_DIR/started), by
# the pid files it wrote: slurmd, slurmctld, then munged. Jobs still running are cancelled
# first. Daemons it did not start (a munged that was already running) are left alone.
set -uo pipefail

DIR=${KPEVAL_SLURM_DIR:-/tmp/kpeval-slurm}
export SLURM_CONF="$DIR/slurm.conf"
log() { echo "stop-slurm: $*" >&2; }

if [ ! -f "$DIR/started" ]; then
  log "nothing to stop ($DIR/started missing)"
  exit 0
fi

stop() { # name pidfile
  local name=$1 pidfile=$2 pid
  grep -qx "$name" "$DIR/started" || return 0
  pid=$(cat "$pidfile" 2>/dev/null) || { log "$name: no pid file $pidfile"; return 0; }
  if ! kill -0 "$pid" 2>/dev/null; then
    log "$name ($pid) not running"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name ($pid) still running after 10 s: SIGKILL"
    kill -KILL "$pid"
  fi
  log "$name ($pid) stopped"
}

if grep -qx slurmctld "$DIR/started" && command -v squeue >/dev/null; then
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u)
  if [ -n "$jobs" ]; then
    log "cancelling jobs: $(tr '\n' ' ' <<<"$jobs")"
    # shellcheck disable=SC2086
    scancel $jobs
    sleep 1
  fi
fi
stop slurmd "$DIR/slurmd.pid"
stop slurmctld "$DIR/slurmctld.pid"
stop munged /run/munge/munged.pid
rm -f "$DIR/started"
