# shellcheck shell=bash
# Globals set here are read by the scripts that source this file.
# shellcheck disable=SC2034
#
# Shared option parsing and command building for deploy/submit-*.sh. Sourced, never run.
#
# A submit script sets the SB_* defaults it needs, defines three hooks and calls sb_main "$@":
#   sb_usage_extra     prints the help lines for its own options
#   sb_parse_extra     handles one of its own options: given "$@" from the current option on,
#                      sets SB_CONSUMED to the number of words used (1 or 2) and returns 0,
#                      or returns 1 when the option is not its own
#   sb_finish          validates and appends its own spark-submit words to SB_CMD (and SB_JOB may
#                      still be changed here)
#
# Dry-run format: the exact spark-submit command as one shell command line, one option per
# line joined by " \" continuations, every word shell-quoted where needed, so it can be pasted
# into bash. Secret values are shown as *** (see sb_redact_conf), in dry-run and in the log line.

# The main class of the shaded jar (sdbatch.jobs.cli.Cli) and the subcommand it runs.
SB_MAIN_CLASS="${SB_MAIN_CLASS:-sdbatch.jobs.cli.Cli}"
SB_APP_NAME="${SB_APP_NAME:-sdbatch-generate}"
SB_DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SB_REPO_DIR="$(cd "$SB_DEPLOY_DIR/.." && pwd)"

SB_MASTER="${SB_MASTER:-}"
SB_DEPLOY_MODE="${SB_DEPLOY_MODE:-}"
SB_JAR="${SB_JAR:-}"
SB_MODEL=""
SB_INPUT=""
SB_OUTPUT=""
SB_MODEL_CACHE=""
SB_NUM_EXECUTORS=""
SB_EXECUTOR_CORES=""
SB_EXECUTOR_MEMORY=""
SB_DRIVER_MEMORY=""
# spark.executor.memoryOverhead: the executor's memory outside the JVM heap, where libtorch keeps
# weights and activations (see deploy/README.md, "Native memory"). Empty: Spark's default.
SB_EXECUTOR_MEMORY_OVERHEAD="${SB_EXECUTOR_MEMORY_OVERHEAD:-}"
SB_GPUS_PER_EXECUTOR="${SB_GPUS_PER_EXECUTOR:-}"
SB_GPUS_PER_TASK="${SB_GPUS_PER_TASK:-}"
SB_GPU_DISCOVERY="${SB_GPU_DISCOVERY:-}"
SB_PROPERTIES_FILE=""
SB_SPARK_SUBMIT="${SPARK_SUBMIT:-}"
SB_DRY_RUN=0
SB_MALLOC_TUNABLES="glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=268435456:glibc.malloc.hugetlb=1"
SB_CONFS=()
SB_JOB_ARGS=()
SB_CMD=()
SB_CONSUMED=0

# Keys whose values are never printed. Spark's own spark.redaction.regex default is
# (?i)secret|password|token|access[.]?key; "session" adds fs.s3a.session.token-like keys
# under any spelling, and "credential" catches provider-specific credential values.
SB_SECRET_KEY_REGEX='(secret|password|passwd|access[._-]?key|token|session|credential)'

sb_die() {
    echo "$(basename "$0"): $*" >&2
    echo "Run $(basename "$0") --help for the options." >&2
    exit 2
}

