package sdbatch.pipeline.models.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

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

    /**
     * {@code next.apply(x)}, freeing {@code x} as soon as {@code next} has returned: for a chain of
     * activations in which nothing else reads {@code x} (never a caller's input). A scope frees its
     * temporaries only when it closes, so without this a VAE decoder at 1024² keeps each of its
     * 0.5-1 GB activations until the whole block is done. A result that views {@code x} keeps the
     * storage alive (libtorch counts references), so closing is always safe for the result.
     */
    public static NDArray consume(NDArray x, UnaryOperator<NDArray> next) {
        NDArray y = next.apply(x);
        if (y != x) {
            x.close();
        }
        return y;
    }
}
