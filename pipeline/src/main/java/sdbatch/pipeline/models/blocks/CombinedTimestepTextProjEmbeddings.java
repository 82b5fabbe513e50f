package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.models.layers.Activations;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code CombinedTimestepTextProjEmbeddings} (models/embeddings.py), SD3's {@code
 * time_text_embed}: the 256-channel sinusoidal timestep ({@code flip_sin_to_cos}, no shift) through
 * {@code timestep_embedder}, plus the pooled text embedding through {@code text_embedder} ({@code
 * PixArtAlphaTextProjection} with SiLU: {@code linear_1}, SiLU, {@code linear_2}).
 */
public final class CombinedTimestepTextProjEmbeddings {
    private final Timesteps timeProj = new Timesteps(256, true, 0);
    final TimestepEmbedding timestepEmbedder;
    final Linear textLinear1;
    final Linear textLinear2;

    public CombinedTimestepTextProjEmbeddings(Weights w, int dim, int pooledProjectionDim) {
        this.timestepEmbedder = new TimestepEmbedding(w.prefix("timestep_embedder"), 256, dim);
        Weights text = w.prefix("text_embedder");
        this.textLinear1 = new Linear(text.prefix("linear_1"), pooledProjectionDim, dim, true);
        this.textLinear2 = new Linear(text.prefix("linear_2"), dim, dim, true);
    }

    /**
     * @param timestep [N] timesteps (N = 1 broadcasts over the batch)
     * @param pooled [B, pooled_projection_dim]
     * @return [B, dim]
     */
    // Port of diffusers embeddings.CombinedTimestepTextProjEmbeddings.forward
    public NDArray forward(NDArray timestep, NDArray pooled) {
        NDArray t = timeProj.forward(timestep).toType(pooled.getDataType(), false);
        NDArray timestepsEmb = timestepEmbedder.forward(t);
        NDArray pooledProjections =
                textLinear2.forward(Activations.silu(textLinear1.forward(pooled)));
        return timestepsEmb.add(pooledProjections);
    }
}
