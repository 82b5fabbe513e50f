package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sdbatch.schemas.Status;

class PartitionRunnerTest {
    record Req(String id, int steps) {}

    private static final TaskInfo TASK = new TaskInfo("7", "cpu", "1", 2);

    private final List<List<String>> calls = new ArrayList<>();
    private final Map<String, StoredImage> stored = new java.util.LinkedHashMap<>();
    private final AtomicLong clock = new AtomicLong();

    private PartitionRunner<Req> runner(
            Generator<Req> generator, ImageSink sink, int batchSize, boolean overlap) {
        Thread caller = Thread.currentThread();
        Generator<Req> recording =
                batch -> {
                    calls.add(batch.stream().map(Req::id).toList());
                    clock.addAndGet(batch.size() * 10_000_000L); // 10 ms per image
                    return generator.generate(batch);
                };
        // The fake clock runs on the caller's thread only (the generator advances it there); a
        // store on the writer thread reads a stopped clock, so timings stay exact either way.
        return new PartitionRunner<>(
                recording,
                sink,
                Req::id,
                Req::steps,
                batchSize,
                TASK,
                () -> Thread.currentThread() == caller ? clock.get() : 0L,
                overlap);
    }

    private ImageSink memorySink() {
        return (id, png) -> {
            StoredImage s =
                    StoredImage.ok("images/" + id + ".png", "mem:/" + id, png.length, "h" + id);
            stored.put(id, s);
            return s;
        };
    }

    private static List<GeneratedPng> echo(List<Req> batch) {
        return batch.stream()
                .map(r -> GeneratedPng.ok(r.id().getBytes(StandardCharsets.UTF_8)))
                .toList();
    }

