#!/usr/bin/env bash
# One prepared run of every benchmark on a GPU, then the tests that need CUDA (issue 12, item 5).
#
#   bash benchmarks/gpu_check.sh                    # on the GPU machine, from anywhere in the repo
#   DEVICE=cpu TINY=1 PYTHON=.venv/bin/python bash benchmarks/gpu_check.sh
#                                                   # dry run of this script's logic on a CPU (a few
#                                                   # minutes, nearly all of it starting Python 12 times)
#
# With the device tool: run(command="bash benchmarks/gpu_check.sh", timeout_s=540). Expected
# on an H200: about 5-6 minutes (estimated from the issue's timings; the per-node anchors of
# bench_tree, bench_drnn and bench_hmm take most of it).
#
# It uses the machine's own python3 (PYTHON=... to change it; nothing is installed) with
# PYTHONPATH=. from the repository root. Every step runs under `timeout` and the run stops
# starting steps once BUDGET_S seconds (default 420) are spent, so the whole script ends
# inside one 10-minute command; a failing step is recorded and the next one runs.
#
# Output (the device tool brings back at most 8 files, so everything goes into two):
#   $OUT/gpu_check.txt   environment, then each step's full output under "===== <step>: <command>"
#   $OUT/summary.txt     environment and one line per step: status (ok / failed rc=N / timed out /
#                        skipped), seconds, command
# with ./gpu_out instead of $OUT when OUT is unset. Everything is echoed to stdout as well.
#
# Knobs (environment): DEVICE (cuda), TINY (0; 1 = tiny sizes, for checking the script),
# BUDGET_S (420), STEP_TIMEOUT_S (cap for one step, 180), PYTHON (python3).
set -u -o pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
DEVICE=${DEVICE:-cuda}
TINY=${TINY:-0}
PYTHON=${PYTHON:-python3}
BUDGET_S=${BUDGET_S:-420}
STEP_TIMEOUT_S=${STEP_TIMEOUT_S:-180}
OUT_DIR=${OUT:-./gpu_out}
mkdir -p "$OUT_DIR" || exit 2
LOG="$OUT_DIR/gpu_check.txt"
SUMMARY="$OUT_DIR/summary.txt"
: >"$LOG"
: >"$SUMMARY"
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
START=$(date +%s)
FAILED=0

log() { printf '%s\n' "$*" | tee -a "$LOG"; }

record() {  # record STEP STATUS SECONDS COMMAND...
    local step=$1 status=$2 seconds=$3
    shift 3
    printf '%-20s %-18s %5ss  %s\n' "$step" "$status" "$seconds" "$*" >>"$SUMMARY"
}

step() {  # step NAME LIMIT_S COMMAND...: run it under timeout, log its output, record how it went
    local name=$1 limit=$2
    shift 2
    local elapsed=$(($(date +%s) - START))
    local left=$((BUDGET_S - elapsed))
    if ((left < 15)); then
        log "" "===== $name: skipped, the budget of ${BUDGET_S}s is spent"
        record "$name" "skipped" 0 "$@"
        FAILED=1
        return
    fi
    ((limit > STEP_TIMEOUT_S)) && limit=$STEP_TIMEOUT_S
    ((limit > left)) && limit=$left
    log "" "===== $name (limit ${limit}s): $*"
    local t0
    t0=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$LOG"
    local rc=${PIPESTATUS[0]}
    local seconds=$(($(date +%s) - t0))
    local status="ok"
    if ((rc == 124 || rc == 137)); then
        status="timed out"
    elif ((rc != 0)); then
        status="failed rc=$rc"
    fi
    ((rc != 0)) && FAILED=1
    log "----- $name: $status after ${seconds}s"
    record "$name" "$status" "$seconds" "$@"
}

environment() {
    echo "gpu_check.sh DEVICE=$DEVICE TINY=$TINY BUDGET_S=$BUDGET_S, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm \
        --format=csv,noheader 2>&1
    "$PYTHON" - <<'PY' 2>&1
import sys
import torch
print(f"python {sys.version.split()[0]} at {sys.executable}; torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"cuda available: {torch.cuda.is_available()}, "
      f"device: {torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'}, {torch.get_num_threads()} threads")
for name in ("torch_geometric", "networkx", "pytest", "hypothesis"):
    try:
        module = __import__(name)
        print(f"{name} {getattr(module, '__version__', '?')}")
    except ImportError as error:
        print(f"{name} MISSING: {error}")
PY
}

environment | tee -a "$LOG" "$SUMMARY"
echo >>"$SUMMARY"

