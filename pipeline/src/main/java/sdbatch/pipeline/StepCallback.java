package sdbatch.pipeline;

/**
 * Called after every denoising step of a batch, on the generating thread, so a job can report
 * progress and stop a task cleanly: returning {@code false} cancels the batch, which then ends with
 * {@link java.util.concurrent.CancellationException} and no images.
 */
@FunctionalInterface
public interface StepCallback {
    /**
     * @param stepIndex index of the step just done, 0-based
     * @param totalSteps steps in this run (number of timesteps)
     * @param timestep the timestep of that step
     * @return whether to continue
     */
    boolean onStep(int stepIndex, int totalSteps, double timestep);

    /** A callback that never cancels. */
    StepCallback NONE = (i, n, t) -> true;
}
