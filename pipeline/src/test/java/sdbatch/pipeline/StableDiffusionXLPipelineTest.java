package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.lora.LoraSpec;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.PromptTruncation;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * SDXL's pipeline behaviour on {@code ../shared/golden/tiny-sdxl} beyond the single golden cases:
 * rows that differ in prompt, clip skip, micro-conditioning, guidance scale and guidance rescale
 * share one UNet batch and still each match diffusers; fp16 variant folders; the family dispatch;
 * refusals of what SDXL does not run; the request rules for the SDXL columns. Float32 on the CPU.
 */
class StableDiffusionXLPipelineTest {
    @TempDir static Path tmp;
    private static StableDiffusionPipeline pipe;

    @AfterAll
    static void close() {
        if (pipe != null) {
            pipe.close();
            pipe = null;
        }
    }

    private static synchronized StableDiffusionPipeline pipe() throws IOException {
        if (pipe == null) {
            pipe =
                    StableDiffusionPipeline.load(
                            SharedData.golden().resolve("tiny-sdxl"), PipelineOptions.defaults());
        }
        return pipe;
    }

    /** The message with which the pipeline's input check refuses {@code request}. */
    private static String refusal(ImageRequest request) throws IOException {
        StableDiffusionPipeline p = pipe();
        return assertThrows(IllegalArgumentException.class, () -> p.checkInputs(request))
                .getMessage();
    }

    private static JsonObject sdxlCase(String name) throws IOException {
        for (JsonObject c :
                StableDiffusionPipelineGoldenTest.featureCases(SharedData.golden(), "sdxl")) {
            if (name.equals(c.get("name").getAsString())) {
                return c;
            }
        }
        throw new AssertionError("features.json has no sdxl case " + name);
    }

    @Test
    void rowsThatDifferInEverySdxlInputShareOneBatchAndEachMatchesDiffusers() throws IOException {
        // Same size, steps and scheduler; different prompts, clip skip, micro-conditioning,
        // guidance scale (6 and 7.5), guidance rescale, "" and null negatives.
        List<String> names =
                List.of(
                        "sdxl-micro-conditioning",
                        "sdxl-clip-skip",
                        "sdxl-guidance-rescale",
                        "sdxl-negative-empty-string");
        List<ImageRequest> requests = new ArrayList<>();
        List<JsonObject> cases = new ArrayList<>();
        for (String n : names) {
            JsonObject c = sdxlCase(n);
            cases.add(c);
            requests.addAll(StableDiffusionXLGoldenTest.sdxlRequests(c));
        }
        List<GeneratedImage> images = pipe().generate(requests);
        Path refs = SharedData.golden().resolve("features-sdxl.safetensors");
        try (SafetensorsFile ref = SafetensorsFile.open(refs)) {
            for (int i = 0; i < names.size(); i++) {
                GeneratedImage img = images.get(i);
                assertEquals(4, img.timings().batchSize(), "one batch of four");
                float[] expected = ref.readFloats(names.get(i) + "/latents");
                double max = 0;
                for (int k = 0; k < expected.length; k++) {
                    max = Math.max(max, Math.abs(expected[k] - img.latents()[k]));
                }
                double atol = cases.get(i).get("latents_atol").getAsDouble();
                System.out.printf("batched %s: latents max abs %.3g%n", names.get(i), max);
                assertTrue(max <= atol, names.get(i) + " in a batch: " + max + " > " + atol);
            }
        }
    }

