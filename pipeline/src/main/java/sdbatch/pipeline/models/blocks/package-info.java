/**
 * The building blocks of the UNet and the VAE, one class per diffusers class ({@code
 * ResnetBlock2D}, {@code Transformer2DModel}, {@code Attention}, {@code CrossAttnDownBlock2D},
 * ...), each built from its config and a {@link sdbatch.pipeline.weights.Weights} view whose prefix
 * is the block's state-dict path, so field paths join to the exact checkpoint keys.
 *
 * <p>Blocks hold only weights (owned by the model's manager). Every {@code forward} runs in its own
 * {@link ai.djl.ndarray.NDScope} via {@link sdbatch.pipeline.models.blocks.InnerScope}: its
 * temporaries are freed when it returns and only the result lives on, in the caller's scope.
 */
package sdbatch.pipeline.models.blocks;
