package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.CancellationToken;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.schemas.GenerationRequest;

/**
 * A cancelled Spark task's token trips (without relying on thread interrupts, which libtorch's
 * native calls ignore), and {@link PipelineGenerator} hands its token to the pipeline's step loop.
 */
class SparkTaskCancellationTest extends SharedSparkSession {
    /** The task's view, shared through the JVM (local mode runs tasks in this JVM). */
    static final CountDownLatch TASK_STARTED = new CountDownLatch(1);

    static final AtomicReference<String> TASK_SAW = new AtomicReference<>();

    @TempDir Path tmp;

    @Test
    void outsideATaskNothingIsCancelled() {
        assertFalse(SparkTaskCancellation.forCurrentTask().isCancellationRequested());
    }

    @Test
    void cancellingTheJobGroupTripsTheRunningTasksToken() throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Thread job =
                new Thread(
                        () -> {
                            // interruptOnCancel false: the token alone must see the kill, as a
                            // thread inside a libtorch call never sees an interrupt.
                            jsc.setJobGroup("cancel-test", "cancel test", false);
                            try {
                                jsc.parallelize(List.of(1), 1)
                                        .map(
                                                x -> {
                                                    CancellationToken token =
                                                            SparkTaskCancellation.forCurrentTask();
                                                    TASK_STARTED.countDown();
                                                    long deadline =
                                                            System.nanoTime()
                                                                    + TimeUnit.SECONDS.toNanos(120);
                                                    while (System.nanoTime() < deadline) {
                                                        if (token.isCancellationRequested()) {
                                                            TASK_SAW.set("cancelled");
                                                            return x;
                                                        }
                                                        spinBriefly();
                                                    }
                                                    TASK_SAW.set("never cancelled");
                                                    return x;
                                                })
                                        .collect();
                            } catch (RuntimeException expected) {
                                // the cancelled job fails on the driver; what counts is the task
                            }
                        },
                        "cancel-test-job");
        job.start();
        assertTrue(TASK_STARTED.await(120, TimeUnit.SECONDS), "the task never started");
        assertEquals(null, TASK_SAW.get(), "not cancelled yet");
        jsc.cancelJobGroup("cancel-test");
        job.join(TimeUnit.SECONDS.toMillis(150));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        while (TASK_SAW.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals("cancelled", TASK_SAW.get());
    }

    private static void spinBriefly() {
        // Busy, not sleeping: a sleeping thread would be woken by an interrupt, a native call not.
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    @Test
    void pipelineGeneratorStopsItsBatchWhenTheTokenTrips() throws Exception {
        Path model = TinyModels.write(tmp.resolve("tiny"), TinyModels.Variant.SD1, 3);
        try (StableDiffusionPipeline pipeline =
                StableDiffusionPipeline.load(
                        model, ExecutorPipelines.options(ai.djl.Device.cpu(), "fp32"))) {
            List<PlannedRequest> batch = List.of(planned(1), planned(2));
            List<GeneratedPng> images =
                    new PipelineGenerator(pipeline, "tiny", n -> {}, CancellationToken.NONE)
                            .generate(batch);
            assertEquals(2, images.size());

            AtomicInteger asked = new AtomicInteger();
            // Trips after the second step: the third of four steps never runs.
            PipelineGenerator cancelled =
                    new PipelineGenerator(
                            pipeline, "tiny", n -> {}, () -> asked.incrementAndGet() > 3);
            CancellationException e =
                    assertThrows(CancellationException.class, () -> cancelled.generate(batch));
            assertTrue(e.getMessage().contains("after step 2 of 4"), e.getMessage());
        }
    }

    private static PlannedRequest planned(long seed) {
        GenerationRequest r =
                new GenerationRequest(
                        "a lighthouse",
                        "",
                        seed,
                        4,
                        5.0,
                        "ddim",
                        "{}",
                        64,
                        64,
                        0.0,
                        0,
                        seed,
                        "r" + seed,
                        0,
                        Map.of(),
                        null,
                        null,
                        null);
        return new PlannedRequest(seed, "id" + seed, r, List.of());
    }
}
