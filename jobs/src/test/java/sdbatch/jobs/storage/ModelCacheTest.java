package sdbatch.jobs.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ModelCache} with a local source read through Hadoop's {@code file:} file system (the same
 * code path as s3a/hdfs; see S3ModelCacheTest for s3a itself).
 */
class ModelCacheTest {

    @TempDir Path tmp;
    Path source;
    Path cacheRoot;
    final Configuration conf = new Configuration();

    @BeforeEach
    void writeModel() throws IOException {
        source = tmp.resolve("models/sd-tiny");
        Files.createDirectories(source.resolve("unet"));
        Files.createDirectories(source.resolve("vae"));
        Files.writeString(source.resolve("model_index.json"), "{\"_class_name\": \"x\"}\n");
        Files.writeString(source.resolve("unet/config.json"), "{\"sample_size\": 8}\n");
        byte[] weights = new byte[300_000];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (byte) (i ^ (i >>> 7));
        }
        Files.write(source.resolve("unet/diffusion_pytorch_model.safetensors"), weights);
        Files.write(source.resolve("vae/diffusion_pytorch_model.safetensors"), new byte[1234]);
        cacheRoot = tmp.resolve("cache");
    }

    String uri() {
        return source.toUri().toString(); // file:/.../models/sd-tiny/
    }

    @Test
    void eightConcurrentCallersShareOneDownload() throws Exception {
        AtomicInteger downloads = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                // A separate instance per caller, as separate tasks would have: the lock is
                // JVM-wide.
                ModelCache cache =
                        new ModelCache(
                                cacheRoot,
                                conf,
                                (u, d) -> {
                                    downloads.incrementAndGet();
                                    sleep(300); // widen the window in which others must wait
                                });
                Callable<Path> call =
                        () -> {
                            go.await();
                            return cache.fetch(uri());
                        };
                results.add(pool.submit(call));
            }
            go.countDown();
            Set<Path> paths = new HashSet<>();
            for (Future<Path> f : results) {
                paths.add(f.get(60, TimeUnit.SECONDS));
            }
            assertEquals(1, downloads.get(), "downloads");
            assertEquals(1, paths.size(), "every caller gets the same folder");
            assertSameContent(source, paths.iterator().next());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void callerInAnotherJvmWaitsForTheFileLock() throws Exception {
        // Another JVM holding the lock file is what a concurrent executor on the same host does.
        ModelCache cache = new ModelCache(cacheRoot, conf);
        Path first = cache.fetch(uri());
        Path lockFile = cacheRoot.resolve(".locks").resolve(StorageUris.cacheKey(uri()) + ".lock");
        assertTrue(Files.exists(lockFile));
        Process holder =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-cp",
                                System.getProperty("java.class.path"),
                                LockHolder.class.getName(),
                                lockFile.toString(),
                                "1500")
                        .redirectErrorStream(true)
                        .start();
        try {
            // The holder prints "locked" once it has the lock.
            String line = new String(holder.getInputStream().readNBytes(7), StandardCharsets.UTF_8);
            assertEquals("locked\n", line);
            long start = System.nanoTime();
            Path second = cache.fetch(uri());
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(first, second);
            assertTrue(waitedMs >= 1000, "fetch should wait for the other JVM, waited " + waitedMs);
        } finally {
            holder.destroy();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void laterCallReusesTheCopy() throws Exception {
        AtomicInteger downloads = new AtomicInteger();
        ModelCache cache = new ModelCache(cacheRoot, conf, (u, d) -> downloads.incrementAndGet());
        Path a = cache.fetch(uri());
        Path b =
                new ModelCache(cacheRoot, conf, (u, d) -> downloads.incrementAndGet())
                        .fetch(uri().replaceAll("/$", ""));
        assertEquals(a, b);
        assertEquals(1, downloads.get());
    }

    @Test
    void truncatedCachedFileIsDetectedAndFetchedAgain() throws Exception {
        AtomicInteger downloads = new AtomicInteger();
        ModelCache cache = new ModelCache(cacheRoot, conf, (u, d) -> downloads.incrementAndGet());
        Path copy = cache.fetch(uri());
        Path weights = copy.resolve("unet/diffusion_pytorch_model.safetensors");
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(1000);
        }
        assertEquals(1000, Files.size(weights));

        Path again = cache.fetch(uri());
        assertEquals(2, downloads.get(), "the corrupted copy must be fetched again");
        assertSameContent(source, again);
    }

    @Test
    void retrainedSourceOfTheSameSizeIsFetchedAgainNotReusedStale() throws Exception {
        AtomicInteger downloads = new AtomicInteger();
        ModelCache cache = new ModelCache(cacheRoot, conf, (u, d) -> downloads.incrementAndGet());
        Path copy = cache.fetch(uri());
        String before = ModelContent.hash(copy);

        // Retrained VAE: same shape, so same size; only the bytes (and the file's time) differ.
        retrainVae(100);

        Path again = cache.fetch(uri());
        assertEquals(2, downloads.get(), "the stale copy must be fetched again");
        assertSameContent(source, again);
        assertNotEquals(before, ModelContent.hash(again), "new content, new hash");
        assertEquals(ModelContent.hash(source), ModelContent.hash(again));
    }

    @Test
    void contentHashOfACopyComesFromItsRecordAndEqualsTheSources() throws Exception {
        Path copy = new ModelCache(cacheRoot, conf).fetch(uri());
        assertTrue(Files.isRegularFile(copy.resolve(ModelContent.COPY_RECORD)));
        assertEquals(ModelContent.hash(source), ModelContent.hash(copy));
        // Every weight file counts, not only the UNet's.
        String before = ModelContent.hash(source);
        retrainVae(0);
        assertNotEquals(before, ModelContent.hash(source));
    }

    @Test
    void newCacheFolderIsOwnerOnly() throws Exception {
        new ModelCache(cacheRoot, conf).fetch(uri());
        assertEquals(
                PosixFilePermissions.fromString("rwx------"),
                Files.getPosixFilePermissions(cacheRoot));
    }

    @Test
    void cacheFolderOthersCanWriteIsRefused() throws Exception {
        Files.createDirectories(cacheRoot);
        Files.setPosixFilePermissions(cacheRoot, PosixFilePermissions.fromString("rwxrwxrwx"));
        IOException e =
                assertThrows(IOException.class, () -> new ModelCache(cacheRoot, conf).fetch(uri()));
        assertTrue(
                e.getMessage().contains(cacheRoot.toString())
                        && e.getMessage().contains("rwxrwxrwx"),
                e.getMessage());
        assertEquals(List.of(), listNames(cacheRoot), "nothing written into it");
    }

    @Test
    void cacheFolderAnotherUserOwnsIsRefused() throws Exception {
        // Another user's folder, owner-only: as root the test gives one to "nobody"; otherwise a
        // folder of root's stands for it.
        Path foreign = tmp.resolve("foreign-cache");
        Files.createDirectories(foreign);
        Files.setPosixFilePermissions(foreign, PosixFilePermissions.fromString("rwx------"));
        String owner;
        try {
            Files.setOwner(
                    foreign,
                    foreign.getFileSystem()
                            .getUserPrincipalLookupService()
                            .lookupPrincipalByName("nobody"));
            owner = "nobody";
        } catch (IOException notRoot) {
            foreign = Path.of("/usr");
            owner = "root";
            org.junit.jupiter.api.Assumptions.assumeTrue(
                    Files.getOwner(foreign).getName().equals(owner));
        }
        Path folder = foreign;
        IOException e = assertThrows(IOException.class, () -> CacheFolder.secure(folder));
        assertTrue(
                e.getMessage().contains(folder.toString())
                        && e.getMessage().contains("belongs to " + owner),
                e.getMessage());
        // The shared /tmp itself (everyone may write there) is never a cache folder.
        assertThrows(IOException.class, () -> CacheFolder.secure(Path.of("/tmp")));
    }

    @Test
    void manifestShaMismatchFailsNamingTheFileAndLeavesNothingBehind() throws Exception {
        ModelManifest.write(source);
        // Same size, different bytes: only the hash can tell.
        flipVaeBit(17);

        ModelCache cache = new ModelCache(cacheRoot, conf);
        IOException e = assertThrows(IOException.class, () -> cache.fetch(uri()));
        assertTrue(
                e.getMessage().contains("vae/diffusion_pytorch_model.safetensors")
                        && e.getMessage().contains("sha256"),
                e.getMessage());
        assertEquals(List.of(".locks"), listNames(cacheRoot), "no copy, no temporary folder");
    }

    @Test
    void manifestWithMatchingHashesIsAccepted() throws Exception {
        ModelManifest manifest = ModelManifest.write(source);
        assertEquals(4, manifest.files().size());
        Path copy = new ModelCache(cacheRoot, conf).fetch(uri());
        assertSameContent(source, copy);
    }

    @Test
    void leftoverTemporaryFolderFromACrashIsDeletedAndNeverUsed() throws Exception {
        String key = StorageUris.cacheKey(uri());
        Path leftover = cacheRoot.resolve(".tmp-" + key + "-crashed");
        Files.createDirectories(leftover.resolve("unet"));
        Files.writeString(leftover.resolve("model_index.json"), "partial");
        Path copy = new ModelCache(cacheRoot, conf).fetch(uri());
        assertFalse(Files.exists(leftover));
        assertSameContent(source, copy);
    }

    @Test
    void localPathsAreUsedInPlace() throws Exception {
        ModelCache cache = new ModelCache(cacheRoot, conf);
        assertEquals(source, cache.resolve(source.toString()));
        assertEquals(source, cache.resolve(uri()));
        assertFalse(Files.exists(cacheRoot), "nothing copied");
        assertThrows(IOException.class, () -> cache.resolve(tmp.resolve("missing").toString()));
    }

    @Test
    void cacheKeyIgnoresCredentialsAndSpelling() {
        String a = StorageUris.cacheKey("s3a://AKIA:SECRET@Bucket/models/sd15/");
        assertEquals(a, StorageUris.cacheKey("s3a://bucket/models//sd15"));
        assertEquals(
                "s3a://***@bucket/models/sd15/",
                StorageUris.redact("s3a://AKIA:SECRET@bucket/models/sd15/"));
        assertEquals(
                "s3a://bucket/models/sd15",
                StorageUris.normalize("S3A://AK:S@bucket/models/./sd15/"));
    }

    /**
     * Flips the low bit of byte {@code index} of the source's VAE weights: same size, new bytes.
     */
    private Path flipVaeBit(int index) throws IOException {
        Path vae = source.resolve("vae/diffusion_pytorch_model.safetensors");
        byte[] bytes = Files.readAllBytes(vae);
        bytes[index] ^= 1;
        Files.write(vae, bytes);
        return vae;
    }

    /**
     * {@link #flipVaeBit}, with the file's time 5 s later, as a retrained file written after the
     * copy has (whatever the file system's time resolution).
     */
    private void retrainVae(int index) throws IOException {
        Path vae = flipVaeBit(index);
        Files.setLastModifiedTime(
                vae, FileTime.fromMillis(Files.getLastModifiedTime(vae).toMillis() + 5_000));
    }

    private static void assertSameContent(Path expected, Path actual) throws IOException {
        try (Stream<Path> walk = Files.walk(expected)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                Path rel = expected.relativize(p);
                assertArrayEquals(
                        Files.readAllBytes(p),
                        Files.readAllBytes(actual.resolve(rel)),
                        rel.toString());
            }
        }
    }

    private static List<String> listNames(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Child JVM: holds an exclusive lock on a file for a while, like a downloading executor. */
    public static final class LockHolder {
        public static void main(String[] args) throws Exception {
            try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE);
                    var lock = ch.lock()) {
                System.out.print("locked\n");
                System.out.flush();
                Thread.sleep(Long.parseLong(args[1]));
            }
        }
    }
}
