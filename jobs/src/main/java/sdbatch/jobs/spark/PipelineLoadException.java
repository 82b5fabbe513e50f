package sdbatch.jobs.spark;

/**
 * A task's executor cannot open the model's pipeline (native library, driver, device memory, or a
 * model copy whose content differs from the driver's). Thrown out of the task, never turned into
 * failed rows: the fault is the executor's, so Spark retries the task elsewhere.
 */
public final class PipelineLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the executor and device
     * @param cause the load failure
     */
    public PipelineLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
