package sdbatch.jobs.spark;

import java.util.Map;
import sdbatch.jobs.cli.Flags;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.StartupException;

/**
 * Which {@code --dtype} runs on which device, decided before anything is generated. Each
 * combination either runs as asked or is refused with the reason; none silently computes in another
 * precision.
 *
 * <ul>
 *   <li>{@code fp32}: everywhere.
 *   <li>{@code fp16}: GPU only. libtorch's CPU float16 kernels are missing for some ops and much
 *       slower than float32 for the rest.
 *   <li>{@code bf16}: CPU only (float32 arrays, bfloat16 products inside libtorch, where the CPU's
 *       kernels pass a known-answer check). On a GPU it is refused: use {@code fp16} there.
 * </ul>
 */
public final class DtypeSupport {
    private DtypeSupport() {}

    /** Why {@code dtype} cannot run on a GPU ({@code gpu}) or the CPU, or null where it can. */
    public static String refusal(String dtype, boolean gpu) {
        if ("fp16".equals(dtype) && !gpu) {
            return Flags.DTYPE
                    + " fp16 needs a GPU (tasks here run on the CPU): on CPU use "
                    + Flags.DTYPE
                    + " bf16 or fp32";
        }
        if ("bf16".equals(dtype) && gpu) {
            return Flags.DTYPE
                    + " bf16 is the CPU path (float32 arrays, bfloat16 products); on a GPU use "
                    + Flags.DTYPE
                    + " fp16";
        }
        return null;
    }

    /**
     * Whether tasks will run on a GPU, as far as the driver can tell: {@code --device gpu}, or
     * {@code auto} with Spark's GPU resource scheduling configured ({@code
     * spark.task.resource.gpu.amount} or {@code spark.executor.resource.gpu.amount} above 0).
     */
    public static boolean expectsGpu(JobOptions.Device device, Map<String, String> sparkConf) {
        return switch (device) {
            case GPU -> true;
            case CPU -> false;
            case AUTO ->
                    positive(sparkConf.get("spark.task.resource.gpu.amount"))
                            || positive(sparkConf.get("spark.executor.resource.gpu.amount"));
        };
    }

    private static boolean positive(String amount) {
        if (amount == null) {
            return false;
        }
        try {
            return Double.parseDouble(amount.trim()) > 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Refuses at start ({@link StartupException}, exit 2) a combination that cannot run. */
    public static void checkAtStart(
            String dtype, JobOptions.Device device, Map<String, String> conf) {
        String why = refusal(dtype, expectsGpu(device, conf));
        if (why != null) {
            throw new StartupException(
                    why
                            + " ("
                            + Flags.DEVICE
                            + " "
                            + device.name().toLowerCase(java.util.Locale.ROOT)
                            + ")");
        }
    }
}
