package sdbatch.jobs.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import sdbatch.jobs.adapters.VaeFolder;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.image.PngExport;
import sdbatch.pipeline.image.PngWriter;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.schemas.Adapters;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.InputPictures;
import sdbatch.schemas.metadata.A1111Parameters;

/**
 * The PNG of a generated image, as A1111 and diffusers users read it: the {@code parameters}
 * infotext chunk and the {@code sdbatch} request JSON, with the request's pictures, adapters,
 * SDXL/SD3 columns and {@code --vae} named. Encoded on the writer thread ({@link
 * PipelineGenerator#generate}).
 */
final class InfotextPng {
    private InfotextPng() {}

    /**
     * The PNG of an image: {@link StableDiffusionPipeline#toPng}'s, with the request's pictures
     * (locations, hashes, strength), LoRAs / ControlNet, SDXL/SD3 columns and guidance rescale, and
     * a null negative prompt kept null (issues 16, 19), in its {@code sdbatch} chunk; A1111's
     * {@code Denoising strength}, {@code Lora hashes}, and with {@code --vae} its {@code VAE hash}
     * and {@code VAE}, in its infotext.
     *
     * @param pipeline the pipeline that made the image (its model hash)
     * @param modelName the model's name in the infotext
     * @param vae the {@code --vae} folder, or null
     */
    static byte[] encode(
            StableDiffusionPipeline pipeline,
            String modelName,
            VaeFolder vae,
            GeneratedImage image,
            GenerationRequest request) {
        InputPictures pics = request.pictures();
        Adapters adapters = request.adapters();
        if (pics == null
                && adapters == null
                && request.extra() == null
                && request.negativePrompt() != null
                && vae == null) {
            return pipeline.toPng(image, modelName);
        }
        GenerationRequest resolved =
                StableDiffusionPipeline.toGenerationRequest(image)
                        .withPictures(pics)
                        .withAdapters(adapters)
                        .withExtra(request.extra())
                        .withNegativePrompt(request.negativePrompt());
        RgbImage rgb = new RgbImage(image.width(), image.height(), image.rgb());
        if (vae == null) {
            return PngExport.encode(
                    rgb, resolved, image.samplerName(), modelName, pipeline.modelHash());
        }
        // PngExport's infotext, plus A1111's VAE keys.
        A1111Parameters base = A1111Parameters.of(resolved, modelName, pipeline.modelHash());
        Map<String, String> params = new LinkedHashMap<>(base.params());
        params.put("Sampler", image.samplerName());
        A1111Parameters infotext =
                new A1111Parameters(base.prompt(), base.negativePrompt(), params)
                        .withVae(vae.name(), vae.weightsSha256());
        return PngWriter.encode(rgb, infotext.toInfotext(), resolved.toJson());
    }
}
