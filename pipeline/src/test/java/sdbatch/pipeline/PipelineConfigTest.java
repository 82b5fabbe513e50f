package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * The driver plans from {@link PipelineConfig} instead of a loaded pipeline: both must agree on
 * every fact the plan uses, for each folder layout.
 */
class PipelineConfigTest {
    @TempDir Path dir;

    @Test
    void configsAloneGiveTheLoadedPipelinesFacts() throws Exception {
        for (TinyModels.Variant variant :
                new TinyModels.Variant[] {TinyModels.Variant.SD1, TinyModels.Variant.SD2V}) {
            Path model = TinyModels.write(dir.resolve(variant.name()), variant, 0);
            PipelineConfig config = PipelineConfig.read(model);
            try (StableDiffusionPipeline loaded =
                    StableDiffusionPipeline.load(model, PipelineOptions.defaults())) {
                assertEquals(loaded.defaultSize(), config.defaultSize(), variant.name());
                assertEquals(
                        loaded.textEncoderLayers(), config.textEncoderLayers(), variant.name());
                assertEquals(
                        loaded.schedulerConfig().toJson(),
                        config.schedulerConfig().toJson(),
                        variant.name());
                assertEquals(loaded.modelHash(), config.modelHash(), variant.name());
            }
        }
    }
}
