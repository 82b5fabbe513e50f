package sdbatch.pipeline;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.embeddings.TextualInversion;
import sdbatch.pipeline.family.FamilySettings;
import sdbatch.pipeline.family.StableDiffusion3Family;
import sdbatch.pipeline.family.StableDiffusionFamily;
import sdbatch.pipeline.family.StableDiffusionXLFamily;
import sdbatch.pipeline.family.TwoClipEncoders;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * Loading a diffusers pipeline folder, as diffusers' {@code DiffusionPipeline.from_pretrained}:
 * {@code model_index.json} names the components, each loads from its subfolder into one native
 * manager the pipeline owns. The family's components (text encoders, UNet) go into its {@link
 * ModelFamily}; the VAE and the scheduler config are shared by every family. The folder's {@code
 * _class_name} picks the family from {@link #FAMILIES}; a new family adds one entry there and its
 * loading method here.
 */
final class PipelineLoader {
    private PipelineLoader() {}

    /** SD 1.x/2.x: one CLIP text encoder and a UNet. */
    static final String SD = "sd";

    /** SDXL: two CLIP text encoders, pooled embedding and micro-conditioning. */
    static final String SDXL = "sdxl";

    /** SD3 and SD3.5: two CLIP text encoders with projection, T5 (optional), an MMDiT. */
    static final String SD3 = "sd3";

    /** Builds a family's networks from a folder into the pipeline's manager. */
    private interface FamilyLoader {
        ModelFamily load(
                ModelIndex index, NDManager manager, PipelineOptions options, VaeConfig vae)
                throws IOException;
    }

    /** A family: its name and how it loads. */
    private record Family(String name, FamilyLoader loader) {}

    private static final Family SD_FAMILY = new Family(SD, PipelineLoader::stableDiffusion);
    private static final Family SDXL_FAMILY = new Family(SDXL, PipelineLoader::stableDiffusionXL);
    private static final Family SD3_FAMILY = new Family(SD3, PipelineLoader::stableDiffusion3);

    /**
     * {@code model_index.json}'s {@code _class_name} to the family it holds. diffusers saves the
     * same components under the text-to-image, img2img and inpainting class names of a family.
     */
    private static final Map<String, Family> FAMILIES =
            Map.of(
                    "StableDiffusionPipeline", SD_FAMILY,
                    "StableDiffusionImg2ImgPipeline", SD_FAMILY,
                    "StableDiffusionInpaintPipeline", SD_FAMILY,
                    "StableDiffusionXLPipeline", SDXL_FAMILY,
                    "StableDiffusionXLImg2ImgPipeline", SDXL_FAMILY,
                    "StableDiffusionXLInpaintPipeline", SDXL_FAMILY,
                    "StableDiffusion3Pipeline", SD3_FAMILY,
                    "StableDiffusion3Img2ImgPipeline", SD3_FAMILY,
                    "StableDiffusion3InpaintPipeline", SD3_FAMILY);

    /**
     * The family ({@link #SD}, {@link #SDXL}, {@link #SD3}) of a folder, from its {@code
     * _class_name}.
     *
     * @throws ModelLoadException naming the {@code _class_name} and the supported ones
     */
    static String familyOf(ModelIndex index) {
        return family(index).name();
    }

    private static Family family(ModelIndex index) {
        Family f = index.className() == null ? null : FAMILIES.get(index.className());
        if (f == null) {
            throw new ModelLoadException(
                    index.dir()
                            + " holds a "
                            + (index.className() == null
                                    ? "pipeline without a _class_name"
                                    : index.className())
                            + " (model_index.json _class_name), which sdbatch does not run"
                            + " (supported: "
                            + new TreeSet<>(FAMILIES.keySet())
                            + ")");
        }
        return f;
    }

    /**
     * @throws ModelLoadException naming the folder or file and the reason
     */
    static StableDiffusionPipeline load(Path modelDir, PipelineOptions options) throws IOException {
        ModelIndex index = ModelIndex.load(modelDir);
        Family family = family(index);
        NDManager manager = NDManager.newBaseManager(options.device());
        try {
            DataType dtype = options.dtype();
            // diffusers keeps the VAE in float32 when its config says force_upcast (SD 1.x/2.x
            // and SDXL VAEs overflow in fp16); so do we.
            Path vaeDir = vaeDir(index, options.vaeDir());
            VaeConfig vaeConfig = VaeConfig.load(vaeDir);
            DataType vaeDtype =
                    dtype != DataType.FLOAT32 && vaeConfig.forceUpcast() ? DataType.FLOAT32 : dtype;
            ModelFamily networks = family.loader().load(index, manager, options, vaeConfig);
            AutoencoderKL vae = AutoencoderKL.load(vaeDir, manager, vaeDtype);
            SchedulerConfig schedulerConfig =
                    SchedulerConfig.read(
                            index.componentDir("scheduler").resolve("scheduler_config.json"));
            return new StableDiffusionPipeline(
                    index, options, manager, networks, vae, schedulerConfig);
        } catch (IOException | RuntimeException e) {
            // Closing the manager frees every array; the family holds nothing else.
            manager.close();
            throw e;
        }
    }

    /**
     * The VAE folder: {@code vae} given instead of the model's own (diffusers' {@code
     * from_pretrained(model, vae=AutoencoderKL.from_pretrained(vae))}), else the model's.
     */
    static Path vaeDir(ModelIndex index, Path vae) {
        if (vae == null) {
            return index.componentDir("vae");
        }
        ModelLoadException.requireFile(
                vae,
                "config.json",
                "VAE folder",
                "a diffusers AutoencoderKL folder, as vae.save_pretrained(dir) writes it, is"
                        + " expected");
        return vae;
    }

    private static ModelFamily stableDiffusion(
            ModelIndex index, NDManager manager, PipelineOptions options, VaeConfig vae)
            throws IOException {
        DataType dtype = options.dtype();
        CLIPTokenizer tokenizer = CLIPTokenizer.load(index.componentDir("tokenizer"));
        CLIPTextModel textEncoder =
                CLIPTextModel.load(index.componentDir("text_encoder"), manager, dtype);
        if (options.embeddingsDir() != null) {
            tokenizer =
                    TextualInversion.apply(
                            TextualInversion.loadFolder(options.embeddingsDir()),
                            TextualInversion.TEXT_ENCODER,
                            tokenizer,
                            textEncoder);
        }
        UNet2DConditionModel unet =
                UNet2DConditionModel.load(index.componentDir("unet"), manager, dtype);
        return new StableDiffusionFamily(tokenizer, textEncoder, unet, settings(options, vae));
    }

    // Port of the component set of diffusers StableDiffusionXLPipeline.__init__.
    private static ModelFamily stableDiffusionXL(
            ModelIndex index, NDManager manager, PipelineOptions options, VaeConfig vae)
            throws IOException {
        if (index.flag("requires_aesthetics_score", false)) {
            // The SDXL refiner: aesthetic-score time ids and no first text encoder.
            throw new ModelLoadException(
                    index.dir() + ": requires_aesthetics_score (an SDXL refiner) is not supported");
        }
        DataType dtype = options.dtype();
        TwoClipEncoders<CLIPTextModel> clips =
                TwoClipEncoders.load(index, manager, dtype, CLIPTextModel::load);
        CLIPTokenizer tokenizer = clips.tokenizer();
        CLIPTokenizer tokenizer2 = clips.tokenizer2();
        if (options.embeddingsDir() != null) {
            // diffusers' SDXL load_textual_inversion: clip_l into the first, clip_g into the
            // second encoder.
            List<TextualInversion.Embedding> embeddings =
                    TextualInversion.loadFolder(options.embeddingsDir());
            tokenizer =
                    TextualInversion.apply(
                            embeddings,
                            TextualInversion.TEXT_ENCODER,
                            tokenizer,
                            clips.textEncoder());
            tokenizer2 =
                    TextualInversion.apply(
                            embeddings,
                            TextualInversion.TEXT_ENCODER_2,
                            tokenizer2,
                            clips.textEncoder2().textModel());
        }
        UNet2DConditionModel unet =
                UNet2DConditionModel.load(index.componentDir("unet"), manager, dtype);
        try {
            return new StableDiffusionXLFamily(
                    tokenizer,
                    tokenizer2,
                    clips.textEncoder(),
                    clips.textEncoder2(),
                    unet,
                    // diffusers' StableDiffusionXLPipeline.__init__ default: True
                    index.flag("force_zeros_for_empty_prompt", true),
                    settings(options, vae));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(index.dir() + ": " + e.getMessage(), e);
        }
    }

    // Port of the component set of diffusers StableDiffusion3Pipeline.__init__ (text_encoder_3
    // optional: absent from the folder, or left out with the without-T5 option).
    private static ModelFamily stableDiffusion3(
            ModelIndex index, NDManager manager, PipelineOptions options, VaeConfig vae)
            throws IOException {
        if (options.embeddingsDir() != null) {
            throw new ModelLoadException(TextualInversion.sd3Refusal(index.dir()));
        }
        return StableDiffusion3Family.load(
                index, manager, options.withoutT5(), settings(options, vae));
    }

    /** The options and VAE facts every family is built with. */
    private static FamilySettings settings(PipelineOptions options, VaeConfig vae) {
        return new FamilySettings(options.dtype(), vae.latentChannels(), options.promptCacheSize());
    }
}
