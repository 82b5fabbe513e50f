package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import sdbatch.pipeline.models.layers.InnerScope;

/**
 * diffusers' {@code Timesteps} (models/embeddings.py): the sinusoidal embedding of (possibly
 * fractional) timesteps, {@code get_timestep_embedding}, computed in float32 as diffusers does.
 */
public final class Timesteps {
    private static final double MAX_PERIOD = 10000;

    private final int numChannels;
    private final boolean flipSinToCos;
    private final double downscaleFreqShift;

    public Timesteps(int numChannels, boolean flipSinToCos, double downscaleFreqShift) {
        this.numChannels = numChannels;
        this.flipSinToCos = flipSinToCos;
        this.downscaleFreqShift = downscaleFreqShift;
    }

    /**
     * @param timesteps [N] timesteps of any numeric type
     * @return [N, numChannels] float32
     */
    // Port of diffusers embeddings.get_timestep_embedding
    public NDArray forward(NDArray timesteps) {
        return InnerScope.keep(
                () -> {
                    int half = numChannels / 2;
                    NDArray exponent =
                            timesteps
                                    .getManager()
                                    .arange(0, half, 1, DataType.FLOAT32, timesteps.getDevice())
                                    .mul(-Math.log(MAX_PERIOD))
                                    .div(half - downscaleFreqShift);
                    NDArray freqs = exponent.exp();
                    NDArray t = timesteps.toType(DataType.FLOAT32, false).expandDims(1);
                    NDArray emb = t.mul(freqs.expandDims(0));
                    NDArray sin = emb.sin();
                    NDArray cos = emb.cos();
                    NDArray out = flipSinToCos ? cos.concat(sin, -1) : sin.concat(cos, -1);
                    if (numChannels % 2 == 1) {
                        out = out.pad(new ai.djl.ndarray.types.Shape(0, 1), 0);
                    }
                    return out;
                });
    }
}
