/**
 * The neural networks of Stable Diffusion, one family per file with diffusers' and transformers'
 * class names ({@code UNet2DConditionModel}, {@code AutoencoderKL}, {@code CLIPTextModel}, {@code
 * CLIPTextModelWithProjection} (SDXL's and SD3's pooled text embedding, sharing {@code
 * CLIPTextModel}'s transformer), {@code ControlNetModel}, whose input half is built and run by the
 * UNet's own code, {@code UNetDownPath}; the UNet's output half is {@code UNetUpPath}), SD3's
 * {@code SD3Transformer2DModel} (MMDiT) and {@code T5EncoderModel}; their diffusers blocks are in
 * {@link sdbatch.pipeline.models.blocks}, the {@code torch.nn} layers those are made of in {@link
 * sdbatch.pipeline.models.layers}, and the libtorch kernels DJL does not offer in {@link
 * sdbatch.pipeline.models.kernels}.
 *
 * <p>What every loaded network shares (config, parameters, dtype, device, {@code toModel}, {@code
 * close}) is {@link sdbatch.pipeline.models.PretrainedModel}, the counterpart of diffusers' {@code
 * ModelMixin}. Models are built from their config record and a {@link
 * sdbatch.pipeline.weights.Weights} source asked for each parameter by its exact state-dict key, so
 * a checkpoint that does not match fails at load with every missing, unexpected and misshapen
 * tensor listed. Models own their weights ({@code AutoCloseable}); each call frees its temporaries
 * before it returns.
 */
package sdbatch.pipeline.models;
