package sdbatch.jobs.generate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Groups a partition's requests into batches of compatible ones: requests whose {@code key} is
 * equal (same width, height, steps, scheduler and scheduler config — what one batched denoising
 * loop must share) and at most {@code batchSize} per batch. Each request keeps its own prompt,
 * guidance scale and noise inside the batch.
 *
 * <p>Deterministic: groups appear in the order of their first request, and requests keep their
 * input order inside a group, so the same input in the same order always gives the same batches.
 * The caller sorts a partition (by request ordinal) before grouping because shuffle output order is
 * not stable across runs.
 */
public final class BatchGrouper {
    private BatchGrouper() {}

    /**
     * Splits {@code items} into compatible batches.
     *
     * @param key what must be equal within a batch; must not return null
     * @param batchSize the largest batch, at least 1
     */
    public static <T> List<List<T>> group(
            List<T> items, Function<? super T, ?> key, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        Map<Object, List<T>> groups = new LinkedHashMap<>();
        for (T item : items) {
            Object k = Objects.requireNonNull(key.apply(item), "batch key");
            groups.computeIfAbsent(k, unused -> new ArrayList<>()).add(item);
        }
        List<List<T>> batches = new ArrayList<>();
        for (List<T> group : groups.values()) {
            for (int from = 0; from < group.size(); from += batchSize) {
                batches.add(
                        List.copyOf(group.subList(from, Math.min(group.size(), from + batchSize))));
            }
        }
        return batches;
    }
}