if [[ "$TINY" == 1 ]]; then
    OPS=(--trees 4)
    CHAIN=(--batch 3 --length 4 --input 5 --hidden 6 --repeats 1)
    CHAIN_BIG=(--batch 4 --length 5 --input 6 --hidden 8 --repeats 1 --cells lstm)
    CHAIN_VARIABLE=(--batch 4 --length 6 --min-length 2 --input 5 --hidden 6 --repeats 1 --cells lstm)
    TREE=(--trees 4 8 --min-nodes 3 --max-nodes 6 --input 5 --hidden 6 --repeats 1 --recursion-max-nodes 30)
    SIM=(--scenes 4 --persons 3 --hidden 8 --repeats 1)
    DRNN=(--trees 3 --generate 4 --hidden 8 --repeats 1)
    HMM=(--sequences 5 --length 4 --repeats 1)
    LEVELS=(--sizes 1000 --repeats 1)
    BEAM=(--batch 3 --vocab 20 --embed 8 --hidden 8 --max-len 6 --beams 1 3 --repeats 1 --eos-after 3)
    DAGNN=(--graphs 3 --min-nodes 4 --max-nodes 6 --input 5 --hidden 6 --repeats 1)
else
    # the issue's shapes; anchors that loop in Python per node get few repeats
    OPS=(--trees 256)
    CHAIN=(--batch 64 --length 50 --input 64 --hidden 128 --repeats 20)
    CHAIN_BIG=(--batch 256 --length 100 --input 256 --hidden 512 --repeats 10 --cells lstm)
    CHAIN_VARIABLE=(--batch 64 --length 50 --min-length 10 --input 64 --hidden 128 --repeats 20 --cells lstm)
    TREE=(--trees 256 4096 --repeats 3 --recursion-max-nodes 6000)
    SIM=(--scenes 256 --persons 12 --repeats 10)
    DRNN=(--trees 256 --generate 200 --repeats 3)
    HMM=(--sequences 1000 --length 100 --repeats 3)
    LEVELS=(--sizes 125000 1000000 2000000 --repeats 3)
    BEAM=(--batch 32 --repeats 2)
    DAGNN=(--repeats 3)
fi

mapfile -t CUDA_TESTS < <("$PYTHON" benchmarks/cuda_tests.py tests)
log "" "tests that need CUDA (${#CUDA_TESTS[@]}): ${CUDA_TESTS[*]}"
if ((${#CUDA_TESTS[@]})); then
    step cuda_tests 180 "$PYTHON" -m pytest -q -rs -p no:cacheprovider "${CUDA_TESTS[@]}"
else
    record cuda_tests "none found" 0 "benchmarks/cuda_tests.py tests"
fi

B=benchmarks
step bench_ops 60 "$PYTHON" $B/bench_ops.py --device "$DEVICE" "${OPS[@]}"
step bench_chain 60 "$PYTHON" $B/bench_chain.py --device "$DEVICE" "${CHAIN[@]}"
step bench_chain_big 60 "$PYTHON" $B/bench_chain.py --device "$DEVICE" "${CHAIN_BIG[@]}"
step bench_chain_variable 60 "$PYTHON" $B/bench_chain.py --device "$DEVICE" "${CHAIN_VARIABLE[@]}"
step bench_tree 180 "$PYTHON" $B/bench_tree.py --device "$DEVICE" "${TREE[@]}"
step bench_sim 60 "$PYTHON" $B/bench_sim.py --device "$DEVICE" "${SIM[@]}"
step bench_drnn 120 "$PYTHON" $B/bench_drnn.py --device "$DEVICE" "${DRNN[@]}"
step bench_hmm 60 "$PYTHON" $B/bench_hmm.py --device "$DEVICE" "${HMM[@]}"
step bench_levels 60 "$PYTHON" $B/bench_levels.py --device "$DEVICE" "${LEVELS[@]}"
step bench_beam 60 "$PYTHON" $B/bench_beam.py --device "$DEVICE" "${BEAM[@]}"
if [[ -f $B/bench_dagnn.py ]]; then
    step bench_dagnn 60 "$PYTHON" $B/bench_dagnn.py --device "$DEVICE" "${DAGNN[@]}"
fi

TOTAL=$(($(date +%s) - START))
echo "total ${TOTAL}s; $([[ $FAILED == 0 ]] && echo 'every step ok' || echo 'SOME STEPS FAILED, TIMED OUT OR WERE SKIPPED')" \
    >>"$SUMMARY"
echo
echo "===== summary ($SUMMARY)"
cat "$SUMMARY"
exit "$FAILED"
