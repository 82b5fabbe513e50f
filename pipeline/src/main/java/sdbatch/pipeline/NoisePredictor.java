package sdbatch.pipeline;

import ai.djl.ndarray.NDArray;

/**
 * Seam of a model family: the network called once per denoising step ({@code self.unet(...)} in
 * diffusers' loop) — a UNet for SD 1.x/2.x and SDXL (which also passes {@code added_cond_kwargs}),
 * an MMDiT transformer for SD3. Adapters such as ControlNet wrap a predictor and add their
 * residuals.
 */
public interface NoisePredictor {
    /** The model output (noise, v or sample, as the scheduler's prediction type says). */
    NDArray predict(NDArray modelInput, NDArray timestep, Conditioning conditioning);
}
