package sdbatch.pipeline.bench;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.stream.Stream;
import sdbatch.pipeline.models.blocks.Attention;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.models.kernels.ScaledDotProductAttention;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.GroupNorm;

/**
 * The report's {@code machine}: what the numbers were measured on (CPU, cores, load, engine,
 * threads, the native settings in force) and, at the end of the run, which optional libtorch paths
 * were used; plus this process's page faults and memory from {@code /proc}.
 */
final class MachineFacts {
    private MachineFacts() {}

    /** The facts known at the start of a run. */
    static JsonObject atStart(Engine engine, BenchOptions options) {
        JsonObject m = new JsonObject();
        m.addProperty("date", OffsetDateTime.now().toString());
        m.addProperty("cpu", cpuModel());
        m.addProperty("cores", Runtime.getRuntime().availableProcessors());
        m.addProperty("load_average_start", loadAverage());
        m.addProperty("java", System.getProperty("java.version"));
        m.addProperty("engine", engine.getEngineName() + " " + engine.getVersion());
        m.addProperty("device", engine.defaultDevice().toString());
        m.addProperty("intra_op_threads", JniUtils.getNumThreads());
        m.addProperty("omp_wait_policy", NativeEnvironment.ompWaitPolicy(options.ompWait()));
        String tunables = System.getenv("GLIBC_TUNABLES");
        m.addProperty("glibc_tunables", tunables == null ? "" : tunables);
        m.addProperty("conv_lowering", Conv2d.lowering());
        m.addProperty("group_norm_kernel", GroupNorm.fused());
        m.addProperty("attention_max_score_elements", Attention.maxScoreElements());
        return m;
    }

    /** Adds what is known only at the end of a run to {@code machine}. */
    static void atEnd(JsonObject machine, BenchOptions options) {
        machine.addProperty("load_average_end", loadAverage());
        // Known only after the first attention / bf16 call tried to load its module.
        fastPath(
                machine,
                "attention_fused",
                ScaledDotProductAttention.enabled(),
                ScaledDotProductAttention.unavailableReason());
        // bfloat16 paths run only with --dtype bf16 or in the ablation.
        boolean bf16Ran = options.dtype().equals("bf16") || options.ablation();
        fastPath(
                machine,
                "bf16_prepacked_weights",
                bf16Ran && Bf16Compute.prepack(),
                Bf16Compute.prepackUnavailableReason());
        fastPath(
                machine,
                "bf16_block_calls",
                bf16Ran && Bf16Compute.fused(),
                Bf16Compute.fusedUnavailableReason());
        machine.addProperty("peak_rss_mb", procStatusMb("VmHWM"));
    }

    /** Whether an optional libtorch path was used ({@code key}), and why not if it failed. */
    private static void fastPath(JsonObject machine, String key, boolean on, String unavailable) {
        machine.addProperty(key, on && unavailable == null);
        if (unavailable != null) {
            machine.addProperty(key + "_unavailable", unavailable);
        }
    }

    private static String cpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElse(System.getProperty("os.arch"));
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** This process's minor page faults so far ({@code /proc/self/stat} field 10), or 0. */
    static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // Fields after the command name, which is in parentheses and may contain spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[7]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** A {@code /proc/self/status} size field (kB) in MB, or -1 where there is none. */
    static double procStatusMb(String field) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(l -> l.startsWith(field + ":"))
                    .map(l -> l.replaceAll("[^0-9]", ""))
                    .mapToDouble(kb -> BenchRun.round(Long.parseLong(kb) / 1024.0, 1))
                    .findFirst()
                    .orElse(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
