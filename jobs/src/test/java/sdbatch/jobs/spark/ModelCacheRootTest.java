package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 item 11: the model cache's default is a folder that outlives the job (not YARN's
 * per-container {@code java.io.tmpdir}), with a documented precedence: flag, {@code
 * SDBATCH_MODEL_CACHE}, the user's cache folder, a per-user folder under {@code java.io.tmpdir}.
 */
class ModelCacheRootTest {
    @TempDir Path dir;

    private Properties props(String home) {
        Properties p = new Properties();
        p.setProperty("user.home", home);
        p.setProperty("user.name", "alice");
        p.setProperty("java.io.tmpdir", dir.resolve("container-tmp").toString());
        return p;
    }

    @Test
    void flagThenEnvironmentThenUserCacheThenPerUserTemp() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        Path xdg = Files.createDirectories(dir.resolve("xdg"));
        Map<String, String> env =
                Map.of("SDBATCH_MODEL_CACHE", "/mnt/nvme/models", "XDG_CACHE_HOME", xdg.toString());

        assertEquals(
                Path.of("/data/cache"),
                ModelSpec.cacheRoot("/data/cache", env, props(home.toString())));
        assertEquals(
                Path.of("/mnt/nvme/models"),
                ModelSpec.cacheRoot(null, env, props(home.toString())));
        assertEquals(
                xdg.resolve("sdbatch/models"),
                ModelSpec.cacheRoot(
                        null, Map.of("XDG_CACHE_HOME", xdg.toString()), props(home.toString())));
        assertEquals(
                home.resolve(".cache/sdbatch/models"),
                ModelSpec.cacheRoot(null, Map.of(), props(home.toString())));
        // A container user without a home (YARN, some images): a per-user folder, never a bare
        // shared one.
        assertEquals(
                dir.resolve("container-tmp/sdbatch-models-alice"),
                ModelSpec.cacheRoot(null, Map.of(), props("?")));
        assertEquals(
                dir.resolve("container-tmp/sdbatch-models-alice"),
                ModelSpec.cacheRoot(null, Map.of(), props(dir.resolve("no-such").toString())));
    }
}
