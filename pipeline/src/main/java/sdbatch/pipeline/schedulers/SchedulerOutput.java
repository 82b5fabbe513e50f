package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;

/**
 * The result of one {@link Scheduler#step}: diffusers' {@code SchedulerOutput}. Both arrays belong
 * to the manager of the {@code sample} passed to {@code step}; the caller closes them.
 *
 * @param prevSample the sample at the previous timestep ({@code x_{t-1}}), the next loop input
 * @param predOriginalSample the predicted denoised sample ({@code x_0}), or null where diffusers'
 *     scheduler gives none (PNDM, DPM-Solver++, UniPC)
 */
public record SchedulerOutput(NDArray prevSample, NDArray predOriginalSample) {}
