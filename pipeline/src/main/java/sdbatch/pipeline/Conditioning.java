package sdbatch.pipeline;

import ai.djl.ndarray.NDArray;

/**
 * What a model family's text conditioning gives the noise predictor for one batch, besides the
 * latents and the timestep, {@code [uncond..., cond...]} along the batch when guidance is on:
 * diffusers' {@code prompt_embeds} ({@code encoder_hidden_states}) and, for SDXL, its {@code
 * added_cond_kwargs}: the pooled text embedding ({@code text_embeds}) and the micro-conditioning
 * {@code time_ids}. Every field is per row, so rows with different prompts, second prompts or
 * micro-conditioning share one batch.
 *
 * @param encoderHiddenStates [batch (×2 with guidance), tokens, width]
 * @param pooledEmbeds [batch (×2), pooled width]: SDXL's {@code text_embeds} (SD3's {@code
 *     pooled_projections}); null for SD 1.x/2.x
 * @param addTimeIds [batch (×2), 6]: SDXL's {@code add_time_ids}; null for other families
 */
public record Conditioning(NDArray encoderHiddenStates, NDArray pooledEmbeds, NDArray addTimeIds) {

    /** Sequence embeddings only (SD 1.x/2.x). */
    public Conditioning(NDArray encoderHiddenStates) {
        this(encoderHiddenStates, null, null);
    }
}
