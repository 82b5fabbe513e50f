#!/usr/bin/env bash
# Submits 'sdbatch generate' to a Spark standalone cluster (spark://host:7077) with GPU scheduling.
set -euo pipefail
# shellcheck source=lib/submit-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submit-common.sh"

SB_DEPLOY_MODE="client"
SB_JAR="$(sb_default_local_jar)"
SB_GPUS_PER_EXECUTOR="1"
SB_GPUS_PER_TASK="1"

sb_usage() {
    cat <<USAGE
Usage: $(basename "$0") --master spark://HOST:7077 --input TABLE --output URI --model URI [options] [-- job args]

Submits the shaded sdbatch-jobs jar to a Spark standalone cluster. Each executor gets
--gpus-per-executor GPUs (default 1) and each task --gpus-per-task (default 1), so one task
runs per GPU. In standalone mode the *workers* find the GPUs and hand addresses to executors:
start every worker with
  SPARK_WORKER_OPTS="-Dspark.worker.resource.gpu.amount=<GPUs on the host>
                     -Dspark.worker.resource.gpu.discoveryScript=<path>/gpu-discovery.sh"
so no executor discovery script is needed (pass --gpu-discovery-script to set one anyway).
--num-executors N needs --executor-cores C and becomes spark.cores.max = N*C (standalone starts
executors of C cores until that many cores are in use). In cluster deploy mode the jar must be a
path or URI every worker can read (hdfs://, s3a://, or the same local path on every host).

USAGE
    sb_usage_common
}

sb_parse_extra() {
    return 1
}

sb_finish() {
    [[ "$SB_MASTER" == spark://* ]] || sb_die "--master must be spark://HOST:PORT for a standalone cluster, got '$SB_MASTER'"
    if [[ -n "$SB_NUM_EXECUTORS" ]]; then
        [[ -n "$SB_EXECUTOR_CORES" ]] || sb_die "--num-executors on a standalone cluster needs --executor-cores"
        sb_add_conf "spark.cores.max=$((SB_NUM_EXECUTORS * SB_EXECUTOR_CORES))"
    fi
    sb_add_gpu_confs
}

sb_main "$@"
