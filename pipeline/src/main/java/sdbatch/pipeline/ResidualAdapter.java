package sdbatch.pipeline;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.models.ControlNetOutput;

/**
 * An adapter beside the family and mode seams: at each denoising step it computes residuals for the
 * noise predictor's skip connections and mid block (diffusers' {@code
 * down_block_additional_residuals} and {@code mid_block_additional_residual}) from that step's
 * model input. A batch's ControlNets are one ({@link
 * sdbatch.pipeline.controlnet.ControlNetAdapter}; several ControlNets are summed inside it, as
 * diffusers' {@code MultiControlNetModel} does).
 */
public interface ResidualAdapter {
    /** No adapter: the noise predictor runs alone. */
    ResidualAdapter NONE = (index, total, modelInput, timestep, conditioning) -> null;

    /**
     * The residuals for step {@code index} of {@code total} (the loop's timesteps), in the step's
     * scope.
     *
     * @param modelInput the scheduler-scaled latents, doubled for guidance ({@code [uncond,
     *     cond]}), before a mode adds channels (diffusers' {@code control_model_input})
     * @param timestep the step's timestep
     * @param conditioning the batch's text conditioning
     * @return the residuals, or null when none apply at this step
     */
    ControlNetOutput residuals(
            int index, int total, NDArray modelInput, NDArray timestep, Conditioning conditioning);
}
