package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import sdbatch.pipeline.models.layers.Activations;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code AdaLayerNormContinuous} (models/normalization.py) as SD3 uses it ({@code
 * elementwise_affine=False}, {@code eps} 1e-6, layer norm): {@code linear(silu(temb))} gives {@code
 * scale} then {@code shift} (in that order, unlike AdaLayerNormZero), and the tokens become {@code
 * norm(x) * (1 + scale) + shift}. The transformer's {@code norm_out} and the last block's {@code
 * norm1_context}.
 */
public final class AdaLayerNormContinuous {
    final Linear linear;
    private final int dim;

    public AdaLayerNormContinuous(Weights w, int dim, int conditioningDim) {
        this.dim = dim;
        this.linear = new Linear(w.prefix("linear"), conditioningDim, 2 * dim, true);
    }

    // Port of diffusers normalization.AdaLayerNormContinuous.forward
    public NDArray forward(NDArray x, NDArray conditioning) {
        NDArray c = Activations.silu(conditioning);
        if (c.getDataType() != x.getDataType()) {
            c = c.toType(x.getDataType(), false);
        }
        NDList m = linear.forward(c).split(2, 1);
        return AdaLayerNormZero.modulate(AdaLayerNormZero.layerNorm(x, dim), m.get(0), m.get(1));
    }
}
