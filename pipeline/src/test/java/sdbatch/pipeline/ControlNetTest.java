package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdbatch.pipeline.testing.FloatArrays.maxAbsDiff;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import sdbatch.pipeline.controlnet.ControlNet;
import sdbatch.pipeline.controlnet.ControlNetAdapter;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.image.VaeImageProcessor;
import sdbatch.pipeline.models.ControlNetOutput;
import sdbatch.pipeline.tiny.TinyControlNet;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * ControlNet's behaviour on a tiny random-weight model and ControlNet (parity with diffusers is
 * {@link StableDiffusionPipelineGoldenTest}'s): scale and guidance window, batching, several
 * ControlNets, control pictures of another size, validation, loading and native memory.
 */
class ControlNetTest {
    @TempDir static Path tmp;
    static StableDiffusionPipeline pipe;
    static ControlNet controlNet;

    @BeforeAll
    static void load() throws IOException {
        Path sd1 = TinyModels.write(tmp.resolve("tiny-sd1"), TinyModels.Variant.SD1, 7);
        pipe = StableDiffusionPipeline.load(sd1, PipelineOptions.defaults());
        controlNet =
                pipe.controlNet(
                        TinyControlNet.write(
                                tmp.resolve("controlnet-sd1"), TinyModels.Variant.SD1, 5));
    }

    @AfterAll
    static void close() {
        if (pipe != null) {
            pipe.close();
        }
    }

    static ImageRequest plain(long seed) {
        return ImageRequest.of("a lighthouse at dawn", seed)
                .withSteps(4)
                .withGuidanceScale(5)
                .withSize(64, 64)
                .withScheduler("euler", null);
    }

    static ImageRequest controlled(long seed, ControlNetUnit... units) {
        return plain(seed).withControlNets(List.of(units));
    }

    static ControlNetUnit unit(RgbImage picture, double scale, double start, double end) {
        return new ControlNetUnit(controlNet, picture, scale, start, end);
    }

    static GeneratedImage one(ImageRequest r) {
        return pipe.generate(List.of(r)).get(0);
    }

    @Test
    void theControlNetChangesTheImageAndIsRepeatable() {
        RgbImage picture = ImageToImageTest.picture(64, 64, 1);
        GeneratedImage base = one(plain(3));
        GeneratedImage withControl = one(controlled(3, unit(picture, 1.0, 0, 1)));
        assertTrue(maxAbsDiff(base.latents(), withControl.latents()) > 1e-2);
        GeneratedImage otherPicture =
                one(controlled(3, unit(ImageToImageTest.picture(64, 64, 2), 1.0, 0, 1)));
        assertTrue(maxAbsDiff(withControl.latents(), otherPicture.latents()) > 1e-3);
        assertArrayEquals(
                withControl.latents(), one(controlled(3, unit(picture, 1.0, 0, 1))).latents());
    }

    /** controlnet_conditioning_scale 0 adds 0 × residuals: the plain image, bit for bit. */
    @Test
    void scaleZeroGivesExactlyThePlainImage() {
        GeneratedImage base = one(plain(4));
        GeneratedImage zero =
                one(controlled(4, unit(ImageToImageTest.picture(64, 64, 3), 0.0, 0, 1)));
        assertArrayEquals(base.latents(), zero.latents());
        assertArrayEquals(base.rgb(), zero.rgb());
    }

    /**
     * A window that holds no step ({@code controlnet_keep} 0 throughout) is the plain image; one
     * that holds some steps is not, and differs from the full window.
     */
    @Test
    void guidanceWindowSwitchesTheControlNetOff() {
        RgbImage picture = ImageToImageTest.picture(64, 64, 5);
        GeneratedImage base = one(plain(5));
        // 4 steps: step i runs iff i/4 >= start and (i+1)/4 <= end; [0.3, 0.45] holds none
        assertArrayEquals(
                base.latents(), one(controlled(5, unit(picture, 1.0, 0.3, 0.45))).latents());
        GeneratedImage late = one(controlled(5, unit(picture, 1.0, 0.5, 1.0)));
        GeneratedImage full = one(controlled(5, unit(picture, 1.0, 0.0, 1.0)));
        assertTrue(maxAbsDiff(base.latents(), late.latents()) > 1e-3);
        assertTrue(maxAbsDiff(full.latents(), late.latents()) > 1e-3);
    }

