package sdbatch.pipeline.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loaded component's parameter arrays by their state-dict key, as a LoRA merge needs them: the
 * live arrays the layers compute with (changed in place, so every layer, view and fused path sees
 * the change), the component's safetensors folder to read the base values back from (a merge is
 * undone by reading the file again, never by subtracting: subtracting would leave rounding behind),
 * and the caches layers derived from the arrays ({@link DerivedCache}: prepacked bfloat16 copies),
 * dropped after every change.
 *
 * <p>Not thread-safe against the model's forward passes: the caller changes parameters only while
 * no forward pass runs (the pipeline's LoRA lock).
 */
public final class LiveParameters {
    private final String component;
    private final Path dir;
    private final DataType dtype;
    private final Map<String, NDArray> byKey = new LinkedHashMap<>();
    private final List<DerivedCache> caches = new CopyOnWriteArrayList<>();

    /**
     * @param component the diffusers component name ({@code unet}, {@code text_encoder})
     * @param dir the folder whose safetensors the parameters were loaded from, or null for a model
     *     built from another source (its parameters cannot be changed)
     * @param dtype the dtype the parameters were loaded in
     */
    public LiveParameters(String component, Path dir, DataType dtype) {
        this.component = component;
        this.dir = dir;
        this.dtype = dtype;
    }

    /**
     * A view of {@code source} (the root of a component's weights) that records every array it
     * hands out under its full key, and every cache derived from them.
     */
    public Weights recording(Weights source) {
        return new Recorder(source);
    }

    /** The diffusers component name. */
    public String component() {
        return component;
    }

    /** Every recorded key (the checkpoint's keys the model took). */
    public Set<String> keys() {
        return Collections.unmodifiableSet(byKey.keySet());
    }

    /** The live array under {@code key}, or null. */
    public NDArray get(String key) {
        return byKey.get(key);
    }

    /**
     * Takes {@code key} out of the table: its array was replaced (a text encoder's token embedding
     * grown by textual-inversion rows), so neither a merge nor a restore may touch it.
     */
    public void forget(String key) {
        byKey.remove(key);
    }

    /** Whether the parameters can be changed and restored: the model was loaded from files. */
    public boolean restorable() {
        return dir != null;
    }

    /**
     * The values of {@code keys} as loaded from the component's files (same conversion as the load,
     * so the same bits), in {@code manager}.
     *
     * @throws IllegalStateException for a model not loaded from files
     * @throws ModelLoadException if a file changed so that a key or its shape is gone
     */
    public Map<String, NDArray> readBase(Collection<String> keys, NDManager manager)
            throws IOException {
        if (dir == null) {
            throw new IllegalStateException(
                    component + " was not loaded from files: its weights cannot be restored");
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (StateDictWeights files = StateDictWeights.open(dir, manager, dtype)) {
            for (String key : keys) {
                out.put(key, files.get(key, byKey.get(key).getShape()));
            }
        }
        return out;
    }

    /**
     * Writes {@code values} into the live array of {@code key}, in place (the layers keep their
     * array and its views), converted to its dtype and device.
     */
    public void overwrite(String key, NDArray values) {
        NDArray live = byKey.get(key);
        Shape shape = live.getShape();
        if (!shape.equals(values.getShape())) {
            throw new IllegalArgumentException(
                    component + "." + key + ": new values " + values.getShape() + " for " + shape);
        }
        NDArray v = values.toDevice(live.getDevice(), false);
        v = v.getDataType() == live.getDataType() ? v : v.toType(live.getDataType(), false);
        live.set(new NDIndex(":"), v);
    }

    /** Drops every cache derived from the parameters: call after changing any of them. */
    public void changed() {
        for (DerivedCache c : caches) {
            c.drop();
        }
    }

    /** The root view that records; prefixed views ask it with the full key. */
    private final class Recorder implements Weights {
        private final Weights source;

        Recorder(Weights source) {
            this.source = source;
        }

        @Override
        public NDArray get(String key, Shape expected) {
            NDArray a = source.get(key, expected);
            byKey.put(key, a);
            return a;
        }

        @Override
        public boolean contains(String key) {
            return source.contains(key);
        }

        @Override
        public <C extends DerivedCache> C derived(C cache) {
            caches.add(cache);
            return cache;
        }

        @Override
        public Set<String> keys() {
            return source.keys();
        }
    }
}
