package sdbatch.pipeline;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import sdbatch.pipeline.testing.GoldenCases;

/**
 * Stable Diffusion 3 and 3.5 parity with diffusers' {@code StableDiffusion3Pipeline}: every case of
 * {@code golden/sd3.json} (tiny-sd3 and tiny-sd35; prompt_2/prompt_3, negative prompts, clip_skip,
 * max_sequence_length, scheduler shift, without T5) run as one batch must give the reference final
 * latents within the case's {@code latents_atol} and the reference 8-bit image within {@code
 * image_max_levels}, through {@link StableDiffusionPipeline} (loaded by its {@code
 * model_index.json} class, {@code StableDiffusion3Pipeline}), compared as {@link
 * StableDiffusionPipelineGoldenTest#checkCase} does. Float32 on CPU; any x86-64 CPU.
 */
class StableDiffusion3GoldenTest {

    /** The requests of a case, one per image. */
    static List<ImageRequest> requests(JsonObject c) {
        JsonArray prompts2 = c.has("prompt_2") ? c.getAsJsonArray("prompt_2") : null;
        JsonArray prompts3 = c.has("prompt_3") ? c.getAsJsonArray("prompt_3") : null;
        JsonObject overrides = c.getAsJsonObject("scheduler_config");
        List<ImageRequest> out = new ArrayList<>();
        for (int i = 0; i < c.getAsJsonArray("seed").size(); i++) {
            out.add(
                    StableDiffusionPipelineGoldenTest.request(c, i, null, overrides)
                            .withPrompt2(
                                    prompts2 == null ? null : prompts2.get(i).getAsString(), null)
                            .withPrompt3(
                                    prompts3 == null ? null : prompts3.get(i).getAsString(), null)
                            .withMaxSequenceLength(c.get("max_sequence_length").getAsInt()));
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> sd3Golden() throws IOException {
        return GoldenCases.each(
                "SD3 golden",
                "sd3.json",
                "cases",
                (golden, c) ->
                        StableDiffusionPipelineGoldenTest.checkCase(
                                pipeline(golden, c),
                                c,
                                requests(c),
                                golden.resolve("sd3.safetensors")));
    }

    private static final Map<String, StableDiffusionPipeline> PIPELINES = new HashMap<>();

    @AfterAll
    static void closePipelines() {
        PIPELINES.values().forEach(StableDiffusionPipeline::close);
        PIPELINES.clear();
    }

    /**
     * The pipeline of a case: its folder loaded with or without T5 ({@link
     * PipelineOptions#withoutT5}) as the case says.
     */
    private static StableDiffusionPipeline pipeline(Path golden, JsonObject c) {
        boolean t5 = !c.has("t5") || c.get("t5").getAsBoolean();
        String model = c.get("model").getAsString();
        return PIPELINES.computeIfAbsent(
                model + (t5 ? "" : " without T5"),
                k -> {
                    try {
                        return StableDiffusionPipeline.load(
                                golden.resolve(model), PipelineOptions.defaults().withoutT5(!t5));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }
}
