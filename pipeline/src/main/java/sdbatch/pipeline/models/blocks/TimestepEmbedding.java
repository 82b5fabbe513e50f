package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.models.layers.Activations;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code TimestepEmbedding} (models/embeddings.py): {@code linear_1}, SiLU, {@code
 * linear_2}, mapping the sinusoidal embedding to the width the resnets consume.
 */
public final class TimestepEmbedding {
    final Linear linear1;
    final Linear linear2;

    public TimestepEmbedding(Weights w, int inChannels, int timeEmbedDim) {
        this.linear1 = new Linear(w.prefix("linear_1"), inChannels, timeEmbedDim, true);
        this.linear2 = new Linear(w.prefix("linear_2"), timeEmbedDim, timeEmbedDim, true);
    }

    // Port of diffusers embeddings.TimestepEmbedding.forward
    public NDArray forward(NDArray sample) {
        return InnerScope.keep(() -> linear2.forward(Activations.silu(linear1.forward(sample))));
    }
}
