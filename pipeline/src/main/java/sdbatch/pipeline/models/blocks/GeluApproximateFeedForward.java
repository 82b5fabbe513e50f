package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code FeedForward(dim, dim_out=dim, activation_fn="gelu-approximate")}
 * (models/attention.py), SD3's {@code ff} and {@code ff_context}: {@code net.0} is {@code GELU}
 * (its {@code proj} Linear to 4 × dim, then the tanh-approximated GELU), {@code net.2} the Linear
 * back. ({@link FeedForward} is the UNet's GEGLU variant.)
 */
public final class GeluApproximateFeedForward {
    final Linear proj;
    final Linear out;

    public GeluApproximateFeedForward(Weights w, int dim) {
        int inner = 4 * dim;
        this.proj = new Linear(w.prefix("net.0.proj"), dim, inner, true);
        this.out = new Linear(w.prefix("net.2"), inner, dim, true);
    }

    // Port of diffusers attention.FeedForward.forward with activations.GELU(approximate="tanh")
    public NDArray forward(NDArray x) {
        return out.forward(geluTanh(proj.forward(x)));
    }

    /** {@code F.gelu(x, approximate="tanh")}: 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))). */
    public static NDArray geluTanh(NDArray x) {
        NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2.0 / Math.PI));
        return x.mul(0.5f).mul(inner.tanh().add(1f));
    }
}
