package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * {@link TinyModels.Variant#SD3}: a folder every SD3 loader reads (model_index class
 * StableDiffusion3Pipeline, both CLIPs, T5 with its Unigram tokenizer.json, the MMDiT, the
 * 16-channel VAE, flow matching), which generates finite latents, and byte-identical files for the
 * same seed. Needs no reference data. Float32 CPU.
 */
class TinySd3ModelTest {
    @TempDir Path tmp;

    @Test
    void writesALoadableSd3FolderThatGenerates() throws IOException {
        Path dir = TinyModels.write(tmp.resolve("tiny-sd3"), TinyModels.Variant.SD3, 0);
        try (StableDiffusionPipeline pipe =
                StableDiffusionPipeline.load(dir, PipelineOptions.defaults())) {
            assertTrue(config(dir).contains("\"StableDiffusion3Pipeline\""));
            assertEquals(64, pipe.defaultSize());
            // the T5 vocabulary: whole words after "▁", letters for the rest, </s> last
            long[] ids = pipe.t5Tokenizer().encodeUnpadded("a cat");
            assertEquals(3, ids.length);
            assertEquals(1, ids[2]);
            List<GeneratedImage> images =
                    pipe.generate(
                            List.of(
                                    ImageRequest.of("Hello WORLD!! a cat", 1)
                                            .withSteps(2)
                                            .withNegativePrompt("blurry")));
            assertEquals(64 * 64 * 3, images.get(0).rgb().length);
            for (float v : images.get(0).latents()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void theSameSeedWritesTheSameFiles() throws IOException {
        Path a = TinyModels.write(tmp.resolve("a"), TinyModels.Variant.SD3, 4);
        Path b = TinyModels.write(tmp.resolve("b"), TinyModels.Variant.SD3, 4);
        for (String f :
                List.of(
                        "transformer/diffusion_pytorch_model.safetensors",
                        "text_encoder_3/model.safetensors",
                        "tokenizer_3/tokenizer.json",
                        "text_encoder_2/model.safetensors")) {
            assertArrayEquals(
                    Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
    }

    private static String config(Path dir) throws IOException {
        return Files.readString(dir.resolve("model_index.json"));
    }
}
