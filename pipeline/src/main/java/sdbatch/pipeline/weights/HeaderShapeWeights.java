package sdbatch.pipeline.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Set;

/**
 * The view {@link StateDictWeights#checkShapes} gives a model constructor: each ask is checked
 * against the safetensors headers and answered with a data-less array of the asked shape, so even
 * an absurd config costs no memory before its mismatch is reported.
 */
record HeaderShapeWeights(StateDictWeights checkpoint, NDManager probe) implements Weights {
    @Override
    public NDArray get(String key, Shape expected) {
        checkpoint.checkAsk(key, expected);
        return new ShapeOnlyArray(probe, expected, checkpoint.dtype());
    }

    @Override
    public boolean contains(String key) {
        return checkpoint.contains(key);
    }

    @Override
    public Set<String> keys() {
        return checkpoint.keys();
    }
}
