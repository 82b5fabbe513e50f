package sdbatch.pipeline.image;

import java.util.LinkedHashMap;
import java.util.Map;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.metadata.A1111Parameters;

/**
 * An image as the PNG sdbatch writes: AUTOMATIC1111's {@code parameters} text chunk (so A1111's PNG
 * Info and civitai-style readers show the settings) and an {@code sdbatch} chunk holding the full
 * request as JSON. Deterministic: the same image gives the same bytes.
 */
public final class PngExport {
    private PngExport() {}

    /**
     * @param request the resolved request the image was made from
     * @param samplerName A1111's name of the scheduler that actually ran
     * @param modelName the model's name for the infotext ({@code Model: ...})
     * @param modelHash A1111's model hash
     */
    public static byte[] encode(
            RgbImage image,
            GenerationRequest request,
            String samplerName,
            String modelName,
            String modelHash) {
        A1111Parameters base = A1111Parameters.of(request, modelName, modelHash);
        // The A1111 sampler name follows the scheduler that actually ran, overrides included
        // ("DPM++ 2M" with use_karras_sigmas is "DPM++ 2M Karras").
        Map<String, String> params = new LinkedHashMap<>(base.params());
        params.put("Sampler", samplerName);
        A1111Parameters infotext =
                new A1111Parameters(base.prompt(), base.negativePrompt(), params);
        return PngWriter.encode(image, infotext.toInfotext(), request.toJson());
    }
}
