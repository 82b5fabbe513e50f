/**
 * The building blocks of the UNet, the VAE and SD3's transformer, one class per diffusers class and
 * named as diffusers names it ({@code ResnetBlock2D}, {@code Transformer2DModel}, {@code
 * Attention}, {@code CrossAttnDownBlock2D}, {@code ControlNetConditioningEmbedding}, {@code
 * JointTransformerBlock}, {@code PatchEmbed}, ...; {@code JointAttention} is diffusers' {@code
 * Attention} as SD3 builds it, run by {@code JointAttnProcessor2_0}), each built from its config
 * and a {@link sdbatch.pipeline.weights.Weights} view whose prefix is the block's state-dict path,
 * so field paths join to the exact checkpoint keys. Blocks are made of the layers in {@link
 * sdbatch.pipeline.models.layers} and take the single-call bfloat16 paths of {@link
 * sdbatch.pipeline.models.kernels} where they apply. A new diffusers block goes here; what
 * diffusers' {@code unet_2d_blocks.py} does alike in every block is said once in {@code
 * UNet2DBlocks}.
 *
 * <p>Blocks hold only weights (owned by the model's manager). Every {@code forward} runs in its own
 * {@link ai.djl.ndarray.NDScope} via {@link sdbatch.pipeline.models.layers.InnerScope}: its
 * temporaries are freed when it returns and only the result lives on, in the caller's scope.
 */
package sdbatch.pipeline.models.blocks;
