package sdbatch.pipeline.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.tiny.TinyModels;

/** Compute choices belong to a pipeline, not to the JVM. */
class ComputeOptionsTest {
    @TempDir Path dir;

    @Test
    void scopesNestAndRestoreAndOtherThreadsKeepTheirOwn() throws Exception {
        assertFalse(ComputeOptions.current().bf16());
        try (ComputeOptions.Scope outer = ComputeOptions.defaults().withBf16(true).enter()) {
            assertTrue(ComputeOptions.current().bf16());
            try (ComputeOptions.Scope inner =
                    ComputeOptions.current().withConvLowering("never").enter()) {
                assertEquals("never", ComputeOptions.current().convLowering());
                assertTrue(ComputeOptions.current().bf16());
            }
            assertEquals(
                    ComputeOptions.defaults().convLowering(),
                    ComputeOptions.current().convLowering());
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                assertFalse(other.submit(() -> ComputeOptions.current().bf16()).get());
            } finally {
                other.shutdownNow();
            }
        }
        assertFalse(ComputeOptions.current().bf16());
        assertThrows(
                IllegalArgumentException.class,
                () -> ComputeOptions.defaults().withConvLowering("sometimes"));
        assertThrows(
                IllegalArgumentException.class,
                () -> ComputeOptions.defaults().withMaxScoreElements(0));
    }

    @Test
    void bf16ComputeIsRefusedOnAGpuAndWithFloat16Arrays() {
        ComputeOptions bf16 = ComputeOptions.defaults().withBf16(true);
        assertThrows(
                IllegalArgumentException.class,
                () -> PipelineOptions.defaults().withDevice(Device.gpu(0)).withCompute(bf16));
    }

    /**
     * An fp32 and a bf16 pipeline over the same folder, generating at the same time on two threads,
     * each give exactly the images they give alone.
     */
    @Test
    void anFp32AndABf16PipelineSideBySideEachComputeAsTheirOwnOptionsSay() throws Exception {
        Path model = TinyModels.write(dir.resolve("tiny"), TinyModels.Variant.SD1, 3);
        List<ImageRequest> requests = new ArrayList<>();
        for (int seed = 0; seed < 2; seed++) {
            requests.add(
                    ImageRequest.of("a red fox in the snow", seed)
                            .withSteps(3)
                            .withScheduler("euler", null));
        }
        PipelineOptions fp32 = PipelineOptions.defaults();
        PipelineOptions bf16 = fp32.withCompute(ComputeOptions.defaults().withBf16(true));
        try (StableDiffusionPipeline a = StableDiffusionPipeline.load(model, fp32);
                StableDiffusionPipeline b = StableDiffusionPipeline.load(model, bf16)) {
            List<GeneratedImage> aloneA = a.generate(requests);
            List<GeneratedImage> aloneB = b.generate(requests);
            assertFalse(
                    java.util.Arrays.equals(aloneA.get(0).rgb(), aloneB.get(0).rgb()),
                    "bf16 computed exactly like fp32: its options were not in force");
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 3; round++) {
                    CountDownLatch go = new CountDownLatch(1);
                    Future<List<GeneratedImage>> fa =
                            pool.submit(
                                    () -> {
                                        go.await();
                                        return a.generate(requests);
                                    });
                    Future<List<GeneratedImage>> fb =
                            pool.submit(
                                    () -> {
                                        go.await();
                                        return b.generate(requests);
                                    });
                    go.countDown();
                    List<GeneratedImage> ga = fa.get(120, TimeUnit.SECONDS);
                    List<GeneratedImage> gb = fb.get(120, TimeUnit.SECONDS);
                    for (int i = 0; i < requests.size(); i++) {
                        assertArrayEquals(aloneA.get(i).rgb(), ga.get(i).rgb(), "fp32 " + i);
                        assertArrayEquals(aloneB.get(i).rgb(), gb.get(i).rgb(), "bf16 " + i);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        assertFalse(ComputeOptions.current().bf16(), "no options leak out of a pipeline call");
    }

    @Test
    void intraOpThreadsHoldForThePipelinesCallsOnly() throws Exception {
        Path model = TinyModels.write(dir.resolve("threads"), TinyModels.Variant.SD1, 5);
        ai.djl.engine.Engine.getEngine("PyTorch");
        int before = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        int share = before == 1 ? 2 : 1;
        PipelineOptions options =
                PipelineOptions.defaults()
                        .withCompute(ComputeOptions.defaults().withIntraOpThreads(share));
        List<Integer> seen = new ArrayList<>();
        try (StableDiffusionPipeline pipe = StableDiffusionPipeline.load(model, options)) {
            pipe.generate(
                    List.of(ImageRequest.of("x", 1).withSteps(2)),
                    (i, n, t) -> seen.add(ai.djl.pytorch.jni.JniUtils.getNumThreads()));
        }
        assertFalse(seen.isEmpty());
        assertEquals(List.of(share), seen.stream().distinct().toList(), "threads in every step");
        assertEquals(before, ai.djl.pytorch.jni.JniUtils.getNumThreads(), "restored after it");
        assertThrows(
                IllegalArgumentException.class,
                () -> ComputeOptions.defaults().withIntraOpThreads(-1));
        assertEquals(0, ComputeOptions.defaults().intraOpThreads(), "default: libtorch's own");
    }
}
