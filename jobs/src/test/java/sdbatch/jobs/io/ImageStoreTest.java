package sdbatch.jobs.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.generate.StoredImage;
import sdbatch.schemas.util.Hashes;

class ImageStoreTest {
    @TempDir java.nio.file.Path dir;

    private static final String ID = "ab" + "0123456789abcdef".repeat(3) + "cdef0123456789";

    /** The raw local file system with {@link #beforeCreate} called before every create. */
    abstract static class CreateHook extends FilterFileSystem {
        CreateHook() throws IOException {
            super(FileSystem.getLocal(new Configuration()).getRawFileSystem());
        }

        /** Called with the file about to be created; throws to fail the create. */
        abstract void beforeCreate(Path f) throws IOException;

        @Override
        public FSDataOutputStream create(
                Path f,
                FsPermission permission,
                boolean overwrite,
                int bufferSize,
                short replication,
                long blockSize,
                Progressable progress)
                throws IOException {
            beforeCreate(f);
            return super.create(
                    f, permission, overwrite, bufferSize, replication, blockSize, progress);
        }
    }

    /** A local file system whose create fails the first {@code failures} times. */
    static final class Flaky extends CreateHook {
        final AtomicInteger failures;

        Flaky(int failures) throws IOException {
            this.failures = new AtomicInteger(failures);
        }

        @Override
        void beforeCreate(Path f) throws IOException {
            if (failures.getAndDecrement() > 0) {
                throw new IOException("injected failure");
            }
        }
    }

    @Test
    void writesAtomicallyUnderTwoHexPrefixAndIsIdempotent() throws Exception {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        ImageStore store = ImageStore.open(fs, new Path(dir.toString()));
        byte[] png = {1, 2, 3, 4};
        StoredImage s = store.store(ID, png);
        assertTrue(s.isOk(), s.error());
        assertEquals("images/ab/" + ID + ".png", s.path());
        assertEquals(4L, s.bytes());
        assertEquals(Hashes.sha256Hex(png), s.sha256());
        java.nio.file.Path file = dir.resolve(s.path());
        assertArrayEquals(png, Files.readAllBytes(file));
        long modified = Files.getLastModifiedTime(file).toMillis();
        Thread.sleep(20);
        assertEquals(s, store.store(ID, png), "same bytes: nothing rewritten");
        assertEquals(modified, Files.getLastModifiedTime(file).toMillis());
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporaries, no .crc files");
        }
    }

    /**
     * A later attempt with other bytes (a GPU need not repeat itself) never replaces the committed
     * image, and reports the stored file's hash, so the metadata row of whichever attempt Spark
     * commits agrees with the bytes.
     */
    @Test
    void aLaterAttemptKeepsTheCommittedImageAndReportsItsHash() throws Exception {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path root = new Path(dir.toString());
        byte[] first = {1, 2, 3, 4};
        StoredImage winner = ImageStore.open(fs, root).store(ID, first);
        StoredImage loser = ImageStore.open(fs, root).store(ID, new byte[] {9, 9});
        java.nio.file.Path file = dir.resolve(winner.path());
        assertArrayEquals(first, Files.readAllBytes(file));
        assertTrue(loser.isOk(), loser.error());
        assertEquals(winner, loser, "the loser reports the stored image");
        assertEquals(Hashes.sha256Hex(first), loser.sha256());
    }

    /** A local file system that runs {@code racer} when a temporary image file is created. */
    static final class Racing extends CreateHook {
        Runnable racer = () -> {};

        Racing() throws IOException {}

        @Override
        void beforeCreate(Path f) {
            if (f.getName().endsWith(".tmp")) {
                Runnable r = racer;
                racer = () -> {};
                r.run();
            }
        }
    }

    /**
     * Two attempts race: attempt B finds no image, and attempt A commits between B's check and B's
     * commit. B must not replace A's image, and both report A's bytes.
     */
    @Test
    void anAttemptThatLosesTheRaceDoesNotReplaceTheWinner() throws Exception {
        Path root = new Path(dir.toString());
        byte[] a = {1, 1, 1};
        byte[] b = {2, 2, 2, 2, 2};
        Racing racing = new Racing();
        ImageStore attemptA = new ImageStore(racing, root, 1, 0, ms -> {});
        ImageStore attemptB = new ImageStore(racing, root, 1, 0, ms -> {});
        StoredImage[] resultA = new StoredImage[1];
        racing.racer = () -> resultA[0] = attemptA.store(ID, a);
        StoredImage resultB = attemptB.store(ID, b);
        java.nio.file.Path file = dir.resolve(ImageStore.relativePath(ID));
        assertArrayEquals(a, Files.readAllBytes(file), "the first commit stays");
        assertEquals(Hashes.sha256Hex(a), resultA[0].sha256());
        assertTrue(resultB.isOk(), resultB.error());
        assertEquals(Hashes.sha256Hex(a), resultB.sha256(), "the loser reports the winner");
        assertEquals(a.length, resultB.bytes());
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporaries left");
        }
    }

    @Test
    void retriesWithExponentialBackoffThenFailsTheRow() throws Exception {
        List<Long> sleeps = new ArrayList<>();
        Flaky twice = new Flaky(2);
        ImageStore store = new ImageStore(twice, new Path(dir.toString()), 4, 100, sleeps::add);
        assertTrue(store.store(ID, new byte[] {7}).isOk());
        assertEquals(List.of(100L, 200L), sleeps);

        sleeps.clear();
        Flaky always = new Flaky(100);
        StoredImage failed =
                new ImageStore(always, new Path(dir.resolve("x").toString()), 3, 10, sleeps::add)
                        .store(ID, new byte[] {7});
        assertFalse(failed.isOk());
        assertTrue(failed.error().contains("after 3 tries"), failed.error());
        assertTrue(failed.error().contains("injected failure"), failed.error());
        assertEquals(List.of(10L, 20L), sleeps);
    }

    @Test
    void deletesStrayTemporariesAndRejectsBadIds() throws Exception {
        FileSystem fs = FileSystem.getLocal(new Configuration()).getRawFileSystem();
        java.nio.file.Path tmp = dir.resolve("images/ab/." + ID + ".png.123.tmp");
        Files.createDirectories(tmp.getParent());
        Files.write(tmp, new byte[] {1});
        assertEquals(1, ImageStore.deleteTemporaries(fs, new Path(dir.toString())));
        assertFalse(Files.exists(tmp));
        assertThrows(IllegalArgumentException.class, () -> ImageStore.relativePath("../etc"));
        assertThrows(IllegalArgumentException.class, () -> ImageStore.relativePath("x"));
    }
}
