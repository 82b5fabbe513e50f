package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.mode.TextToImage;
import sdbatch.pipeline.schedulers.Scheduler;
import sdbatch.pipeline.schedulers.Schedulers;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * A cancelled batch stops between denoising steps: the loop runs on a tiny model whose noise
 * predictor counts its calls, and a token that trips after step k must leave exactly k UNet calls.
 */
class DenoisingLoopCancellationTest {
    private static final int STEPS = 6;

    @TempDir static Path tmp;
    static LoopParts parts;

    @BeforeAll
    static void load() throws IOException {
        parts =
                LoopParts.load(
                        TinyModels.write(tmp.resolve("tiny-sd1"), TinyModels.Variant.SD1, 7));
    }

    @AfterAll
    static void close() {
        if (parts != null) {
            parts.close();
        }
    }

    /** The tiny model's family, counting noise predictor calls (one per step, guidance batched). */
    static final class CountingFamily implements ModelFamily {
        final AtomicInteger unetCalls = new AtomicInteger();

        @Override
        public Conditioning encode(NDManager run, List<ImageRequest> batch, boolean guidance) {
            return parts.family().encode(run, batch, guidance);
        }

        @Override
        public NDArray predict(NDArray modelInput, NDArray timestep, Conditioning conditioning) {
            unetCalls.incrementAndGet();
            return parts.family().predict(modelInput, timestep, conditioning);
        }

        @Override
        public int latentChannels() {
            return parts.family().latentChannels();
        }

        @Override
        public int sampleSize() {
            return parts.family().sampleSize();
        }

        @Override
        public int latentSizeMultiple() {
            return parts.family().latentSizeMultiple();
        }

        @Override
        public int inChannels() {
            return parts.family().inChannels();
        }

        @Override
        public int textEncoderLayers() {
            return parts.family().textEncoderLayers();
        }

        @Override
        public sdbatch.pipeline.tokenizer.CLIPTokenizer tokenizer() {
            return parts.family().tokenizer();
        }

        @Override
        public List<sdbatch.pipeline.tokenizer.PromptTruncation> truncations(
                ImageRequest r, boolean guidance) {
            return parts.family().truncations(r, guidance);
        }

        @Override
        public void close() {}
    }

    /** Runs two images of {@link #STEPS} DDIM steps; returns the UNet calls made. */
    private static int run(CancellationToken cancel) {
        CountingFamily counting = new CountingFamily();
        DenoisingLoop loop = new DenoisingLoop(counting, parts.vae());
        ImageRequest first =
                ImageRequest.of("a lighthouse", 1)
                        .withNegativePrompt("")
                        .withSteps(STEPS)
                        .withGuidanceScale(5.0)
                        .withScheduler("ddim", null)
                        .withSize(64, 64)
                        .withEta(0.0);
        List<ImageRequest> batch = List.of(first, first.withGuidanceScale(3.0));
        try (NDManager run = parts.manager().newSubManager();
                Scheduler scheduler = Schedulers.create("ddim", parts.schedulerConfig(), null)) {
            assertEquals(
                    2,
                    loop.run(
                                    run,
                                    batch,
                                    scheduler,
                                    new TextToImage(DataType.FLOAT32),
                                    StepCallback.NONE,
                                    cancel)
                            .size());
        } finally {
            lastCalls = counting.unetCalls.get();
        }
        return lastCalls;
    }

    private static int lastCalls;

    @Test
    void uncancelledRunMakesOneUnetCallPerStep() {
        assertEquals(STEPS, run(CancellationToken.NONE));
    }

    @Test
    void tokenTrippedAfterStepKStopsAfterStepK() {
        for (int k : new int[] {0, 1, 3, STEPS}) {
            AtomicInteger asked = new AtomicInteger();
            // Asked once before encoding and once before each step: the (k+2)th question comes
            // after step k.
            CancellationToken afterStepK = () -> asked.incrementAndGet() > k + 1;
            CancellationException e =
                    assertThrows(CancellationException.class, () -> run(afterStepK), "k=" + k);
            assertEquals(k, lastCalls, "UNet calls when cancelled after step " + k);
            assertTrue(e.getMessage().contains("after step " + k + " of " + STEPS), e.getMessage());
        }
    }

    @Test
    void tokenAlreadyCancelledRunsNoNetwork() {
        CancellationException e = assertThrows(CancellationException.class, () -> run(() -> true));
        assertEquals(0, lastCalls);
        assertTrue(e.getMessage().contains("before encoding"), e.getMessage());
    }
}
