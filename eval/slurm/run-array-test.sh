#!/usr/bin/env bash
# The README's Slurm recipe, run for real (#20): an array job of `kpeval run --shard i/4 --resume`
# tasks, `kpeval merge`, and the merged file and aggregate compared with one unsharded run; then
# one task killed with scancel half-way, resubmitted alone, and the merge compared again.
#
#   eval/slurm/start-slurm.sh && eval/slurm/run-array-test.sh     (or: make slurm-test)
#
# Needs a Slurm cluster whose nodes see $KPEVAL_SLURM_WORK (default: the one-node cluster of
# start-slurm.sh, found through $KPEVAL_SLURM_DIR/slurm.conf, and a folder in it), python3 (the
# standard library only) and the kpeval binary ($KPEVAL, default target/release/kpeval). Overlap
# metrics only: no model, no libtorch, no ../shared. Prints PASS/FAIL lines; exit 1 on a FAIL.
# shellcheck disable=SC2015 # `[ test ] && pass ... || fail ...`: pass always succeeds
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KPEVAL=${KPEVAL:-$REPO/target/release/kpeval}
PY=${PYTHON:-python3}
DIR=${KPEVAL_SLURM_DIR:-/tmp/kpeval-slurm}
if [ -z "${SLURM_CONF:-}" ] && [ -f "$DIR/slurm.conf" ]; then export SLURM_CONF="$DIR/slurm.conf"; fi
WORK=${KPEVAL_SLURM_WORK:-$DIR/work}
SHARDS=4
VICTIM=${KPEVAL_SLURM_VICTIM:-2}        # the array task that is killed
LONG_N=${KPEVAL_SLURM_LONG_N:-160}      # records of the corpus of the kill test
KILL_AT=${KPEVAL_SLURM_KILL_AT:-8}      # the victim is killed once its file holds this many
JOB_TIMEOUT=${KPEVAL_SLURM_TIMEOUT:-900} # seconds any one wait may take
ARGS1=(--metrics overlap)
ARGS2=(--metrics overlap --summarizer lead-200 --batch-size 4)
SBATCH_SCRIPT="$HERE/shard-array.sbatch"

FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
nlines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
task_state() { # JOB TASK -> PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, ... ("" when unknown)
  scontrol show job -o "$1_$2" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2
}
JOBS=()
cleanup() { if [ ${#JOBS[@]} -gt 0 ]; then scancel "${JOBS[@]}" 2>/dev/null || true; fi; }
trap cleanup EXIT

[ -x "$KPEVAL" ] || { echo "error: $KPEVAL missing: make build (or set KPEVAL)" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "error: no sbatch: eval/slurm/start-slurm.sh first" >&2; exit 2; }
sinfo -h >/dev/null || { echo "error: no Slurm cluster answers (SLURM_CONF=${SLURM_CONF:-unset}): eval/slurm/start-slurm.sh first" >&2; exit 2; }
export KPEVAL SHARDS

T_ALL=$(now)
rm -rf "$WORK"
mkdir -p "$WORK"
echo "== kpeval Slurm array test: $("$KPEVAL" --version), $(sbatch --version), work folder $WORK"
sinfo -N -o "%N %T %c %m %P"

# Submits the array script; prints the job id. sbatch_array ARRAY INPUT OUT LOGS [sbatch options]
sbatch_array() {
  local array=$1 input=$2 out=$3 logs=$4
  shift 4
  mkdir -p "$logs"
  # --time: a task that hangs fails instead of holding CI; --output: one log per task
  timeout "$JOB_TIMEOUT" sbatch --parsable "$@" --array="$array" --time=30 \
    --output="$logs/slurm-%A_%a.out" "$SBATCH_SCRIPT" "$input" "$out"
}

per_shard() { # OUT LOGS: records and time of each shard
  local out=$1 logs=$2 i line
  for i in $(seq 0 $((SHARDS - 1))); do
    line=$(cat "$logs"/slurm-*_"$i".out 2>/dev/null | grep -o 'exit=[0-9]* elapsed=[0-9.]*s' | tr '\n' ' ' || true)
    echo "   shard $i: $(nlines "$out/shard-$i.jsonl") records; ${line:-no log line}"
  done
}

# ---------------------------------------------------------------------------------------------
echo
echo "== Part 1: array job = single run (corpus from tests/fixtures/rouge_parity.jsonl.gz)"
C1="$WORK/p1/corpus.jsonl"
"$PY" "$HERE/make_corpus.py" short "$C1"
export KPEVAL_ARGS="${ARGS1[*]}"
t=$(now)
rc=0
"$KPEVAL" run "$C1" "${ARGS1[@]}" -q -o "$WORK/p1/ref/ref.jsonl" || rc=$?
REF1_S=$(secs "$t" "$(now)")
[ $rc = 0 ] && pass "single run: exit 0, $(nlines "$WORK/p1/ref/ref.jsonl") records in ${REF1_S}s" || fail "single run exit $rc"

t=$(now)
rc=0
JOB1=$(sbatch_array "0-$((SHARDS - 1))" "$C1" "$WORK/p1/out" "$WORK/p1/logs" --wait) || rc=$?
ARRAY1_S=$(secs "$t" "$(now)")
JOBS+=("${JOB1:-}")
[ $rc = 0 ] && pass "sbatch --wait --array=0-$((SHARDS - 1)) (job $JOB1): exit 0 in ${ARRAY1_S}s (submit to sbatch's return; sbatch --wait polls every 2-10 s)" \
  || fail "sbatch --wait --array=0-$((SHARDS - 1)) exit $rc (logs: $WORK/p1/logs)"
per_shard "$WORK/p1/out" "$WORK/p1/logs"

t=$(now)
rc=0
"$KPEVAL" merge "$WORK/p1/out/shard-*.jsonl" -o "$WORK/p1/merged/all.jsonl" || rc=$?
[ $rc = 0 ] && pass "kpeval merge: exit 0 in $(secs "$t" "$(now)")s" || fail "kpeval merge exit $rc"
"$PY" "$HERE/compare.py" "$WORK/p1/ref/ref.jsonl" "$WORK/p1/merged/all.jsonl" \
  --shards "$WORK"/p1/out/shard-*.jsonl || FAILS=$((FAILS + 1))

# ---------------------------------------------------------------------------------------------
echo
echo "== Part 2: task $VICTIM killed with scancel half-way, resubmitted alone with --resume"
C2="$WORK/p2/corpus.jsonl"
OUT2="$WORK/p2/out"
"$PY" "$HERE/make_corpus.py" long "$C2" "$LONG_N"
export KPEVAL_ARGS="${ARGS2[*]}"
t=$(now)
rc=0
"$KPEVAL" run "$C2" "${ARGS2[@]}" -q -o "$WORK/p2/ref/ref.jsonl" || rc=$?
REF2_S=$(secs "$t" "$(now)")
[ $rc = 0 ] && pass "single run (${ARGS2[*]}): exit 0, $(nlines "$WORK/p2/ref/ref.jsonl") records in ${REF2_S}s" || fail "single run exit $rc"

t=$(now)
JOB2=$(sbatch_array "0-$((SHARDS - 1))" "$C2" "$OUT2" "$WORK/p2/logs")
JOBS+=("$JOB2")
F="$OUT2/shard-$VICTIM.jsonl"
# kill the victim once it is running and has written $KILL_AT records (two batches of 4)
killed=""
deadline=$(( $(date +%s) + JOB_TIMEOUT ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  st=$(task_state "$JOB2" "$VICTIM")
  n=$(nlines "$F")
  if [ "$st" = RUNNING ] && [ "$n" -ge "$KILL_AT" ]; then
    scancel "${JOB2}_${VICTIM}"
    killed=$(now)
    echo "   scancel ${JOB2}_${VICTIM} at $(secs "$t" "$killed")s after submission: $n records in $F"
    break
  fi
  case "$st" in COMPLETED | FAILED | CANCELLED | TIMEOUT | OUT_OF_MEMORY | NODE_FAIL)
    break ;;
  esac
  sleep 0.05
done
[ -n "$killed" ] || fail "task ${JOB2}_${VICTIM} was not killed while running (state '${st:-?}', $n records): make it slower with KPEVAL_SLURM_LONG_N"
while [ -n "$(squeue -h -j "$JOB2" -o %i 2>/dev/null)" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
ARRAY2_S=$(secs "$t" "$(now)")
for i in $(seq 0 $((SHARDS - 1))); do
  st=$(task_state "$JOB2" "$i")
  if [ "$i" = "$VICTIM" ]; then
    [ "$st" = CANCELLED ] && pass "task $i: $st" || fail "task $i: '$st', not CANCELLED"
  else
    [ "$st" = COMPLETED ] && pass "task $i: $st" || fail "task $i: '$st', not COMPLETED"
  fi
done
echo "   array (one task cancelled) done ${ARRAY2_S}s after submission"
per_shard "$OUT2" "$WORK/p2/logs"
KILLED_N=$(nlines "$F")
KILLED_BYTES=$(stat -c %s "$F" 2>/dev/null || echo 0)
GOOD_BYTES=$("$PY" -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.rfind(b"\n")+1)' "$F" 2>/dev/null || echo 0)
cp "$F" "$WORK/p2/shard-$VICTIM.killed.jsonl" 2>/dev/null || true
echo "   killed shard file: $KILLED_N whole records, $((KILLED_BYTES - GOOD_BYTES)) bytes of a torn last line"
[ "$KILLED_N" -ge 1 ] && pass "killed shard file holds $KILLED_N records (not empty)" || fail "killed shard file is empty"

rc=0
"$KPEVAL" merge -q "$OUT2/shard-*.jsonl" -o "$WORK/p2/partial/all.jsonl" 2>"$WORK/p2/partial.err" || rc=$?
PARTIAL_N=$(nlines "$WORK/p2/partial/all.jsonl")
REF2_N=$(nlines "$WORK/p2/ref/ref.jsonl")
echo "   merge before the resubmission: $PARTIAL_N of $REF2_N records (exit $rc; $(grep -c . "$WORK/p2/partial.err" || true) warning line(s))"

t=$(now)
rc=0
JOB3=$(sbatch_array "$VICTIM" "$C2" "$OUT2" "$WORK/p2/logs-resume" --wait) || rc=$?
RESUME_S=$(secs "$t" "$(now)")
JOBS+=("${JOB3:-}")
[ $rc = 0 ] && pass "sbatch --wait --array=$VICTIM (job $JOB3, --resume): exit 0 in ${RESUME_S}s" || fail "resubmission exit $rc (logs: $WORK/p2/logs-resume)"
sed 's/^/   | /' "$WORK"/p2/logs-resume/*.out
FINAL_N=$(nlines "$F")
[ "$KILLED_N" -lt "$FINAL_N" ] && pass "the killed shard was partial: $KILLED_N of its $FINAL_N records before the resume" \
  || fail "the killed shard was not partial: $KILLED_N records before, $FINAL_N after"
if cmp -s -n "$GOOD_BYTES" "$WORK/p2/shard-$VICTIM.killed.jsonl" "$F"; then
  pass "resume kept the $KILLED_N records written before the kill, byte for byte, and added $((FINAL_N - KILLED_N))"
else
  fail "the resumed shard file does not start with the records written before the kill"
fi

rc=0
"$KPEVAL" merge "$OUT2/shard-*.jsonl" -o "$WORK/p2/merged/all.jsonl" || rc=$?
[ $rc = 0 ] && pass "kpeval merge after the resume: exit 0" || fail "kpeval merge exit $rc"
"$PY" "$HERE/compare.py" "$WORK/p2/ref/ref.jsonl" "$WORK/p2/merged/all.jsonl" \
  --shards "$OUT2"/shard-*.jsonl || FAILS=$((FAILS + 1))

# ---------------------------------------------------------------------------------------------
echo
echo "== Figures"
echo "   part 1: $(nlines "$C1") records; single run ${REF1_S}s; array of $SHARDS ${ARRAY1_S}s (sbatch --wait)"
echo "   part 2: $REF2_N records; single run ${REF2_S}s; array with task $VICTIM killed ${ARRAY2_S}s; killed shard $KILLED_N/$FINAL_N records at the kill; merge before resume $PARTIAL_N/$REF2_N; resubmission ${RESUME_S}s"
echo "   total $(secs "$T_ALL" "$(now)")s"
JOBS=()
if [ "$FAILS" -gt 0 ]; then
  echo "FAIL: $FAILS check(s) failed (work folder $WORK)"
  exit 1
fi
echo "PASS: Slurm array test (work folder $WORK)"
