package sdbatch.pipeline.controlnet;

import java.util.Objects;
import sdbatch.pipeline.image.RgbImage;

/**
 * One ControlNet applied to one image request, with diffusers' {@code
 * StableDiffusionControlNetPipeline.__call__} arguments for it. A request may carry several (as
 * diffusers' {@code MultiControlNetModel}: their residuals are summed). Null fields take diffusers'
 * defaults when the request is resolved.
 *
 * @param controlNet the ControlNet, loaded by the pipeline the request goes to
 * @param image the control picture (diffusers' {@code image}): resized to the request's size with
 *     PIL's Lanczos and given to the ControlNet as levels / 255 (no normalisation), as diffusers'
 *     {@code control_image_processor} does. With no size in the request, the first unit's picture
 *     gives it (rounded down to the VAE scale factor)
 * @param conditioningScale {@code controlnet_conditioning_scale}: the residuals' factor; null = 1
 * @param guidanceStart {@code control_guidance_start} in [0, 1): the fraction of the steps before
 *     which the ControlNet is off; null = 0
 * @param guidanceEnd {@code control_guidance_end} in (start, 1]: the fraction after which it is off
 *     again; null = 1
 */
public record ControlNetUnit(
        ControlNet controlNet,
        RgbImage image,
        Double conditioningScale,
        Double guidanceStart,
        Double guidanceEnd) {
    /** {@code StableDiffusionControlNetPipeline.__call__}'s defaults. */
    public static final double DEFAULT_CONDITIONING_SCALE = 1.0;

    public static final double DEFAULT_GUIDANCE_START = 0.0;
    public static final double DEFAULT_GUIDANCE_END = 1.0;

    public ControlNetUnit {
        Objects.requireNonNull(controlNet, "controlNet");
        Objects.requireNonNull(image, "image (the control picture)");
    }

    /** A unit with diffusers' default scale and guidance window. */
    public static ControlNetUnit of(ControlNet controlNet, RgbImage image) {
        return new ControlNetUnit(controlNet, image, null, null, null);
    }

    /** This unit with every null field replaced by diffusers' default. */
    public ControlNetUnit resolved() {
        return new ControlNetUnit(
                controlNet,
                image,
                conditioningScale == null ? DEFAULT_CONDITIONING_SCALE : conditioningScale,
                guidanceStart == null ? DEFAULT_GUIDANCE_START : guidanceStart,
                guidanceEnd == null ? DEFAULT_GUIDANCE_END : guidanceEnd);
    }

    /**
     * diffusers' {@code controlnet_keep[i]}: 1 while step {@code index} of {@code total} lies in
     * the guidance window, else 0 — {@code 1.0 - float(i / len(timesteps) < start or (i + 1) /
     * len(timesteps) > end)}, in doubles as Python computes it.
     */
    public static double keep(int index, int total, double start, double end) {
        boolean off = (double) index / total < start || (double) (index + 1) / total > end;
        return off ? 0.0 : 1.0;
    }
}
