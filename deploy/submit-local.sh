#!/usr/bin/env bash
# Runs 'sdbatch generate' with spark-submit on this machine (Spark local mode).
set -euo pipefail
# shellcheck source=lib/submit-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submit-common.sh"

SB_MASTER="local[*]"
SB_JAR="$(sb_default_local_jar)"

sb_usage() {
    cat <<USAGE
Usage: $(basename "$0") --input TABLE --output DIR_OR_URI [--model DIR_OR_URI] [options] [-- job args]

Submits the shaded sdbatch-jobs jar to Spark in local mode on this machine: one JVM, the driver
runs the tasks. Spark does not schedule GPUs in local mode; to use this machine's GPUs pass
'-- --device gpu': the tasks then use the GPUs this JVM's libtorch sees (CUDA_VISIBLE_DEVICES
applies; the CUDA libtorch is needed, see deploy/README.md), task i on CUDA ordinal i mod GPUs, so
'--master local[N]' with N = GPUs runs one task per GPU. Where libtorch sees no GPU the job refuses
'--device gpu' at start (exit 2) instead of failing every row. --gpus-per-executor is accepted only with
a local-cluster[N,cores,memMB] master (Spark's multi-JVM test mode), where every executor runs
the discovery script (default: $SB_DEPLOY_DIR/gpu-discovery.sh).

USAGE
    sb_usage_common
}

sb_parse_extra() {
    return 1
}

sb_finish() {
    if [[ -n "$SB_GPUS_PER_EXECUTOR" && "$SB_GPUS_PER_EXECUTOR" != 0 ]]; then
        if [[ "$SB_MASTER" != local-cluster\[* ]]; then
            sb_die "--gpus-per-executor needs a local-cluster[...] master; Spark local mode ($SB_MASTER) does not schedule GPUs (use '-- --device gpu')"
        fi
        SB_GPU_DISCOVERY="${SB_GPU_DISCOVERY:-$SB_DEPLOY_DIR/gpu-discovery.sh}"
    fi
    sb_add_gpu_confs
}

sb_main "$@"
