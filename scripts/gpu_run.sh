#!/usr/bin/env bash
# The GPU run of issue 10, in three steps that each fit one 10-minute command on a bare machine with
# one CUDA GPU and a Python that has torch, einops, matplotlib, tqdm and timm (no install, no Jupyter).
#
#   bash scripts/gpu_run.sh 0 OUT   # seconds:    environment report                 -> OUT/env.txt
#   bash scripts/gpu_run.sh 1 OUT   # < 3 min:    swin_edu against timm on CUDA      -> OUT/bench.json, bench.log
#                                   #             + a smoke run of the gpu recipe      -> OUT/smoke/, smoke.log
#   bash scripts/gpu_run.sh 2 OUT   # < 4.5 min:  build CIFAR-10, train the gpu recipe -> OUT/history.json,
#                                   #             run.json, learning_curves.png, train.log
#   bash scripts/gpu_run.sh all OUT # the three in a row (a machine without the 64 MiB limit)
#   bash scripts/gpu_run.sh plan -  # the hard stops of each call and the device time of the plan
#
# Data: $GPU_DATA (default gpu_data/, git-ignored) holds build.py and part1/ part2/ part3/ of
# ../shared/data/cifar10, moved one part per step (each part is ~38 MB; a transfer takes 64 MiB).
# Step 2 builds $GPU_DATA/built/cifar-10-batches-py from them (skipped when it exists).
# Weights and training checkpoint go to $GPU_DATA/run/ (27 MB + 80 MB), not to OUT: OUT stays small
# enough to come back and to be committed. Every step writes what it has as it goes, so a timeout
# still leaves its files; a failing step never stops a later one.
#
# Steps 1 and 2 ask for --device cuda: without a usable GPU they fail at once, never run on the CPU.
# Settings (environment): PYTHON (default python3), GPU_DATA, TRAIN_ARGS (extra arguments of
# swin_edu.train, e.g. "--recipe tiny --device cpu" for the CPU smoke test), BENCH_ARGS (likewise for
# swin_edu.bench, e.g. "--device cpu --smoke"), BENCH_SECONDS (default 60; the bench is stopped 40 s later),
# SMOKE_IMAGES (default 8192) and SMOKE_SECONDS (default 50; stopped 20 s later) of the smoke run, TRAIN_TIMEOUT
# (default 270 s, a hard stop; the recipe stops itself before, at its time limit of 225 s).
#
# The device time: a session gets 15 minutes, machine start included. The plan (`plan` prints it) keeps
# room to run step 2 a second time: start (about 2 min) + step 0 + step 1 + step 2 twice, at their hard stops.
set -u
STEP=${1:?usage: bash scripts/gpu_run.sh 0|1|2|all|plan OUTDIR}
OUT=${2:?usage: bash scripts/gpu_run.sh 0|1|2|all|plan OUTDIR}
BENCH_SECONDS=${BENCH_SECONDS:-60}
SMOKE_SECONDS=${SMOKE_SECONDS:-50}
TRAIN_TIMEOUT=${TRAIN_TIMEOUT:-270}
STEP0_SECONDS=30         # the timeout_s of call 1 (step 0 takes about 10 s)
MACHINE_START=120        # what a machine start costs, assumed
DEVICE_SECONDS=900       # a session's device time
plan() {  # the hard stop of each call, and whether a second step 2 still fits
  local step1=$((BENCH_SECONDS + 40 + SMOKE_SECONDS + 20))
  local total=$((MACHINE_START + STEP0_SECONDS + step1 + 2 * TRAIN_TIMEOUT))
  echo "call 1 (step 0): at most $STEP0_SECONDS s"
  echo "call 2 (step 1): at most $step1 s (bench $((BENCH_SECONDS + 40)) s, smoke run $((SMOKE_SECONDS + 20)) s)"
  echo "call 3 (step 2): at most $TRAIN_TIMEOUT s, and once more if it must be rerun"
  echo "device time at the hard stops, with a machine start of $MACHINE_START s and step 2 twice: $total s of $DEVICE_SECONDS s"
  [ "$total" -le "$DEVICE_SECONDS" ]
}
if [ "$STEP" = plan ]; then plan; exit $?; fi
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PYTHON=${PYTHON:-python3}
GPU_DATA=${GPU_DATA:-gpu_data}
export PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
# the working tree travels to the GPU machine without .git: `make gpu-data` wrote the commit beside the data
if [ -z "${SWIN_EDU_GIT_COMMIT:-}" ] && [ -f "$GPU_DATA/commit.txt" ]; then
  export SWIN_EDU_GIT_COMMIT=$(cat "$GPU_DATA/commit.txt")
