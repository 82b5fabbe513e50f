package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.spark.ExecutorPipelines;
import sdbatch.jobs.spark.GpuAssignment;
import sdbatch.jobs.spark.ModelSpec;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.testing.SharedData;

/**
 * The SDXL/SD3 columns and guidance rescale (issues 16, 19) and {@code --vae} through {@code
 * sdbatch generate} on tiny-sd1 (SD 1.x: CPU, float32; correctness holds on any CPU): one job over
 * a CSV table where guidance_rescale reaches the pipeline, the SDXL-only columns are ignored with
 * one warning for the job (the row is the plain row's image), bad values make only their rows
 * invalid naming column, value and rule; and {@code --vae} with a copy of the model's own VAE makes
 * the same pixels under another model identity, named in the infotext.
 */
class ExtraColumnsJobTest extends SharedSparkSession {
    @TempDir Path dir;

    private static final String HEADER =
            "id,prompt,seed,steps,width,height,guidance_rescale,prompt_2,original_width,crop_top,"
                    + "crop_left,max_sequence_length";

    private GenerateArgs.CliRun run(Path input, Path out, String... more) {
        List<String> flags =
                new ArrayList<>(
                        List.of(
                                "--model",
                                model().toString(),
                                "--master",
                                "local[1]",
                                "--partitions",
                                "1",
                                "--batch-size",
                                "4"));
        flags.addAll(List.of(more));
        return GenerateArgs.run(GenerateArgs.of(input, out, flags.toArray(String[]::new)));
    }

    private static Path model() {
        return SharedData.golden().resolve("tiny-sd1");
    }

    private static int[] pixels(Path out, Row r) throws Exception {
        byte[] png = Files.readAllBytes(out.resolve((String) r.getAs("image_path")));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }

    private static int[] pixels(GeneratedImage image) throws Exception {
        BufferedImage b =
                ImageIO.read(
                        new ByteArrayInputStream(
                                sdbatch.pipeline.image.PngWriter.encode(
                                        new sdbatch.pipeline.image.RgbImage(
                                                image.width(), image.height(), image.rgb()),
                                        "",
                                        "{}")));
        return b.getRGB(0, 0, b.getWidth(), b.getHeight(), null, 0, b.getWidth());
    }

    @Test
    void oneJobOverTheNewColumns() throws Exception {
        Path input = dir.resolve("rows.csv");
        String common = "a lighthouse,7,2,64,64";
        Files.write(
                input,
                List.of(
                        HEADER,
                        "plain," + common + ",,,,,,",
                        "rescaled," + common + ",0.7,,,,,",
                        "rescale0," + common + ",0,,,,,",
                        // SDXL-only columns on an SD 1.x model: ignored, the plain row's image
                        "sdxl," + common + ",,a dog,1024,16,,",
                        "bad_width," + common + ",,,0,,,",
                        "bad_rescale," + common + ",1.5,,,,,",
                        "bad_crop," + common + ",,,,,-1,",
                        "bad_t5," + common + ",,,,,,600"),
                StandardCharsets.UTF_8);
        Path out = dir.resolve("out");
        GenerateArgs.CliRun run = run(input, out);
        assertEquals(3, run.code(), run.text()); // invalid rows: exit 3

        // One warning for the job, naming the ignored columns, however many rows set them.
        assertEquals(1, count(run.text(), "which does not use"), () -> "log: " + run.text());
        assertTrue(
                run.text()
                        .contains(
                                "does not use prompt_2 (1 row), max_sequence_length (1 row),"
                                        + " original_width (2 rows), crop_top (1 row), crop_left"
                                        + " (1 row): ignored"),
                run.text());
        JsonObject report =
                JsonParser.parseString(Files.readString(out.resolve("run.json"))).getAsJsonObject();
        assertEquals(1, report.getAsJsonArray("warnings").size(), report.toString());
        assertEquals("SD 1.x/2.x", report.get("model_family").getAsString());

        Map<String, Row> rows = metadataById(out);
        assertEquals(8, rows.size());
        for (String[] bad :
                new String[][] {
                    {"bad_width", "original_width 0: must be > 0"},
                    {"bad_rescale", "guidance_rescale 1.5: must be in [0, 1]"},
                    {"bad_crop", "crop_left -1: must be >= 0"},
                    {"bad_t5", "max_sequence_length 600: must be between 1 and 512"}
                }) {
            Row r = rows.get(bad[0]);
            assertEquals("invalid", r.getAs("status"), bad[0]);
            assertTrue(((String) r.getAs("error")).contains(bad[1]), () -> r.getAs("error"));
        }
        Row plain = rows.get("plain");
        Row rescaled = rows.get("rescaled");
        Row rescale0 = rows.get("rescale0");
        Row sdxl = rows.get("sdxl");
        for (Row r : List.of(plain, rescaled, rescale0, sdxl)) {
            assertEquals("ok", r.getAs("status"), () -> r.getAs("id") + ": " + r.getAs("error"));
        }
        // guidance_rescale is in the id and the metadata; 0 is diffusers' "off": the plain image.
        assertNotEquals(plain.<String>getAs("image_id"), rescaled.getAs("image_id"));
        assertEquals(0.7, (double) (Double) rescaled.getAs("guidance_rescale"));
        assertEquals(plain.<String>getAs("image_id"), rescale0.getAs("image_id"));
        // The ignored columns are not in the request: the same image as the plain row.
        assertEquals(plain.<String>getAs("image_id"), sdxl.getAs("image_id"));
        assertNull((Object) sdxl.getAs("prompt_2"));
        assertNull((Object) sdxl.getAs("original_width"));

        // validate counts the columns and gives the same one warning.
        GenerateArgs.CliRun validate =
                GenerateArgs.run(
                        GenerateArgs.validate(
                                input, "--model", model().toString(), "--master", "local[1]"));
        assertEquals(3, validate.code(), validate.text());
        assertTrue(
                validate.text()
                        .contains(
                                "rows setting SDXL/SD3 columns or guidance_rescale: prompt_2 1,"
                                        + " max_sequence_length 1, original_width 2, crop_top 1,"
                                        + " crop_left 1, guidance_rescale 3"),
                validate.text());
        assertEquals(1, count(validate.text(), "which does not use"), validate.text());

        // The job gave the pipeline guidance_rescale 0.7: its image is the pipeline's own.
        Path local =
                new ModelSpec(model().toString(), null, new HadoopConf(new Configuration()))
                        .localDir();
        StableDiffusionPipeline pipeline =
                ExecutorPipelines.pipeline(
                        local, ModelContent.hash(local), new GpuAssignment("cpu", null), "fp32");
        ImageRequest base = ImageRequest.of("a lighthouse", 7).withSteps(2).withSize(64, 64);
        List<GeneratedImage> direct =
                pipeline.generate(List.of(base, base.withGuidanceRescale(0.7)));
        assertArrayEquals(pixels(direct.get(1)), pixels(out, rescaled));
        assertArrayEquals(pixels(direct.get(0)), pixels(out, plain));
        // And it changes the image, once the pipeline applies rescale_noise_cfg (the SDXL issue's
        // DenoisingLoop change); until then this part is skipped, saying so.
        Assumptions.assumeFalse(
                java.util.Arrays.equals(pixels(direct.get(0)), pixels(direct.get(1))),
                "the pipeline does not apply guidance_rescale yet (rescale_noise_cfg)");
        assertFalse(java.util.Arrays.equals(pixels(out, plain), pixels(out, rescaled)));
    }

