package sdbatch.pipeline;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.embeddings.TextualInversion;
import sdbatch.pipeline.family.StableDiffusionFamily;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * Loading a diffusers pipeline folder, as diffusers' {@code DiffusionPipeline.from_pretrained}:
 * {@code model_index.json} names the components, each loads from its subfolder into one native
 * manager the pipeline owns. The family's components (text encoders, UNet) go into its {@link
 * ModelFamily}; the VAE and the scheduler config are shared by every family. A new family adds its
 * loading here, chosen by the folder's {@code _class_name}.
 */
final class PipelineLoader {
    private PipelineLoader() {}

    /**
     * @throws ModelLoadException naming the folder or file and the reason
     */
    static StableDiffusionPipeline load(Path modelDir, PipelineOptions options) throws IOException {
        ModelIndex index = ModelIndex.load(modelDir);
        NDManager manager = NDManager.newBaseManager(options.device());
        try {
            DataType dtype = options.dtype();
            // diffusers keeps the VAE in float32 when its config says force_upcast (SD 1.x/2.x
            // VAEs overflow in fp16); so do we.
            // --vae: another VAE folder in place of the model's own (every family).
            Path vaeDir = options.vaeDir() != null ? options.vaeDir() : index.componentDir("vae");
            VaeConfig vaeConfig = VaeConfig.load(vaeDir);
            DataType vaeDtype =
                    dtype != DataType.FLOAT32 && vaeConfig.forceUpcast() ? DataType.FLOAT32 : dtype;
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
            AutoencoderKL vae = AutoencoderKL.load(vaeDir, manager, vaeDtype);
            SchedulerConfig schedulerConfig =
                    SchedulerConfig.read(
                            index.componentDir("scheduler").resolve("scheduler_config.json"));
            StableDiffusionFamily family =
                    new StableDiffusionFamily(
                            tokenizer,
                            textEncoder,
                            unet,
                            dtype,
                            vaeConfig.latentChannels(),
                            options.promptCacheSize());
            return new StableDiffusionPipeline(
                    modelDir, options, manager, family, vae, schedulerConfig);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }
}
