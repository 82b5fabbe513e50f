package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.pictures.TestPictures;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.image.PngText;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.schemas.metadata.A1111Parameters;
import sdbatch.schemas.util.Hashes;

/**
 * img2img rows through {@code sdbatch generate} on the TinyModels SD1 model (2 steps): a table
 * mixing every bad picture with good rows (each row accounted for, the good ones ok, the bad ones
 * invalid naming the file and the reason), and a {@code --strengths} sweep over one picture (one
 * image per strength, ids stable across runs, {@code --resume} generating nothing).
 */
class PictureInputJobTest extends SharedSparkSession {
    @TempDir static Path dir;

    private static Path model;
    private static byte[] goodPng;

    private final List<String> lines = new ArrayList<>();

    @BeforeAll
    static void modelAndPictures() throws Exception {
        model = TinyModels.write(dir.resolve("tiny"), TinyModels.Variant.SD1, 0);
        Path pics = Files.createDirectories(dir.resolve("table/pics"));
        goodPng = TestPictures.encode(TestPictures.rgbPicture(64, 64, 9), "png");
        Files.write(pics.resolve("good.png"), goodPng);
        Files.write(pics.resolve("same-bytes.png"), goodPng);
        Files.write(pics.resolve("truncated.png"), Arrays.copyOf(goodPng, goodPng.length / 2));
        Files.writeString(pics.resolve("notes.png"), "not a picture at all");
        Files.createDirectories(pics.resolve("folder.png"));
        Files.write(
                pics.resolve("big.png"),
                TestPictures.encode(TestPictures.rgbPicture(72, 72, 1), "png"));
        Files.write(
                pics.resolve("black.png"),
                TestPictures.encode(
                        new java.awt.image.BufferedImage(
                                64, 64, java.awt.image.BufferedImage.TYPE_BYTE_GRAY),
                        "png"));
    }

    @BeforeEach
    void newTable() {
        lines.clear(); // one test instance serves every test (SharedSparkSession)
    }

