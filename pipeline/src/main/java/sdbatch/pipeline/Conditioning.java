package sdbatch.pipeline;

import ai.djl.ndarray.NDArray;

/**
 * What a model family's text conditioning gives the noise predictor for one batch, besides the
 * latents and the timestep: diffusers' {@code prompt_embeds} ({@code encoder_hidden_states}),
 * {@code [uncond..., cond...]} along the batch when guidance is on. SDXL adds its pooled text
 * embedding and micro-conditioning time ids (diffusers' {@code added_cond_kwargs}) as fields here.
 *
 * @param encoderHiddenStates [batch (×2 with guidance), tokens, width]
 */
public record Conditioning(NDArray encoderHiddenStates) {}
