package sdbatch.pipeline.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import sdbatch.pipeline.weights.LiveParameters;
import sdbatch.pipeline.weights.ModelHash;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * The LoRA set a pipeline's weights hold, merged into them in place: every changed layer's weight
 * is {@code W + Σ weight × alpha / rank × up @ down} over the set's LoRAs, in the set's order, as
 * AUTOMATIC1111 and diffusers' {@code fuse_lora} compute it. A set is merged once and reused by
 * every batch that asks for it; switching to another set (or to none) first writes back the base
 * values of every layer the old set changed, read again from the model's safetensors files (never
 * by subtracting, which would leave rounding behind), then merges the new one.
 *
 * <p>Batches hold {@link #use} while they run: any number at once under one set; a batch that needs
 * another set waits until they are done, switches, and runs. The merge is all-or-nothing: every key
 * of every file is resolved and checked before one weight changes.
 *
 * <p>After a switch the caches derived from changed weights are dropped ({@link
 * LiveParameters#changed}: prepacked bfloat16 copies) and {@code onChange} runs (the family drops
 * its cached prompt embeddings).
 */
public final class LoraWeights {
    private final Map<String, LiveParameters> components;
    private final Runnable onChange;
    private final LoraTargets targets;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
    private final AtomicLong merges = new AtomicLong();
    private final AtomicLong restores = new AtomicLong();
    private final Map<String, Set<String>> changed = new HashMap<>();
    private volatile List<LoraSpec> current = List.of();

    /**
     * @param components the model's networks a LoRA may change, by diffusers component name
     * @param onChange run after every switch, while no batch runs
     */
    public LoraWeights(Map<String, LiveParameters> components, Runnable onChange) {
        this.components = Map.copyOf(components);
        this.onChange = onChange;
        this.targets = new LoraTargets(this.components);
    }

    /** A held set: the weights stay merged with it until {@link #close}. */
    public interface Lease extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Checks every LoRA of {@code set} against this model from the files' headers (no tensor is
     * read): format, keys, components and shapes.
     *
     * @throws LoraException naming the file and the key at fault
     */
    public void check(List<LoraSpec> set) {
        for (LoraSpec spec : set) {
            for (LoraFile.Layer layer : layers(spec.path())) {
                targets.resolve(spec.path(), layer);
            }
        }
    }

    /**
     * Holds the weights merged with {@code set} (empty = the base model) until the lease is closed,
     * switching them first if they hold another set.
     *
     * @throws LoraException if a file of the set cannot be applied (the weights are then unchanged)
     */
    public Lease use(List<LoraSpec> set) {
        List<LoraSpec> wanted = set == null ? List.of() : List.copyOf(set);
        Lock read = lock.readLock();
        read.lock();
        if (current.equals(wanted)) {
            return read::unlock;
        }
        read.unlock();
        lock.writeLock().lock();
        try {
            if (!current.equals(wanted)) {
                switchTo(wanted);
            }
            read.lock(); // downgrade: no other set can come in before this batch has run
        } finally {
            lock.writeLock().unlock();
        }
        return read::unlock;
    }

    /** The set the weights hold now (empty = base). */
    public List<LoraSpec> current() {
        return current;
    }

    /** How many times a non-empty set was merged into the weights. */
    public long mergeCount() {
        return merges.get();
    }

    /** How many times the weights went back to the base model from a set. */
    public long restoreCount() {
        return restores.get();
    }

    /**
     * Checks that {@code path} is a LoRA file this reader applies (a {@code .safetensors} file in
     * the kohya or PEFT layout, not pickle, not LyCORIS), from its header alone and without a
     * model: what a job can check before a pipeline is loaded. {@link #check} also checks the keys
     * against a model.
     *
     * @throws LoraException naming the file and the reason
     */
    public static void checkFormat(Path path) {
        layers(path);
    }

    private static List<LoraFile.Layer> layers(Path path) {
        try {
            return LoraFile.read(path);
        } catch (IOException e) {
            throw new LoraException("LoRA " + path + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** One LoRA layer resolved to the parameter it changes. */
    private record Change(LoraSpec spec, LoraFile.Layer layer) {}

    private void switchTo(List<LoraSpec> wanted) {
        // 1. Resolve everything before touching a weight.
        Map<String, Map<String, List<Change>>> plan = new LinkedHashMap<>();
        for (LoraSpec spec : wanted) {
            for (LoraFile.Layer layer : layers(spec.path())) {
                String key = targets.resolve(spec.path(), layer);
                plan.computeIfAbsent(layer.component(), c -> new LinkedHashMap<>())
                        .computeIfAbsent(key, k -> new ArrayList<>())
                        .add(new Change(spec, layer));
            }
            checkHash(spec);
        }
        for (String component : plan.keySet()) {
            if (!components.get(component).restorable()) {
                throw new LoraException(
                        "the model's "
                                + component
                                + " was not loaded from safetensors files, so a LoRA merged into"
                                + " it could not be undone exactly");
            }
        }
        // 2. Base values back where the old set changed a layer the new one does not, merged
        // values where the new one does.
        try {
            for (Map.Entry<String, LiveParameters> c : components.entrySet()) {
                Map<String, List<Change>> merges = plan.getOrDefault(c.getKey(), Map.of());
                Set<String> keys = new LinkedHashSet<>(changed.getOrDefault(c.getKey(), Set.of()));
                keys.addAll(merges.keySet());
                // Until the write is done, every key it may have touched counts as changed, so a
                // failure halfway is undone by the next switch.
                changed.put(c.getKey(), keys);
                if (!keys.isEmpty()) {
                    write(c.getValue(), keys, merges);
                }
                changed.put(c.getKey(), new LinkedHashSet<>(merges.keySet()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("LoRA merge: cannot read the model's weights", e);
        } finally {
            components.values().forEach(LiveParameters::changed);
            onChange.run();
        }
        current = wanted;
        (wanted.isEmpty() ? restores : merges).incrementAndGet();
    }

    private static void checkHash(LoraSpec spec) {
        if (spec.sha256() == null) {
            return;
        }
        String actual;
        try {
            actual = ModelHash.sha256(List.of(spec.path()));
        } catch (IOException e) {
            throw new LoraException("LoRA " + spec.path() + " cannot be read: " + e, e);
        }
        if (!actual.equals(spec.sha256())) {
            throw new LoraException(
                    "LoRA "
                            + spec.path()
                            + " has SHA-256 "
                            + actual
                            + ", not the "
                            + spec.sha256()
                            + " it was asked for: the file changed");
        }
    }

    /** Writes base + Σ deltas (base alone for keys without changes) into {@code params}. */
    private static void write(
            LiveParameters params, Set<String> keys, Map<String, List<Change>> merges)
            throws IOException {
        NDManager owner = params.get(keys.iterator().next()).getManager();
        try (NDManager scratch = owner.newSubManager()) {
            Map<String, NDArray> base = params.readBase(keys, scratch);
            Map<Path, SafetensorsFile> files = new HashMap<>();
            try {
                for (String key : keys) {
                    NDArray value = base.get(key);
                    List<Change> changes = merges.get(key);
                    if (changes != null) {
                        value = merged(value, changes, files, scratch);
                    }
                    params.overwrite(key, value);
                }
            } finally {
                files.values().forEach(SafetensorsFile::close);
            }
        }
    }

    /**
     * {@code base + Σ weight × scale × up @ down}, added one LoRA at a time in float32 as PEFT's
     * merge adds each adapter's delta (the base's dtype is restored by the write).
     */
    private static NDArray merged(
            NDArray base, List<Change> changes, Map<Path, SafetensorsFile> files, NDManager scratch)
            throws IOException {
        Shape shape = base.getShape();
        NDArray acc = base.toType(DataType.FLOAT32, true);
        for (Change c : changes) {
            SafetensorsFile f = files.get(c.spec().path());
            if (f == null) {
                f = SafetensorsFile.open(c.spec().path());
                files.put(c.spec().path(), f);
            }
            LoraFile.Layer layer = c.layer();
            long rank = layer.rank();
            float[] downValues = f.readFloats(layer.downKey());
            float[] upValues = f.readFloats(layer.upKey());
            NDArray down = scratch.create(downValues, new Shape(rank, downValues.length / rank));
            NDArray up = scratch.create(upValues, new Shape(upValues.length / rank, rank));
            float factor = (float) (c.spec().weight() * layer.scale());
            acc = acc.add(up.matMul(down).muli(factor).reshape(shape));
        }
        return acc;
    }
}
