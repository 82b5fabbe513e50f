#!/usr/bin/env bash
# Submits 'sdbatch generate' to Kubernetes (native Spark on K8s) with nvidia.com/gpu executors.
set -euo pipefail
# shellcheck source=lib/submit-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submit-common.sh"

SB_DEPLOY_MODE="cluster"
# The jar inside the image built from deploy/Dockerfile.
SB_JAR="local:///opt/sdbatch/sdbatch-jobs.jar"
SB_GPUS_PER_EXECUTOR="1"
SB_GPUS_PER_TASK="1"
# libtorch's native memory (weights, activations) per executor: see deploy/README.md.
SB_EXECUTOR_MEMORY_OVERHEAD="${SB_EXECUTOR_MEMORY_OVERHEAD:-8g}"
SB_GPU_DISCOVERY="/opt/sdbatch/gpu-discovery.sh"
SB_IMAGE=""
SB_NAMESPACE="default"
SB_SERVICE_ACCOUNT="spark"
SB_POD_TEMPLATE="$SB_DEPLOY_DIR/k8s/executor-pod-template.yaml"
SB_S3_SECRET=""
# Where the executor pod template mounts the node's model cache (hostPath): executors keep their
# model copy there (SDBATCH_MODEL_CACHE), one per node and across jobs, instead of one per pod.
SB_NODE_MODEL_CACHE="/var/cache/sdbatch/models"

sb_usage() {
    cat <<USAGE
Usage: $(basename "$0") --master k8s://https://HOST:PORT --image IMAGE --input URI --output URI --model URI [options] [-- job args]

Submits to Kubernetes in cluster mode with the image built from deploy/Dockerfile (jar at
$SB_JAR, discovery script at $SB_GPU_DISCOVERY, CUDA natives pre-loaded). Executors ask for
nvidia.com/gpu (spark.executor.resource.gpu.vendor) and use the executor pod template.

Kubernetes options:
  --image IMAGE                container image for driver and executors (required)
  --namespace NS               namespace (default: $SB_NAMESPACE)
  --service-account NAME       driver service account allowed to create pods (default: $SB_SERVICE_ACCOUNT)
  --pod-template FILE          executor pod template (default: $SB_POD_TEMPLATE)
  --node-model-cache DIR       the model cache folder the executor pod template mounts, passed to
                               executors as SDBATCH_MODEL_CACHE (default: $SB_NODE_MODEL_CACHE, the
                               default template's hostPath; --model-cache overrides it everywhere)
  --s3-credentials-secret NAME Kubernetes secret with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
                               exposed as those environment variables to driver and executors (the s3a
                               EnvironmentVariableCredentialsProvider reads them)

USAGE
    sb_usage_common
}

sb_parse_extra() {
    case "$1" in
        --image | --namespace | --service-account | --pod-template | --node-model-cache | --s3-credentials-secret)
            sb_need_value "$1" "$#"
            case "$1" in
                --image) SB_IMAGE="$2" ;;
                --namespace) SB_NAMESPACE="$2" ;;
                --service-account) SB_SERVICE_ACCOUNT="$2" ;;
                --pod-template) SB_POD_TEMPLATE="$2" ;;
                --node-model-cache) SB_NODE_MODEL_CACHE="$2" ;;
                --s3-credentials-secret) SB_S3_SECRET="$2" ;;
            esac
            SB_CONSUMED=2
            return 0
            ;;
    esac
    return 1
}

sb_finish() {
    [[ "$SB_MASTER" == k8s://* ]] || sb_die "--master must be k8s://https://HOST:PORT, got '$SB_MASTER'"
    [[ -n "$SB_IMAGE" ]] || sb_die "--image is required"
    if [[ -n "$SB_NUM_EXECUTORS" ]]; then
        SB_CMD+=(--num-executors "$SB_NUM_EXECUTORS")
    fi
    sb_add_conf "spark.kubernetes.container.image=$SB_IMAGE"
    sb_add_conf "spark.kubernetes.namespace=$SB_NAMESPACE"
    sb_add_conf "spark.kubernetes.authenticate.driver.serviceAccountName=$SB_SERVICE_ACCOUNT"
    if [[ -n "$SB_POD_TEMPLATE" ]]; then
        sb_add_conf "spark.kubernetes.executor.podTemplateFile=$SB_POD_TEMPLATE"
    fi
    if [[ -n "$SB_NODE_MODEL_CACHE" ]]; then
        sb_add_conf "spark.executorEnv.SDBATCH_MODEL_CACHE=$SB_NODE_MODEL_CACHE"
    fi
    if [[ -n "$SB_GPUS_PER_EXECUTOR" && "$SB_GPUS_PER_EXECUTOR" != 0 ]]; then
        sb_add_conf "spark.executor.resource.gpu.vendor=nvidia.com"
    fi
    if [[ -n "$SB_S3_SECRET" ]]; then
        local role var
        for role in driver executor; do
            for var in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
                sb_add_conf "spark.kubernetes.$role.secretKeyRef.$var=$SB_S3_SECRET:$var"
            done
        done
    fi
    sb_add_gpu_confs
}

sb_main "$@"
