#!/usr/bin/env bash
# Spark GPU resource discovery script (spark.executor.resource.gpu.discoveryScript and
# spark.worker.resource.gpu.discoveryScript).
#
# Contract (Spark's ResourceDiscoveryScriptPlugin): print one JSON object of Spark's
# ResourceInformation shape on stdout, exit 0:
#   {"name": "gpu", "addresses": ["0","1"]}
# The addresses are the GPU indexes nvidia-smi reports. nvidia-smi ignores CUDA_VISIBLE_DEVICES:
# it lists the GPUs this container (Kubernetes device plugin, YARN Docker/cgroups isolation) can
# see, so run it where each executor sees only its own GPUs, or let standalone workers share out.
#
# SDBATCH_FAKE_GPUS=N prints N fake addresses "0".."N-1" without nvidia-smi: for tests and for
# CPU-only clusters that exercise GPU scheduling. SDBATCH_GPU_RESOURCE_NAME changes the name
# (default gpu). Anything else on stdout breaks the contract, so messages go to stderr.
set -euo pipefail

name="${SDBATCH_GPU_RESOURCE_NAME:-gpu}"

emit() {
    local first=1 addr
    printf '{"name": "%s", "addresses": [' "$name"
    for addr in "$@"; do
        if [[ $first == 1 ]]; then
            first=0
        else
            printf ', '
        fi
        printf '"%s"' "$addr"
    done
    printf ']}\n'
}

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

if [[ -n "${SDBATCH_FAKE_GPUS:-}" ]]; then
    if ! [[ "$SDBATCH_FAKE_GPUS" =~ ^[0-9]+$ ]]; then
        echo "gpu-discovery.sh: SDBATCH_FAKE_GPUS must be a non-negative integer, got '$SDBATCH_FAKE_GPUS'" >&2
        exit 1
    fi
    addresses=()
    for ((i = 0; i < SDBATCH_FAKE_GPUS; i++)); do
        addresses+=("$i")
    done
    emit "${addresses[@]}"
    exit 0
fi

if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "gpu-discovery.sh: nvidia-smi not found on PATH; no NVIDIA driver on this host?" >&2
    exit 1
fi

if ! raw="$(nvidia-smi --query-gpu=index --format=csv,noheader)"; then
    echo "gpu-discovery.sh: nvidia-smi --query-gpu=index failed" >&2
    exit 1
fi

addresses=()
while IFS= read -r line; do
    line="${line//[[:space:]]/}"
    if [[ -z "$line" ]]; then
        continue
    fi
    if ! [[ "$line" =~ ^[0-9]+$ ]]; then
        echo "gpu-discovery.sh: unexpected nvidia-smi output line '$line'" >&2
        exit 1
    fi
    addresses+=("$line")
done <<<"$raw"

emit "${addresses[@]}"
