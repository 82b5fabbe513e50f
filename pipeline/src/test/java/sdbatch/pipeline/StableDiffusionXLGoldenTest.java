package sdbatch.pipeline;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import sdbatch.pipeline.testing.SharedData;

/**
 * SDXL parity with diffusers through {@link StableDiffusionPipeline#generate}: every {@code sdxl}
 * case of {@code golden/features.json} ({@code StableDiffusionXLPipeline} on {@code tiny-sdxl}:
 * both text encoders, null and empty negative prompts under {@code force_zeros_for_empty_prompt},
 * clip skip, micro-conditioning, guidance rescale, a batch of two rows with different prompts and
 * negatives) and its {@code sdxl-img2img} case ({@code StableDiffusionXLImg2ImgPipeline}), each
 * within its {@code latents_atol} and {@code image_max_levels}. Float32 on the CPU; any x86-64.
 */
class StableDiffusionXLGoldenTest {
    private static StableDiffusionPipeline pipeline;

    @AfterAll
    static void close() {
        if (pipeline != null) {
            pipeline.close();
            pipeline = null;
        }
    }

    private static synchronized StableDiffusionPipeline pipeline(Path golden, String model)
            throws IOException {
        assumeTrue("tiny-sdxl".equals(model), "only tiny-sdxl cases are expected: " + model);
        if (pipeline == null) {
            pipeline =
                    StableDiffusionPipeline.load(golden.resolve(model), PipelineOptions.defaults());
        }
        return pipeline;
    }

    /** A case's requests with SDXL's fields: micro-conditioning and guidance rescale. */
    static List<ImageRequest> sdxlRequests(JsonObject c) {
        MicroConditioning micro =
                new MicroConditioning(
                        pair(c, "original_size", 1),
                        pair(c, "original_size", 0),
                        pair(c, "crops", 0),
                        pair(c, "crops", 1),
                        pair(c, "target_size", 1),
                        pair(c, "target_size", 0));
        JsonElement rescale = c.get("guidance_rescale");
        List<ImageRequest> out = new ArrayList<>();
        for (ImageRequest r : StableDiffusionPipelineGoldenTest.requests(c)) {
            out.add(
                    r.withMicroConditioning(micro.isDefault() ? null : micro)
                            .withGuidanceRescale(
                                    rescale == null || rescale.isJsonNull()
                                            ? null
                                            : rescale.getAsDouble()));
        }
        return out;
    }

    /** Element {@code i} of a case's [h, w] or [top, left] pair, or null where it is absent. */
    private static Integer pair(JsonObject c, String key, int i) {
        JsonElement v = c.get(key);
        if (v == null || v.isJsonNull()) {
            return null;
        }
        JsonArray a = v.getAsJsonArray();
        return a.get(i).getAsInt();
    }

    @TestFactory
    Stream<DynamicTest> featuresSdxlGolden() throws IOException {
        Path golden = SharedData.golden();
        return StableDiffusionPipelineGoldenTest.featureTests(
                golden,
                "sdxl",
                (c, references) ->
                        StableDiffusionPipelineGoldenTest.checkCase(
                                pipeline(golden, c.get("model").getAsString()),
                                c,
                                sdxlRequests(c),
                                references));
    }

    /**
     * {@code StableDiffusionXLImg2ImgPipeline} (a {@code StableDiffusionXLPipeline} folder, so
     * {@code requires_aesthetics_score} false: the time ids are the text-to-image ones) with one
     * init picture per image and the case's strength.
     */
    @TestFactory
    Stream<DynamicTest> featuresSdxlImg2imgGolden() throws IOException {
        return StableDiffusionPipelineGoldenTest.featureTests(
                "sdxl-img2img",
                "inputs",
                "sdxl-img2img",
                (golden, inputs, c, references) ->
                        StableDiffusionPipelineGoldenTest.checkCase(
                                pipeline(golden, c.get("model").getAsString()),
                                c,
                                StableDiffusionPipelineGoldenTest.withPictures(
                                        sdxlRequests(c),
                                        c,
                                        inputs,
                                        StableDiffusionPipelineGoldenTest.picture("init"),
                                        null),
                                references));
    }
}
