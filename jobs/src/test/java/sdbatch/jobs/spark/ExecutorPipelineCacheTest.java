package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ExecutorPipelineCacheTest {
    static final class Model implements AutoCloseable {
        volatile boolean closed;

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void oneLoadPerKeyUnderConcurrency() throws Exception {
        ExecutorPipelineCache cache = new ExecutorPipelineCache();
        ExecutorPipelineCache.Key key = new ExecutorPipelineCache.Key("/m", "cpu", "fp32");
        AtomicInteger loads = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Model>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                futures.add(
                        pool.submit(
                                () -> {
                                    go.await();
                                    return cache.get(
                                            key,
                                            k -> {
                                                loads.incrementAndGet();
                                                Thread.sleep(100);
                                                return new Model();
                                            });
                                }));
            }
            go.countDown();
            Model first = futures.get(0).get();
            for (Future<Model> f : futures) {
                assertSame(first, f.get());
            }
            assertEquals(1, loads.get());
            Model other =
                    cache.get(
                            new ExecutorPipelineCache.Key("/m", "gpu:0", "fp32"), k -> new Model());
            assertEquals(2, cache.size());
            cache.close();
            assertTrue(first.closed && other.closed);
            assertEquals(0, cache.size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailedLoadIsRetriedByTheNextCaller() {
        ExecutorPipelineCache cache = new ExecutorPipelineCache();
        ExecutorPipelineCache.Key key = new ExecutorPipelineCache.Key("/bad", "cpu", "fp32");
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () ->
                                cache.get(
                                        key,
                                        k -> {
                                            throw new java.io.IOException("no weights");
                                        }));
        assertEquals("no weights", e.getCause().getMessage());
        assertEquals("ok", cache.get(key, k -> "ok"));
    }

    /**
     * Issue 15 item 10: a pipeline a device fault poisoned is evicted and closed; the next get
     * reloads.
     */
    @Test
    void anEvictedValueIsClosedAndTheNextGetLoadsAfresh() throws Exception {
        ExecutorPipelineCache cache = new ExecutorPipelineCache();
        ExecutorPipelineCache.Key key = new ExecutorPipelineCache.Key("/m", "gpu:0", "fp16");
        AtomicInteger loads = new AtomicInteger();
        Model broken =
                cache.get(
                        key,
                        k -> {
                            loads.incrementAndGet();
                            return new Model();
                        });
        assertTrue(cache.holds(broken));
        assertTrue(cache.evict(broken));
        assertTrue(broken.closed);
        assertTrue(!cache.holds(broken), "another task holding it can tell it was evicted");
        assertEquals(0, cache.size());
        assertTrue(!cache.evict(broken), "a second eviction finds nothing");
        Model fresh =
                cache.get(
                        key,
                        k -> {
                            loads.incrementAndGet();
                            return new Model();
                        });
        assertTrue(fresh != broken);
        assertEquals(2, loads.get());
        assertTrue(!fresh.closed);
        cache.close();
    }
}
