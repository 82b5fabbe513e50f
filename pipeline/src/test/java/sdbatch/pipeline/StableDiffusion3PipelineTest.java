package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.testing.SharedData;

/**
 * The SD3 family inside {@link StableDiffusionPipeline} on {@code golden/tiny-sd3}: diffusers' SD3
 * defaults, the requests an SD3 model refuses (before any tensor work), a folder without {@code
 * text_encoder_3} running as the without-T5 option does, per-row batching, and flat native memory
 * across calls. Float32 CPU; any x86-64 CPU.
 */
class StableDiffusion3PipelineTest {
    private static StableDiffusionPipeline pipe;

    @BeforeAll
    static void load() throws IOException {
        pipe =
                StableDiffusionPipeline.load(
                        SharedData.golden().resolve("tiny-sd3"), PipelineOptions.defaults());
    }

    @AfterAll
    static void close() {
        if (pipe != null) {
            pipe.close();
        }
    }

    private static ImageRequest small(String prompt, long seed) {
        return ImageRequest.of(prompt, seed).withSteps(2).withSize(32, 32);
    }

    @Test
    void resolvesDiffusersSd3Defaults() {
        ImageRequest r = pipe.resolve(ImageRequest.of("a cat", 1));
        assertEquals(28, r.steps());
        assertEquals(7.0, r.guidanceScale());
        // transformer sample_size 32 × VAE factor 2
        assertEquals(64, r.width());
        assertEquals(64, r.height());
        assertEquals(64, pipe.defaultSize());
        assertNotNull(pipe.t5Tokenizer());
    }

    /** What a job's driver reads without loading equals what the loaded pipeline says. */
    @Test
    void pipelineConfigReadsAnSd3FolderAsTheLoadedPipeline() throws IOException {
        PipelineConfig c = PipelineConfig.read(SharedData.golden().resolve("tiny-sd3"));
        assertEquals("sd3", c.family());
        assertTrue(c.isSd3());
        assertNull(c.unet());
        assertEquals(pipe.defaultSize(), c.defaultSize());
        assertEquals(pipe.textEncoderLayers(), c.textEncoderLayers());
        assertEquals(pipe.modelHash(), c.modelHash());
        assertEquals(28, c.defaultSteps());
        assertEquals(7.0, c.defaultGuidanceScale());
        assertEquals("FlowMatchEulerDiscreteScheduler", c.schedulerConfig().className());
    }

    @Test
    void refusesWhatAnSd3ModelCannotRun() {
        RefusedRequests.assertRefusedBeforeTensorWork(
                pipe, small("x", 1).withScheduler("ddim", null), "flow_match_euler");
        RefusedRequests.assertRefusedBeforeTensorWork(
                pipe, small("x", 1).withScheduler("Euler", null), "flow matching");
        RefusedRequests.assertRefusedBeforeTensorWork(
                pipe, small("x", 1).withMaxSequenceLength(513), "max_sequence_length");
        RefusedRequests.assertRefusedBeforeTensorWork(
                pipe, small("x", 1).withMaxSequenceLength(0), "max_sequence_length");
        RefusedRequests.assertRefusedBeforeTensorWork(
                pipe,
                small("x", 1).withInitImage(new RgbImage(32, 32, new byte[32 * 32 * 3])),
                "img2img");
        // both CLIPs have 3 layers: hidden_states[-(clip_skip + 2)] exists up to clip_skip 2
        RefusedRequests.assertRefusedBeforeTensorWork(
                pipe, small("x", 1).withClipSkip(3), "clip_skip");
    }

    @Test
    void aFolderWithoutT5RunsAsTheWithoutT5Option(@TempDir Path dir) throws IOException {
        Path tiny = SharedData.golden().resolve("tiny-sd3");
        JsonObject index =
                JsonParser.parseString(Files.readString(tiny.resolve("model_index.json")))
                        .getAsJsonObject();
        for (String c : List.of("text_encoder_3", "tokenizer_3")) {
            com.google.gson.JsonArray none = new com.google.gson.JsonArray();
            none.add(JsonNull.INSTANCE);
            none.add(JsonNull.INSTANCE);
            index.add(c, none);
        }
        Files.writeString(dir.resolve("model_index.json"), index.toString());
        for (String c :
                List.of(
                        "scheduler",
                        "text_encoder",
                        "text_encoder_2",
                        "tokenizer",
                        "tokenizer_2",
                        "transformer",
                        "vae")) {
            Files.createSymbolicLink(dir.resolve(c), tiny.resolve(c));
        }
        ImageRequest r = small("a lighthouse at dawn", 42);
        float[] folder;
        float[] option;
        try (StableDiffusionPipeline noT5 =
                StableDiffusionPipeline.load(dir, PipelineOptions.defaults())) {
            assertNull(noT5.t5Tokenizer());
            folder = noT5.generate(List.of(r)).get(0).latents();
        }
        try (StableDiffusionPipeline withoutOption =
                StableDiffusionPipeline.load(tiny, PipelineOptions.defaults().withoutT5(true))) {
            option = withoutOption.generate(List.of(r)).get(0).latents();
        }
        assertArrayEquals(option, folder);
        float[] withT5 = pipe.generate(List.of(r)).get(0).latents();
        assertFalse(java.util.Arrays.equals(withT5, folder), "T5 changed nothing");
    }