    /** diffusers' controlnet_keep, worked by hand for a few windows. */
    @Test
    void keepFollowsDiffusersFormula() {
        assertKeep(10, 0.0, 0.6, "1111110000");
        assertKeep(10, 0.1, 0.6, "0111110000");
        assertKeep(4, 0.25, 1.0, "0111");
        assertKeep(4, 0.3, 1.0, "0011");
        assertKeep(4, 0.0, 0.74, "1100");
        assertKeep(3, 0.0, 1.0, "111");
        // Heun's 2n - 1 entries for n = 3: the window is over the loop's timesteps
        assertKeep(5, 0.0, 0.5, "11000");
    }

    private static void assertKeep(int total, double start, double end, String expected) {
        StringBuilder got = new StringBuilder();
        for (int i = 0; i < total; i++) {
            got.append((int) ControlNetUnit.keep(i, total, start, end));
        }
        assertEquals(
                expected, got.toString(), "keep over " + total + " [" + start + ", " + end + "]");
    }

    /**
     * The adapter runs the ControlNet at exactly the steps its window keeps, and its residuals
     * scale with each row's controlnet_conditioning_scale; a row outside its window gets zeros.
     */
    @Test
    void adapterResidualsFollowTheWindowAndScalePerRow() {
        RgbImage picture = ImageToImageTest.picture(64, 64, 6);
        ImageRequest full = pipe.checkInputs(controlled(1, unit(picture, 1.0, 0.0, 1.0)));
        ImageRequest half = pipe.checkInputs(controlled(1, unit(picture, 0.5, 0.0, 1.0)));
        ImageRequest early = pipe.checkInputs(controlled(1, unit(picture, 1.0, 0.0, 0.5)));
        try (NDManager run = NDManager.newBaseManager()) {
            NDArray t = run.create(500f);
            // identical rows, so the rows' residuals differ only by their factor
            NDArray row = run.randomNormal(new Shape(1, 4, 32, 32));
            NDArray text = run.randomNormal(new Shape(1, 77, 32));

            ResidualAdapter earlyOnly = ControlNetAdapter.forBatch(run, List.of(early), true);
            StringBuilder ran = new StringBuilder();
            for (int i = 0; i < 4; i++) {
                ControlNetOutput out =
                        earlyOnly.residuals(
                                i, 4, row.repeat(0, 2), t, new Conditioning(text.repeat(0, 2)));
                ran.append(out == null ? 0 : 1);
            }
            assertEquals("1100", ran.toString(), "steps the ControlNet ran, of 4, window [0, 0.5]");

            // guidance doubles the batch: rows [uncond full, half, early, cond full, half, early]
            ResidualAdapter three =
                    ControlNetAdapter.forBatch(run, List.of(full, half, early), true);
            ControlNetOutput out =
                    three.residuals(3, 4, row.repeat(0, 6), t, new Conditioning(text.repeat(0, 6)));
            assertNotNull(out);
            List<NDArray> all = new ArrayList<>(out.downBlockResSamples());
            all.add(out.midBlockResSample());
            // conv_in, block 0's layer and downsampler, block 1's layer: the UNet's skips
            assertEquals(4, out.downBlockResSamples().size());
            for (NDArray r : all) {
                for (int c : new int[] {0, 3}) {
                    float[] f = r.get(c).toFloatArray();
                    float[] h = r.get(c + 1).toFloatArray();
                    float[] e = r.get(c + 2).toFloatArray();
                    assertTrue(maxAbs(f) > 1e-3, "a kept row's residual is not zero");
                    for (int k = 0; k < f.length; k++) {
                        // rows of one batch agree to float rounding, not bits
                        assertEquals(0.5f * f[k], h[k], 1e-4f * Math.max(1, Math.abs(f[k])));
                        assertEquals(0f, e[k], 0f, "a row outside its window adds nothing");
                    }
                }
            }
        }
    }

