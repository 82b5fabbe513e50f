package sdbatch.jobs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import sdbatch.jobs.storage.S3TestServer;
import sdbatch.schemas.metadata.ImageId;
import sdbatch.schemas.util.Hashes;

/** What every s3a output must satisfy, shared by the end-to-end and fault tests. */
final class S3Checks {
    private S3Checks() {}

    /**
     * The only objects a finished run leaves under its output: {@code run.json}, the metadata
     * folder as Spark's commit protocol leaves it, and the images under their two-hex-digit prefix.
     * No {@code .crc} files, no {@code _temporary}, no staging folder, no temporary image names.
     */
    static final Pattern FINISHED_OUTPUT =
            Pattern.compile(
                    "run\\.json|metadata/_SUCCESS|metadata/part-[^/]+\\.parquet"
                            + "|images/([0-9a-f]{2})/(\\1[0-9a-f]{30})\\.png");

    /** Every object under {@code output}; fails on one that {@code allowed} does not match. */
    static TreeSet<String> files(S3TestServer server, String output, Pattern allowed)
            throws IOException {
        TreeSet<String> files = S3Jobs.listFiles(server, output);
        for (String f : files) {
            assertTrue(allowed.matcher(f).matches(), "unexpected object " + f + " in " + files);
        }
        return files;
    }

    /** The metadata table under {@code output}, read back with Spark through s3a. */
    static List<Row> metadata(S3TestServer server, String output) {
        return S3Jobs.withSpark(
                server, spark -> spark.read().parquet(output + "/metadata").collectAsList());
    }

    /** Rows by status label. */
    static Map<String, Integer> statuses(List<Row> rows) {
        Map<String, Integer> m = new HashMap<>();
        rows.forEach(r -> m.merge(r.<String>getAs("status"), 1, Integer::sum));
        return m;
    }

    /** The rows whose {@code column} equals {@code value}. */
    static List<Row> where(List<Row> rows, String column, Object value) {
        return rows.stream().filter(r -> value.equals(r.getAs(column))).toList();
    }

    /**
     * Every ok row's image is where the row says ({@code images/<first two hex>/<id>.png} under
     * {@code output}), with the recorded size and SHA-256, decodes as a {@code size}×{@code size}
     * PNG read through s3a, and holds no credential; no image id has two rows; and the bucket holds
     * no image without an ok row.
     */
    static void images(
            S3TestServer server, String output, List<Row> rows, Set<String> files, int size)
            throws IOException {
        Set<String> pngs = new HashSet<>();
        for (String f : files) {
            if (f.startsWith("images/")) {
                pngs.add(f);
            }
        }
        Set<String> ids = new HashSet<>();
        for (Row r : rows) {
            assertNotNull(r.getAs("source_row"));
            String id = r.getAs("image_id");
            if (id != null) {
                assertTrue(ids.add(id), "image " + id + " has two metadata rows: " + rows);
            }
            if (!"ok".equals(r.getAs("status"))) {
                // image_path is where the image belongs (null without an image id), image_uri
                // where it was written: nowhere.
                assertEquals(id == null ? null : ImageId.path(id), r.getAs("image_path"));
                assertNull(r.getAs("image_uri"), r.toString());
                assertNotNull(r.getAs("error"), "a row that is not ok says why: " + r);
                continue;
            }
            assertNull(r.getAs("error"));
            String path = r.getAs("image_path");
            assertEquals("images/" + id.substring(0, 2) + "/" + id + ".png", path);
            assertEquals(output + "/" + path, r.getAs("image_uri"));
            assertTrue(pngs.remove(path), path + " is not in the bucket: " + files);
            byte[] png = S3Jobs.read(server, r.getAs("image_uri"));
            assertEquals((long) png.length, (long) r.<Long>getAs("bytes"));
            assertEquals(r.<String>getAs("sha256"), Hashes.sha256Hex(png));
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(image, path + " does not decode as an image");
            assertEquals(size, image.getWidth());
            assertEquals(size, image.getHeight());
            String text = new String(png, StandardCharsets.ISO_8859_1);
            assertFalse(text.contains(S3TestServer.SECRET_KEY), "secret in " + path);
        }
        assertEquals(Set.of(), pngs, "images without an ok metadata row");
    }

    /** {@code run.json} of {@code output}. */
    static JsonObject runJson(S3TestServer server, String output) throws IOException {
        return JsonParser.parseString(
                        new String(
                                S3Jobs.read(server, output + "/run.json"), StandardCharsets.UTF_8))
                .getAsJsonObject();
    }

    /**
     * No credential (secret or access key) in {@code run.json}, in any metadata value, or in
     * anything the run printed or logged; and the checks are not vacuous: {@code run.json} and the
     * echoed configuration name the secret's key, and the driver log was captured.
     */
    static void noCredentials(S3TestServer server, String output, List<Row> rows, S3Jobs.Run run)
            throws IOException {
        String runJson =
                new String(S3Jobs.read(server, output + "/run.json"), StandardCharsets.UTF_8);
        for (String secret : List.of(S3TestServer.SECRET_KEY, S3TestServer.ACCESS_KEY)) {
            assertFalse(runJson.contains(secret), "credential in run.json: " + runJson);
            for (Row r : rows) {
                for (int i = 0; i < r.length(); i++) {
                    assertFalse(
                            String.valueOf(r.get(i)).contains(secret),
                            "credential in metadata: " + r);
                }
            }
            assertFalse(run.all().contains(secret), "credential printed or logged:\n" + run.all());
        }
        assertTrue(
                JsonParser.parseString(runJson)
                        .getAsJsonObject()
                        .getAsJsonObject("conf")
                        .has("spark.hadoop.fs.s3a.secret.key"),
                "run.json records the configuration keys: " + runJson);
        noCredentialsPrinted(run);
    }

    /** No credential in what {@code run} printed or logged (see {@link #noCredentials}). */
    static void noCredentialsPrinted(S3Jobs.Run run) {
        for (String secret : List.of(S3TestServer.SECRET_KEY, S3TestServer.ACCESS_KEY)) {
            assertFalse(run.all().contains(secret), "credential printed or logged:\n" + run.all());
        }
        assertTrue(run.err().contains("spark.hadoop.fs.s3a.secret.key="), run.toString());
        assertTrue(
                run.log().contains("INFO org.apache.spark.SparkContext"),
                "driver log captured:\n" + run.log());
    }
}
