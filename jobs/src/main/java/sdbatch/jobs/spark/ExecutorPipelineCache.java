package sdbatch.jobs.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * A per-JVM cache of loaded pipelines, so an executor loads a model once per (model path, device,
 * dtype) and shares it among all the tasks that run on that device, instead of re-reading gigabytes
 * of weights per task or per row.
 *
 * <p>One load per key even under concurrent tasks: the first task to ask installs a {@link
 * FutureTask} and runs the loader; the others wait on the same future. A failed load is removed, so
 * a later task (a Spark retry) tries again rather than inheriting the failure forever. Values that
 * are {@link AutoCloseable} are closed by {@link #close()} and by a JVM shutdown hook of the {@link
 * #shared()} instance.
 *
 * <p>Anchor: Iceberg's {@code SparkExecutorCache}.
 */
public final class ExecutorPipelineCache implements AutoCloseable {
    /**
     * The cache key.
     *
     * @param model the model: its local folder (after any download) and content hash, {@code
     *     <folder>#sha256=<hash>}, so a folder whose files changed loads again instead of serving
     *     the old weights
     * @param device the device ({@code cpu}, {@code gpu:0})
     * @param dtype the weights' data type
     */
    public record Key(String model, String device, String dtype) {
        public Key {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(device, "device");
            Objects.requireNonNull(dtype, "dtype");
        }
    }

    /** Loads the value of a key. */
    @FunctionalInterface
    public interface Loader<T> {
        T load(Key key) throws Exception;
    }

    private static final ExecutorPipelineCache SHARED = new ExecutorPipelineCache();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(SHARED::close, "sdbatch-pipeline-cache"));
    }

    private final ConcurrentHashMap<Key, FutureTask<Object>> entries = new ConcurrentHashMap<>();

    /** The cache of this JVM. */
    public static ExecutorPipelineCache shared() {
        return SHARED;
    }

    /**
     * The value for {@code key}, loading it with {@code loader} if no task has yet.
     *
     * @throws IllegalStateException with the loader's failure as cause
     */
    @SuppressWarnings("unchecked")
    public <T> T get(Key key, Loader<T> loader) {
        FutureTask<Object> task = new FutureTask<>(() -> loader.load(key));
        FutureTask<Object> existing = entries.putIfAbsent(key, task);
        if (existing == null) {
            existing = task;
            task.run();
        }
        try {
            return (T) existing.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading " + key, e);
        } catch (ExecutionException e) {
            entries.remove(key, existing);
            throw new IllegalStateException("loading " + key + " failed", e.getCause());
        }
    }

    /**
     * Removes every entry whose loaded value is {@code value} (by identity) and closes it once, so
     * the next {@link #get} of its key loads afresh. Used when a device fault poisoned a pipeline
     * ({@code PipelineGenerator#discardPipeline}): the tasks that come later on this executor must
     * not be handed the broken one. A task still holding it sees it closed, fails its batch, and
     * reopens in turn.
     *
     * @return whether an entry held {@code value}
     * @throws Exception what closing the value threw (the entry is removed all the same)
     */
    public boolean evict(Object value) throws Exception {
        boolean removed = false;
        for (var e : entries.entrySet()) {
            FutureTask<Object> t = e.getValue();
            if (t.isDone() && !t.isCancelled() && loadedValue(t) == value) {
                removed |= entries.remove(e.getKey(), t);
            }
        }
        if (removed && value instanceof AutoCloseable c) {
            c.close();
        }
        return removed;
    }

    /** Whether a loaded entry holds {@code value} (by identity): false once it was evicted. */
    public boolean holds(Object value) {
        for (FutureTask<Object> t : entries.values()) {
            if (t.isDone() && !t.isCancelled() && loadedValue(t) == value) {
                return true;
            }
        }
        return false;
    }

    private static Object loadedValue(FutureTask<Object> done) {
        try {
            return done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            return null; // a failed load holds no value
        }
    }

    /** How many keys are loaded or loading. */
    public int size() {
        return entries.size();
    }

    /** Removes and closes every loaded value. */
    @Override
    public void close() {
        List<FutureTask<Object>> tasks = new ArrayList<>(entries.values());
        entries.clear();
        for (FutureTask<Object> t : tasks) {
            if (!t.isDone()) {
                continue;
            }
            try {
                Object v = t.get();
                if (v instanceof AutoCloseable c) {
                    c.close();
                }
            } catch (Exception e) {
                // Closing at shutdown: a value that failed to load or close has nothing to release.
            }
        }
    }
}
