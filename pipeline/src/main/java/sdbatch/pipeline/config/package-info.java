/**
 * Configuration records read from the JSON files diffusers and transformers save ({@code
 * model_index.json}, {@code unet/config.json}, {@code vae/config.json}, a ControlNet's {@code
 * config.json}, ...). {@link sdbatch.pipeline.config.UNetDownConfig} is what a UNet's and a
 * ControlNet's configs share: the keys of the input half a ControlNet copies, among them one {@link
 * sdbatch.pipeline.config.CrossAttentionConfig} each for their attention blocks.
 *
 * <p>Each record holds the library's own {@code __init__} defaults and is the only place they live;
 * unknown keys are kept in {@code extra()} and never fatal, while keys of features sdbatch does not
 * implement are accepted only at their default, so an unsupported model is refused at load with the
 * key named instead of producing wrong images. Every size-like key also has a documented range
 * ({@link sdbatch.pipeline.config.ConfigBounds}), so an absurd config is refused when it is read. A
 * model config record reads its {@code config.json} through one {@code ConfigReader}, whether from
 * a folder ({@code load}) or from text ({@code parse}), so both read and log alike.
 */
package sdbatch.pipeline.config;