    private void row(String id, Consumer<JsonObject> fields) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("prompt", "a lighthouse at dawn");
        o.addProperty("seed", 7);
        fields.accept(o);
        lines.add(new Gson().toJson(o));
    }

    /** Row {@code id} starting from {@code picture} (relative to the table) at {@code strength}. */
    private void img2imgRow(String id, String picture, double strength) {
        row(
                id,
                o -> {
                    o.addProperty("init_image", picture);
                    o.addProperty("strength", strength);
                });
    }

    private int run(Path input, Path out, String... extra) {
        List<String> args =
                GenerateArgs.twoSteps(
                        input, out, model, "--batch-size", "4", "--max-input-pixels", "64x64");
        args.addAll(List.of(extra));
        GenerateArgs.CliRun run = GenerateArgs.run(args);
        lastLog = run.text();
        return run.code();
    }

    private String lastLog;

    private Map<String, Row> metadataByUniqueId(Path out) {
        List<Row> rows = metadata(out);
        Map<String, Row> byId = new HashMap<>();
        for (Row r : rows) {
            assertNull(byId.put(r.getAs("id"), r), "row " + r.getAs("id") + " twice");
        }
        return byId;
    }

    @Test
    void everyBadPictureFailsOnlyItsRow() throws Exception {
        row("text", o -> {});
        img2imgRow("img2img", "pics/good.png", 0.5);
        img2imgRow("same-bytes-other-name", "pics/same-bytes.png", 0.5);
        row(
                "absolute",
                o -> {
                    o.addProperty("init_image", dir.resolve("table/pics/good.png").toString());
                    o.addProperty("seed", 8);
                });
        row("missing", o -> o.addProperty("init_image", "pics/missing.png"));
        row("truncated", o -> o.addProperty("init_image", "pics/truncated.png"));
        row("not-a-picture", o -> o.addProperty("init_image", "pics/notes.png"));
        row("folder", o -> o.addProperty("init_image", "pics/folder.png"));
        row("over-the-limit", o -> o.addProperty("init_image", "pics/big.png"));
        row("mask-without-init", o -> o.addProperty("mask_image", "pics/black.png"));
        img2imgRow("strength-1.5", "pics/good.png", 1.5);
        img2imgRow("no-step-left", "pics/good.png", 0.3);
        row(
                "black-mask",
                o -> {
                    o.addProperty("init_image", "pics/good.png");
                    o.addProperty("mask_image", "pics/black.png");
                });
        Path input = dir.resolve("table/bad.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);
        Path out = dir.resolve("out-bad");

        // 3: some rows invalid, every other one generated (the all-black mask too, with a warning).
        assertEquals(3, run(input, out), lastLog);
        Map<String, Row> byId = metadataByUniqueId(out);
        assertEquals(lines.size(), byId.size(), "one metadata row per input row");

        String good = "file:" + dir.resolve("table/pics/good.png");
        String sha = Hashes.sha256Hex(goodPng);
        for (String id : List.of("text", "img2img", "same-bytes-other-name", "absolute")) {
            Row r = byId.get(id);
            assertEquals("ok", r.getAs("status"), id + ": " + r.getAs("error"));
            assertNull(r.getAs("warning"), id);
        }
        Row img2img = byId.get("img2img");
        assertEquals(good, img2img.getAs("init_image"));
        assertEquals(sha, img2img.getAs("init_image_sha256"));
        assertEquals(0.5, (double) img2img.<Double>getAs("strength"));
        assertEquals(false, img2img.getAs("paste_back"));
        assertEquals(64, (int) img2img.<Integer>getAs("width"), "the picture's own size");
        assertNull(byId.get("text").getAs("init_image"));
        assertNull(byId.get("text").getAs("strength"));
        assertEquals(
                0.8, (double) byId.get("absolute").<Double>getAs("strength"), "diffusers' default");

        // The same bytes under another name are the same image, generated once.
        Row twin = byId.get("same-bytes-other-name");
        assertEquals(img2img.<String>getAs("image_id"), twin.getAs("image_id"));
        assertEquals("file:" + dir.resolve("table/pics/same-bytes.png"), twin.getAs("init_image"));
        assertEquals(img2img.<Long>getAs("source_row"), twin.getAs("duplicate_of"));

        byte[] png = Files.readAllBytes(out.resolve(img2img.<String>getAs("image_path")));
        A1111Parameters infotext = A1111Parameters.parse(PngText.read(png).get("parameters"));
        assertEquals(0.5, infotext.denoisingStrength());
        assertTrue(PngText.read(png).get("sdbatch").contains(sha));

        Map<String, List<String>> expectedErrors =
                Map.of(
                        "missing", List.of("init_image", "missing.png", "does not exist"),
                        "truncated", List.of("init_image", "truncated.png", "truncated"),
                        "not-a-picture", List.of("init_image", "notes.png", "not a PNG or JPEG"),
                        "folder", List.of("init_image", "folder.png", "is a folder"),
                        "over-the-limit",
                                List.of("init_image", "big.png", "72x72", "more than the limit"),
                        "mask-without-init", List.of("mask_image", "needs an init_image"),
                        "strength-1.5", List.of("strength", "1.5", "(0, 1]"),
                        "no-step-left", List.of("steps x strength", "2 x 0.3", "no denoising"));
        for (Map.Entry<String, List<String>> e : expectedErrors.entrySet()) {
            Row r = byId.get(e.getKey());
            assertEquals("invalid", r.getAs("status"), e.getKey());
            String error = r.getAs("error");
            for (String part : e.getValue()) {
                assertTrue(error.contains(part), e.getKey() + ": " + error);
            }
        }

        Row black = byId.get("black-mask");
        String warning = black.getAs("warning");
        assertNotNull(warning);
        assertTrue(warning.contains("black.png") && warning.contains("all black"), warning);
        assertEquals(1.0, (double) black.<Double>getAs("strength"), "inpainting's default");
        assertNotNull(black.getAs("mask_image_sha256"));
        assertEquals("ok", black.getAs("status"), black.<String>getAs("error"));
    }

    @Test
    void aStrengthSweepMakesOneImagePerStrengthAndResumesToNothing() throws Exception {
        // 4 steps (the row's own): int(4 x 0.3) = 1 step, so every strength runs.
        row(
                "sweep",
                o -> {
                    o.addProperty("init_image", "pics/good.png");
                    o.addProperty("steps", 4);
                });
        row(
                "fixed",
                o -> {
                    o.addProperty("init_image", "pics/good.png");
                    o.addProperty("strength", 0.5);
                    o.addProperty("steps", 4);
                });
        Path input = dir.resolve("table/sweep.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);
        Path out = dir.resolve("out-sweep");
        assertEquals(0, run(input, out, "--strengths", "0.3,0.5,0.8"), lastLog);
        List<Row> rows = metadata(out);
        assertEquals(4, rows.size(), "three strengths, and the row with its own");
        Map<Double, String> idByStrength = new HashMap<>();
        for (Row r : rows) {
            assertEquals("ok", r.getAs("status"), String.valueOf((Object) r.getAs("error")));
            if (r.getAs("id").equals("sweep")) {
                assertNull(idByStrength.put(r.getAs("strength"), r.getAs("image_id")));
            }
        }
        assertEquals(Set.of(0.3, 0.5, 0.8), idByStrength.keySet());
        assertEquals(3, new HashSet<>(idByStrength.values()).size(), "one image per strength");
        assertEquals(3, storedImages(out).size(), "the fixed row is the 0.5 image");

        // Planned again (a second run over the same table, fresh output): the same ids.
        Path again = dir.resolve("out-sweep-again");
        assertEquals(0, run(input, again, "--strengths", "0.3,0.5,0.8"), lastLog);
        assertEquals(storedImages(out), storedImages(again), "ids stable across runs");

        // --resume over the finished output generates nothing.
        Map<String, Long> before = modified(out);
        assertEquals(0, run(input, out, "--strengths", "0.3,0.5,0.8", "--resume"), lastLog);
        assertEquals(before, modified(out), "no image written again");
        assertTrue(lastLog.contains("sdbatch: 0 images to generate"), lastLog);
        assertTrue(lastLog.contains("(3 resumed)"), lastLog);
    }

    private static Set<String> storedImages(Path out) throws Exception {
        try (Stream<Path> files = Files.walk(out.resolve("images"))) {
            return files.filter(p -> p.toString().endsWith(".png"))
                    .map(p -> p.getFileName().toString())
                    .collect(Collectors.toSet());
        }
    }

    private static Map<String, Long> modified(Path out) throws Exception {
        try (Stream<Path> files = Files.walk(out.resolve("images"))) {
            Map<String, Long> m = new HashMap<>();
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                m.put(p.getFileName().toString(), Files.getLastModifiedTime(p).toMillis());
            }
            return m;
        }
    }
}
