package sdbatch.jobs.generate;

/**
 * Thrown out of {@link PartitionRunner} when generation keeps failing with faults of the device
 * (not of the rows) even on freshly loaded pipelines: the task fails, so that Spark retries the
 * partition on another executor and can exclude this one, instead of this executor failing every
 * row it is given.
 */
public final class DeviceFaultException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message how many faults, where, and the last one
     * @param cause the last fault
     */
    public DeviceFaultException(String message, Throwable cause) {
        super(message, cause);
    }
}
