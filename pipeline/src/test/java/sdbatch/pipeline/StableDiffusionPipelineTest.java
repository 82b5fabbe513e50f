package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import sdbatch.pipeline.image.PngText;
import sdbatch.pipeline.image.PngWriter;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.schemas.metadata.A1111Parameters;

/** The pipeline's own behaviour on tiny random-weight models made by {@link TinyModels}. */
class StableDiffusionPipelineTest {
    @TempDir static Path tmp;
    static Path sd1;
    static StableDiffusionPipeline pipe;

    @BeforeAll
    static void load() throws IOException {
        sd1 = TinyModels.write(tmp.resolve("tiny-sd1"), TinyModels.Variant.SD1, 7);
        pipe = StableDiffusionPipeline.load(sd1, PipelineOptions.defaults());
    }

    @AfterAll
    static void close() {
        if (pipe != null) {
            pipe.close();
        }
    }

    /** The largest difference in 8-bit levels between two pictures' bytes of equal length. */
    static int maxLevelDifference(byte[] a, byte[] b) {
        int max = 0;
        for (int k = 0; k < a.length; k++) {
            max = Math.max(max, Math.abs((a[k] & 0xFF) - (b[k] & 0xFF)));
        }
        return max;
    }

    static ImageRequest fixedRequest() {
        return ImageRequest.of("a photo of a cat, oil painting", 1234)
                .withNegativePrompt("blurry")
                .withSteps(4)
                .withGuidanceScale(6.5)
                .withScheduler("euler_a", null);
    }

    @Test
    void tinyModelFactoryIsDeterministic() throws IOException {
        Path again = TinyModels.write(tmp.resolve("again"), TinyModels.Variant.SD1, 7);
        List<Path> files = regularFiles(sd1);
        assertTrue(files.size() >= 10, "files: " + files);
        assertSameBytes(files, sd1, again);
    }

