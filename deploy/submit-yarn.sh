#!/usr/bin/env bash
# Submits 'sdbatch generate' to Hadoop YARN with GPU scheduling (yarn.io/gpu).
set -euo pipefail
# shellcheck source=lib/submit-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submit-common.sh"

SB_MASTER="yarn"
SB_DEPLOY_MODE="cluster"
SB_JAR="$(sb_default_local_jar)"
SB_GPUS_PER_EXECUTOR="1"
SB_GPUS_PER_TASK="1"
# libtorch's native memory (weights, activations) per executor: see deploy/README.md.
SB_EXECUTOR_MEMORY_OVERHEAD="${SB_EXECUTOR_MEMORY_OVERHEAD:-8g}"
SB_QUEUE=""

sb_usage() {
    cat <<USAGE
Usage: $(basename "$0") --input URI --output URI --model URI [options] [-- job args]

Submits the shaded sdbatch-jobs jar to YARN (HADOOP_CONF_DIR or YARN_CONF_DIR must point at the
cluster configuration). Spark turns spark.executor.resource.gpu.amount into YARN's yarn.io/gpu
resource; YARN does not tell the executor which GPUs it got, so the discovery script is shipped
with --files and run from the container's working directory (./gpu-discovery.sh), unless
--gpu-discovery-script names another path. The NodeManagers need GPU scheduling and isolation
enabled (see deploy/yarn/README.md).

YARN options:
  --queue NAME                 YARN queue

USAGE
    sb_usage_common
}

sb_parse_extra() {
    case "$1" in
        --queue)
            sb_need_value "$1" "$#"
            SB_QUEUE="$2"
            SB_CONSUMED=2
            return 0
            ;;
    esac
    return 1
}

sb_finish() {
    if [[ -n "$SB_QUEUE" ]]; then
        SB_CMD+=(--queue "$SB_QUEUE")
    fi
    if [[ -n "$SB_NUM_EXECUTORS" ]]; then
        SB_CMD+=(--num-executors "$SB_NUM_EXECUTORS")
    fi
    if [[ -n "$SB_GPUS_PER_EXECUTOR" && "$SB_GPUS_PER_EXECUTOR" != 0 && -z "$SB_GPU_DISCOVERY" ]]; then
        SB_CMD+=(--files "$SB_DEPLOY_DIR/gpu-discovery.sh")
        SB_GPU_DISCOVERY="./gpu-discovery.sh"
    fi
    sb_add_gpu_confs
}

sb_main "$@"