    @Test
    void allTenSchedulersRunOnSdxlsSchedulerConfigWithFlatNativeMemory() throws IOException {
        ImageRequest r =
                ImageRequest.of("a lighthouse", 9)
                        .withSteps(3)
                        .withGuidanceRescale(0.5)
                        .withMicroConditioning(new MicroConditioning(96, 80, 4, 0, null, null));
        ImageRequest other = ImageRequest.of("a red cube", 2).withSteps(3);
        pipe().generate(List.of(r));
        int afterWarmUp = pipe().nativeArrayCount();
        for (String s :
                List.of(
                        "ddim",
                        "pndm",
                        "lms",
                        "euler",
                        "euler_a",
                        "dpmpp_2m",
                        "dpmpp_2m_karras",
                        "ddpm",
                        "heun",
                        "unipc")) {
            List<GeneratedImage> out =
                    pipe().generate(
                                    List.of(
                                            r.withScheduler(s, null),
                                            other.withScheduler(s, null)));
            for (GeneratedImage img : out) {
                for (float v : img.latents()) {
                    assertTrue(Float.isFinite(v), s);
                }
            }
        }
        assertEquals(afterWarmUp, pipe().nativeArrayCount(), "native arrays after 20 images");
    }

    @Test
    void aNullNegativePromptStaysNullAndDiffersFromAnEmptyOne() throws IOException {
        ImageRequest r = ImageRequest.of("a red cube", 5).withSteps(2);
        assertNull(pipe().resolve(r).negativePrompt());
        // StableDiffusionXLPipeline.__call__'s default guidance_scale
        assertEquals(5.0, pipe().resolve(r).guidanceScale());
        List<GeneratedImage> out = pipe().generate(List.of(r, r.withNegativePrompt("")));
        assertTrue(
                !java.util.Arrays.equals(out.get(0).latents(), out.get(1).latents()),
                "force_zeros_for_empty_prompt: zeros for null, encoded text for \"\"");
    }