    /** The regular files under {@code dir}, sorted. */
    static List<Path> regularFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /**
     * Each of {@code files} (under {@code from}) has the same bytes at its place under {@code to}.
     */
    static void assertSameBytes(List<Path> files, Path from, Path to) throws IOException {
        for (Path f : files) {
            Path g = to.resolve(from.relativize(f));
            assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(g), "differs: " + f);
        }
    }

    @Test
    void defaultsComeFromTheModel() {
        // UNet sample_size 32 × VAE factor 2 (two VAE levels): never a hard-coded 8.
        assertEquals(2, pipe.vaeScaleFactor());
        assertEquals(64, pipe.defaultSize());
        ImageRequest r = pipe.resolve(ImageRequest.of("x", 1));
        assertEquals(64, r.width());
        assertEquals(StableDiffusionPipeline.DEFAULT_STEPS, r.steps());
    }

    @Test
    void sd2StyleVPredictionModelGenerates() throws IOException {
        Path sd2 = TinyModels.write(tmp.resolve("tiny-sd2v"), TinyModels.Variant.SD2V, 3);
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(sd2, PipelineOptions.defaults())) {
            assertEquals("v_prediction", p.schedulerConfig().predictionType());
            GeneratedImage img =
                    p.generate(List.of(ImageRequest.of("a cat! on a mat!", 5).withSteps(3))).get(0);
            assertEquals(64 * 64 * 3, img.rgb().length);
            assertEquals("DDIMScheduler", img.schedulerName());
        }
    }

    @Test
    void batchingDoesNotChangeAnImage() {
        List<ImageRequest> requests = new ArrayList<>();
        double[] scales = {1.5, 3, 7.5, 12};
        for (int i = 0; i < 4; i++) {
            requests.add(
                    ImageRequest.of("a red cube on a blue sphere " + i, 100 + i)
                            .withSteps(3)
                            .withGuidanceScale(scales[i])
                            .withScheduler("dpmpp_2m", null));
        }
        List<GeneratedImage> batched = pipe.generate(requests);
        assertEquals(4, batched.get(0).timings().batchSize(), "ran as one batch of 4");
        for (int i = 0; i < 4; i++) {
            GeneratedImage alone = pipe.generate(List.of(requests.get(i))).get(0);
            assertEquals(1, alone.timings().batchSize());
            int maxDiff =
                    StableDiffusionPipelineTest.maxLevelDifference(
                            alone.rgb(), batched.get(i).rgb());
            assertTrue(maxDiff <= 1, "image " + i + " differs by " + maxDiff + " levels");
        }
    }

    @Test
    void sameRequestGivesByteIdenticalPngsInOneJvmAndInTwo() throws Exception {
        byte[] first = pipe.toPng(pipe.generate(List.of(fixedRequest())).get(0), "tiny");
        byte[] second = pipe.toPng(pipe.generate(List.of(fixedRequest())).get(0), "tiny");
        assertArrayEquals(first, second, "same JVM");

        Path out = tmp.resolve("other-jvm.png");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p =
                new ProcessBuilder(
                                java.toString(),
                                "-Dai.djl.offline=true",
                                "-Dai.djl.pytorch.num_threads=1",
                                "-cp",
                                System.getProperty("java.class.path"),
                                RepeatabilityMain.class.getName(),
                                sd1.toString(),
                                out.toString())
                        .inheritIO()
                        .start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "second JVM timed out");
        assertEquals(0, p.exitValue(), "second JVM failed");
        assertArrayEquals(first, Files.readAllBytes(out), "second JVM, other thread count");
    }

    @Test
    void pngCarriesA1111ParametersAndTheRequest() {
        GeneratedImage img = pipe.generate(List.of(fixedRequest().withClipSkip(1))).get(0);
        Map<String, String> text = PngText.read(pipe.toPng(img, "tiny-sd1"));
        A1111Parameters p = A1111Parameters.parse(text.get(PngWriter.PARAMETERS));
        assertEquals("a photo of a cat, oil painting", p.prompt());
        assertEquals("blurry", p.negativePrompt());
        assertEquals(4, p.steps());
        assertEquals("Euler a", p.sampler());
        assertEquals(6.5, p.cfgScale());
        assertEquals(1234, p.seed());
        assertEquals(64, p.width());
        assertEquals(pipe.modelHash(), p.modelHash());
        assertEquals(2, p.clipSkip().getAsInt(), "A1111 counts clip skip from 1");
        assertTrue(
                text.get(PngWriter.SDBATCH).contains("\"seed\":1234"), text.get(PngWriter.SDBATCH));
    }

    static Stream<Arguments> badRequests() {
        ImageRequest ok = ImageRequest.of("x", 1).withSteps(2);
        return Stream.of(
                Arguments.of("null prompt", ImageRequest.of(null, 1), "prompt"),
                Arguments.of("steps 0", ok.withSteps(0), "steps 0"),
                Arguments.of("steps 1001", ok.withSteps(1001), "steps 1001"),
                Arguments.of(
                        "NaN guidance", ok.withGuidanceScale(Double.NaN), "guidance_scale NaN"),
                Arguments.of("negative guidance", ok.withGuidanceScale(-1), "guidance_scale -1"),
                Arguments.of("width 63", ok.withSize(63, 64), "width 63"),
                Arguments.of("height 0", ok.withSize(64, 0), "height 0"),
                Arguments.of(
                        "width 12 (not a multiple of 4 here)", ok.withSize(12, 64), "width 12"),
                Arguments.of("65536x65536", ok.withSize(65536, 65536), "pixels"),
                Arguments.of(
                        "unknown scheduler", ok.withScheduler("k_dpm_9000", null), "k_dpm_9000"),
                Arguments.of(
                        "unknown override",
                        ok.withScheduler("euler", "{\"no_such_key\": 1}"),
                        "no_such_key"),
                Arguments.of(
                        "bad override value",
                        ok.withScheduler("euler", "{\"timestep_spacing\": \"sideways\"}"),
                        "sideways"),
                Arguments.of("clip_skip too large", ok.withClipSkip(3), "clip_skip 3"),
                Arguments.of("negative eta", ok.withEta(-0.5), "eta -0.5"),
                // SD 1.x is trained for noise prediction: SD3's flow matching does not fit it.
                Arguments.of(
                        "flow matching on SD 1.x",
                        ok.withScheduler("flow_match_euler", null),
                        "FlowMatchEulerDiscreteScheduler, which does not fit an SD 1.x/2.x or SDXL"
                                + " model"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequestsAreClearErrorsBeforeAnyTensorWork(
            String name, ImageRequest request, String mentioned) {
        RefusedRequests.assertRefusedBeforeTensorWork(pipe, request, mentioned);
    }

    @Test
    void emptyPromptIsAllowed() {
        assertEquals(
                64 * 64 * 3,
                pipe.generate(List.of(ImageRequest.of("", 3).withSteps(2))).get(0).rgb().length);
    }

    @Test
    void callbackSeesEveryStepAndCanCancel() {
        List<Integer> seen = new ArrayList<>();
        pipe.generate(
                List.of(ImageRequest.of("x", 1).withSteps(3).withScheduler("ddim", null)),
                (i, n, t) -> {
                    seen.add(i);
                    assertEquals(3, n);
                    return true;
                });
        assertEquals(List.of(0, 1, 2), seen);
        int arraysBefore = pipe.nativeArrayCount();
        assertThrows(
                CancellationException.class,
                () ->
                        pipe.generate(
                                List.of(ImageRequest.of("x", 1).withSteps(5)), (i, n, t) -> i < 1));
        assertEquals(arraysBefore, pipe.nativeArrayCount(), "a cancelled run releases its arrays");
    }

    @Test
    void nonFiniteLatentsAreAnErrorNotABlackImage() {
        assertThrows(
                NonFiniteOutputException.class,
                () ->
                        pipe.generate(
                                List.of(
                                        ImageRequest.of("x", 1)
                                                .withSteps(2)
                                                .withGuidanceScale(1e38))));
    }

    @Test
    void nativeMemoryStaysFlatAcrossImages() {
        ImageRequest r =
                ImageRequest.of("a lighthouse", 9).withSteps(2).withScheduler("dpmpp_2m", null);
        pipe.generate(List.of(r));
        int afterWarmUp = pipe.nativeArrayCount();
        for (int i = 0; i < 10; i++) {
            pipe.generate(List.of(r, r.withGuidanceScale(3)));
        }
        assertEquals(afterWarmUp, pipe.nativeArrayCount(), "native arrays after 21 more images");
    }
}
