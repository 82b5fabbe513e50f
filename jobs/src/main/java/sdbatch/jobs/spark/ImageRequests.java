package sdbatch.jobs.spark;

import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.MicroConditioning;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.schemas.ExtraConditioning;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.InputPictures;
import sdbatch.schemas.SchedulerConfigJson;

/**
 * A planned {@link GenerationRequest} in the pipeline's form, {@link ImageRequest}: text-to-image
 * fields, SDXL/SD3 columns and micro-conditioning, and for img2img / inpainting the decoded
 * pictures, strength and {@code paste_back}. The one place requests reach the pipeline.
 */
public final class ImageRequests {
    private ImageRequests() {}

    /**
     * The pipeline's form of a request. A null negative prompt stays null (SDXL: zero embeddings;
     * the planner keeps it null only on such a model), and the SDXL/SD3 columns and guidance
     * rescale (issues 16, 19) go to their {@link ImageRequest} fields, null where not set.
     */
    public static ImageRequest toImageRequest(GenerationRequest r) {
        ImageRequest q =
                ImageRequest.of(r.prompt(), r.seed())
                        .withNegativePrompt(r.negativePrompt())
                        .withSteps(r.steps())
                        .withGuidanceScale(r.guidanceScale())
                        .withScheduler(
                                r.scheduler(),
                                SchedulerConfigJson.EMPTY.equals(r.schedulerConfig())
                                        ? null
                                        : r.schedulerConfig())
                        .withSize(r.width(), r.height())
                        .withEta(r.eta())
                        .withClipSkip(r.clipSkip());
        ExtraConditioning e = r.extra();
        if (e == null) {
            return q;
        }
        MicroConditioning micro =
                new MicroConditioning(
                        e.originalWidth(),
                        e.originalHeight(),
                        e.cropTop(),
                        e.cropLeft(),
                        e.targetWidth(),
                        e.targetHeight());
        return q.withPrompt2(e.prompt2(), e.negativePrompt2())
                .withPrompt3(e.prompt3(), e.negativePrompt3())
                .withMaxSequenceLength(e.maxSequenceLength())
                .withMicroConditioning(micro.isDefault() ? null : micro)
                .withGuidanceRescale(e.guidanceRescale());
    }

    /**
     * The pipeline's form of an img2img or inpainting request: the text-to-image fields, the init
     * picture and the strength, and for inpainting the mask and {@code paste_back}.
     *
     * @param init the decoded init picture
     * @param mask the decoded mask, null unless inpainting
     */
    static ImageRequest toImageRequest(GenerationRequest r, RgbImage init, RgbImage mask) {
        InputPictures p = r.pictures();
        ImageRequest q = toImageRequest(r).withInitImage(init).withStrength(p.strength());
        if (mask != null) {
            q = q.withMaskImage(mask).withPasteBack(p.pasteBack());
        }
        return q;
    }
}