sb_usage_common() {
    cat <<USAGE
Common options:
  --master URL                 Spark master URL${SB_MASTER:+ (default: $SB_MASTER)}
  --deploy-mode client|cluster spark-submit deploy mode${SB_DEPLOY_MODE:+ (default: $SB_DEPLOY_MODE)}
  --jar PATH_OR_URI            the shaded sdbatch-jobs jar${SB_JAR:+ (default: $SB_JAR)}
  --model URI                  model folder (local path, file:, hdfs://, s3a://)
  --input URI                  prompt table (Parquet, CSV or JSON Lines)
  --output URI                 output root (images/, metadata/, run.json)
  --model-cache DIR            local model cache on each executor host
  --num-executors N            number of executors
  --executor-cores N           cores per executor
  --executor-memory SIZE       memory per executor (e.g. 16g)
  --executor-memory-overhead SIZE
                               spark.executor.memoryOverhead: native memory per executor outside the
                               heap, where libtorch keeps weights and activations${SB_EXECUTOR_MEMORY_OVERHEAD:+ (default: $SB_EXECUTOR_MEMORY_OVERHEAD)}
  --driver-memory SIZE         driver memory (e.g. 4g)
  --gpus-per-executor N        spark.executor.resource.gpu.amount (0: no GPU scheduling)
  --gpus-per-task X            spark.task.resource.gpu.amount (e.g. 1, or 0.5 to share a GPU)
  --gpu-discovery-script PATH  spark.executor.resource.gpu.discoveryScript, a path valid on the executors
  --properties-file FILE       spark-submit --properties-file (e.g. from spark-defaults.conf.example)
  --conf KEY=VALUE             any Spark or Hadoop setting, repeatable (spark.hadoop.fs.s3a.endpoint=...)
  --executor-env KEY=VALUE     environment variable for the executors (spark.executorEnv.KEY), repeatable
                               (e.g. PYTORCH_FLAVOR=cu128, PYTORCH_LIBRARY_PATH=/opt/djl/...)
  --spark-submit PATH          spark-submit to run (default: \$SPARK_SUBMIT, \$SPARK_HOME/bin/spark-submit,
                               or spark-submit on PATH)
  --dry-run                    print the exact spark-submit command and exit 0 without running it
  -h, --help                   this help
  -- ARGS...                   everything after -- is passed to 'sdbatch generate' unchanged
                               (e.g. -- --seeds 0-99 --guidance 3,7.5 --device auto --resume)

Secrets: a --conf whose key contains secret, password, access.key, token, session or credential
is printed as KEY=*** in --dry-run output and in the log line. Prefer the environment
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, picked up by the s3a credential chain) or cluster
secrets over --conf for credentials: command lines are visible to other users of the host.
USAGE
}

sb_need_value() {
    # $1 option, $2 number of remaining words (including the option)
    if [[ "$2" -lt 2 ]]; then
        sb_die "option $1 needs a value"
    fi
}

sb_check_positive_int() {
    [[ "$2" =~ ^[1-9][0-9]*$ ]] || sb_die "$1 must be a positive integer, got '$2'"
}

sb_check_nonneg_number() {
    [[ "$2" =~ ^([0-9]+([.][0-9]+)?|[.][0-9]+)$ ]] || sb_die "$1 must be a non-negative number, got '$2'"
}

sb_parse() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
            -h | --help)
                sb_usage
                exit 0
                ;;
            --dry-run)
                SB_DRY_RUN=1
                shift
                ;;
            --)
                shift
                SB_JOB_ARGS+=("$@")
                break
                ;;
            --master | --deploy-mode | --jar | --model | --input | --output | --model-cache | \
                --num-executors | --executor-cores | --executor-memory | --driver-memory | \
                --executor-memory-overhead | \
                --gpus-per-executor | --gpus-per-task | --gpu-discovery-script | \
                --properties-file | --conf | --executor-env | --spark-submit)
                sb_need_value "$1" "$#"
                sb_set_common "$1" "$2"
                shift 2
                ;;
            --*=*)
                # --option=value spelling
                local opt="${1%%=*}" val="${1#*=}"
                shift
                set -- "$opt" "$val" "$@"
                ;;
            *)
                SB_CONSUMED=0
                if sb_parse_extra "$@"; then
                    shift "$SB_CONSUMED"
                else
                    sb_die "unknown option '$1'"
                fi
                ;;
        esac
    done
}

sb_set_common() {
    case "$1" in
        --master) SB_MASTER="$2" ;;
        --deploy-mode)
            [[ "$2" == client || "$2" == cluster ]] || sb_die "--deploy-mode must be client or cluster, got '$2'"
            SB_DEPLOY_MODE="$2"
            ;;
        --jar) SB_JAR="$2" ;;
        --model) SB_MODEL="$2" ;;
        --input) SB_INPUT="$2" ;;
        --output) SB_OUTPUT="$2" ;;
        --model-cache) SB_MODEL_CACHE="$2" ;;
        --num-executors) sb_check_positive_int "$1" "$2" && SB_NUM_EXECUTORS="$2" ;;
        --executor-cores) sb_check_positive_int "$1" "$2" && SB_EXECUTOR_CORES="$2" ;;
        --executor-memory) SB_EXECUTOR_MEMORY="$2" ;;
        --executor-memory-overhead)
            [[ "$2" =~ ^[1-9][0-9]*[kKmMgGtT]?$ ]] || sb_die "--executor-memory-overhead must be a size like 8g or 6144m, got '$2'"
            SB_EXECUTOR_MEMORY_OVERHEAD="$2"
            ;;
        --driver-memory) SB_DRIVER_MEMORY="$2" ;;
        --gpus-per-executor) sb_check_nonneg_number "$1" "$2" && SB_GPUS_PER_EXECUTOR="$2" ;;
        --gpus-per-task) sb_check_nonneg_number "$1" "$2" && SB_GPUS_PER_TASK="$2" ;;
        --gpu-discovery-script) SB_GPU_DISCOVERY="$2" ;;
        --properties-file) SB_PROPERTIES_FILE="$2" ;;
        --conf)
            [[ "$2" == *=* && "${2%%=*}" != "" ]] || sb_die "--conf needs KEY=VALUE, got '$(sb_redact_conf "$2")'"
            SB_CONFS+=("$2")
            ;;
        --executor-env)
            [[ "$2" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || sb_die "--executor-env needs NAME=VALUE, got '$(sb_redact_conf "$2")'"
            SB_CONFS+=("spark.executorEnv.$2")
            ;;
        --spark-submit) SB_SPARK_SUBMIT="$2" ;;
    esac
}

