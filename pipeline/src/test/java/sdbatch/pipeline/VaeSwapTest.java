package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.image.ImagePostprocessor;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * {@link PipelineOptions#withVae}: another VAE folder instead of the model's own, with its own
 * config (diffusers' {@code from_pretrained(model, vae=AutoencoderKL.from_pretrained(dir))}), for
 * every family. On {@code ../shared/golden}: tiny-sd1 with its own VAE given explicitly, and with
 * tiny-sdxl's VAE (same shape, {@code scaling_factor} 0.13025 instead of 0.18215). CPU float32.
 */
class VaeSwapTest {
    @TempDir Path tmp;

    @Test
    void anotherVaeDecodesTheSameLatentsWithItsOwnScalingFactor() throws IOException {
        Path golden = SharedData.golden();
        Path sd1 = golden.resolve("tiny-sd1");
        Path xlVae = golden.resolve("tiny-sdxl").resolve("vae");
        double xlScaling =
                JsonParser.parseString(Files.readString(xlVae.resolve("config.json")))
                        .getAsJsonObject()
                        .get("scaling_factor")
                        .getAsDouble();
        assertEquals(0.13025, xlScaling);
        ImageRequest r = ImageRequest.of("a lighthouse", 5).withSteps(3);
        GeneratedImage own;
        GeneratedImage ownGiven;
        GeneratedImage swapped;
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(sd1, PipelineOptions.defaults())) {
            own = p.generate(List.of(r)).get(0);
        }
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(
                        sd1, PipelineOptions.defaults().withVae(sd1.resolve("vae")))) {
            ownGiven = p.generate(List.of(r)).get(0);
        }
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(sd1, PipelineOptions.defaults().withVae(xlVae))) {
            swapped = p.generate(List.of(r)).get(0);
        }
        assertArrayEquals(own.rgb(), ownGiven.rgb());
        // Text-to-image latents never see the VAE; only the decoding changes.
        assertArrayEquals(own.latents(), swapped.latents());
        assertFalse(Arrays.equals(own.rgb(), swapped.rgb()));
        try (NDManager m = NDManager.newBaseManager();
                AutoencoderKL vae = AutoencoderKL.load(xlVae, m, DataType.FLOAT32)) {
            int h = r.height() == null ? 64 : r.height();
            NDArray latents =
                    m.create(swapped.latents(), new Shape(1, 4, h / 2, h / 2))
                            .div((float) xlScaling);
            float[] pixels = vae.decode(latents).toFloatArray();
            assertArrayEquals(ImagePostprocessor.toRgb8(pixels, 0, h, h).rgb(), swapped.rgb());
        }
        assertEquals(xlScaling, PipelineConfig.read(sd1, xlVae).vae().scalingFactor());
    }

    /**
     * A VAE of other latent channels loads (diffusers would only fail at decode), and every request
     * is refused before any tensor work, naming both channel counts: tiny-sd3's 16-channel
     * transformer with tiny-sd1's 4-channel VAE, and tiny-sd1's UNet with tiny-sd3's VAE.
     */
    @Test
    void aVaeOfOtherLatentChannelsIsRefusedForEachRequestNamingBothCounts() throws IOException {
        Path golden = SharedData.golden();
        Path sd1 = golden.resolve("tiny-sd1");
        Path sd3 = golden.resolve("tiny-sd3");
        ImageRequest r = ImageRequest.of("a lighthouse", 5).withSteps(2).withSize(32, 32);
        for (Path[] modelAndVae : new Path[][] {{sd3, sd1}, {sd1, sd3}}) {
            try (StableDiffusionPipeline p =
                    StableDiffusionPipeline.load(
                            modelAndVae[0],
                            PipelineOptions.defaults().withVae(modelAndVae[1].resolve("vae")))) {
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> p.checkInputs(r));
                String counts = modelAndVae[0] == sd3 ? "16 input channels" : "4 input channels";
                String latents = modelAndVae[0] == sd3 ? "latents have 4" : "latents have 16";
                assertTrue(e.getMessage().contains(counts), e.getMessage());
                assertTrue(e.getMessage().contains(latents), e.getMessage());
                assertTrue(e.getMessage().contains("the VAE comes from another model"));
                assertThrows(IllegalArgumentException.class, () -> p.generate(List.of(r)));
            }
        }
    }

    @Test
    void aVaeFolderWithoutAConfigIsRefusedNamingIt() throws IOException {
        Path sd1 = SharedData.golden().resolve("tiny-sd1");
        Path empty = Files.createDirectories(tmp.resolve("not-a-vae"));
        ModelLoadException e =
                assertThrows(
                        ModelLoadException.class,
                        () ->
                                StableDiffusionPipeline.load(
                                        sd1, PipelineOptions.defaults().withVae(empty)));
        assertTrue(e.getMessage().contains("not-a-vae"), e.getMessage());
    }
}
