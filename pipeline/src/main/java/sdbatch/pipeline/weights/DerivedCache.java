package sdbatch.pipeline.weights;

/**
 * Something a layer computes once from its parameter arrays and keeps (prepacked bfloat16 copies of
 * a weight): stale once those arrays change in place, as a LoRA merge changes them. A layer
 * registers it with {@link Weights#derived}; the model's {@link LiveParameters} drops every
 * registered cache after a change, and the layer remakes it on its next use.
 */
public interface DerivedCache {
    /** Frees what was computed and forgets it; the next use computes it again. */
    void drop();
}
