package sdbatch.pipeline;

import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * Seam of a model family: step 3 of diffusers' {@code __call__}, {@code encode_prompt}. SD 1.x/2.x
 * encode with one CLIP text model ({@link sdbatch.pipeline.family.StableDiffusionFamily}); SDXL
 * with two, concatenated, plus a pooled embedding; SD3 with two CLIPs and T5.
 */
public interface TextConditioning {
    /**
     * The conditioning of a batch, in {@code run}: with {@code guidance}, the unconditional
     * (negative-prompt) rows first, as diffusers concatenates them.
     */
    Conditioning encode(NDManager run, List<ImageRequest> batch, boolean guidance);
}
