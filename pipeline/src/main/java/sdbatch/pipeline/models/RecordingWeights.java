package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.Set;
import sdbatch.pipeline.weights.DerivedCache;
import sdbatch.pipeline.weights.Weights;

/**
 * A view of a {@link Weights} source that remembers every array it hands out, so a model owns its
 * parameters (closes them, and keeps them out of any {@link NDScope} the model was built in).
 */
final class RecordingWeights implements Weights {
    private final Weights delegate;
    private final ModelParameters taken;

    RecordingWeights(Weights delegate, ModelParameters taken) {
        this.delegate = delegate;
        this.taken = taken;
    }

    @Override
    public NDArray get(String key, Shape expected) {
        NDArray a = delegate.get(key, expected);
        // A model built inside a caller's NDScope must not lose its weights when that scope ends.
        NDScope.unregister(a);
        taken.take(a);
        return a;
    }

    @Override
    public boolean contains(String key) {
        return delegate.contains(key);
    }

    @Override
    public Weights prefix(String prefix) {
        return new RecordingWeights(delegate.prefix(prefix), taken);
    }

    @Override
    public <C extends DerivedCache> C derived(C cache) {
        return delegate.derived(cache);
    }

    @Override
    public Set<String> keys() {
        return delegate.keys();
    }
}