    private static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * ControlNet rows batch with each other (each with its own picture, scale and window) and not
     * with plain rows; no image changes beyond float rounding.
     */
    @Test
    void batchingDoesNotChangeAnImage() {
        List<ImageRequest> requests =
                List.of(
                        controlled(11, unit(ImageToImageTest.picture(64, 64, 7), 1.0, 0, 1)),
                        plain(12),
                        controlled(13, unit(ImageToImageTest.picture(64, 64, 8), 0.7, 0.2, 0.8)));
        List<GeneratedImage> together = pipe.generate(requests);
        assertEquals(2, together.get(0).timings().batchSize(), "the ControlNet rows batch");
        assertEquals(1, together.get(1).timings().batchSize(), "the plain row runs apart");
        for (int i = 0; i < requests.size(); i++) {
            GeneratedImage alone = one(requests.get(i));
            double d = maxAbsDiff(alone.latents(), together.get(i).latents());
            assertTrue(d <= 1e-4, "image " + i + " latents differ by " + d);
        }
        assertArrayEquals(one(plain(12)).latents(), together.get(1).latents());
    }

    /**
     * Two ControlNets are summed (MultiControlNetModel): the same ControlNet twice at scale 0.5 is
     * that ControlNet once at scale 1, exactly (halving and adding two halves are exact).
     */
    @Test
    void severalControlNetsAreSummed() {
        RgbImage picture = ImageToImageTest.picture(64, 64, 9);
        GeneratedImage once = one(controlled(14, unit(picture, 1.0, 0, 1)));
        GeneratedImage twice =
                one(controlled(14, unit(picture, 0.5, 0, 1), unit(picture, 0.5, 0, 1)));
        assertArrayEquals(once.latents(), twice.latents());
        GeneratedImage other =
                one(
                        controlled(
                                14,
                                unit(picture, 0.5, 0, 1),
                                unit(ImageToImageTest.picture(64, 64, 10), 0.5, 0, 1)));
        assertTrue(maxAbsDiff(once.latents(), other.latents()) > 1e-4);
    }

    /**
     * A control picture of another size is resized to the request's size with PIL's Lanczos, as
     * diffusers' control image processor does; with no size in the request, the picture's own
     * (rounded down to the VAE scale factor) is used.
     */
    @Test
    void aControlPictureOfAnotherSizeIsResized() {
        RgbImage odd = ImageToImageTest.picture(50, 90, 11);
        GeneratedImage resizedHere = one(controlled(15, unit(odd, 1.0, 0, 1)));
        GeneratedImage resizedBefore =
                one(controlled(15, unit(VaeImageProcessor.resize(odd, 64, 64), 1.0, 0, 1)));
        assertArrayEquals(resizedBefore.latents(), resizedHere.latents());

        ImageRequest sized =
                pipe.resolve(
                        ImageRequest.of("x", 1)
                                .withControlNets(
                                        List.of(
                                                ControlNetUnit.of(
                                                        controlNet,
                                                        ImageToImageTest.picture(69, 65, 1)))));
        assertEquals(68, sized.width());
        assertEquals(64, sized.height());
        ControlNetUnit defaults = sized.controlNets().get(0);
        assertEquals(1.0, defaults.conditioningScale());
        assertEquals(0.0, defaults.guidanceStart());
        assertEquals(1.0, defaults.guidanceEnd());
    }

