package sdbatch.jobs.spark;

import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.StartupException;

/**
 * Which device a task generates on, from the GPU Spark's resource scheduling assigned to it ({@code
 * spark.executor.resource.gpu.amount}, {@code spark.task.resource.gpu.amount}, a discovery script)
 * and {@code --device}.
 *
 * @param device the device to use: {@code cpu} or {@code gpu:<address>}
 * @param gpuAddress the assigned GPU address, null when none (recorded even for {@code cpu})
 */
public record GpuAssignment(String device, String gpuAddress) {
    /** The resource name Spark uses for GPUs. */
    public static final String GPU = "gpu";

    /** The first GPU address assigned to the current task, or null (also outside a task). */
    public static String assignedAddress() {
        TaskContext context = TaskContext.get();
        if (context == null) {
            return null;
        }
        ResourceInformation gpu = context.resources().get(GPU).getOrElse(() -> null);
        if (gpu == null || gpu.addresses().length == 0) {
            return null;
        }
        return gpu.addresses()[0];
    }

    /**
     * Resolves {@code --device} against the assigned addresses.
     *
     * <ul>
     *   <li>{@code auto}: the assigned GPU if any, else the CPU;
     *   <li>{@code cpu}: the CPU, still recording the assigned address;
     *   <li>{@code gpu}: the assigned GPU; none assigned is an error (configure resource
     *       scheduling).
     * </ul>
     */
    public static GpuAssignment resolve(JobOptions.Device mode, String assigned) {
        switch (mode) {
            case CPU:
                return new GpuAssignment("cpu", assigned);
            case GPU:
                if (assigned == null) {
                    throw new StartupException(
                            "--device gpu but Spark assigned no GPU to the task; set"
                                    + " spark.executor.resource.gpu.amount,"
                                    + " spark.task.resource.gpu.amount and a discovery script");
                }
                return new GpuAssignment("gpu:" + assigned, assigned);
            default:
                return assigned == null
                        ? new GpuAssignment("cpu", null)
                        : new GpuAssignment("gpu:" + assigned, assigned);
        }
    }

    /**
     * The DJL device of {@link #device()}: {@code Device.gpu(ordinal)} with the address mapped by
     * {@link #cudaOrdinal} under this process's {@code CUDA_VISIBLE_DEVICES}, or the CPU.
     */
    public ai.djl.Device djlDevice() {
        return djlDevice(System.getenv(CUDA_VISIBLE_DEVICES));
    }

    /** {@link #djlDevice()} under the given {@code CUDA_VISIBLE_DEVICES} (null: unset). */
    ai.djl.Device djlDevice(String cudaVisibleDevices) {
        if (device.startsWith("gpu:")) {
            return ai.djl.Device.gpu(cudaOrdinal(device.substring(4), cudaVisibleDevices));
        }
        return ai.djl.Device.cpu();
    }

    /** The environment variable that renumbers the GPUs a CUDA process sees. */
    public static final String CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES";

