package sdbatch.jobs.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * s3a against a real S3 API (s3proxy on loopback), end to end: a tiny model folder is uploaded
 * through s3a and {@link ModelCache} copies it from {@code s3a://bucket/models/x/}.
 */
class S3ModelCacheTest {

    @TempDir static Path tmp;
    @AutoClose static S3TestServer server;
    static Configuration conf;

    @BeforeAll
    static void startServer() throws Exception {
        server = new S3TestServer(tmp.resolve("blobs")).start();
        conf = server.hadoopConfiguration();
    }

    @Test
    void copiesModelFolderFromS3aOnceAndReusesIt() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(
                "model_index.json",
                "{\"_class_name\": \"StableDiffusionPipeline\"}\n"
                        .getBytes(StandardCharsets.UTF_8));
        files.put("unet/config.json", "{\"sample_size\": 8}\n".getBytes(StandardCharsets.UTF_8));
        byte[] weights = new byte[70_000];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (byte) (i * 31 + 7);
        }
        files.put("unet/diffusion_pytorch_model.safetensors", weights);

        // Upload through s3a itself, with a manifest, so the manifest path is exercised too.
        Path local = tmp.resolve("local-model");
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Files.createDirectories(local.resolve(e.getKey()).getParent());
            Files.write(local.resolve(e.getKey()), e.getValue());
        }
        ModelManifest.write(local);
        String modelUri = server.uri("models/x/");
        FileSystem fs = new org.apache.hadoop.fs.Path(modelUri).getFileSystem(conf);
        try (var walk = Files.walk(local)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                String rel = local.relativize(p).toString();
                try (OutputStream out =
                        fs.create(new org.apache.hadoop.fs.Path(modelUri + rel), true)) {
                    out.write(Files.readAllBytes(p));
                }
            }
        }

        AtomicInteger started = new AtomicInteger();
        ModelCache cache =
                new ModelCache(tmp.resolve("cache"), conf, (u, d) -> started.incrementAndGet());
        Path copy = cache.resolve(modelUri);
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            assertArrayEquals(
                    e.getValue(), Files.readAllBytes(copy.resolve(e.getKey())), e.getKey());
        }
        assertEquals(1, started.get());

        // Same model again, spelled differently: a cache hit, no second download.
        Path again =
                new ModelCache(tmp.resolve("cache"), conf, (u, d) -> started.incrementAndGet())
                        .resolve(server.uri("models//x"));
        assertEquals(copy, again);
        assertEquals(1, started.get());
        assertFalse(copy.toString().contains(S3TestServer.SECRET_KEY));
    }
}