    static Stream<Arguments> badRequests() {
        RgbImage picture = ImageToImageTest.picture(64, 64, 1);
        return Stream.of(
                Arguments.of(
                        "start = end",
                        controlled(1, unit(picture, 1, 0.5, 0.5)),
                        "control_guidance_start 0.5 and control_guidance_end 0.5"),
                Arguments.of(
                        "start < 0",
                        controlled(1, unit(picture, 1, -0.1, 0.5)),
                        "control_guidance_start -0.1"),
                Arguments.of(
                        "end > 1",
                        controlled(1, unit(picture, 1, 0, 1.5)),
                        "control_guidance_end 1.5"),
                Arguments.of(
                        "start NaN",
                        controlled(1, unit(picture, 1, Double.NaN, 1)),
                        "control_guidance_start NaN"),
                Arguments.of(
                        "scale infinite",
                        controlled(1, unit(picture, Double.POSITIVE_INFINITY, 0, 1)),
                        "controlnet_conditioning_scale Infinity is not finite"),
                Arguments.of(
                        "with an init image",
                        controlled(1, unit(picture, 1, 0, 1)).withInitImage(picture),
                        "StableDiffusionControlNetImg2ImgPipeline"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequestsAreClearErrorsBeforeAnyTensorWork(
            String name, ImageRequest request, String mentioned) {
        RefusedRequests.assertRefusedBeforeTensorWork(pipe, request, mentioned);
    }

    @Test
    void aControlNetIsLoadedOncePerFolderAndOnlyServesItsPipeline() throws IOException {
        Path folder = tmp.resolve("controlnet-sd1");
        assertSame(controlNet, pipe.controlNet(folder));
        assertSame(controlNet, pipe.controlNet(tmp.resolve("x/../controlnet-sd1")));
        assertEquals("controlnet-sd1", controlNet.name());

        try (StableDiffusionPipeline other =
                StableDiffusionPipeline.load(tmp.resolve("tiny-sd1"), PipelineOptions.defaults())) {
            ControlNet foreign = other.controlNet(folder);
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    pipe.generate(
                                            List.of(
                                                    controlled(
                                                            1,
                                                            ControlNetUnit.of(
                                                                    foreign,
                                                                    ImageToImageTest.picture(
                                                                            64, 64, 1))))));
            assertTrue(e.getMessage().contains("was not loaded by this pipeline"), e.getMessage());
        }
    }

    @Test
    void aControlNetForAnotherModelIsRefusedAtLoad() throws IOException {
        Path sd2 = TinyControlNet.write(tmp.resolve("controlnet-sd2v"), TinyModels.Variant.SD2V, 5);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> pipe.controlNet(sd2));
        assertTrue(e.getMessage().contains("cross_attention_dim is 48"), e.getMessage());
        assertTrue(e.getMessage().contains("controlnet-sd2v"), e.getMessage());
    }

    /**
     * controlnet_conditioning_channel_order "bgr": the picture's channels are flipped before the
     * embedding, so a BGR ControlNet given a picture is the RGB one given the swapped picture.
     */
    @Test
    void bgrControlNetsFlipThePictureChannels() throws IOException {
        Path folder = tmp.resolve("controlnet-sd1");
        Path bgr = Files.createDirectories(tmp.resolve("controlnet-sd1-bgr"));
        JsonObject config =
                JsonParser.parseString(Files.readString(folder.resolve("config.json")))
                        .getAsJsonObject();
        config.addProperty("controlnet_conditioning_channel_order", "bgr");
        Files.writeString(bgr.resolve("config.json"), config.toString());
        Files.copy(
                folder.resolve("diffusion_pytorch_model.safetensors"),
                bgr.resolve("diffusion_pytorch_model.safetensors"));
        ControlNet bgrNet = pipe.controlNet(bgr);

        RgbImage picture = ImageToImageTest.picture(64, 64, 12);
        byte[] swapped = picture.rgb().clone();
        for (int p = 0; p < swapped.length; p += 3) {
            swapped[p] = picture.rgb()[p + 2];
            swapped[p + 2] = picture.rgb()[p];
        }
        GeneratedImage viaBgr =
                one(controlled(16).withControlNets(List.of(ControlNetUnit.of(bgrNet, picture))));
        GeneratedImage viaRgb =
                one(
                        controlled(16)
                                .withControlNets(
                                        List.of(
                                                ControlNetUnit.of(
                                                        controlNet,
                                                        new RgbImage(64, 64, swapped)))));
        assertArrayEquals(viaRgb.latents(), viaBgr.latents());
    }

    @Test
    void nativeMemoryStaysFlatAcrossImages() {
        ImageRequest r = controlled(17, unit(ImageToImageTest.picture(64, 64, 13), 0.8, 0, 0.7));
        pipe.generate(List.of(r));
        int afterWarmUp = pipe.nativeArrayCount();
        for (int i = 0; i < 3; i++) {
            pipe.generate(List.of(r, r.withGuidanceScale(3)));
        }
        assertEquals(afterWarmUp, pipe.nativeArrayCount(), "native arrays after 6 more images");
    }
}
