package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;

/**
 * diffusers' {@code added_cond_kwargs} of an SDXL UNet ({@code addition_embed_type} {@code
 * text_time}): per row, the pooled text embedding and the six micro-conditioning numbers.
 *
 * @param textEmbeds {@code [B, pooled width]}: {@code text_encoder_2}'s projected pooled output
 * @param timeIds {@code [B, 6]}: original size (h, w), crop top-left (top, left), target size (h,
 *     w), in pixels
 */
public record AddedConditions(NDArray textEmbeds, NDArray timeIds) {}
