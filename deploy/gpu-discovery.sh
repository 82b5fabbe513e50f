#!/usr/bin/env bash
# Spark GPU resource discovery script (spark.executor.resource.gpu.discoveryScript and
# spark.worker.resource.gpu.discoveryScript).
#
# Contract (Spark's ResourceDiscoveryScriptPlugin): print one JSON object of Spark's
# ResourceInformation shape on stdout, exit 0:
#   {"name": "gpu", "addresses": ["0","1"]}
# The addresses are CUDA ordinals in the visible order (what cuda:N / DJL's Device.gpu(N) mean in
# a process with this environment), never nvidia-smi's indexes: with CUDA_VISIBLE_DEVICES set,
# ordinal k is its k-th entry (indexes or GPU UUIDs); unset, the k-th GPU nvidia-smi lists here
# (under cgroups or a device plugin those may be host GPUs 2 and 3, still ordinals 0 and 1).
# The ordinal-to-GPU mapping goes to stderr. Run it with the executors' environment.
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
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
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

if ! raw="$(nvidia-smi --query-gpu=index,uuid --format=csv,noheader)"; then
    echo "gpu-discovery.sh: nvidia-smi --query-gpu=index,uuid failed" >&2
    exit 1
fi

# The GPUs this container can reach, in nvidia-smi's order.
smi_index=()
smi_uuid=()
while IFS= read -r line; do
    line="${line//[[:space:]]/}"
    if [[ -z "$line" ]]; then
        continue
    fi
    if ! [[ "$line" =~ ^([0-9]+),(GPU-[0-9A-Za-z-]+)$ ]]; then
        echo "gpu-discovery.sh: unexpected nvidia-smi output line '$line' (want 'index, GPU-uuid')" >&2
        exit 1
    fi
    smi_index+=("${BASH_REMATCH[1]}")
    smi_uuid+=("${BASH_REMATCH[2]}")
done <<<"$raw"

# The physical GPU (position in the nvidia-smi list) one CUDA_VISIBLE_DEVICES entry names: an
# nvidia-smi index, a full UUID or a unique UUID prefix (with or without "GPU-"), as CUDA reads it.
# Prints nothing when the entry names no GPU (CUDA then ignores it and every entry after it).
physical_of() {
    local entry="$1" i found=""
    for i in "${!smi_index[@]}"; do
        if [[ "$entry" =~ ^[0-9]+$ ]]; then
            [[ "${smi_index[$i]}" == "$entry" ]] || continue
        elif [[ "${smi_uuid[$i]}" != "$entry"* && "${smi_uuid[$i]}" != "GPU-$entry"* ]]; then
            continue
        fi
        if [[ -n "$found" ]]; then
            return 0 # ambiguous prefix: names no single GPU
        fi
        found="$i"
    done
    printf '%s' "$found"
}

# Spark's addresses are CUDA ordinals in the visible order: what torch's cuda:N and DJL's
# Device.gpu(N) take in a process with this environment. With CUDA_VISIBLE_DEVICES set, ordinal k
# is its k-th entry; unset, ordinal k is the k-th GPU this container can reach. nvidia-smi's own
# indexes are never addresses: they ignore CUDA_VISIBLE_DEVICES and, under cgroups or a device
# plugin, can start anywhere (a container given host GPUs 2 and 3 must still use cuda:0, cuda:1).
addresses=()
if [[ -n "${CUDA_VISIBLE_DEVICES+set}" ]]; then
    IFS=',' read -r -a entries <<<"$CUDA_VISIBLE_DEVICES"
    used=" "
    for entry in "${entries[@]}"; do
        entry="${entry//[[:space:]]/}"
        if [[ "$entry" == MIG-* ]]; then
            # MIG instances are not listed by --query-gpu; CUDA numbers them in this order too.
            echo "gpu-discovery.sh: CUDA ordinal ${#addresses[@]} = MIG instance $entry" >&2
            addresses+=("${#addresses[@]}")
            continue
        fi
        i="$(physical_of "$entry")"
        if [[ -z "$i" || "$used" == *" $i "* ]]; then
            echo "gpu-discovery.sh: CUDA_VISIBLE_DEVICES entry '$entry' names no single reachable GPU (or repeats one); CUDA ignores it and the entries after it" >&2
            break
        fi
        used+="$i "
        echo "gpu-discovery.sh: CUDA ordinal ${#addresses[@]} = nvidia-smi index ${smi_index[$i]} (${smi_uuid[$i]})" >&2
        addresses+=("${#addresses[@]}")
    done
else
    for i in "${!smi_index[@]}"; do
        echo "gpu-discovery.sh: CUDA ordinal $i = nvidia-smi index ${smi_index[$i]} (${smi_uuid[$i]})" >&2
        addresses+=("$i")
    done
fi
if [[ ${#addresses[@]} == 0 ]]; then
    echo "gpu-discovery.sh: no GPU is visible to CUDA here (CUDA_VISIBLE_DEVICES='${CUDA_VISIBLE_DEVICES-<unset>}')" >&2
fi

emit "${addresses[@]}"
