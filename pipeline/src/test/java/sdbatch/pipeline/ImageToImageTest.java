package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * img2img's behaviour on a tiny random-weight model (parity with diffusers is {@link
 * StableDiffusionPipelineGoldenTest}'s): validation, defaults, the schedule cut by strength,
 * batching and native memory.
 */
class ImageToImageTest {
    @TempDir static Path tmp;
    static StableDiffusionPipeline pipe;

    @BeforeAll
    static void load() throws IOException {
        Path sd1 = TinyModels.write(tmp.resolve("tiny-sd1"), TinyModels.Variant.SD1, 7);
        pipe = StableDiffusionPipeline.load(sd1, PipelineOptions.defaults());
    }

    @AfterAll
    static void close() {
        if (pipe != null) {
            pipe.close();
        }
    }

    static RgbImage picture(int w, int h, long seed) {
        byte[] rgb = new byte[w * h * 3];
        new Random(seed).nextBytes(rgb);
        return new RgbImage(w, h, rgb);
    }

    static ImageRequest img2img(long seed, RgbImage init, double strength) {
        return ImageRequest.of("a lighthouse at dawn", seed)
                .withSteps(4)
                .withGuidanceScale(5)
                .withSize(64, 64)
                .withInitImage(init)
                .withStrength(strength);
    }

    @Test
    void strengthDefaultsToDiffusersAndSizeToThePicture() {
        ImageRequest r = pipe.resolve(ImageRequest.of("x", 1).withInitImage(picture(71, 67, 1)));
        assertEquals(StableDiffusionPipeline.DEFAULT_STRENGTH, r.strength());
        // rounded down to the VAE scale factor (2 for the tiny model)
        assertEquals(70, r.width());
        assertEquals(66, r.height());
        ImageRequest text = pipe.resolve(ImageRequest.of("x", 1));
        assertNull(text.strength(), "text-to-image has no strength");
        assertEquals(pipe.defaultSize(), text.width());
    }

    static Stream<Arguments> badRequests() {
        ImageRequest ok = img2img(1, picture(64, 64, 1), 0.5);
        return Stream.of(
                Arguments.of(
                        "strength without an image",
                        ImageRequest.of("x", 1).withSteps(2).withStrength(0.5),
                        "strength 0.5 is given without an init image"),
                Arguments.of("strength 0", ok.withStrength(0.0), "strength 0.0"),
                Arguments.of("strength 1.5", ok.withStrength(1.5), "strength 1.5"),
                Arguments.of("strength NaN", ok.withStrength(Double.NaN), "strength NaN"),
                Arguments.of(
                        "no step left", ok.withSteps(3).withStrength(0.3), "runs no denoising"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequestsAreClearErrorsBeforeAnyTensorWork(
            String name, ImageRequest request, String mentioned) {
        RefusedRequests.assertRefusedBeforeTensorWork(pipe, request, mentioned);
    }

    /** The timesteps one generation ran, as the step callback saw them. */
    static double[] timestepsRun(ImageRequest r) {
        List<Double> seen = new ArrayList<>();
        pipe.generate(
                List.of(r),
                (i, total, t) -> {
                    seen.add(t);
                    return true;
                });
        return seen.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /**
     * get_timesteps: int(steps × strength) steps run, the last ones of the full schedule; a
     * second-order scheduler (Heun) cuts at t_start × 2 of its doubled schedule.
     */
    @Test
    void strengthCutsTheScheduleAsGetTimestepsDoes() {
        RgbImage init = picture(64, 64, 3);
        double[] full =
                timestepsRun(ImageRequest.of("x", 1).withSteps(10).withScheduler("ddim", null));
        assertEquals(10, full.length);
        double[] cut =
                timestepsRun(img2img(1, init, 0.7).withSteps(10).withScheduler("ddim", null));
        // int(10 * 0.7) = 7 (7.000000000000001 in floating point)
        assertEquals(7, cut.length);
        assertEquals(Arrays.toString(Arrays.copyOfRange(full, 3, 10)), Arrays.toString(cut));
        assertEquals(
                10,
                timestepsRun(img2img(1, init, 1.0).withSteps(10).withScheduler("ddim", null))
                        .length);

        double[] heunFull =
                timestepsRun(ImageRequest.of("x", 1).withSteps(4).withScheduler("heun", null));
        assertEquals(7, heunFull.length, "Heun runs 2n - 1 model calls");
        double[] heunCut = timestepsRun(img2img(1, init, 0.5).withScheduler("heun", null));
        // t_start = 2, so the cut is 2 × order = 4 entries in: 3 calls for 2 steps
        assertEquals(Arrays.toString(Arrays.copyOfRange(heunFull, 4, 7)), Arrays.toString(heunCut));
    }

    /**
     * Batching neither mixes modes nor changes an image: each image's VAE sample and noise come
     * from its own generator. A picture of another size is resized to the request's.
     */
    @Test
    void batchingDoesNotChangeAnImage() {
        List<ImageRequest> requests =
                List.of(
                        img2img(11, picture(64, 64, 4), 0.6).withScheduler("euler_a", null),
                        img2img(12, picture(48, 80, 5), 0.6).withScheduler("euler_a", null),
                        ImageRequest.of("a lighthouse at dawn", 11)
                                .withSteps(4)
                                .withGuidanceScale(5)
                                .withSize(64, 64)
                                .withScheduler("euler_a", null));
        List<GeneratedImage> together = pipe.generate(requests);
        assertEquals(2, together.get(0).timings().batchSize(), "the img2img requests batch");
        assertEquals(1, together.get(2).timings().batchSize(), "text-to-image runs apart");
        assertFalse(
                Arrays.equals(together.get(0).rgb(), together.get(2).rgb()),
                "img2img and text-to-image from one seed gave one image");
        for (int i = 0; i < 2; i++) {
            GeneratedImage alone = pipe.generate(List.of(requests.get(i))).get(0);
            int maxDiff =
                    StableDiffusionPipelineTest.maxLevelDifference(
                            alone.rgb(), together.get(i).rgb());
            assertTrue(maxDiff <= 1, "image " + i + " differs by " + maxDiff + " levels");
        }
    }

    @Test
    void theInitPictureAndStrengthChangeTheImage() {
        ImageRequest r = img2img(21, picture(64, 64, 6), 0.5).withScheduler("dpmpp_2m", null);
        byte[] base = pipe.generate(List.of(r)).get(0).rgb();
        byte[] otherPicture =
                pipe.generate(List.of(r.withInitImage(picture(64, 64, 7)))).get(0).rgb();
        byte[] otherStrength = pipe.generate(List.of(r.withStrength(0.75))).get(0).rgb();
        assertFalse(Arrays.equals(base, otherPicture));
        assertFalse(Arrays.equals(base, otherStrength));
        assertTrue(Arrays.equals(base, pipe.generate(List.of(r)).get(0).rgb()), "repeatable");
    }

    @Test
    void nativeMemoryStaysFlatAcrossImages() {
        ImageRequest r = img2img(9, picture(64, 64, 8), 0.5).withScheduler("euler", null);
        pipe.generate(List.of(r));
        int afterWarmUp = pipe.nativeArrayCount();
        for (int i = 0; i < 5; i++) {
            pipe.generate(List.of(r, r.withStrength(0.5).withGuidanceScale(3)));
        }
        assertEquals(afterWarmUp, pipe.nativeArrayCount(), "native arrays after 10 more images");
    }
}