# KEY=VALUE with VALUE replaced by *** when KEY names a secret.
sb_redact_conf() {
    local kv="$1" key
    key="${kv%%=*}"
    if [[ "${key,,}" =~ $SB_SECRET_KEY_REGEX ]]; then
        printf '%s=***' "$key"
    else
        printf '%s' "$kv"
    fi
}

# A URI with any user-info (scheme://user:pass@host/...) replaced by ***@.
sb_redact_uri() {
    local uri="$1"
    if [[ "$uri" =~ ^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@(.*)$ ]]; then
        printf '%s***@%s' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    else
        printf '%s' "$uri"
    fi
}

# One word, quoted for bash only when it needs it.
sb_quote() {
    local w="$1"
    if [[ -n "$w" && "$w" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
        printf '%s' "$w"
    else
        printf "'%s'" "${w//\'/\'\\\'\'}"
    fi
}

sb_add_conf() {
    SB_CMD+=(--conf "$1")
}

sb_resolve_spark_submit() {
    if [[ -n "$SB_SPARK_SUBMIT" ]]; then
        return
    fi
    if [[ -n "${SPARK_HOME:-}" ]]; then
        SB_SPARK_SUBMIT="$SPARK_HOME/bin/spark-submit"
    else
        SB_SPARK_SUBMIT="spark-submit"
    fi
}

# The newest shaded jar built by 'mvn -pl jobs -am package' in this checkout, if any. Only the
# -cluster jar carries DJL and the pipeline; the thin module jar does not run on a cluster.
sb_default_local_jar() {
    local jar best=""
    for jar in "$SB_REPO_DIR"/jobs/target/sdbatch-jobs-*-cluster.jar; do
        [[ -f "$jar" ]] || continue
        case "$jar" in
            *-sources.jar | *-javadoc.jar | *-tests.jar | */original-*) continue ;;
        esac
        if [[ -z "$best" || "$jar" -nt "$best" ]]; then
            best="$jar"
        fi
    done
    printf '%s' "${best:-$SB_REPO_DIR/jobs/target/sdbatch-jobs-cluster.jar}"
}

sb_add_gpu_confs() {
    if [[ -n "$SB_GPUS_PER_EXECUTOR" && "$SB_GPUS_PER_EXECUTOR" != 0 ]]; then
        sb_add_conf "spark.executor.resource.gpu.amount=$SB_GPUS_PER_EXECUTOR"
        sb_add_conf "spark.task.resource.gpu.amount=${SB_GPUS_PER_TASK:-1}"
        if [[ -n "$SB_GPU_DISCOVERY" ]]; then
            sb_add_conf "spark.executor.resource.gpu.discoveryScript=$SB_GPU_DISCOVERY"
        fi
    elif [[ -n "$SB_GPUS_PER_TASK" && "$SB_GPUS_PER_TASK" != 0 ]]; then
        sb_die "--gpus-per-task $SB_GPUS_PER_TASK needs --gpus-per-executor > 0"
    fi
}

sb_build() {
    [[ -n "$SB_MASTER" ]] || sb_die "--master is required"
    [[ -n "$SB_INPUT" ]] || sb_die "--input is required"
    [[ -n "$SB_OUTPUT" ]] || sb_die "--output is required"
    sb_resolve_spark_submit

    SB_CMD=("$SB_SPARK_SUBMIT" --master "$SB_MASTER")
    if [[ -n "$SB_DEPLOY_MODE" ]]; then
        SB_CMD+=(--deploy-mode "$SB_DEPLOY_MODE")
    fi
    SB_CMD+=(--name "$SB_APP_NAME" --class "$SB_MAIN_CLASS")
    if [[ -n "$SB_PROPERTIES_FILE" ]]; then
        SB_CMD+=(--properties-file "$SB_PROPERTIES_FILE")
    fi
    if [[ -n "$SB_DRIVER_MEMORY" ]]; then
        SB_CMD+=(--driver-memory "$SB_DRIVER_MEMORY")
    fi
    if [[ -n "$SB_EXECUTOR_MEMORY" ]]; then
        SB_CMD+=(--executor-memory "$SB_EXECUTOR_MEMORY")
    fi
    if [[ -n "$SB_EXECUTOR_CORES" ]]; then
        SB_CMD+=(--executor-cores "$SB_EXECUTOR_CORES")
    fi
    if [[ -n "$SB_EXECUTOR_MEMORY_OVERHEAD" ]]; then
        # libtorch's memory is native, outside --executor-memory's heap: YARN and Kubernetes kill
        # a container that exceeds heap + overhead (Spark's default overhead is 10%, min 384m).
        sb_add_conf "spark.executor.memoryOverhead=$SB_EXECUTOR_MEMORY_OVERHEAD"
    fi

    SB_JOB=(generate)
    if [[ -n "$SB_MODEL" ]]; then
        SB_JOB+=(--model "$SB_MODEL")
    fi
    SB_JOB+=(--input "$SB_INPUT" --output "$SB_OUTPUT")
    if [[ -n "$SB_MODEL_CACHE" ]]; then
        SB_JOB+=(--model-cache "$SB_MODEL_CACHE")
    fi
    SB_JOB+=("${SB_JOB_ARGS[@]}")

    # DJL must never download natives on a cluster node: they ship in the jar (CPU) or the
    # image (CUDA). A later --conf for the same key replaces this one (spark-submit: last wins).
    sb_add_conf "spark.driver.extraJavaOptions=-Dai.djl.offline=true"
    sb_add_conf "spark.executor.extraJavaOptions=-Dai.djl.offline=true"
    # glibc malloc settings that keep libtorch's CPU activations in reused memory instead of fresh
    # mmaps (BENCHMARKS.md, "malloc"); the same as bin/sdbatch. --executor-env GLIBC_TUNABLES=...
    # replaces it (spark-submit: last wins).
    sb_add_conf "spark.executorEnv.GLIBC_TUNABLES=$SB_MALLOC_TUNABLES"

    sb_finish

    local kv
    for kv in "${SB_CONFS[@]}"; do
        sb_add_conf "$kv"
    done
    SB_CMD+=("$SB_JAR" "${SB_JOB[@]}")
}

# Prints SB_CMD for people: redacted, one option per line.
sb_print_command() {
    local i=0 n=${#SB_CMD[@]} w line redact_next=0 uri_next=0
    line="$(sb_quote "${SB_CMD[0]}")"
    i=1
    while [[ $i -lt $n ]]; do
        w="${SB_CMD[$i]}"
        if [[ $redact_next == 1 ]]; then
            line+=" $(sb_quote "$(sb_redact_conf "$w")")"
            redact_next=0
        elif [[ $uri_next == 1 ]]; then
            line+=" $(sb_quote "$(sb_redact_uri "$w")")"
            uri_next=0
        elif [[ "$w" == --* || $i -eq $((n - ${#SB_JOB[@]} - 1)) ]]; then
            # a new option (or the jar) starts a new line
            printf '%s \\\n' "$line"
            line="    $(sb_quote "$(sb_redact_uri "$w")")"
            [[ "$w" == --conf ]] && redact_next=1
            [[ "$w" == --model || "$w" == --input || "$w" == --output ]] && uri_next=1
        else
            line+=" $(sb_quote "$(sb_redact_uri "$w")")"
        fi
        i=$((i + 1))
    done
    printf '%s\n' "$line"
}

sb_main() {
    sb_parse "$@"
    sb_build
    if [[ $SB_DRY_RUN == 1 ]]; then
        sb_print_command
        exit 0
    fi
    {
        echo "$(basename "$0"): running:"
        sb_print_command
    } >&2
    exec "${SB_CMD[@]}"
}
