package sdbatch.pipeline.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Set;

/**
 * Where a model component takes its parameters from, by exact state-dict key.
 *
 * <p>A model is built from its config and asks for each parameter by the key diffusers or
 * transformers saves it under, with the shape its config implies. The source records what was
 * asked: {@link StateDictWeights} checks the asks against a checkpoint (missing, unexpected,
 * misshapen: one error listing them all), {@link RandomWeights} invents deterministic tensors for
 * them (the tiny model factory). This keeps the "field path equals state-dict key" rule in one
 * place: {@code weights.prefix("down_blocks").prefix("0").get("conv1.weight", shape)}.
 */
public interface Weights {

    /**
     * The parameter stored under {@code key} (relative to this view's prefix), on the model's
     * device, in the compute dtype.
     *
     * @param expected the shape the config implies; a checkpoint that disagrees is an error
     */
    NDArray get(String key, Shape expected);

    /** Whether the source holds {@code key} (relative to this view's prefix). */
    boolean contains(String key);

    /**
     * A view whose keys are {@code prefix + "." + key}: by default one that asks this source for
     * the joined key (a view that must keep its own behaviour in sub-views overrides it).
     */
    default Weights prefix(String prefix) {
        return new PrefixedWeights(this, prefix);
    }

    /** A view whose keys are {@code prefix + "." + index + "." + key}. */
    default Weights prefix(String prefix, int index) {
        return prefix(prefix).prefix(Integer.toString(index));
    }

    /**
     * Registers {@code cache}, computed from arrays of this source, to be dropped when those arrays
     * change in place (a LoRA merge); returns it. Sources whose arrays never change keep no record
     * (the default).
     */
    default <C extends DerivedCache> C derived(C cache) {
        return cache;
    }

    /**
     * All keys the source holds, with this view's prefix removed (keys outside it are left out).
     */
    Set<String> keys();
}
