package sdbatch.pipeline.family;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded LRU of prompt embeddings, held on the Java heap as float arrays so that concurrent
 * generations can share entries without sharing native arrays (an evicted entry can never be closed
 * under a reader). Sweeps repeat the same prompt many times; this saves the text encoders for every
 * repeat.
 *
 * @param <K> what the embeddings were computed from (a family's prompts and clip skip)
 * @param <V> the embeddings a family keeps
 */
final class PromptCache<K, V> {
    /** One array: its values and shape. */
    record Entry(float[] values, long[] shape) {
        /** {@code a}'s values in float32 on the heap. */
        static Entry of(NDArray a) {
            return new Entry(
                    a.toType(DataType.FLOAT32, false).toFloatArray(), a.getShape().getShape());
        }

        /** The array again, in {@code run}, in {@code dtype}. */
        NDArray toArray(NDManager run, DataType dtype) {
            return run.create(values, new Shape(shape)).toType(dtype, false);
        }
    }

    /** SD 1.x/2.x's key: one prompt and its clip skip. */
    record Key(String prompt, int clipSkip) {}

    private final Map<K, V> map;

    PromptCache(int capacity) {
        this.map =
                new LinkedHashMap<>(16, 0.75f, true) {
                    private static final long serialVersionUID = 1L;

                    @Override
                    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                        return size() > capacity;
                    }
                };
    }

    synchronized V get(K key) {
        return map.get(key);
    }

    synchronized void put(K key, V value) {
        map.put(key, value);
    }

    /** Forgets every entry (the text encoders' weights changed). */
    synchronized void clear() {
        map.clear();
    }

    synchronized int size() {
        return map.size();
    }
}
