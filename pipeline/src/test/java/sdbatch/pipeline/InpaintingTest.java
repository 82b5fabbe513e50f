package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.image.VaeImageProcessor;
import sdbatch.pipeline.mode.ImageToImage;
import sdbatch.pipeline.mode.Inpainting;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.noise.BatchNoise;
import sdbatch.pipeline.noise.TorchCpuGenerator;
import sdbatch.pipeline.schedulers.Scheduler;
import sdbatch.pipeline.schedulers.Schedulers;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * Inpainting's behaviour on the tiny random-weight model, whose UNet takes 4 channels (parity with
 * diffusers on 4- and 9-channel UNets is {@link StableDiffusionPipelineGoldenTest}'s): validation,
 * defaults, the known region blended back at every step, the generator's draw order, paste-back,
 * batching and native memory. The expected values are computed here from the VAE and the seeded
 * generators directly, not by the mode under test.
 */
class InpaintingTest {
    private static final int SIZE = 64;

    @TempDir static Path tmp;
    static StableDiffusionPipeline pipe;
    static LoopParts parts;

    @BeforeAll
    static void load() throws IOException {
        Path dir = TinyModels.write(tmp.resolve("tiny-sd1"), TinyModels.Variant.SD1, 7);
        pipe = StableDiffusionPipeline.load(dir, PipelineOptions.defaults());
        parts = LoopParts.load(dir);
    }

    @AfterAll
    static void close() {
        if (pipe != null) {
            pipe.close();
        }
        if (parts != null) {
            parts.close();
        }
    }

    /** A mask whose pixel (x, y) has level {@code level(x, y)}, gray. */
    interface Levels {
        int at(int x, int y);
    }

