package sdbatch.pipeline.controlnet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.Conditioning;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.ResidualAdapter;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.image.VaeImageProcessor;
import sdbatch.pipeline.models.ControlNetModel;
import sdbatch.pipeline.models.ControlNetOutput;

/**
 * A batch's ControlNets as diffusers' {@code StableDiffusionControlNetPipeline} runs them: the
 * control pictures prepared once ({@code prepare_image}: resized to the request's size with PIL's
 * Lanczos, levels / 255, doubled for classifier-free guidance), then at every step each ControlNet
 * called on the step's model input with {@code controlnet_conditioning_scale × controlnet_keep[i]}
 * and the residuals of several ControlNets summed ({@code MultiControlNetModel}).
 *
 * <p>Every request of the batch names the same ControlNets in the same order (the pipeline's batch
 * key); picture, scale and guidance window may differ per request, which only changes each row's
 * factor. Guess mode is not implemented (diffusers' {@code guess_mode=False}; ControlNets whose
 * config turns it on are refused at load).
 *
 * <p>A ControlNet whose factor is 0 for every row at a step (outside every row's guidance window,
 * or scale 0) is not run: diffusers runs it and adds residuals times 0, which adds exactly 0.
 */
public final class ControlNetAdapter implements ResidualAdapter {
    /** One ControlNet of the batch: its model, prepared pictures and per-row settings. */
    private record Slot(ControlNetModel model, NDArray images, List<ControlNetUnit> units) {}

    private final List<Slot> slots;
    private final boolean guidance;

    private ControlNetAdapter(List<Slot> slots, boolean guidance) {
        this.slots = slots;
        this.guidance = guidance;
    }

    /**
     * The adapter for a checked batch, or {@link ResidualAdapter#NONE} when its requests carry no
     * ControlNet.
     *
     * @param run the batch's manager (the prepared pictures live in it)
     * @param guidance whether the loop doubles the batch for classifier-free guidance
     */
    // Port of diffusers StableDiffusionControlNetPipeline.__call__ (4. prepare image)
    public static ResidualAdapter forBatch(
            NDManager run, List<ImageRequest> batch, boolean guidance) {
        ImageRequest first = batch.get(0);
        List<ControlNetUnit> firstUnits = first.controlNets();
        if (firstUnits == null || firstUnits.isEmpty()) {
            return NONE;
        }
        int b = batch.size();
        int width = first.width();
        int height = first.height();
        List<Slot> slots = new ArrayList<>();
        for (int k = 0; k < firstUnits.size(); k++) {
            ControlNet controlNet = firstUnits.get(k).controlNet();
            List<ControlNetUnit> units = new ArrayList<>(b);
            float[] pixels = new float[b * 3 * height * width];
            for (int i = 0; i < b; i++) {
                ControlNetUnit unit = batch.get(i).controlNets().get(k).resolved();
                if (unit.controlNet() != controlNet) {
                    throw new IllegalArgumentException(
                            "request "
                                    + i
                                    + " of a ControlNet batch names "
                                    + unit.controlNet()
                                    + " as ControlNet "
                                    + k
                                    + ", the batch's first request "
                                    + controlNet);
                }
                units.add(unit);
                // control_image_processor.preprocess: resize, levels / 255, no normalisation
                RgbImage picture = unit.image();
                VaeImageProcessor.preprocess(
                        picture, width, height, pixels, i * 3 * height * width, false);
            }
            ControlNetModel model = controlNet.model();
            NDArray images =
                    run.create(pixels, new Shape(b, 3, height, width)).toType(model.dtype(), false);
            if (guidance) {
                // do_classifier_free_guidance and not guess_mode: torch.cat([image] * 2)
                images = NDArrays.concat(new NDList(images, images), 0);
            }
            slots.add(new Slot(model, images, List.copyOf(units)));
        }
        return new ControlNetAdapter(List.copyOf(slots), guidance);
    }

    // Port of diffusers StableDiffusionControlNetPipeline.__call__ (controlnet_keep, and the
    // controlnet call of the denoising loop) and MultiControlNetModel.forward (the sum)
    @Override
    public ControlNetOutput residuals(
            int index, int total, NDArray modelInput, NDArray timestep, Conditioning conditioning) {
        ControlNetOutput sum = null;
        for (Slot slot : slots) {
            int b = slot.units().size();
            float[] scales = new float[guidance ? 2 * b : b];
            boolean any = false;
            for (int i = 0; i < b; i++) {
                ControlNetUnit u = slot.units().get(i);
                // cond_scale = controlnet_conditioning_scale * controlnet_keep[i], in doubles
                double keep = ControlNetUnit.keep(index, total, u.guidanceStart(), u.guidanceEnd());
                float s = (float) (u.conditioningScale() * keep);
                scales[i] = s;
                if (guidance) {
                    scales[b + i] = s;
                }
                any |= s != 0;
            }
            if (!any) {
                continue;
            }
            NDArray scale = modelInput.getManager().create(scales);
            ControlNetOutput out =
                    slot.model()
                            .forward(
                                    modelInput,
                                    timestep,
                                    conditioning.encoderHiddenStates(),
                                    slot.images(),
                                    scale);
            sum = sum == null ? out : sum.plus(out);
        }
        return sum;
    }
}