    private static <T> List<T> drain(Iterator<T> it) {
        List<T> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void everyRequestYieldsOneOkResultInBatches(boolean overlap) {
        List<Req> reqs =
                List.of(new Req("a", 20), new Req("b", 50), new Req("c", 20), new Req("d", 20));
        List<RowResult<Req>> results =
                drain(
                        runner(PartitionRunnerTest::echo, memorySink(), 2, overlap)
                                .run(reqs.iterator()));
        assertEquals(List.of(List.of("a", "c"), List.of("d"), List.of("b")), calls);
        assertEquals(
                List.of("a", "c", "d", "b"), results.stream().map(r -> r.request().id()).toList());
        for (RowResult<Req> r : results) {
            assertEquals(Status.OK, r.status());
            assertNull(r.error());
            assertEquals(TASK, r.task());
            assertEquals(10L, r.totalMs(), "batch share of 10 ms per image, no write time");
            assertEquals(stored.get(r.request().id()), r.image());
        }
        assertEquals(2, results.get(0).batchSize());
        assertEquals(1, results.get(2).batchSize());
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void aThrowingBatchIsRetriedOneByOneAndOnlyThePoisonFails(boolean overlap) {
        Generator<Req> poisoned =
                batch -> {
                    for (Req r : batch) {
                        if (r.id().equals("bad")) {
                            throw new IllegalStateException(
                                    "kaboom", new ArithmeticException("root"));
                        }
                    }
                    return echo(batch);
                };
        List<Req> reqs = List.of(new Req("a", 1), new Req("bad", 1), new Req("c", 1));
        List<RowResult<Req>> results =
                drain(runner(poisoned, memorySink(), 3, overlap).run(reqs.iterator()));
        assertEquals(
                List.of(List.of("a", "bad", "c"), List.of("a"), List.of("bad"), List.of("c")),
                calls);
        assertEquals(3, results.size());
        assertEquals(Status.OK, results.get(0).status());
        assertEquals(Status.FAILED, results.get(1).status());
        assertEquals(
                "java.lang.IllegalStateException: kaboom; caused by"
                        + " java.lang.ArithmeticException: root",
                results.get(1).error());
        assertNull(results.get(1).image());
        assertEquals(Status.OK, results.get(2).status());
        assertEquals(1, results.get(2).batchSize());
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void generatorRejectionsAndStoreFailuresFailOnlyTheirRow(boolean overlap) {
        Generator<Req> picky =
                batch ->
                        batch.stream()
                                .map(
                                        r ->
                                                r.id().startsWith("x")
                                                        ? GeneratedPng.failed("no " + r.id())
                                                        : GeneratedPng.ok(new byte[] {1}))
                                .toList();
        ImageSink flaky =
                (id, png) -> {
                    if (id.equals("s1")) {
                        return StoredImage.failed("disk full");
                    }
                    if (id.equals("s2")) {
                        throw new java.io.IOException("gone");
                    }
                    return memorySink().store(id, png);
                };
        List<Req> reqs =
                List.of(new Req("x1", 1), new Req("ok", 1), new Req("s1", 1), new Req("s2", 1));
        List<RowResult<Req>> results = drain(runner(picky, flaky, 4, overlap).run(reqs.iterator()));
        assertEquals(1, calls.size());
        assertEquals("no x1", results.get(0).error());
        assertEquals(Status.OK, results.get(1).status());
        assertEquals("disk full", results.get(2).error());
        assertTrue(results.get(3).error().contains("java.io.IOException: gone"));
        assertEquals(
                List.of(Status.FAILED, Status.OK, Status.FAILED, Status.FAILED),
                results.stream().map(RowResult::status).toList());
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void wrongResultCountFailsTheBatchAndRetries(boolean overlap) {
        Generator<Req> shortChanged =
                batch -> batch.size() > 1 ? echo(batch.subList(0, 1)) : echo(batch);
        List<RowResult<Req>> results =
                drain(
                        runner(shortChanged, memorySink(), 2, overlap)
                                .run(List.of(new Req("a", 1), new Req("b", 1)).iterator()));
        assertEquals(
                List.of(Status.OK, Status.OK), results.stream().map(RowResult::status).toList());
        assertEquals(3, calls.size());
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void emptyPartition(boolean overlap) {
        assertTrue(
                drain(
                                runner(PartitionRunnerTest::echo, memorySink(), 2, overlap)
                                        .run(List.<Req>of().iterator()))
                        .isEmpty());
    }

    @Test
    void storesOfOneBatchOverlapTheNextBatchAndRunAtMostOneBatchBehind() throws Exception {
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch generatingB = new CountDownLatch(1);
        Generator<Req> generator =
                batch -> {
                    String id = batch.get(0).id();
                    events.add("generate " + id);
                    if (id.equals("b")) {
                        generatingB.countDown();
                    }
                    if (id.equals("c")) {
                        // The one-batch bound: a's store finished before c is generated.
                        assertTrue(events.contains("stored a"), "events " + events);
                    }
                    return echo(batch);
                };
        ImageSink sink =
                (id, png) -> {
                    events.add("storing " + id + " on " + Thread.currentThread().getName());
                    if (id.equals("a")) {
                        // a's store runs while b is being generated; inline it would wait here
                        // for a generation that cannot start, and time out.
                        assertTrue(generatingB.await(20, TimeUnit.SECONDS), "no overlap");
                    }
                    StoredImage s = memorySink().store(id, png);
                    events.add("stored " + id);
                    return s;
                };
        List<Req> reqs =
                List.of(new Req("a", 1), new Req("b", 2), new Req("c", 3), new Req("d", 4));
        List<RowResult<Req>> results = drain(runner(generator, sink, 1, true).run(reqs.iterator()));
        assertEquals(
                List.of("a", "b", "c", "d"), results.stream().map(r -> r.request().id()).toList());
        for (RowResult<Req> r : results) {
            assertEquals(Status.OK, r.status(), r.error());
        }
        assertTrue(events.contains("storing a on sdbatch-store-7"), "events " + events);
        assertEquals(4, stored.size());
    }

    @Test
    void aFatalErrorOnTheWriterThreadFailsTheTaskAsItWouldInline() {
        InternalError broken = new InternalError("test: the VM is broken");
        ImageSink dying =
                (id, png) -> {
                    throw broken;
                };
        List<Req> reqs = List.of(new Req("a", 1), new Req("b", 2));
        Iterator<RowResult<Req>> it =
                runner(PartitionRunnerTest::echo, dying, 1, true).run(reqs.iterator());
        assertSame(broken, assertThrows(InternalError.class, () -> drain(it)));
    }

    /** Issue 15 item 2: an out-of-memory store fails its row, not the partition. */
    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void anOutOfMemoryStoreFailsOnlyItsRow(boolean overlap) {
        ImageSink sink = memorySink();
        ImageSink oomForB =
                (id, png) -> {
                    if (id.equals("b")) {
                        throw new OutOfMemoryError("test: no room for b's bytes");
                    }
                    return sink.store(id, png);
                };
        List<RowResult<Req>> results =
                drain(
                        runner(PartitionRunnerTest::echo, oomForB, 2, overlap)
                                .run(List.of(new Req("a", 1), new Req("b", 1)).iterator()));
        assertEquals(
                List.of(Status.OK, Status.FAILED),
                results.stream().map(RowResult::status).toList());
        assertEquals(
                "storing the image failed: java.lang.OutOfMemoryError: test: no room for b's bytes",
                results.get(1).error());
    }

    /**
     * Issue 15 item 2: a batch too large for memory (an {@link OutOfMemoryError} from the
     * generator) is split, and every request made alone succeeds.
     */
    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void anOutOfMemoryBatchIsSplitAndEveryRowSucceedsAlone(boolean overlap) {
        Generator<Req> smallOnly =
                batch -> {
                    if (batch.size() > 1) {
                        throw new OutOfMemoryError("test: CUDA out of memory for " + batch.size());
                    }
                    return echo(batch);
                };
        List<Req> reqs = List.of(new Req("a", 1), new Req("b", 1), new Req("c", 1));
        List<RowResult<Req>> results =
                drain(runner(smallOnly, memorySink(), 3, overlap).run(reqs.iterator()));
        assertEquals(
                List.of(List.of("a", "b", "c"), List.of("a"), List.of("b"), List.of("c")), calls);
        assertEquals(
                List.of(Status.OK, Status.OK, Status.OK),
                results.stream().map(RowResult::status).toList());
        assertEquals(3, stored.size());
    }

    /**
     * Issue 15 item 2: a row whose generation throws an {@link Error} (out of memory, a native
     * library's linkage error) fails alone, with the error as its reason; its batch-mates are made.
     */
    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void anErrorForOnePoisonedRowFailsOnlyThatRow(boolean overlap) {
        Generator<Req> poisoned =
                batch -> {
                    for (Req r : batch) {
                        if (r.id().equals("huge")) {
                            throw new OutOfMemoryError("test: Java heap space");
                        }
                        if (r.id().equals("native")) {
                            throw new UnsatisfiedLinkError("test: no libcudnn for this kernel");
                        }
                    }
                    return echo(batch);
                };
        List<Req> reqs =
                List.of(
                        new Req("a", 1),
                        new Req("huge", 1),
                        new Req("b", 1),
                        new Req("native", 1),
                        new Req("c", 1));
        List<RowResult<Req>> results =
                drain(runner(poisoned, memorySink(), 5, overlap).run(reqs.iterator()));
        assertEquals(
                List.of(Status.OK, Status.FAILED, Status.OK, Status.FAILED, Status.OK),
                results.stream().map(RowResult::status).toList());
        assertEquals("java.lang.OutOfMemoryError: test: Java heap space", results.get(1).error());
        assertEquals(
                "java.lang.UnsatisfiedLinkError: test: no libcudnn for this kernel",
                results.get(3).error());
        assertEquals(3, stored.size());
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void aFatalVmErrorFromTheGeneratorFailsTheTask(boolean overlap) {
        InternalError broken = new InternalError("test: the VM is broken");
        Generator<Req> dying =
                batch -> {
                    throw broken;
                };
        Iterator<RowResult<Req>> it =
                runner(dying, memorySink(), 2, overlap)
                        .run(List.of(new Req("a", 1), new Req("b", 1)).iterator());
        assertSame(broken, assertThrows(InternalError.class, () -> drain(it)));
    }

    /**
     * A cancelled task (the denoising loop's CancellationException, wrapped or not) ends the
     * partition at once: no retry one by one, no row recorded as failed for a cancellation.
     */
    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void aCancelledBatchEndsThePartitionWithoutFailingItsRows(boolean overlap) {
        Generator<Req> cancelled =
                batch -> {
                    throw new IllegalStateException(
                            "generation stopped",
                            new java.util.concurrent.CancellationException(
                                    "test: cancelled after step 2 of 4"));
                };
        Iterator<RowResult<Req>> it =
                runner(cancelled, memorySink(), 2, overlap)
                        .run(List.of(new Req("a", 1), new Req("b", 1)).iterator());
        assertThrows(java.util.concurrent.CancellationException.class, () -> drain(it));
        assertEquals(List.of(List.of("a", "b")), calls, "tried once, not split and retried");
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void deferredPngsAreEncodedWhereTheyAreStoredAndAFailingEncoderFailsOnlyItsRow(
            boolean overlap) {
        List<String> encodedOn = java.util.Collections.synchronizedList(new ArrayList<>());
        Generator<Req> deferring =
                batch ->
                        batch.stream()
                                .map(
                                        r ->
                                                GeneratedPng.deferred(
                                                        () -> {
                                                            encodedOn.add(
                                                                    Thread.currentThread()
                                                                            .getName());
                                                            if (r.id().equals("bad")) {
                                                                throw new java.io.IOException(
                                                                        "deflate broke");
                                                            }
                                                            return r.id().getBytes(
                                                                            StandardCharsets.UTF_8);
                                                        },
                                                        1,
                                                        2,
                                                        3))
                                .toList();
        List<Req> reqs = List.of(new Req("a", 1), new Req("bad", 1), new Req("c", 1));
        List<RowResult<Req>> results =
                drain(runner(deferring, memorySink(), 1, overlap).run(reqs.iterator()));
        assertEquals(
                List.of(Status.OK, Status.FAILED, Status.OK),
                results.stream().map(RowResult::status).toList());
        assertEquals(
                "encoding the PNG failed: java.io.IOException: deflate broke",
                results.get(1).error());
        assertEquals(List.of("a", "c"), List.copyOf(stored.keySet()));
        assertEquals(3, encodedOn.size());
        for (String thread : encodedOn) {
            assertEquals(overlap, thread.startsWith("sdbatch-store-"), thread);
        }
        assertEquals(3L, results.get(0).decodeMs());
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void everyImageIsCountedOnceAsItIsStoredBeforeTheCallerSeesIt(boolean overlap) {
        List<String> counted = java.util.Collections.synchronizedList(new ArrayList<>());
        List<List<String>> countedWhenGenerating = new ArrayList<>();
        Generator<Req> generator =
                batch -> {
                    countedWhenGenerating.add(List.copyOf(counted));
                    if (batch.get(0).id().equals("b")) {
                        throw new IllegalStateException("poison");
                    }
                    return echo(batch);
                };
        PartitionRunner<Req> runner =
                new PartitionRunner<>(
                                generator,
                                memorySink(),
                                Req::id,
                                Req::steps,
                                1,
                                TASK,
                                clock::get,
                                overlap)
                        .withOnFinished(
                                r -> counted.add(r.request().id() + ":" + r.status().value()));
        Iterator<RowResult<Req>> results =
                runner.run(
                        List.of(new Req("a", 20), new Req("b", 20), new Req("c", 20)).iterator());
        List<String> seen = new ArrayList<>();
        while (results.hasNext()) {
            RowResult<Req> r = results.next();
            seen.add(r.request().id());
            assertTrue(
                    counted.contains(r.request().id() + ":" + r.status().value()),
                    r.request().id() + " handed out before it was counted: " + counted);
        }
        assertEquals(List.of("a", "b", "c"), seen);
        assertEquals(List.of("a:ok", "b:failed", "c:ok"), counted);
        // Counting does not wait for the caller: by the time the third image is generated, the
        // first is counted even where stores overlap (its result is handed out only later).
        assertTrue(countedWhenGenerating.get(2).contains("a:ok"), "" + countedWhenGenerating);
    }

    /**
     * A fake generator factory for one executor's device: each generator it opens fails with a
     * CUDA-style error while the device is {@code broken} (or for a poisoned request), and says
     * that such an error poisons the pipeline.
     */
    private static final class FakeDevice {
        int opens;
        int discards;
        int brokenCalls;
        final List<String> generated = new ArrayList<>();

        FakeDevice(int brokenCalls) {
            this.brokenCalls = brokenCalls;
        }

        Generator<Req> open() {
            opens++;
            return new Generator<>() {
                @Override
                public List<GeneratedPng> generate(List<Req> batch) {
                    if (brokenCalls > 0) {
                        brokenCalls--;
                        throw new IllegalStateException(
                                "test: CUDA error: an illegal memory access was encountered");
                    }
                    for (Req r : batch) {
                        if (r.id().startsWith("x")) {
                            throw new IllegalStateException(
                                    "test: CUDA error: device-side assert triggered");
                        }
                    }
                    batch.forEach(r -> generated.add(r.id()));
                    return echo(batch);
                }

                @Override
                public boolean poisonsPipeline(Throwable failure) {
                    return String.valueOf(failure.getMessage()).contains("CUDA error");
                }

                @Override
                public void discardPipeline() {
                    discards++;
                }
            };
        }

        PartitionRunner<Req> runner(ImageSink sink, int batchSize, boolean overlap) {
            Generator<Req> g = new ReopeningGenerator<>(open(), this::open);
            return new PartitionRunner<>(
                    g, sink, Req::id, Req::steps, batchSize, TASK, System::nanoTime, overlap);
        }
    }

    /**
     * Issue 15 item 10: an executor whose GPU faulted fails the task (so Spark retries it elsewhere
     * and can exclude the executor) after three device faults in a row, each on a freshly opened
     * pipeline, instead of failing every row it is given.
     */
    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void aDeviceThatKeepsFaultingFailsTheTaskWithAFreshPipelineBeforeEachTry(boolean overlap) {
        FakeDevice device = new FakeDevice(Integer.MAX_VALUE);
        List<Req> reqs =
                List.of(new Req("a", 1), new Req("b", 1), new Req("c", 1), new Req("d", 1));
        Iterator<RowResult<Req>> it = device.runner(memorySink(), 2, overlap).run(reqs.iterator());
        DeviceFaultException e = assertThrows(DeviceFaultException.class, () -> drain(it));
        assertTrue(e.getMessage().startsWith("3 generations in a row failed"), e.getMessage());
        assertTrue(e.getMessage().contains("executor 7 (cpu)"), e.getMessage());
        assertTrue(e.getCause().getMessage().contains("illegal memory access"));
        // The batch [a, b], then a and b alone: each after a discard and a reopen.
        assertEquals(3, device.discards);
        assertEquals(3, device.opens);
        assertTrue(stored.isEmpty());
    }

    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void aDeviceFaultThatAFreshPipelineCuresCostsNoRow(boolean overlap) {
        FakeDevice device = new FakeDevice(1);
        List<Req> reqs = List.of(new Req("a", 1), new Req("b", 1), new Req("c", 1));
        List<RowResult<Req>> results =
                drain(device.runner(memorySink(), 2, overlap).run(reqs.iterator()));
        assertEquals(
                List.of(Status.OK, Status.OK, Status.OK),
                results.stream().map(RowResult::status).toList());
        assertEquals(1, device.discards);
        assertEquals(2, device.opens);
        assertEquals(List.of("a", "b", "c"), device.generated);
    }

    /**
     * Rows that each trip a device fault but are separated by successes are the rows' fault: they
     * fail alone, with the fault as their reason, and the task goes on.
     */
    @ParameterizedTest(name = "overlapStores={0}")
    @ValueSource(booleans = {false, true})
    void devicefaultsBetweenSuccessesFailOnlyTheirRows(boolean overlap) {
        FakeDevice device = new FakeDevice(0);
        List<Req> reqs =
                List.of(
                        new Req("x1", 1),
                        new Req("a", 1),
                        new Req("x2", 1),
                        new Req("x3", 1),
                        new Req("b", 1),
                        new Req("x4", 1));
        List<RowResult<Req>> results =
                drain(device.runner(memorySink(), 1, overlap).run(reqs.iterator()));
        assertEquals(
                List.of(
                        Status.FAILED,
                        Status.OK,
                        Status.FAILED,
                        Status.FAILED,
                        Status.OK,
                        Status.FAILED),
                results.stream().map(RowResult::status).toList());
        assertTrue(
                results.get(0)
                        .error()
                        .startsWith(
                                "device fault (the pipeline was discarded and is reloaded for the"
                                        + " next batch): java.lang.IllegalStateException: test:"
                                        + " CUDA error: device-side assert"),
                results.get(0).error());
        assertEquals(4, device.discards);
        assertEquals(List.of("a", "b"), device.generated);
    }

    /** A device too broken to even reload a pipeline counts its failed reopens as faults. */
    @Test
    void failedReopensOnABrokenDeviceCountTowardsFailingTheTask() {
        FakeDevice device = new FakeDevice(Integer.MAX_VALUE);
        int[] reopens = {0};
        Generator<Req> g =
                new ReopeningGenerator<>(
                        device.open(),
                        () -> {
                            reopens[0]++;
                            throw new IllegalStateException(
                                    "test: loading failed: CUDA error: unspecified launch failure");
                        });
        PartitionRunner<Req> runner =
                new PartitionRunner<>(
                        g, memorySink(), Req::id, Req::steps, 1, TASK, System::nanoTime, false);
        Iterator<RowResult<Req>> it =
                runner.run(
                        List.of(new Req("a", 1), new Req("b", 1), new Req("c", 1), new Req("d", 1))
                                .iterator());
        DeviceFaultException e = assertThrows(DeviceFaultException.class, () -> drain(it));
        assertTrue(e.getMessage().contains("unspecified launch failure"), e.getMessage());
        assertEquals(2, reopens[0], "a fault on the first generator, then two failed reopens");
    }
}
