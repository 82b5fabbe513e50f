package sdbatch.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.family.StableDiffusion3Family;
import sdbatch.pipeline.family.StableDiffusionXLFamily;
import sdbatch.pipeline.weights.ModelHash;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * What a diffusers folder's configs say, read without building any model or touching the engine:
 * what a job's driver needs to plan rows (default size, scheduler, text-encoder layers) and the
 * A1111 "Model hash" of the PNG infotext. The driver has no GPU and often little native memory, so
 * it reads this instead of {@link StableDiffusionPipeline#load}; the values equal the loaded
 * pipeline's ({@link StableDiffusionPipeline#defaultSize()}, {@link
 * StableDiffusionPipeline#textEncoderLayers()}, {@link StableDiffusionPipeline#schedulerConfig()},
 * {@link StableDiffusionPipeline#modelHash()}).
 *
 * @param modelDir the folder
 * @param unet the UNet's config; null for SD3 (a transformer)
 * @param vae the VAE's config
 * @param textEncoder the text encoder's config
 * @param schedulerConfig the folder's scheduler config
 * @param family the model family its {@code model_index.json} {@code _class_name} names: {@code sd}
 *     (SD 1.x/2.x), {@code sdxl} or {@code sd3}
 * @param textEncoder2 SDXL's and SD3's {@code text_encoder_2} config; null for SD 1.x/2.x
 * @param transformer SD3's {@code transformer} config; null for the UNet families
 */
public record PipelineConfig(
        Path modelDir,
        UNetConfig unet,
        VaeConfig vae,
        CLIPTextConfig textEncoder,
        SchedulerConfig schedulerConfig,
        String family,
        CLIPTextConfig textEncoder2,
        SD3TransformerConfig transformer) {

    /**
     * Reads the configs of {@code modelDir} as {@link StableDiffusionPipeline#load} finds them.
     *
     * @throws sdbatch.pipeline.weights.ModelLoadException naming the folder or file and the reason
     * @throws IOException when a config cannot be read
     */
    public static PipelineConfig read(Path modelDir) throws IOException {
        return read(modelDir, null);
    }

    /**
     * {@link #read(Path)} with the VAE of {@code vaeDir} instead of the model's own (null = its
     * own), as {@link PipelineOptions#vaeDir()} loads it.
     */
    public static PipelineConfig read(Path modelDir, Path vaeDir) throws IOException {
        ModelIndex index = ModelIndex.load(modelDir);
        String family = PipelineLoader.familyOf(index);
        boolean sd3 = PipelineLoader.SD3.equals(family);
        return new PipelineConfig(
                modelDir,
                sd3 ? null : UNetConfig.load(index.componentDir("unet")),
                VaeConfig.load(PipelineLoader.vaeDir(index, vaeDir)),
                CLIPTextConfig.load(index.componentDir("text_encoder")),
                SchedulerConfig.read(
                        index.componentDir("scheduler").resolve("scheduler_config.json")),
                family,
                PipelineLoader.SDXL.equals(family) || sd3
                        ? CLIPTextConfig.load(index.componentDir("text_encoder_2"))
                        : null,
                sd3 ? SD3TransformerConfig.load(index.componentDir("transformer")) : null);
    }

    /**
     * Default image width and height: the UNet's (SD3: the transformer's) {@code sample_size} × the
     * VAE scale factor.
     */
    public int defaultSize() {
        if (transformer != null) {
            return transformer.sampleSize() * vae.vaeScaleFactor();
        }
        if (unet.sampleSize() == null) {
            throw new ModelLoadException(
                    "the UNet config of "
                            + modelDir
                            + " has no sample_size: the default image size is unknown");
        }
        return unet.sampleSize() * vae.vaeScaleFactor();
    }

    /** Layers of the shallowest text encoder (clip_skip must be below this). */
    public int textEncoderLayers() {
        return textEncoder2 == null
                ? textEncoder.numHiddenLayers()
                : Math.min(textEncoder.numHiddenLayers(), textEncoder2.numHiddenLayers());
    }

    /**
     * diffusers' default {@code guidance_scale} for the family: 5.0 for SDXL ({@code
     * StableDiffusionXLPipeline.__call__}), 7.5 for SD 1.x/2.x.
     */
    public double defaultGuidanceScale() {
        if (isSd3()) {
            return StableDiffusion3Family.DEFAULT_GUIDANCE_SCALE;
        }
        return isSdxl()
                ? StableDiffusionXLFamily.DEFAULT_GUIDANCE_SCALE
                : StableDiffusionPipeline.DEFAULT_GUIDANCE_SCALE;
    }

    /** diffusers' default {@code num_inference_steps}: 28 for SD3, 50 for the UNet families. */
    public int defaultSteps() {
        return isSd3()
                ? StableDiffusion3Family.DEFAULT_STEPS
                : StableDiffusionPipeline.DEFAULT_STEPS;
    }

    /** Whether the folder is an SD3/SD3.5 model (its SD3-only request fields take effect). */
    public boolean isSd3() {
        return PipelineLoader.SD3.equals(family);
    }

    /** diffusers' default img2img {@code strength} for the family: 0.3 for SDXL, 0.8 for SD. */
    public double defaultImageToImageStrength() {
        return isSdxl()
                ? StableDiffusionXLFamily.DEFAULT_IMG2IMG_STRENGTH
                : StableDiffusionPipeline.DEFAULT_STRENGTH;
    }

    /** Whether the folder is an SDXL model (its SDXL-only request fields take effect). */
    public boolean isSdxl() {
        return PipelineLoader.SDXL.equals(family);
    }

    /** A1111's "Model hash" (reads the UNet's, SD3: the transformer's, weights' bytes). */
    public String modelHash() {
        return ModelHash.ofUnet(modelDir.resolve(transformer != null ? "transformer" : "unet"));
    }
}
