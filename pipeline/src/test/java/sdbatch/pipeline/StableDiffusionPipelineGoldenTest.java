package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import sdbatch.pipeline.controlnet.ControlNet;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.lora.LoraSpec;
import sdbatch.pipeline.testing.GoldenCases;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * Whole-pipeline parity with diffusers: every case of {@code golden/manifest.json}'s {@code
 * pipeline} list, and every {@code txt2img} case of {@code golden/features.json}, run through
 * {@link StableDiffusionPipeline#generate} as one batch (one generator per image), must give the
 * reference final latents within the case's {@code latents_atol} and the reference 8-bit image
 * within {@code image_max_levels}. The {@code img2img} and {@code inpaint} cases of {@code
 * features.json} run the same way with their init pictures and masks from {@code golden/inputs/},
 * the {@code controlnet} cases with their ControlNet folder and control pictures.
 */
class StableDiffusionPipelineGoldenTest {
    private static final Map<String, StableDiffusionPipeline> PIPELINES = new HashMap<>();

    @AfterAll
    static void closePipelines() {
        PIPELINES.values().forEach(StableDiffusionPipeline::close);
        PIPELINES.clear();
    }

    static StableDiffusionPipeline pipeline(Path golden, String model) {
        return PIPELINES.computeIfAbsent(
                model,
                m -> {
                    try {
                        return StableDiffusionPipeline.load(
                                golden.resolve(m), PipelineOptions.defaults());
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    /**
     * The requests a manifest or features case describes, one per image. A {@code null} negative
     * prompt list (features.json's "no negative prompt") stays null, and an absent {@code eta}
     * (features.json leaves it out) is diffusers' default 0.
     */
    static List<ImageRequest> requests(JsonObject c) {
        String scheduler = c.get("scheduler").getAsString();
        JsonObject overrides = c.getAsJsonObject("scheduler_overrides");
        JsonElement eta = c.get("eta");
        List<ImageRequest> out = new ArrayList<>();
        for (int i = 0; i < c.getAsJsonArray("seed").size(); i++) {
            out.add(
                    request(c, i, "default".equals(scheduler) ? null : scheduler, overrides)
                            .withEta(eta == null || eta.isJsonNull() ? 0.0 : eta.getAsDouble()));
        }
        return out;
    }

    /**
     * Image {@code i} of a case (any family): its prompt and seed, negative prompt (none where the
     * list is null), steps, guidance scale, size and clip skip, with the scheduler {@code name}
     * (null: the model's) and {@code overrides} (null or empty: none).
     */
    static ImageRequest request(JsonObject c, int i, String name, JsonObject overrides) {
        JsonElement negatives = c.get("negative_prompt");
        JsonElement clipSkip = c.get("clip_skip");
        return ImageRequest.of(
                        c.getAsJsonArray("prompt").get(i).getAsString(),
                        c.getAsJsonArray("seed").get(i).getAsLong())
                .withNegativePrompt(
                        negatives == null || negatives.isJsonNull()
                                ? null
                                : negatives.getAsJsonArray().get(i).getAsString())
                .withSteps(c.get("steps").getAsInt())
                .withGuidanceScale(c.get("guidance_scale").getAsDouble())
                .withScheduler(
                        name,
                        overrides == null || overrides.size() == 0 ? null : overrides.toString())
                .withSize(c.get("width").getAsInt(), c.get("height").getAsInt())
                .withClipSkip(
                        clipSkip == null || clipSkip.isJsonNull() ? null : clipSkip.getAsInt());
    }

    @TestFactory
    Stream<DynamicTest> pipelineGolden() throws IOException {
        return GoldenCases.each(
                "Golden pipeline",
                "manifest.json",
                "pipeline",
                (golden, c) -> checkCase(golden, c));
    }

    /** A check of one {@code features.json} case against its references file. */
    interface FeatureCheck {
        void check(JsonObject c, Path references) throws IOException;
    }

    /**
     * One test per {@code features.json} case of {@code kind}, named for it, each checked against
     * {@code features-<kind>.safetensors}.
     */
    static Stream<DynamicTest> featureTests(Path golden, String kind, FeatureCheck check)
            throws IOException {
        Path references = golden.resolve("features-" + kind + ".safetensors");
        return GoldenCases.each(
                "Golden features " + kind,
                featureCases(golden, kind),
                c -> check.check(c, references));
    }

    /** A check of one {@code features.json} case that needs a folder of {@code golden}. */
    interface FolderFeatureCheck {
        void check(Path golden, Path folder, JsonObject c, Path references) throws IOException;
    }

    /**
     * {@link #featureTests(Path, String, FeatureCheck)} for cases that need the folder {@code
     * golden/folder}; without it the {@code folderKind} cases are skipped.
     */
    static Stream<DynamicTest> featureTests(
            String kind, String folder, String folderKind, FolderFeatureCheck check)
            throws IOException {
        Path golden = SharedData.golden();
        Path folderPath = GoldenCases.folder(golden, folder, folderKind);
        return featureTests(
                golden, kind, (c, references) -> check.check(golden, folderPath, c, references));
    }

    /**
     * The {@code txt2img} cases of {@code features.json} (plain {@code StableDiffusionPipeline}
     * calls that exercise what the manifest's cases do not, such as clip_skip with a negative
     * prompt), against {@code features-txt2img.safetensors}.
     */
    @TestFactory
    Stream<DynamicTest> featuresTxt2imgGolden() throws IOException {
        Path golden = SharedData.golden();
        return featureTests(
                golden,
                "txt2img",
                (c, references) -> {
                    // A LoRA or embedding would change the reference; running the case
                    // without it would compare against the wrong thing.
                    for (String extra : List.of("loras", "embeddings")) {
                        JsonElement v = c.get(extra);
                        assertTrue(
                                v == null || v.isJsonNull() || v.getAsJsonArray().isEmpty(),
                                c.get("name").getAsString()
                                        + " needs "
                                        + extra
                                        + ", which txt2img cannot run");
                    }
                    checkCase(golden, c, references);
                });
    }

    /**
     * The {@code img2img} cases of {@code features.json} ({@code StableDiffusionImg2ImgPipeline}
     * with one init picture per image and the case's strength), against {@code
     * features-img2img.safetensors}.
     */
    @TestFactory
    Stream<DynamicTest> featuresImg2imgGolden() throws IOException {
        return pictureCases("img2img", picture("init"), null);
    }

    /**
     * The {@code inpaint} cases of {@code features.json} ({@code StableDiffusionInpaintPipeline}
     * with one init picture and one mask per image and the case's strength; on a 9-channel
     * inpainting UNet and on an ordinary 4-channel one), against {@code
     * features-inpaint.safetensors}.
     */
    @TestFactory
    Stream<DynamicTest> featuresInpaintGolden() throws IOException {
        return pictureCases("inpaint", picture("init"), picture("mask"));
    }

    /** A picture of image {@code i} of a case, read from {@code golden/inputs/}. */
    interface CasePicture {
        RgbImage read(JsonObject c, int i, Path inputs) throws IOException;
    }

    /** The picture a case names in its list {@code field} for image {@code i}. */
    static CasePicture picture(String field) {
        return (c, i, inputs) ->
                readRgb(inputs.resolve(c.getAsJsonArray(field).get(i).getAsString()));
    }

    /**
     * The features.json cases of {@code kind}, each request with its init picture, the case's
     * strength and, when {@code mask} is given, its mask.
     */
    private static Stream<DynamicTest> pictureCases(String kind, CasePicture init, CasePicture mask)
            throws IOException {
        return featureTests(
                kind,
                "inputs",
                kind,
                (golden, inputs, c, references) ->
                        checkCase(
                                golden,
                                c,
                                withPictures(requests(c), c, inputs, init, mask),
                                references));
    }

    /**
     * A case's requests each with its init picture, the case's strength and, when {@code mask} is
     * given, its mask.
     */
    static List<ImageRequest> withPictures(
            List<ImageRequest> plain, JsonObject c, Path inputs, CasePicture init, CasePicture mask)
            throws IOException {
        List<ImageRequest> requests = new ArrayList<>();
        double strength = c.get("strength").getAsDouble();
        for (int i = 0; i < plain.size(); i++) {
            ImageRequest r =
                    plain.get(i).withInitImage(init.read(c, i, inputs)).withStrength(strength);
            if (mask != null) {
                r = r.withMaskImage(mask.read(c, i, inputs));
            }
            requests.add(r);
        }
        return requests;
    }

    /**
     * The {@code controlnet} cases of {@code features.json} ({@code
     * StableDiffusionControlNetPipeline} with the case's ControlNet folder, one control picture per
     * image, {@code controlnet_conditioning_scale} and the guidance window), against {@code
     * features-controlnet.safetensors}.
     */
    @TestFactory
    Stream<DynamicTest> featuresControlNetGolden() throws IOException {
        return featureTests(
                "controlnet",
                "inputs",
                "ControlNet",
                (golden, inputs, c, references) -> {
                    StableDiffusionPipeline pipe = pipeline(golden, c.get("model").getAsString());
                    ControlNet controlNet =
                            pipe.controlNet(golden.resolve(c.get("controlnet").getAsString()));
                    JsonArray control = c.getAsJsonArray("control");
                    // absent start/end: diffusers' defaults 0 and 1
                    Double start = optionalDouble(c, "cn_start");
                    Double end = optionalDouble(c, "cn_end");
                    List<ImageRequest> requests = new ArrayList<>();
                    List<ImageRequest> plain = requests(c);
                    for (int i = 0; i < plain.size(); i++) {
                        RgbImage picture = readRgb(inputs.resolve(control.get(i).getAsString()));
                        requests.add(
                                plain.get(i)
                                        .withControlNets(
                                                List.of(
                                                        new ControlNetUnit(
                                                                controlNet,
                                                                picture,
                                                                c.get("cn_scale").getAsDouble(),
                                                                start,
                                                                end))));
                    }
                    checkCase(golden, c, requests, references);
                });
    }

    private static Double optionalDouble(JsonObject c, String key) {
        JsonElement v = c.get(key);
        return v == null || v.isJsonNull() ? null : v.getAsDouble();
    }

    /**
     * The {@code lora} cases of {@code features.json} (the LoRAs of {@code golden/loras/} merged at
     * their weights) through requests carrying the set, against {@code features-lora.safetensors}.
     * They share the plain pipeline with the other cases, so the base weights must come back
     * exactly for those after them.
     */
    @TestFactory
    Stream<DynamicTest> featuresLoraGolden() throws IOException {
        return featureTests(
                "lora",
                "loras",
                "LoRA",
                (golden, loras, c, references) -> {
                    List<LoraSpec> set = new ArrayList<>();
                    for (JsonElement l : c.getAsJsonArray("loras")) {
                        JsonObject o = l.getAsJsonObject();
                        set.add(
                                LoraSpec.of(
                                        loras.resolve(o.get("file").getAsString()),
                                        o.get("weight").getAsDouble()));
                    }
                    List<ImageRequest> requests =
                            requests(c).stream().map(r -> r.withLoras(set)).toList();
                    checkCase(golden, c, requests, references);
                });
    }

    /**
     * The {@code ti} cases of {@code features.json}: a pipeline loaded with {@code
     * golden/embeddings/} (each file's stem its trigger), against {@code features-ti.safetensors}.
     */
    @TestFactory
    Stream<DynamicTest> featuresTextualInversionGolden() throws IOException {
        return featureTests(
                "ti",
                "embeddings",
                "ti",
                (golden, embeddings, c, references) -> {
                    for (JsonElement e : c.getAsJsonArray("embeddings")) {
                        JsonObject o = e.getAsJsonObject();
                        String file = o.get("file").getAsString();
                        // The pipeline's trigger is the file's stem.
                        assertEquals(
                                file.substring(0, file.lastIndexOf('.')),
                                o.get("trigger").getAsString());
                        assertTrue(Files.isRegularFile(embeddings.resolve(file)));
                    }
                    String model = c.get("model").getAsString();
                    StableDiffusionPipeline pipe =
                            PIPELINES.computeIfAbsent(
                                    model + " with embeddings",
                                    m -> load(golden.resolve(model), embeddings));
                    checkCase(pipe, c, requests(c), references);
                });
    }

    private static StableDiffusionPipeline load(Path model, Path embeddings) {
        try {
            return StableDiffusionPipeline.load(
                    model, PipelineOptions.defaults().withEmbeddings(embeddings));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The cases of {@code features.json} of one kind (the test is skipped without the file). */
    static List<JsonObject> featureCases(Path golden, String kind) throws IOException {
        Path features = golden.resolve("features.json");
        assumeTrue(Files.isRegularFile(features), features + " absent; feature cases skipped");
        List<JsonObject> out =
                GoldenCases.read(features, "cases").stream()
                        .filter(c -> kind.equals(c.get("kind").getAsString()))
                        .toList();
        assertFalse(out.isEmpty(), features + " has no " + kind + " case");
        return out;
    }

    /**
     * A picture file as 8-bit RGB (what the job hands the pipeline, as PIL's {@code convert("RGB")}
     * makes it). An 8-bit grayscale picture's levels are read as they are stored: {@code
     * BufferedImage.getRGB} would treat them as linear gray and gamma-convert them.
     */
    static RgbImage readRgb(Path file) throws IOException {
        BufferedImage img = ImageIO.read(file.toFile());
        assertNotNull(img, file + " is not a picture ImageIO reads");
        int w = img.getWidth();
        int h = img.getHeight();
        boolean gray = img.getType() == BufferedImage.TYPE_BYTE_GRAY;
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = gray ? img.getRaster().getSample(x, y, 0) * 0x010101 : img.getRGB(x, y);
                int o = (y * w + x) * 3;
                rgb[o] = (byte) (p >> 16);
                rgb[o + 1] = (byte) (p >> 8);
                rgb[o + 2] = (byte) p;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static void checkCase(Path golden, JsonObject c) throws IOException {
        String model = c.get("model").getAsString();
        checkCase(golden, c, golden.resolve("pipeline-" + model + ".safetensors"));
    }

    private static void checkCase(Path golden, JsonObject c, Path references) throws IOException {
        checkCase(golden, c, requests(c), references);
    }

    private static void checkCase(
            Path golden, JsonObject c, List<ImageRequest> requests, Path references)
            throws IOException {
        checkCase(pipeline(golden, c.get("model").getAsString()), c, requests, references);
    }

    /**
     * Generates {@code requests} as one call and compares each image's final latents and 8-bit
     * pixels with the case's references, within its tolerances.
     */
    static void checkCase(
            StableDiffusionPipeline pipe,
            JsonObject c,
            List<ImageRequest> requests,
            Path references)
            throws IOException {
        String name = c.get("name").getAsString();
        List<GeneratedImage> images = pipe.generate(requests);
        double latentsAtol = c.get("latents_atol").getAsDouble();
        int maxLevels = c.get("image_max_levels").getAsInt();
        try (SafetensorsFile ref = SafetensorsFile.open(references)) {
            float[] refLatents = ref.readFloats(name + "/latents");
            long[] refImage = ref.readLongs(name + "/image");
            int perLatent = refLatents.length / images.size();
            int perImage = refImage.length / images.size();
            double maxLat = 0;
            double sumLat = 0;
            int maxLev = 0;
            long sumLev = 0;
            for (int i = 0; i < images.size(); i++) {
                GeneratedImage img = images.get(i);
                assertEquals(perLatent, img.latents().length, "latent size of image " + i);
                assertEquals(perImage, img.rgb().length, "pixel count of image " + i);
                for (int k = 0; k < perLatent; k++) {
                    double d = Math.abs(img.latents()[k] - refLatents[i * perLatent + k]);
                    maxLat = Math.max(maxLat, d);
                    sumLat += d;
                }
                for (int k = 0; k < perImage; k++) {
                    int d = Math.abs((img.rgb()[k] & 0xFF) - (int) refImage[i * perImage + k]);
                    maxLev = Math.max(maxLev, d);
                    sumLev += d;
                }
            }
            System.out.printf(
                    "golden %s: latents max abs %.3g mean %.3g (atol %.3g), image max %d levels"
                            + " mean %.4f (allowed %d)%n",
                    name,
                    maxLat,
                    sumLat / refLatents.length,
                    latentsAtol,
                    maxLev,
                    (double) sumLev / refImage.length,
                    maxLevels);
            assertTrue(
                    maxLat <= latentsAtol,
                    name + ": latents max abs error " + maxLat + " > " + latentsAtol);
            assertTrue(
                    maxLev <= maxLevels,
                    name + ": image max error " + maxLev + " levels > " + maxLevels);
        }
    }
}