    /**
     * The CUDA ordinal ({@code cuda:N}, DJL's {@code Device.gpu(N)}) of a Spark GPU address, in a
     * process whose {@code CUDA_VISIBLE_DEVICES} is {@code cudaVisibleDevices}. One numbering end
     * to end: addresses are CUDA ordinals in the visible order, as {@code deploy/gpu-discovery.sh}
     * reports them; a discovery script that reports GPU UUIDs ({@code GPU-…}, {@code MIG-…}) is
     * mapped to the position of that UUID in {@code CUDA_VISIBLE_DEVICES}. nvidia-smi indexes are
     * not ordinals once {@code CUDA_VISIBLE_DEVICES} or a container's device list renumbers the
     * GPUs; an address that cannot be an ordinal here is refused rather than sent to a GPU another
     * task owns.
     *
     * @param address the address Spark assigned
     * @param cudaVisibleDevices the process's {@code CUDA_VISIBLE_DEVICES}, null when unset
     * @throws IllegalStateException naming the address, the variable and the rule
     */
    public static int cudaOrdinal(String address, String cudaVisibleDevices) {
        List<String> visible = null;
        if (cudaVisibleDevices != null) {
            visible = new java.util.ArrayList<>();
            for (String entry : cudaVisibleDevices.split(",", -1)) {
                if (!entry.isBlank()) {
                    visible.add(entry.strip());
                }
            }
        }
        String shown =
                cudaVisibleDevices == null
                        ? "CUDA_VISIBLE_DEVICES unset"
                        : "CUDA_VISIBLE_DEVICES='" + cudaVisibleDevices + "'";
        if (address.matches("[0-9]{1,9}")) {
            int ordinal = Integer.parseInt(address);
            if (visible != null && ordinal >= visible.size()) {
                throw new IllegalStateException(
                        "GPU address '"
                                + address
                                + "' is not a CUDA ordinal here: "
                                + shown
                                + " makes "
                                + visible.size()
                                + " GPU(s) visible (ordinals 0.."
                                + (visible.size() - 1)
                                + "). Spark's GPU addresses must be CUDA ordinals in the visible"
                                + " order, as deploy/gpu-discovery.sh reports them, not"
                                + " nvidia-smi indexes");
            }
            return ordinal;
        }
        if (address.startsWith("GPU-") || address.startsWith("MIG-")) {
            if (visible != null) {
                for (int i = 0; i < visible.size(); i++) {
                    String entry = visible.get(i);
                    // CUDA accepts a UUID or a prefix of one, with or without "GPU-"; an entry of
                    // digits is an index, never a UUID prefix.
                    boolean uuidPrefix =
                            !entry.matches("[0-9]+")
                                    && !entry.equals("GPU-")
                                    && !entry.equals("MIG-");
                    if (uuidPrefix
                            && (address.startsWith(entry) || address.startsWith("GPU-" + entry))) {
                        return i;
                    }
                }
            }
            throw new IllegalStateException(
                    "GPU address '"
                            + address
                            + "' is a GPU UUID that "
                            + shown
                            + " does not list, so it has no CUDA ordinal here; list the"
                            + " executor's GPUs by UUID in CUDA_VISIBLE_DEVICES or use"
                            + " deploy/gpu-discovery.sh, which reports ordinals");
        }
        throw new IllegalStateException(
                "GPU address '"
                        + address
                        + "' from Spark's discovery script is neither a CUDA ordinal nor a GPU"
                        + " UUID");
    }

    /**
     * {@link #resolve} for the current task. In Spark local mode (the driver JVM runs the tasks and
     * Spark assigns no GPU) {@code --device gpu} takes this JVM's visible GPUs instead ({@link
     * #resolveLocal}).
     */
    public static GpuAssignment forCurrentTask(JobOptions.Device mode) {
        String assigned = assignedAddress();
        if (assigned == null && mode == JobOptions.Device.GPU && tasksRunInTheDriver()) {
            TaskContext context = TaskContext.get();
            return resolveLocal(
                    mode, context == null ? 0 : context.partitionId(), EngineGpus.count());
        }
        return resolve(mode, assigned);
    }

    /**
     * Whether this JVM is Spark local mode's driver running tasks itself: its executor id is {@code
     * driver} (a {@code local-cluster} or cluster executor has its own id and gets GPUs from
     * resource scheduling).
     */
    static boolean tasksRunInTheDriver() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        // SparkContext's DRIVER_IDENTIFIER: the executor id of the driver's own executor.
        return env != null && "driver".equals(env.executorId());
    }

    /**
     * The device of a task in Spark local mode, which schedules no GPU: {@code --device gpu} takes
     * CUDA ordinal {@code partitionId mod visibleGpus} (ordinal 0 on a one-GPU machine; tasks of a
     * {@code local[N]} master spread over the GPUs CUDA sees here, {@code CUDA_VISIBLE_DEVICES}
     * included); {@code cpu} and {@code auto} run on the CPU, as without GPU scheduling anywhere.
     * The driver already refused {@code --device gpu} where no GPU is visible ({@link
     * DeviceSupport}); a task that still finds none fails rather than computing on the CPU.
     *
     * @param visibleGpus GPUs this JVM's libtorch sees
     */
    static GpuAssignment resolveLocal(JobOptions.Device mode, int partitionId, int visibleGpus) {
        if (mode != JobOptions.Device.GPU) {
            return new GpuAssignment("cpu", null);
        }
        if (visibleGpus < 1) {
            throw new StartupException(
                    "--device gpu in Spark local mode, but this JVM's libtorch sees no CUDA GPU ("
                            + EngineGpus.describe()
                            + ")");
        }
        String ordinal = Integer.toString(Math.floorMod(partitionId, visibleGpus));
        return new GpuAssignment("gpu:" + ordinal, ordinal);
    }

    /** All addresses assigned to the current task (empty outside a task or without GPUs). */
    public static List<String> assignedAddresses() {
        TaskContext context = TaskContext.get();
        if (context == null) {
            return List.of();
        }
        ResourceInformation gpu = context.resources().get(GPU).getOrElse(() -> null);
        return gpu == null ? List.of() : List.of(gpu.addresses());
    }
}