    /**
     * diffusers' defaults for the second encoder's prompts ({@code prompt_2 or prompt}, {@code
     * negative_prompt_2 or negative_prompt}), and a folder with {@code
     * force_zeros_for_empty_prompt} false, where a missing negative prompt is {@code ""}.
     */
    @Test
    void secondPromptsDefaultToTheFirstAndForceZerosFollowsTheFolder() throws IOException {
        ImageRequest r = ImageRequest.of("a red cube", 4).withSteps(2).withNegativePrompt("ugly");
        List<GeneratedImage> out =
                pipe().generate(
                                List.of(
                                        r,
                                        r.withPrompt2("a red cube", "ugly"),
                                        r.withPrompt2("a blue sphere", null),
                                        r.withPrompt2(null, "dark")));
        assertArrayEquals(out.get(0).latents(), out.get(1).latents());
        assertTrue(!java.util.Arrays.equals(out.get(0).latents(), out.get(2).latents()));
        assertTrue(!java.util.Arrays.equals(out.get(0).latents(), out.get(3).latents()));

        // The same components under a model_index.json that turns force_zeros off.
        Path golden = SharedData.golden().resolve("tiny-sdxl");
        Path noZeros = Files.createDirectories(tmp.resolve("no-force-zeros"));
        try (Stream<Path> s = Files.list(golden)) {
            for (Path p : s.toList()) {
                if (Files.isDirectory(p)) {
                    Files.createSymbolicLink(noZeros.resolve(p.getFileName().toString()), p);
                }
            }
        }
        String index = Files.readString(golden.resolve("model_index.json"));
        assertTrue(index.contains("\"force_zeros_for_empty_prompt\": true"));
        Files.writeString(
                noZeros.resolve("model_index.json"),
                index.replace(
                        "\"force_zeros_for_empty_prompt\": true",
                        "\"force_zeros_for_empty_prompt\": false"));
        ImageRequest plain = ImageRequest.of("a red cube", 4).withSteps(2);
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(noZeros, PipelineOptions.defaults())) {
            List<GeneratedImage> x = p.generate(List.of(plain, plain.withNegativePrompt("")));
            assertArrayEquals(x.get(0).latents(), x.get(1).latents());
            float[] withZeros = pipe().generate(List.of(plain)).get(0).latents();
            assertTrue(!java.util.Arrays.equals(withZeros, x.get(0).latents()));
        }
    }

    @Test
    void truncationsAreWhatSdxlsEncodePromptTokenizes() throws IOException {
        StableDiffusionPipeline p = pipe();
        CLIPTokenizer first = p.tokenizers().get("tokenizer");
        CLIPTokenizer second = p.tokenizers().get("tokenizer_2");
        String longText = "a red cube on a table ".repeat(20);
        int n1 = first.encodeUnpadded(longText).length;
        int n2 = second.encodeUnpadded(longText).length;
        assertTrue(n1 > 77 && n2 > 77, n1 + " and " + n2 + " tokens");
        ImageRequest shortOne = ImageRequest.of("a red cube", 1);
        assertEquals(List.of(), p.truncations(shortOne));
        // prompt_2 null: tokenizer_2 reads prompt and cuts it alike; said once
        assertEquals(
                List.of(new PromptTruncation("prompt", PromptTruncation.CLIP, n1, 77)),
                p.truncations(ImageRequest.of(longText, 1)));
        assertEquals(
                List.of(new PromptTruncation("prompt_2", PromptTruncation.CLIP, n2, 77)),
                p.truncations(shortOne.withPrompt2(longText, null)));
        // the negative prompts are tokenized only with guidance (default 5.0 > 1)
        ImageRequest negative = shortOne.withNegativePrompt(longText);
        assertEquals(
                List.of(new PromptTruncation("negative_prompt", PromptTruncation.CLIP, n1, 77)),
                p.truncations(negative));
        assertEquals(List.of(), p.truncations(negative.withGuidanceScale(1.0)));
        // force_zeros_for_empty_prompt and no negative prompt: zeros, nothing is tokenized
        assertEquals(List.of(), p.truncations(shortOne.withPrompt2(null, longText)));
        assertEquals(
                List.of(new PromptTruncation("negative_prompt_2", PromptTruncation.CLIP, n2, 77)),
                p.truncations(shortOne.withNegativePrompt("").withPrompt2(null, longText)));
        assertEquals(
                "prompt is "
                        + n1
                        + " CLIP tokens, longer than the 77 CLIP takes: the last "
                        + (n1 - 77)
                        + " are cut (as diffusers does)",
                p.truncations(ImageRequest.of(longText, 1)).get(0).message());
    }

    @Test
    void sdxlDefaultsAndLimitsComeFromTheFolder() throws IOException {
        Path folder = SharedData.golden().resolve("tiny-sdxl");
        PipelineConfig config = PipelineConfig.read(folder);
        assertEquals("sdxl", config.family());
        assertTrue(config.isSdxl());
        assertEquals("sdxl", pipe().family());
        assertEquals(config.defaultSize(), pipe().defaultSize());
        assertEquals(64, pipe().defaultSize());
        // text_encoder has 4 layers, text_encoder_2 3: hidden_states[-(clip_skip + 2)] must exist
        // in both.
        assertEquals(3, config.textEncoderLayers());
        assertEquals(3, pipe().textEncoderLayers());
        assertEquals(
                List.of("tokenizer", "tokenizer_2"), List.copyOf(pipe().tokenizers().keySet()));
        assertEquals(49407, pipe().tokenizers().get("tokenizer").padTokenId());
        assertEquals(0, pipe().tokenizers().get("tokenizer_2").padTokenId());
        RgbImage init = new RgbImage(64, 64, new byte[64 * 64 * 3]);
        // StableDiffusionXLImg2ImgPipeline.__call__'s default strength
        assertEquals(0.3, pipe().resolve(ImageRequest.of("x", 1).withInitImage(init)).strength());
        String skip = refusal(ImageRequest.of("x", 1).withClipSkip(3));
        assertTrue(skip.contains("clip_skip 3"), skip);
    }

    @Test
    void sdxlColumnsAreCheckedNamingTheValueAndTheRule() throws IOException {
        ImageRequest r = ImageRequest.of("x", 1);
        String rescale = refusal(r.withGuidanceRescale(1.5));
        assertTrue(rescale.contains("guidance_rescale 1.5"), rescale);
        String size =
                refusal(
                        r.withMicroConditioning(
                                new MicroConditioning(0, null, null, null, null, null)));
        assertTrue(size.contains("original_width 0"), size);
        String crop =
                refusal(
                        r.withMicroConditioning(
                                new MicroConditioning(null, null, -1, null, null, null)));
        assertTrue(crop.contains("crop_top -1"), crop);
    }

    @Test
    void loraControlNetAndInpaintingOnSdxlAreRefusedByName() throws IOException {
        Path lora = SharedData.golden().resolve("loras/lora-kohya-sd1.safetensors");
        String l = refusal(ImageRequest.of("x", 1).withLoras(List.of(LoraSpec.of(lora, 1.0))));
        assertTrue(l.contains("LoRA on an SDXL model"), l);
        ModelLoadException cn =
                assertThrows(
                        ModelLoadException.class,
                        () ->
                                pipe().controlNet(
                                                SharedData.golden()
                                                        .resolve("controlnet-tiny-sd1")));
        assertTrue(cn.getMessage().contains("ControlNet is not supported"), cn.getMessage());
        RgbImage picture = new RgbImage(64, 64, new byte[64 * 64 * 3]);
        String inpaint =
                refusal(ImageRequest.of("x", 1).withInitImage(picture).withMaskImage(picture));
        assertTrue(inpaint.contains("StableDiffusionXLInpaintPipeline"), inpaint);
    }

    /**
     * An SDXL embedding ({@code clip_l} + {@code clip_g}) goes into each encoder, as diffusers'
     * SDXL {@code load_textual_inversion} called once per encoder: an embedding whose vectors are
     * the two token-embedding rows of "cat" makes its trigger word generate exactly as "cat" does.
     * An SD 1.x embedding has no {@code clip_g} and is refused naming its file.
     */
    @Test
    void sdxlEmbeddingsGoIntoBothEncodersAndSd1OnesAreRefused() throws IOException {
        Path golden = SharedData.golden();
        Path model = golden.resolve("tiny-sdxl");
        long cat = pipe().tokenizers().get("tokenizer").encode("cat").inputIds()[1];
        assertEquals(cat, pipe().tokenizers().get("tokenizer_2").encode("cat").inputIds()[1]);
        Path dir = Files.createDirectories(tmp.resolve("sdxl-embeddings"));
        sdbatch.pipeline.weights.SafetensorsWriter w =
                new sdbatch.pipeline.weights.SafetensorsWriter();
        for (String[] enc :
                new String[][] {{"clip_l", "text_encoder"}, {"clip_g", "text_encoder_2"}}) {
            try (SafetensorsFile f =
                    SafetensorsFile.open(model.resolve(enc[1]).resolve("model.safetensors"))) {
                String key = "text_model.embeddings.token_embedding.weight";
                int width = (int) f.info(key).shape()[1];
                float[] table = f.readFloats(key);
                float[] row =
                        java.util.Arrays.copyOfRange(
                                table, (int) cat * width, (int) (cat + 1) * width);
                w.add(enc[0], new long[] {1, width}, row);
            }
        }
        w.write(dir.resolve("felinestyle.safetensors"));
        ImageRequest withTrigger = ImageRequest.of("a photo of felinestyle", 6).withSteps(2);
        ImageRequest withWord = ImageRequest.of("a photo of cat", 6).withSteps(2);
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(
                        model, PipelineOptions.defaults().withEmbeddings(dir))) {
            assertEquals(
                    pipe().tokenizers().get("tokenizer_2").vocabSize() + 1,
                    p.tokenizers().get("tokenizer_2").vocabSize());
            List<GeneratedImage> out = p.generate(List.of(withTrigger, withWord));
            assertArrayEquals(out.get(1).latents(), out.get(0).latents());
        }
        ModelLoadException sd1 =
                assertThrows(
                        ModelLoadException.class,
                        () ->
                                StableDiffusionPipeline.load(
                                        model,
                                        PipelineOptions.defaults()
                                                .withEmbeddings(golden.resolve("embeddings"))));
        assertTrue(sd1.getMessage().contains("tinystyle"), sd1.getMessage());
        assertTrue(sd1.getMessage().contains("text_encoder_2"), sd1.getMessage());
    }

    @Test
    void aFolderOfAnotherPipelineClassIsRefusedNamingIt() throws IOException {
        Path golden = SharedData.golden();
        Path copy = copyFolder(golden.resolve("tiny-sdxl"), tmp.resolve("kandinsky"), false);
        Path index = copy.resolve("model_index.json");
        Files.writeString(
                index,
                Files.readString(index)
                        .replace("StableDiffusionXLPipeline", "KandinskyV22Pipeline"));
        ModelLoadException e =
                assertThrows(
                        ModelLoadException.class,
                        () -> StableDiffusionPipeline.load(copy, PipelineOptions.defaults()));
        assertTrue(e.getMessage().contains("KandinskyV22Pipeline"), e.getMessage());
        assertTrue(e.getMessage().contains("StableDiffusionXLPipeline"), e.getMessage());
        ModelLoadException config =
                assertThrows(ModelLoadException.class, () -> PipelineConfig.read(copy));
        assertTrue(config.getMessage().contains("KandinskyV22Pipeline"), config.getMessage());
    }

    /**
     * A folder as published in half precision ({@code *.fp16.safetensors}, F16 tensors) loads
     * converted to float32, and generates exactly what a float32 folder holding the same
     * (half-rounded) values does.
     */
    @Test
    void fp16VariantFoldersLoadAsTheirFloat32Values() throws IOException {
        Path golden = SharedData.golden();
        Path half = copyFolder(golden.resolve("tiny-sdxl"), tmp.resolve("fp16"), true);
        Path full = copyFolder(golden.resolve("tiny-sdxl"), tmp.resolve("f32"), false);
        try (Stream<Path> s = Files.walk(half)) {
            List<Path> variants =
                    s.filter(p -> p.toString().endsWith(".fp16.safetensors")).toList();
            assertEquals(4, variants.size(), "four weight files: " + variants);
        }
        ImageRequest r = ImageRequest.of("a lighthouse", 9).withSteps(3);
        float[] fromHalf;
        float[] fromFull;
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(half, PipelineOptions.defaults())) {
            fromHalf = p.generate(List.of(r)).get(0).latents();
        }
        try (StableDiffusionPipeline p =
                StableDiffusionPipeline.load(full, PipelineOptions.defaults())) {
            fromFull = p.generate(List.of(r)).get(0).latents();
        }
        assertArrayEquals(fromFull, fromHalf);
    }

    /**
     * Copies a model folder with every weight rounded to half precision: as F16 {@code
     * <name>.fp16.safetensors} when {@code asHalf}, else as F32 under the plain name.
     */
    private static Path copyFolder(Path from, Path to, boolean asHalf) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(from)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        for (Path f : files) {
            Path target = to.resolve(from.relativize(f).toString());
            Files.createDirectories(target.getParent());
            String name = f.getFileName().toString();
            if (!name.endsWith(".safetensors")) {
                Files.copy(f, target);
                continue;
            }
            if (asHalf) {
                target = target.resolveSibling(name.replace(".safetensors", ".fp16.safetensors"));
            }
            writeHalfRounded(f, target, asHalf);
        }
        return to;
    }

    /** Rewrites every F32 tensor of {@code from} rounded to half: F16 bits or their F32 values. */
    private static void writeHalfRounded(Path from, Path to, boolean asHalf) throws IOException {
        JsonObject header = new JsonObject();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        try (SafetensorsFile f = SafetensorsFile.open(from);
                NDManager m = NDManager.newBaseManager()) {
            for (SafetensorsFile.TensorInfo info : f.tensors().values()) {
                NDArray half =
                        m.create(
                                        f.readFloats(info.name()),
                                        new ai.djl.ndarray.types.Shape(info.shape()))
                                .toType(DataType.FLOAT16, false);
                NDArray out = asHalf ? half : half.toType(DataType.FLOAT32, false);
                ByteBuffer bytes = out.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                byte[] raw = new byte[bytes.remaining()];
                bytes.get(raw);
                JsonObject t = new JsonObject();
                t.addProperty("dtype", asHalf ? "F16" : "F32");
                com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
                for (long d : info.shape()) {
                    shape.add(d);
                }
                t.add("shape", shape);
                com.google.gson.JsonArray offsets = new com.google.gson.JsonArray();
                offsets.add(data.size());
                offsets.add(data.size() + raw.length);
                t.add("data_offsets", offsets);
                header.add(info.name(), t);
                data.write(raw);
            }
        }
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        header.add("__metadata__", meta);
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer out =
                ByteBuffer.allocate(8 + padded + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(h);
        for (int i = h.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(data.toByteArray());
        Files.write(to, out.array());
    }

    @Test
    void guidanceRescaleIsDiffusersRescaleNoiseCfgPerRow() {
        try (NDManager m = NDManager.newBaseManager()) {
            java.util.Random rnd = new java.util.Random(3);
            int rows = 3;
            int per = 2 * 3 * 4;
            float[] cfg = new float[rows * per];
            float[] text = new float[rows * per];
            for (int i = 0; i < cfg.length; i++) {
                cfg[i] = (float) rnd.nextGaussian() * 2;
                text[i] = (float) rnd.nextGaussian();
            }
            float[] fractions = {0.7f, 0f, 1f};
            NDArray out =
                    DenoisingLoop.rescaleNoiseCfg(
                            m.create(cfg, new ai.djl.ndarray.types.Shape(rows, 2, 3, 4)),
                            m.create(text, new ai.djl.ndarray.types.Shape(rows, 2, 3, 4)),
                            m.create(fractions, new ai.djl.ndarray.types.Shape(rows, 1, 1, 1)));
            float[] got = out.toFloatArray();
            for (int r = 0; r < rows; r++) {
                double sText = std(text, r * per, per);
                double sCfg = std(cfg, r * per, per);
                for (int k = 0; k < per; k++) {
                    double x = cfg[r * per + k];
                    double expected = fractions[r] * (x * sText / sCfg) + (1 - fractions[r]) * x;
                    assertEquals(expected, got[r * per + k], 1e-5, "row " + r + " element " + k);
                }
            }
            // A row at 0 keeps the guided prediction bit for bit.
            for (int k = 0; k < per; k++) {
                assertEquals(cfg[per + k], got[per + k]);
            }
        }
    }

    /** torch's unbiased standard deviation of {@code n} values from {@code off}. */
    private static double std(float[] x, int off, int n) {
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += x[off + i];
        }
        mean /= n;
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (x[off + i] - mean) * (x[off + i] - mean);
        }
        return Math.sqrt(ss / (n - 1));
    }

    /** SD 1.x takes guidance_rescale too (every family); null and "" negatives stay alike there. */
    @Test
    void sd1TakesGuidanceRescaleAndTreatsANullNegativeAsEmpty() throws IOException {
        Path golden = SharedData.golden();
        try (StableDiffusionPipeline sd1 =
                StableDiffusionPipeline.load(
                        golden.resolve("tiny-sd1"), PipelineOptions.defaults())) {
            assertEquals("sd", sd1.family());
            ImageRequest r = ImageRequest.of("a cat", 3).withSteps(3);
            List<GeneratedImage> out =
                    sd1.generate(
                            List.of(
                                    r,
                                    r.withNegativePrompt(""),
                                    r.withGuidanceRescale(0.0),
                                    r.withGuidanceRescale(0.7)));
            assertArrayEquals(out.get(0).latents(), out.get(1).latents());
            assertArrayEquals(out.get(0).latents(), out.get(2).latents());
            assertTrue(!java.util.Arrays.equals(out.get(0).latents(), out.get(3).latents()));
            assertEquals(4, out.get(3).timings().batchSize());
        }
    }
}
