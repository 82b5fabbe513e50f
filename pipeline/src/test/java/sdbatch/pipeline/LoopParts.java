package sdbatch.pipeline;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.family.FamilySettings;
import sdbatch.pipeline.family.StableDiffusionFamily;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;

/**
 * What a test needs to run {@link DenoisingLoop} itself on a model folder, float32: the family, the
 * VAE and the folder's scheduler config, in one manager that {@link #close()} frees.
 */
record LoopParts(
        NDManager manager,
        StableDiffusionFamily family,
        AutoencoderKL vae,
        SchedulerConfig schedulerConfig)
        implements AutoCloseable {

    static LoopParts load(Path dir) throws IOException {
        ModelIndex index = ModelIndex.load(dir);
        NDManager manager = NDManager.newBaseManager();
        AutoencoderKL vae =
                AutoencoderKL.load(index.componentDir("vae"), manager, DataType.FLOAT32);
        StableDiffusionFamily family =
                new StableDiffusionFamily(
                        CLIPTokenizer.load(index.componentDir("tokenizer")),
                        CLIPTextModel.load(
                                index.componentDir("text_encoder"), manager, DataType.FLOAT32),
                        UNet2DConditionModel.load(
                                index.componentDir("unet"), manager, DataType.FLOAT32),
                        new FamilySettings(DataType.FLOAT32, vae.config().latentChannels(), 16));
        SchedulerConfig schedulerConfig =
                SchedulerConfig.read(
                        index.componentDir("scheduler").resolve("scheduler_config.json"));
        return new LoopParts(manager, family, vae, schedulerConfig);
    }

    @Override
    public void close() {
        manager.close();
    }
}
