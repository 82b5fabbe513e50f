package sdbatch.jobs.generate;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * One expanded generation request as it crosses the wire to executors: every generation parameter
 * resolved (row column, else flag, else model default — see {@code JobOptions}), plus where it came
 * from. For an invalid row, the same shape carries whatever raw values could be read (bad ones are
 * null) so the metadata row still shows them. Temporary home: this becomes schemas' {@code
 * GenerationRequest} once that module lands.
 *
 * @param ordinal a dense, deterministic id of the request within the run (assigned after planning)
 * @param sourceRow the input row it was expanded from ({@code source_row})
 * @param imageId the image id (hash of model identity and every parameter); null for invalid rows
 * @param prompt the prompt
 * @param negativePrompt the negative prompt, null for none
 * @param seed the noise seed
 * @param steps number of inference steps
 * @param guidanceScale classifier-free guidance scale
 * @param scheduler scheduler name (diffusers class name)
 * @param schedulerConfig JSON object of scheduler config overrides, null for none
 * @param width image width in pixels
 * @param height image height in pixels
 * @param eta DDIM eta, null when the scheduler does not use it
 * @param clipSkip CLIP layers to skip, null for none
 * @param model the model's identity (as recorded in metadata)
 */
public record JobRequest(
        long ordinal,
        long sourceRow,
        String imageId,
        String prompt,
        String negativePrompt,
        Long seed,
        Integer steps,
        Double guidanceScale,
        String scheduler,
        String schedulerConfig,
        Integer width,
        Integer height,
        Double eta,
        Integer clipSkip,
        String model)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The same request with its run-wide ordinal. */
    public JobRequest withOrdinal(long newOrdinal) {
        return new JobRequest(
                newOrdinal,
                sourceRow,
                imageId,
                prompt,
                negativePrompt,
                seed,
                steps,
                guidanceScale,
                scheduler,
                schedulerConfig,
                width,
                height,
                eta,
                clipSkip,
                model);
    }

    /**
     * {@link CostPartitioner#cost} of this request.
     *
     * @throws IllegalStateException when steps or size are unresolved (an invalid row)
     */
    public long cost() {
        if (steps == null || width == null || height == null) {
            throw new IllegalStateException("request " + ordinal + " has unresolved steps or size");
        }
        return CostPartitioner.cost(steps, width, height);
    }

    /**
     * What requests in one batch must share (see {@link BatchGrouper}): size, steps, scheduler and
     * its config, eta and clip skip (per-loop settings); prompt, seed and guidance may differ.
     */
    public List<Object> batchKey() {
        return Arrays.asList(
                width, height, steps, scheduler, schedulerConfig, eta, clipSkip, model);
    }
}
