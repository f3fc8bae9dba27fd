#!/usr/bin/env bash
# A one-machine Slurm cluster for the shard/array-job test (#20): one controller and one node on
# this host, munge authentication, no systemd, no cgroups, no accounting database.
#
#   eval/slurm/start-slurm.sh     # installs Debian's slurm-wlm + munge when missing (root/sudo)
#   eval/slurm/run-array-test.sh  # the test
#   eval/slurm/stop-slurm.sh      # stops what this script started
#
# Everything it writes (slurm.conf, state, spool, logs, pid files) lives in $KPEVAL_SLURM_DIR
# (default /tmp/kpeval-slurm); clients find the cluster through SLURM_CONF=$KPEVAL_SLURM_DIR/
# slurm.conf, which run-array-test.sh and stop-slurm.sh set themselves. /etc/slurm is not
# touched, so a machine that already belongs to a real cluster keeps its configuration (this
# script refuses to start a second slurmctld on a port that is already taken).
#
# The node declares max(4, cores) CPUs (SlurmdParameters=config_overrides) so that the four
# 1-CPU array tasks of the test run at the same time even on a 2-core machine.
set -euo pipefail

DIR=${KPEVAL_SLURM_DIR:-/tmp/kpeval-slurm}
CTLD_PORT=${KPEVAL_SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${KPEVAL_SLURM_SLURMD_PORT:-6818}
MIN_CPUS=${KPEVAL_SLURM_CPUS:-4}
WAIT_S=${KPEVAL_SLURM_WAIT_S:-60}

log() { echo "start-slurm: $*" >&2; }
die() { echo "start-slurm: error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# 1. Packages --------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  log "installing Debian's slurm-wlm and munge"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
fi
[ "$(id -u)" = 0 ] || die "run as root (slurmd must start jobs as their users)"

# 2. munge -------------------------------------------------------------------------------------
mkdir -p "$DIR"/{state,spool,log}
rm -f "$DIR/started"
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "munged already running"
else
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  install -d -o munge -g munge -m 0700 /var/log/munge
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n | unmunge >/dev/null || die "munged did not start (see /var/log/munge/munged.log)"
  echo munged >>"$DIR/started"
  log "munged started"
fi

# 3. slurm.conf --------------------------------------------------------------------------------
export SLURM_CONF="$DIR/slurm.conf"
NODE=$(hostname -s)
# slurmd -C prints this machine's line, e.g. "NodeName=vm CPUs=2 ... RealMemory=24105"
HW=$(slurmd -C 2>/dev/null | head -1 || true)
CPUS=$(sed -n 's/.*\bCPUs=\([0-9]*\).*/\1/p' <<<"$HW")
MEM=$(sed -n 's/.*\bRealMemory=\([0-9]*\).*/\1/p' <<<"$HW")
: "${CPUS:=$(nproc)}"
: "${MEM:=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)}"
NODE_CPUS=$(( CPUS > MIN_CPUS ? CPUS : MIN_CPUS ))
log "node $NODE: $CPUS CPUs (declared $NODE_CPUS), RealMemory=$MEM MB (slurmd -C: ${HW:-n/a})"

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
  log "the cluster of an earlier start-slurm.sh is running (stop-slurm.sh first to restart it)"
  printf '%s\n' munged slurmctld slurmd >"$DIR/started"
  sinfo -N -o "%N %T %c %m %P"
  exit 0
fi
for port in "$CTLD_PORT" "$SLURMD_PORT"; do
  port_taken "$port" && die "port $port is taken (another Slurm on this machine?): set KPEVAL_SLURM_CTLD_PORT/KPEVAL_SLURM_SLURMD_PORT"
done

cat >"$SLURM_CONF" <<EOF
# Written by eval/slurm/start-slurm.sh: a one-node test cluster on $NODE.
ClusterName=kpeval-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# no systemd/cgroups here: processes tracked by parentage, no task binding, no accounting
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# use the CPUs declared below even when the machine has fewer (4 concurrent 1-CPU tasks)
SlurmdParameters=config_overrides
ReturnToService=2
# scancel: SIGTERM, then SIGKILL 5 s later; finished jobs stay visible to scontrol for 10 min
KillWait=5
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$NODE_CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

# 4. Daemons -----------------------------------------------------------------------------------
# -c: a clean start (no jobs or node state from an earlier cluster in $DIR/state)
slurmctld -c -f "$SLURM_CONF" || die "slurmctld did not start (see $DIR/log/slurmctld.log)"
echo slurmctld >>"$DIR/started"
for _ in $(seq 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.1; done
scontrol ping | grep -q UP || die "slurmctld not answering (see $DIR/log/slurmctld.log)"
slurmd -f "$SLURM_CONF" -N "$NODE" || die "slurmd did not start (see $DIR/log/slurmd.log)"
echo slurmd >>"$DIR/started"

state=""
for _ in $(seq $((WAIT_S * 2))); do
  state=$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -1)
  [ "$state" = idle ] && break
  sleep 0.5
done
sinfo -N -o "%N %T %c %m %P"
[ "$state" = idle ] || die "node $NODE is '$state', not idle, after ${WAIT_S}s (see $DIR/log/)"
log "ready: SLURM_CONF=$SLURM_CONF"