    static RgbImage mask(Levels level) {
        byte[] rgb = new byte[SIZE * SIZE * 3];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                Arrays.fill(rgb, (y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3, (byte) level.at(x, y));
            }
        }
        return new RgbImage(SIZE, SIZE, rgb);
    }

    /** Left half kept (black), right half repainted (white). */
    static final RgbImage HALF = mask((x, y) -> x < SIZE / 2 ? 0 : 255);

    static ImageRequest inpaint(long seed, RgbImage init, RgbImage mask, double strength) {
        return ImageToImageTest.img2img(seed, init, strength).withMaskImage(mask);
    }

    @Test
    void defaultsAreTheInpaintingPipelines() {
        // strength 1.0 and the UNet's size, whatever the init picture's size
        ImageRequest r =
                pipe.resolve(
                        ImageRequest.of("x", 1)
                                .withInitImage(ImageToImageTest.picture(71, 67, 1))
                                .withMaskImage(ImageToImageTest.picture(30, 20, 2)));
        assertEquals(1.0, r.strength());
        assertEquals(pipe.defaultSize(), r.width());
        assertEquals(pipe.defaultSize(), r.height());
        assertFalse(r.pasteBack(), "paste_back is off unless asked for");
    }

    @Test
    void aMaskNeedsAnInitImageAndPasteBackNeedsAMask() {
        RgbImage picture = ImageToImageTest.picture(SIZE, SIZE, 1);
        IllegalArgumentException noInit =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> pipe.checkInputs(ImageRequest.of("x", 1).withMaskImage(HALF)));
        assertTrue(noInit.getMessage().contains("mask_image"), noInit.getMessage());
        IllegalArgumentException noMask =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                pipe.checkInputs(
                                        ImageToImageTest.img2img(1, picture, 0.5)
                                                .withPasteBack(true)));
        assertTrue(noMask.getMessage().contains("paste_back"), noMask.getMessage());
        // a mask of another size than the init picture is resized, as in diffusers
        pipe.checkInputs(inpaint(1, picture, ImageToImageTest.picture(32, 48, 3), 0.5));
    }

    @Test
    void anInpaintingUnetRunsInpaintingOnly() throws IOException {
        Path folder = SharedData.golden().resolve("tiny-sd1-inpaint");
        assumeTrue(Files.isDirectory(folder), folder + " absent; 9-channel check skipped");
        try (StableDiffusionPipeline nine =
                StableDiffusionPipeline.load(folder, PipelineOptions.defaults())) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> nine.checkInputs(ImageRequest.of("x", 1).withSteps(2)));
            assertTrue(e.getMessage().contains("9 input channels"), e.getMessage());
            nine.checkInputs(inpaint(1, ImageToImageTest.picture(SIZE, SIZE, 1), HALF, 1.0));
        }
    }

    /** {@code scaling_factor * (mean + std * randn)} of the init picture, randn from {@code g}. */
    static float[] initLatents(RgbImage init, TorchCpuGenerator g) {
        float[] pixels = new float[3 * SIZE * SIZE];
        VaeImageProcessor.preprocess(init, SIZE, SIZE, pixels, 0);
        try (NDManager m = parts.manager().newSubManager()) {
            AutoencoderKL.LatentDist dist =
                    parts.vae().encode(m.create(pixels, new Shape(1, 3, SIZE, SIZE)));
            float[] mean = dist.mean().toFloatArray();
            float[] std = dist.std().toFloatArray();
            float[] eps = g.randn(mean.length);
            float scaling = (float) parts.vae().config().scalingFactor();
            float[] out = new float[mean.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (mean[i] + std[i] * eps[i]) * scaling;
            }
            return out;
        }
    }

    /**
     * An all-black mask repaints nothing and the job can tell; it still generates, and with a
     * 4-channel UNet the last blend leaves exactly the init picture's sampled VAE latents (the
     * generator's first draw).
     */
    @Test
    void anAllBlackMaskGeneratesTheInitLatents() {
        RgbImage init = ImageToImageTest.picture(SIZE, SIZE, 5);
        ImageRequest r = inpaint(31, init, mask((x, y) -> 0), 1.0).withScheduler("ddim", null);
        assertTrue(pipe.maskRepaintsNothing(r));
        assertFalse(pipe.maskRepaintsNothing(inpaint(31, init, HALF, 1.0)));
        float[] latents = pipe.generate(List.of(r)).get(0).latents();
        float[] expected = initLatents(init, new TorchCpuGenerator(31));
        assertArrayEquals(expected, latents, 1e-5f);
    }

    /** A mode doing what {@code inner} does, for a test to change one of its hooks. */
    static class Delegating implements GenerationMode {
        final GenerationMode inner;

        Delegating(GenerationMode inner) {
            this.inner = inner;
        }

        @Override
        public double[] timesteps(Scheduler scheduler, ImageRequest first) {
            return inner.timesteps(scheduler, first);
        }

        @Override
        public NDArray firstLatents(
                NDManager run, BatchNoise noise, Shape shape, Scheduler scheduler) {
            return inner.firstLatents(run, noise, shape, scheduler);
        }

        @Override
        public NDArray modelInput(NDArray scaledLatents) {
            return inner.modelInput(scaledLatents);
        }

        @Override
        public NDArray afterStep(
                NDArray latents, int index, double[] timesteps, Scheduler scheduler) {
            return inner.afterStep(latents, index, timesteps, scheduler);
        }

        @Override
        public RgbImage postprocess(int index, RgbImage image) {
            return inner.postprocess(index, image);
        }
    }

    /** Runs the loop with {@code mode}, recording the latents after every step's hook. */
    static List<float[]> runRecording(ImageRequest request, GenerationMode mode) {
        DenoisingLoop loop = new DenoisingLoop(parts.family(), parts.vae());
        List<float[]> after = new ArrayList<>();
        GenerationMode recording =
                new Delegating(mode) {
                    @Override
                    public NDArray afterStep(
                            NDArray latents, int index, double[] timesteps, Scheduler scheduler) {
                        NDArray out = inner.afterStep(latents, index, timesteps, scheduler);
                        after.add(out.toFloatArray());
                        return out;
                    }
                };
        ImageRequest r = pipe.checkInputs(request);
        try (NDManager run = parts.manager().newSubManager();
                Scheduler scheduler =
                        Schedulers.create(r.scheduler(), parts.schedulerConfig(), null, r.eta())) {
            loop.run(
                    run,
                    List.of(r),
                    scheduler,
                    recording,
                    StepCallback.NONE,
                    CancellationToken.NONE);
        }
        return after;
    }

    /**
     * With a 4-channel UNet the kept half of the latents is, after every step, the init latents
     * noised to the next timestep with the first latents' noise (the generator's first and second
     * draws), and the init latents themselves after the last; the repainted half is the UNet's.
     */
    @Test
    void theKnownRegionIsTheInitLatentsNoisedToTheNextTimestep() {
        RgbImage init = ImageToImageTest.picture(SIZE, SIZE, 6);
        ImageRequest r = pipe.checkInputs(inpaint(41, init, HALF, 0.6).withScheduler("ddim", null));
        List<float[]> after =
                runRecording(r, new Inpainting(DataType.FLOAT32, parts.vae(), 4, List.of(r)));
        TorchCpuGenerator g = new TorchCpuGenerator(41);
        float[] initLatents = initLatents(init, g);
        float[] noise = g.randn(initLatents.length);
        int lw = SIZE / parts.vae().config().vaeScaleFactor();
        try (NDManager m = parts.manager().newSubManager();
                Scheduler ddim = Schedulers.create("ddim", parts.schedulerConfig(), null)) {
            double[] timesteps = ImageToImage.getTimesteps(ddim, r.steps(), r.strength());
            assertEquals(timesteps.length, after.size());
            Shape shape = new Shape(1, 4, lw, lw);
            for (int i = 0; i < after.size(); i++) {
                float[] proper =
                        i < after.size() - 1
                                ? ddim.addNoise(
                                                m.create(initLatents, shape),
                                                m.create(noise, shape),
                                                timesteps[i + 1])
                                        .toFloatArray()
                                : initLatents;
                int repaintedDiffering = 0;
                for (int k = 0; k < proper.length; k++) {
                    boolean kept = k % lw < lw / 2;
                    if (kept) {
                        assertEquals(proper[k], after.get(i)[k], 1e-5f, "step " + i + " at " + k);
                    } else if (Math.abs(proper[k] - after.get(i)[k]) > 1e-3) {
                        repaintedDiffering++;
                    }
                }
                assertTrue(repaintedDiffering > proper.length / 4, "step " + i + " repainted");
            }
        }
    }

    /**
     * diffusers samples the masked picture's VAE latents (a third draw on each image's generator)
     * even for a 4-channel UNet, which never uses them: an ancestral scheduler's noise comes after
     * it. With a white mask (everything repainted) inpainting is therefore img2img with one draw of
     * the latents' shape made between the first latents and the first step.
     */
    @Test
    void theMaskedPicturesSampleIsDrawnBeforeTheSchedulersNoise() {
        RgbImage init = ImageToImageTest.picture(SIZE, SIZE, 7);
        ImageRequest r =
                pipe.checkInputs(
                        inpaint(51, init, mask((x, y) -> 255), 0.6).withScheduler("euler_a", null));
        List<float[]> inpainted =
                runRecording(r, new Inpainting(DataType.FLOAT32, parts.vae(), 4, List.of(r)));
        ImageRequest img2img = r.withMaskImage(null);
        ImageToImage plain = new ImageToImage(DataType.FLOAT32, parts.vae(), List.of(img2img));
        GenerationMode drawingOnceMore =
                new Delegating(plain) {
                    @Override
                    public NDArray firstLatents(
                            NDManager run, BatchNoise noise, Shape shape, Scheduler scheduler) {
                        NDArray latents = plain.firstLatents(run, noise, shape, scheduler);
                        noise.randn(run, shape).close();
                        return latents;
                    }
                };
        List<float[]> expected = runRecording(img2img, drawingOnceMore);
        assertArrayEquals(expected.get(expected.size() - 1), inpainted.get(inpainted.size() - 1));
        List<float[]> withoutTheDraw = runRecording(img2img, plain);
        assertFalse(
                Arrays.equals(
                        withoutTheDraw.get(withoutTheDraw.size() - 1),
                        inpainted.get(inpainted.size() - 1)),
                "Euler a's noise does not depend on the draws before it");
    }

    /**
     * paste_back: where the mask is black the image is exactly the init picture, where it is white
     * exactly diffusers' decoded image; without it, the kept region is the VAE's reconstruction.
     */
    @Test
    void pasteBackKeepsTheInitPictureOutsideTheMask() {
        RgbImage init = ImageToImageTest.picture(SIZE, SIZE, 8);
        ImageRequest r = inpaint(61, init, HALF, 1.0).withScheduler("dpmpp_2m", null);
        List<GeneratedImage> images = pipe.generate(List.of(r, r.withPasteBack(true)));
        assertEquals(2, images.get(0).timings().batchSize(), "paste_back does not split a batch");
        byte[] plain = images.get(0).rgb();
        byte[] pasted = images.get(1).rgb();
        int keptDiffering = 0;
        for (int p = 0; p < SIZE * SIZE; p++) {
            boolean kept = p % SIZE < SIZE / 2;
            for (int c = 0; c < 3; c++) {
                int k = p * 3 + c;
                assertEquals(kept ? init.rgb()[k] : plain[k], pasted[k], "pixel " + p);
                if (kept && plain[k] != init.rgb()[k]) {
                    keptDiffering++;
                }
            }
        }
        assertTrue(keptDiffering > 0, "without paste_back the kept region went through the VAE");
    }

    /**
     * Inpainting requests batch with each other (same size, steps, strength), not with img2img or
     * another strength, and batching changes no image beyond float rounding.
     */
    @Test
    void inpaintingBatchesWithItsOwnMode() {
        RgbImage init = ImageToImageTest.picture(SIZE, SIZE, 9);
        List<ImageRequest> requests =
                List.of(
                        inpaint(71, init, HALF, 0.6).withScheduler("euler_a", null),
                        inpaint(
                                        72,
                                        ImageToImageTest.picture(48, 80, 10),
                                        mask((x, y) -> y * 4),
                                        0.6)
                                .withScheduler("euler_a", null),
                        ImageToImageTest.img2img(71, init, 0.6).withScheduler("euler_a", null),
                        inpaint(71, init, HALF, 0.8).withScheduler("euler_a", null));
        List<GeneratedImage> together = pipe.generate(requests);
        assertEquals(2, together.get(0).timings().batchSize(), "the inpainting requests batch");
        assertEquals(1, together.get(2).timings().batchSize(), "img2img runs apart");
        assertEquals(1, together.get(3).timings().batchSize(), "another strength runs apart");
        for (int i = 0; i < 2; i++) {
            float[] alone = pipe.generate(List.of(requests.get(i))).get(0).latents();
            assertArrayEquals(alone, together.get(i).latents(), 1e-4f, "image " + i);
        }
    }

    @Test
    void nativeMemoryStaysFlatAcrossImages() {
        RgbImage init = ImageToImageTest.picture(SIZE, SIZE, 11);
        ImageRequest r = inpaint(81, init, HALF, 0.7).withScheduler("euler", null);
        pipe.generate(List.of(r));
        int afterWarmUp = pipe.nativeArrayCount();
        for (int i = 0; i < 3; i++) {
            pipe.generate(List.of(r, r.withGuidanceScale(3).withPasteBack(true)));
        }
        assertEquals(afterWarmUp, pipe.nativeArrayCount(), "native arrays after 6 more images");
    }
}
