package sdbatch.pipeline.family;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded LRU of prompt embeddings, held on the Java heap as float arrays so that concurrent
 * generations can share entries without sharing native arrays (an evicted entry can never be closed
 * under a reader). Sweeps repeat the same prompt many times; this saves the text encoder for every
 * repeat.
 */
final class PromptCache {
    record Entry(float[] values, long[] shape) {}

    private record Key(String prompt, int clipSkip) {}

    private final Map<Key, Entry> map;

    PromptCache(int capacity) {
        this.map =
                new LinkedHashMap<>(16, 0.75f, true) {
                    private static final long serialVersionUID = 1L;

                    @Override
                    protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
                        return size() > capacity;
                    }
                };
    }

    synchronized Entry get(String prompt, int clipSkip) {
        return map.get(new Key(prompt, clipSkip));
    }

    synchronized void put(String prompt, int clipSkip, Entry entry) {
        map.put(new Key(prompt, clipSkip), entry);
    }

    /** Forgets every entry (the text encoder's weights changed). */
    synchronized void clear() {
        map.clear();
    }

    synchronized int size() {
        return map.size();
    }
}
