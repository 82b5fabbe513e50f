package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code RMSNorm} (models/normalization.py) with an elementwise weight: {@code x /
 * sqrt(mean(x²) + eps) * weight} over the last axis, the mean of squares in float32. SD3.5's {@code
 * qk_norm="rms_norm"} normalises each head's queries and keys with it.
 */
public final class RMSNorm {
    private final NDArray weight;
    private final float eps;

    public RMSNorm(Weights w, int dim, double eps) {
        this.weight = w.get("weight", new Shape(dim));
        this.eps = (float) eps;
    }

    // Port of diffusers normalization.RMSNorm.forward
    public NDArray forward(NDArray x) {
        NDArray variance = x.toType(DataType.FLOAT32, false).square().mean(new int[] {-1}, true);
        NDArray h = x.div(variance.add(eps).sqrt());
        if (weight.getDataType() != DataType.FLOAT32) {
            h = h.toType(weight.getDataType(), false);
        }
        return h.mul(weight);
    }
}
