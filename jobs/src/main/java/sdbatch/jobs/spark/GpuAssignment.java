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

    /** The DJL device of {@link #device()}: {@code Device.gpu(address)} or the CPU. */
    public ai.djl.Device djlDevice() {
        if (device.startsWith("gpu:")) {
            String address = device.substring(4);
            try {
                return ai.djl.Device.gpu(Integer.parseInt(address));
            } catch (NumberFormatException e) {
                throw new IllegalStateException(
                        "GPU address '"
                                + address
                                + "' from Spark's discovery script is not a"
                                + " CUDA device index",
                        e);
            }
        }
        return ai.djl.Device.cpu();
    }

    /** {@link #resolve} for the current task. */
    public static GpuAssignment forCurrentTask(JobOptions.Device mode) {
        return resolve(mode, assignedAddress());
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
