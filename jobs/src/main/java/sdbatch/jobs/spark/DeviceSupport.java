package sdbatch.jobs.spark;

import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import sdbatch.jobs.cli.Flags;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.StartupException;

/**
 * Whether {@code --device gpu} can work, decided on the driver before any task runs: a device that
 * cannot work stops the job at start (exit 2) instead of failing every task or row.
 *
 * <ul>
 *   <li>Spark local mode ({@code local}, {@code local[N]}): the tasks run in this JVM and use its
 *       GPUs ({@link GpuAssignment#resolveLocal}), so this JVM's libtorch must see at least one
 *       CUDA GPU.
 *   <li>Any other master: tasks get GPUs from Spark's resource scheduling only, so it must be
 *       configured ({@code spark.task.resource.gpu.amount} or {@code
 *       spark.executor.resource.gpu.amount} above 0). The executors' GPUs themselves cannot be seen
 *       from the driver (often a CPU-only pod).
 * </ul>
 */
public final class DeviceSupport {
    private DeviceSupport() {}

    /** Whether {@code master} is Spark local mode, where the driver JVM runs the tasks. */
    public static boolean isLocalMode(String master) {
        return master.equals("local") || master.startsWith("local[");
    }

    /**
     * Why {@code device} cannot work with this master and configuration, or null where it can.
     *
     * @param localGpus GPUs this JVM's engine sees (asked only in local mode with {@code gpu})
     * @param engine the engine's description for the message (asked only when refusing)
     */
    public static String refusal(
            JobOptions.Device device,
            String master,
            Map<String, String> sparkConf,
            IntSupplier localGpus,
            Supplier<String> engine) {
        if (device != JobOptions.Device.GPU) {
            return null;
        }
        if (isLocalMode(master)) {
            if (localGpus.getAsInt() > 0) {
                return null;
            }
            return Flags.DEVICE
                    + " gpu: Spark local mode ("
                    + master
                    + ") runs the tasks in this JVM, and its libtorch sees no CUDA GPU ("
                    + engine.get()
                    + "); use "
                    + Flags.DEVICE
                    + " cpu here, or run where the CUDA libtorch sees a GPU";
        }
        if (DtypeSupport.expectsGpu(JobOptions.Device.AUTO, sparkConf)) {
            return null;
        }
        return Flags.DEVICE
                + " gpu with master "
                + master
                + ", but Spark's GPU scheduling is not configured, so no task would get a GPU:"
                + " set spark.executor.resource.gpu.amount, spark.task.resource.gpu.amount and a"
                + " discovery script (deploy/submit-*.sh --gpus-per-executor, --gpus-per-task)";
    }

    /**
     * Refuses at start ({@link StartupException}, exit 2) a device that cannot work; loads the
     * engine only for {@code --device gpu} in local mode.
     */
    public static void checkAtStart(
            JobOptions.Device device, String master, Map<String, String> sparkConf) {
        String why = refusal(device, master, sparkConf, EngineGpus::count, EngineGpus::describe);
        if (why != null) {
            throw new StartupException(why);
        }
    }
}