fi
banner() { echo; echo "===== $(date -u +%FT%TZ) $* ====="; }
parts() {  # which carried parts are here: the machine keeps them only while it stays warm between calls
  local here=""
  for part in part1 part2 part3; do [ -d "$GPU_DATA/$part" ] && here="$here $part"; done
  echo "CIFAR-10 parts in $GPU_DATA:${here:- none}$([ -f "$GPU_DATA/build.py" ] && echo ' + build.py')"
}

step0() {
  banner "step 0: environment"
  {
    echo "date (UTC): $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) CPU cores"
    echo "git commit: $(git rev-parse --short HEAD 2>/dev/null || echo "${SWIN_EDU_GIT_COMMIT:-unknown}")"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi: not available"
    "$PYTHON" - <<'EOF'
import importlib, platform, sys
print("python", platform.python_version(), sys.executable)
try:
    import torch
    print("torch", torch.__version__, "| CUDA", torch.version.cuda, "| available", torch.cuda.is_available())
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        print(f"GPU {p.name}, {p.total_memory / 2**30:.1f} GiB, {p.multi_processor_count} SMs, capability "
              f"{p.major}.{p.minor}, bf16 {torch.cuda.is_bf16_supported()}")
except Exception as err:
    print("torch: NOT USABLE", err)
for name in ("einops", "matplotlib", "tqdm", "timm", "numpy", "PIL", "triton"):
    try:
        print(f"{name:10s} {getattr(importlib.import_module(name), '__version__', 'present')}")
    except Exception as err:
        print(f"{name:10s} MISSING ({err})")
EOF
    parts
    df -h . | tail -1
  } 2>&1 | tee "$OUT/env.txt"
}

step1() {
  banner "step 1: python -m swin_edu.bench (swin_edu against timm, same weights)"
  parts
  # rows that would start after BENCH_SECONDS are skipped; the hard stops keep the step under 3 minutes
  # --device cuda: without a usable GPU the step fails at once instead of measuring the CPU
  timeout $((BENCH_SECONDS + 40)) "$PYTHON" -m swin_edu.bench --device cuda --json "$OUT/bench.json" \
    --time-limit "$BENCH_SECONDS" ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.log"
  echo "step 1 exit status: ${PIPESTATUS[0]}"
  # a CUDA smoke run of the gpu recipe on random images (its batch, compiled): step 2 then starts from
  # a path known to work and a warm compilation cache; a failure here shows before the long call
  banner "step 1b: smoke run of the gpu recipe on ${SMOKE_IMAGES:-8192} random images"
  TQDM_MININTERVAL=10 timeout "$((SMOKE_SECONDS + 20))" "$PYTHON" -m swin_edu.train --recipe gpu --device cuda \
    --synthetic "${SMOKE_IMAGES:-8192}" --epochs 3 --time-limit "$SMOKE_SECONDS" --out "$OUT/smoke" \
    --weights-dir "$GPU_DATA/smoke" ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/smoke.log"
  echo "step 1b exit status: ${PIPESTATUS[0]}"
}

build_data() {
  if [ -f "$GPU_DATA/built/cifar-10-batches-py/test_batch" ]; then
    echo "CIFAR-10 already built in $GPU_DATA/built"; return 0
  fi
  local missing=""
  for part in part1 part2 part3; do [ -d "$GPU_DATA/$part" ] || missing="$missing $part"; done
  if [ -n "$missing" ] || [ ! -f "$GPU_DATA/build.py" ]; then
    echo "ERROR: $GPU_DATA lacks${missing}$([ -f "$GPU_DATA/build.py" ] || echo ' build.py'): the machine was"
    echo "given back between the calls (carried folders last only while it is warm). Carry the missing"
    echo "parts again (at most one per call) and rerun this step."
    return 1
  fi
  "$PYTHON" "$GPU_DATA/build.py" "$GPU_DATA/built"
}

step2() {
  banner "step 2: build CIFAR-10, then python -m swin_edu.train"
  local t0=$SECONDS
  build_data 2>&1 | tee "$OUT/train.log"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  echo "data built in $((SECONDS - t0)) s" | tee -a "$OUT/train.log"
  # history.json and run.json land in OUT after every epoch; the heavy files go to $GPU_DATA/run
  # --device cuda: without a usable GPU the run stops at once instead of training on the CPU cores
  TQDM_MININTERVAL=10 timeout "$TRAIN_TIMEOUT" "$PYTHON" -m swin_edu.train --recipe gpu --device cuda \
    --data "$GPU_DATA/built" --out "$OUT" --weights-dir "$GPU_DATA/run" ${TRAIN_ARGS:-} 2>&1 | tee -a "$OUT/train.log"
  echo "step 2 exit status: ${PIPESTATUS[0]}, $((SECONDS - t0)) s in all" | tee -a "$OUT/train.log"
}

case "$STEP" in
  0) step0 ;;
  1) step1 ;;
  2) step2 ;;
  all) step0; step1; step2 ;;
  *) echo "unknown step $STEP (0, 1, 2 or all)"; exit 2 ;;
esac
