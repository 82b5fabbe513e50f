package sdbatch.jobs.generate;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * A task's generator that survives {@link #discardPipeline}: it delegates to the generator it was
 * opened with, and after a discard opens a new one (a freshly loaded pipeline) for the next batch.
 * {@link PartitionRunner} discards a pipeline that a device fault poisoned; without the reopen the
 * task would keep its broken pipeline for the rest of the partition.
 *
 * <p>Not thread-safe: one task thread generates.
 *
 * @param <R> the request type
 */
public final class ReopeningGenerator<R> implements Generator<R> {
    private final Callable<? extends Generator<R>> open;
    private Generator<R> current;

    /**
     * The last generator opened, which judges failures even while none is open: a reopen that fails
     * on a broken device is a device fault too.
     */
    private Generator<R> judge;

    /**
     * @param first the generator already opened for the task
     * @param open opens another (the task's generator factory), called once per discard, when the
     *     next batch needs it
     */
    public ReopeningGenerator(Generator<R> first, Callable<? extends Generator<R>> open) {
        this.current = Objects.requireNonNull(first, "first");
        this.judge = first;
        this.open = Objects.requireNonNull(open, "open");
    }

    @Override
    public List<GeneratedPng> generate(List<R> batch) throws Exception {
        if (current == null) {
            // A failure here fails this batch like any generation failure; the next batch tries
            // again.
            current = Objects.requireNonNull(open.call(), "the generator factory returned null");
            judge = current;
        }
        return current.generate(batch);
    }

    @Override
    public boolean poisonsPipeline(Throwable failure) {
        return judge.poisonsPipeline(failure);
    }

    @Override
    public void discardPipeline() throws Exception {
        Generator<R> g = current;
        current = null;
        if (g != null) {
            g.discardPipeline();
        }
    }
}