    /**
     * Rows with different prompts, prompt_3, negative prompts and guidance scales share a batch,
     * each giving what it gives alone; rows with another max_sequence_length run apart.
     */
    @Test
    void rowsBatchTogetherAsTheyRunAlone() {
        List<ImageRequest> rows =
                List.of(
                        small("a red cube", 1).withGuidanceScale(5.0),
                        small("a blue sphere", 2)
                                .withGuidanceScale(3.0)
                                .withNegativePrompt("blurry")
                                .withPrompt3("a shiny blue sphere on grass", null),
                        small("a green cone", 3).withGuidanceScale(4.0).withMaxSequenceLength(77));
        List<GeneratedImage> together = pipe.generate(rows);
        for (int i = 0; i < rows.size(); i++) {
            float[] alone = pipe.generate(List.of(rows.get(i))).get(0).latents();
            float[] batched = together.get(i).latents();
            double max = 0;
            for (int k = 0; k < alone.length; k++) {
                max = Math.max(max, Math.abs(alone[k] - batched[k]));
            }
            assertTrue(max < 1e-5, "row " + i + " differs by " + max + " in a batch");
        }
    }

    /**
     * A {@code use_dynamic_shifting} scheduler gets diffusers' {@code mu} from the latents' token
     * count (without it, set_timesteps refuses to run) and gives another schedule than the folder's
     * static shift.
     */
    @Test
    void dynamicShiftingGetsMuFromTheImageSize() {
        ImageRequest r = small("dynamic", 4);
        float[] dynamic =
                pipe.generate(List.of(r.withScheduler(null, "{\"use_dynamic_shifting\": true}")))
                        .get(0)
                        .latents();
        float[] fixed = pipe.generate(List.of(r)).get(0).latents();
        assertFalse(java.util.Arrays.equals(dynamic, fixed));
        for (float v : dynamic) {
            assertTrue(Float.isFinite(v));
        }
    }

    /**
     * The second call reads the prompt embeddings from the cache: the same latents, bit for bit.
     */
    @Test
    void cachedPromptEmbeddingsGiveTheSameImage() {
        ImageRequest r = small("a cached prompt", 9).withNegativePrompt("a cached negative");
        float[] first = pipe.generate(List.of(r)).get(0).latents();
        float[] second = pipe.generate(List.of(r)).get(0).latents();
        assertArrayEquals(first, second);
    }

    /**
     * bfloat16 compute ({@code --dtype bf16}: the linear layers, convolutions and long attentions
     * of every SD3 network in bfloat16 inside libtorch) runs and stays near the float32 result.
     */
    @Test
    void bfloat16ComputeRunsNearFloat32() throws IOException {
        ImageRequest r = small("a bf16 lighthouse", 8);
        float[] fp32 = pipe.generate(List.of(r)).get(0).latents();
        float[] half16;
        try (StableDiffusionPipeline half =
                StableDiffusionPipeline.load(
                        SharedData.golden().resolve("tiny-sd3"),
                        PipelineOptions.defaults()
                                .withCompute(ComputeOptions.defaults().withBf16(true)))) {
            half16 = half.generate(List.of(r)).get(0).latents();
        }
        // bfloat16 keeps 8 bits of mantissa: the error is judged against the latents' size, as a
        // root-mean-square over the image
        double diff = 0;
        double size = 0;
        for (int k = 0; k < fp32.length; k++) {
            assertTrue(Float.isFinite(half16[k]));
            diff += (fp32[k] - half16[k]) * (double) (fp32[k] - half16[k]);
            size += fp32[k] * (double) fp32[k];
        }
        double relative = Math.sqrt(diff / size);
        System.out.println("SD3 bf16 vs fp32 latents: relative rms difference " + relative);
        assertTrue(relative > 0, "bf16 computed exactly like fp32: its options were not in force");
        assertTrue(relative < 0.05, "bf16 latents differ by " + relative + " (relative rms)");
    }

    @Test
    void nativeArraysStayFlatAcrossCalls() {
        ImageRequest r = small("memory", 5);
        pipe.generate(List.of(r));
        int after = pipe.nativeArrayCount();
        pipe.generate(List.of(r, small("memory", 6)));
        pipe.generate(List.of(r));
        assertEquals(after, pipe.nativeArrayCount());
    }
}
