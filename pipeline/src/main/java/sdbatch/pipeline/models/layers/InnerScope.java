package sdbatch.pipeline.models.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import java.util.function.Supplier;

/**
 * Runs a computation in its own {@link NDScope} so that its temporaries are freed as soon as it
 * returns, and hands the result to the enclosing scope (or to nobody, at top level).
 *
 * <p>DJL's {@code NDScope.unregister} only removes an array from the innermost scope; the result is
 * therefore re-registered after the inner scope closes, so a caller's own scope still frees it.
 * Without this, a UNet forward would keep every intermediate activation alive until the end of the
 * call; with it, peak memory is that of the largest block.
 */
public final class InnerScope {
    private InnerScope() {}

    /** {@code f.get()} with its temporaries closed; the result survives into the outer scope. */
    public static NDArray keep(Supplier<NDArray> f) {
        NDArray out;
        try (NDScope scope = new NDScope()) {
            out = f.get();
            NDScope.unregister(out);
        }
        NDScope.register(out);
        return out;
    }

    /** As {@link #keep(Supplier)} for several results. */
    public static NDList keepAll(Supplier<NDList> f) {
        NDList out;
        try (NDScope scope = new NDScope()) {
            out = f.get();
            NDScope.unregister(out);
        }
        for (NDArray a : out) {
            NDScope.register(a);
        }
        return out;
    }
}
