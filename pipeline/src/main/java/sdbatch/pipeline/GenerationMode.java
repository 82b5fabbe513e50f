package sdbatch.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.mode.ImageToImage;
import sdbatch.pipeline.mode.Inpainting;
import sdbatch.pipeline.mode.TextToImage;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.noise.BatchNoise;
import sdbatch.pipeline.schedulers.Scheduler;

/**
 * Seam of a generation mode (text-to-image, img2img, inpainting): steps 4 and 5 of diffusers'
 * {@code __call__} (timesteps, first latents) and the per-step hooks. Text-to-image is {@link
 * sdbatch.pipeline.mode.TextToImage}; img2img ({@link sdbatch.pipeline.mode.ImageToImage}) starts
 * from noised VAE latents of a picture at a later timestep; inpainting ({@link
 * sdbatch.pipeline.mode.Inpainting}) adds the mask and masked-image latents to the UNet input
 * (9-channel UNets) or blends the known region back after each step (4-channel UNets).
 */
public interface GenerationMode {
    /**
     * The mode of {@code batch}, whose requests all have the same one: inpainting for a request
     * with an init image and a mask, img2img for one with an init image only, else text-to-image.
     *
     * @param dtype the latents' dtype (the noise predictor's compute dtype)
     * @param unetInChannels the noise predictor's input channels (9 for an inpainting UNet)
     */
    static GenerationMode forBatch(
            List<ImageRequest> batch, DataType dtype, AutoencoderKL vae, int unetInChannels) {
        ImageRequest first = batch.get(0);
        if (first.isInpainting()) {
            return new Inpainting(dtype, vae, unetInChannels, batch);
        }
        return first.isImageToImage()
                ? new ImageToImage(dtype, vae, batch)
                : new TextToImage(dtype);
    }

    /** Sets the scheduler's timesteps for the batch's request and returns the ones to run. */
    double[] timesteps(Scheduler scheduler, ImageRequest first);

    /** The latents the loop starts from, shaped {@code shape}, in {@code run}. */
    NDArray firstLatents(NDManager run, BatchNoise noise, Shape shape, Scheduler scheduler);

    /**
     * The noise predictor's input at one step from the scheduler-scaled latents (doubled for
     * guidance); text-to-image passes it through, a 9-channel inpainting UNet gets the mask and
     * masked-image latents concatenated.
     */
    default NDArray modelInput(NDArray scaledLatents) {
        return scaledLatents;
    }

    /**
     * The latents after step {@code index} of {@code timesteps}, with the batch's {@code scheduler}
     * (its step index already advanced); inpainting with a 4-channel UNet blends the known region
     * back here. A mode that returns a new array closes {@code latents}.
     */
    default NDArray afterStep(NDArray latents, int index, double[] timesteps, Scheduler scheduler) {
        return latents;
    }

    /**
     * Image {@code index} of the batch after diffusers' {@code postprocess}: the 8-bit picture the
     * request gets (inpainting's optional paste-back over the init picture happens here).
     */
    default RgbImage postprocess(int index, RgbImage image) {
        return image;
    }
}