    @Test
    void vaeFlagWithACopyOfTheModelsOwnVaeMakesTheSamePixelsUnderAnotherIdentity()
            throws Exception {
        Path input = dir.resolve("one.csv");
        Files.write(
                input,
                List.of("id,prompt,seed,steps,width,height", "a,a red boat,3,2,64,64"),
                StandardCharsets.UTF_8);
        Path vae = dir.resolve("my-vae");
        copyTree(model().resolve("vae"), vae);

        Path plainOut = dir.resolve("plain");
        GenerateArgs.CliRun plainRun = run(input, plainOut);
        assertEquals(0, plainRun.code(), plainRun.text());
        Path vaeOut = dir.resolve("vae");
        GenerateArgs.CliRun vaeRun = run(input, vaeOut, "--vae", vae.toString());
        assertEquals(0, vaeRun.code(), vaeRun.text());

        Row a = metadataById(plainOut).get("a");
        Row b = metadataById(vaeOut).get("a");
        assertArrayEquals(pixels(plainOut, a), pixels(vaeOut, b));
        assertNotEquals(a.<String>getAs("model"), b.getAs("model"));
        assertTrue(((String) b.getAs("model")).contains("+vae#sha256="), b.<String>getAs("model"));
        assertNotEquals(a.<String>getAs("image_id"), b.getAs("image_id"));
        String infotext =
                sdbatch.pipeline.image.PngText.read(vaeOut.resolve((String) b.getAs("image_path")))
                        .get("parameters");
        assertTrue(infotext.contains("VAE: my-vae"), infotext);
        String weightsSha =
                sdbatch.schemas.util.Hashes.sha256Hex(
                        vae.resolve("diffusion_pytorch_model.safetensors"));
        assertTrue(infotext.contains("VAE hash: " + weightsSha.substring(0, 10)), infotext);

        // Another VAE (same config, other weights) is really what decodes: other pixels.
        Path other =
                sdbatch.pipeline.tiny.TinyModels.write(
                        dir.resolve("other-model"),
                        sdbatch.pipeline.tiny.TinyModels.Variant.SD1,
                        99);
        Path otherOut = dir.resolve("other");
        GenerateArgs.CliRun otherRun =
                run(input, otherOut, "--vae", other.resolve("vae").toString());
        assertEquals(0, otherRun.code(), otherRun.text());
        Row c = metadataById(otherOut).get("a");
        assertFalse(java.util.Arrays.equals(pixels(plainOut, a), pixels(otherOut, c)));
    }

    @Test
    void aBadVaeStopsTheJobAtStart() throws Exception {
        Path input = dir.resolve("one.csv");
        Files.write(
                input, List.of("prompt,steps,width,height", "a,1,64,64"), StandardCharsets.UTF_8);
        GenerateArgs.CliRun missing =
                run(input, dir.resolve("o1"), "--vae", dir.resolve("nowhere").toString());
        assertEquals(2, missing.code(), missing.text());
        assertTrue(missing.text().contains("--vae"), missing.text());
        assertTrue(missing.text().contains("is not a folder"), missing.text());

        Path noConfig = Files.createDirectories(dir.resolve("no-config"));
        Files.copy(
                model().resolve("vae/diffusion_pytorch_model.safetensors"),
                noConfig.resolve("diffusion_pytorch_model.safetensors"));
        GenerateArgs.CliRun bad = run(input, dir.resolve("o2"), "--vae", noConfig.toString());
        assertEquals(2, bad.code(), bad.text());
        assertTrue(bad.text().contains("has no config.json"), bad.text());
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
