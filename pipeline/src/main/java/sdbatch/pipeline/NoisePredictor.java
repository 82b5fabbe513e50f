package sdbatch.pipeline;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.models.ControlNetOutput;

/**
 * Seam of a model family: the network called once per denoising step ({@code self.unet(...)} in
 * diffusers' loop) — a UNet for SD 1.x/2.x and SDXL (which also passes {@code added_cond_kwargs}),
 * an MMDiT transformer for SD3. A {@link ResidualAdapter} (ControlNet) adds residuals to its skip
 * connections.
 */
public interface NoisePredictor {
    /** The model output (noise, v or sample, as the scheduler's prediction type says). */
    NDArray predict(NDArray modelInput, NDArray timestep, Conditioning conditioning);

    /**
     * As {@link #predict(NDArray, NDArray, Conditioning)} with an adapter's residuals added to the
     * skip connections and the mid block's output (null: none).
     *
     * @throws UnsupportedOperationException for residuals a predictor cannot take
     */
    default NDArray predict(
            NDArray modelInput,
            NDArray timestep,
            Conditioning conditioning,
            ControlNetOutput additionalResiduals) {
        if (additionalResiduals != null) {
            throw new UnsupportedOperationException(
                    getClass().getSimpleName() + " takes no ControlNet residuals");
        }
        return predict(modelInput, timestep, conditioning);
    }
}
