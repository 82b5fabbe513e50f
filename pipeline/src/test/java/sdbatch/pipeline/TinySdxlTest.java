package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * {@code TinyModels.Variant.SDXL} (what {@code sdbatch make-tiny-model --variant sdxl} writes): a
 * deterministic folder the pipeline loads as SDXL and generates from, with no reference data.
 */
class TinySdxlTest {
    @TempDir Path tmp;

    @Test
    void writesADeterministicSdxlFolderThePipelineRuns() throws IOException {
        Path a = TinyModels.write(tmp.resolve("a"), TinyModels.Variant.SDXL, 3);
        Path b = TinyModels.write(tmp.resolve("b"), TinyModels.Variant.SDXL, 3);
        List<Path> files = StableDiffusionPipelineTest.regularFiles(a);
        assertTrue(files.size() >= 15, "files: " + files);
        StableDiffusionPipelineTest.assertSameBytes(files, a, b);
        assertEquals("sdxl", PipelineConfig.read(a).family());
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(a, PipelineOptions.defaults())) {
            assertEquals("sdxl", p.family());
            assertEquals(64, p.defaultSize());
            assertTrue(
                    p.tokenizers().get("tokenizer").padTokenId()
                            != p.tokenizers().get("tokenizer_2").padTokenId(),
                    "the two tokenizers pad with different tokens");
            ImageRequest r = ImageRequest.of("a red cube", 1).withSteps(3);
            List<GeneratedImage> out =
                    p.generate(
                            List.of(
                                    r,
                                    r.withNegativePrompt(""),
                                    r.withPrompt2("a blue sphere", null)
                                            .withMicroConditioning(
                                                    new MicroConditioning(
                                                            128, 128, 8, 8, null, null))));
            for (GeneratedImage img : out) {
                for (float v : img.latents()) {
                    assertTrue(Float.isFinite(v));
                }
            }
            assertFalse(Arrays.equals(out.get(0).latents(), out.get(1).latents()));
            assertFalse(Arrays.equals(out.get(0).latents(), out.get(2).latents()));
        }
    }
}
