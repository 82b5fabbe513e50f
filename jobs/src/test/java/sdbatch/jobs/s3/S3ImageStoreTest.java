package sdbatch.jobs.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.generate.StoredImage;
import sdbatch.jobs.io.ImageStore;
import sdbatch.jobs.storage.S3TestServer;
import sdbatch.schemas.util.Hashes;

/**
 * {@link ImageStore} on s3a against a real S3 API: one direct PUT per image under its two-hex
 * prefix (no temporary object, no {@code .crc}), idempotent re-stores that never replace a stored
 * object, bounded retries with exponential backoff when the server is down that end in a failed
 * result naming the object, and recovery of the same client once the server is back.
 */
class S3ImageStoreTest {
    @TempDir static Path tmp;
    @AutoClose static S3TestServer server;

    static final String ID = "ab" + "0123456789abcdef".repeat(3) + "cdef0123456789";

    @BeforeAll
    static void startServer() throws Exception {
        server = new S3TestServer(tmp.resolve("blobs")).start();
    }

    private static FileSystem fs(String uri) throws Exception {
        return new org.apache.hadoop.fs.Path(uri).getFileSystem(server.hadoopConfiguration());
    }

    @Test
    void directPutUnderPrefixIdempotentAndNeverReplacing() throws Exception {
        String root = server.uri("store");
        ImageStore store = ImageStore.open(fs(root), new org.apache.hadoop.fs.Path(root));
        byte[] png = {1, 2, 3, 4, 5};
        StoredImage s = store.store(ID, png);
        assertTrue(s.isOk(), s.error());
        assertEquals("images/ab/" + ID + ".png", s.path());
        assertEquals(root + "/" + s.path(), s.uri());
        assertArrayEquals(png, S3Jobs.read(server, s.uri()));
        assertEquals(s, store.store(ID, png), "same bytes: same result");
        // A later attempt with other bytes keeps the committed object and reports its hash.
        StoredImage later = store.store(ID, new byte[] {9});
        assertEquals(s, later);
        assertEquals(Hashes.sha256Hex(png), later.sha256());
        assertArrayEquals(png, S3Jobs.read(server, s.uri()));
        assertEquals(Set.of(s.path()), S3Jobs.listFiles(server, root), "one object, nothing else");
    }

    @Test
    void serverDownFailsAfterBoundedRetriesThenRecovers() throws Exception {
        String root = server.uri("down");
        FileSystem fs = fs(root);
        List<Long> sleeps = new ArrayList<>();
        ImageStore store =
                new ImageStore(fs, new org.apache.hadoop.fs.Path(root), 3, 10, sleeps::add);
        StoredImage failed;
        int strays;
        server.stop();
        try {
            long start = System.nanoTime();
            failed = store.store(ID, new byte[] {7});
            assertTrue(
                    System.nanoTime() - start < 20_000_000_000L, "the test s3a settings fail fast");
            // Images on object stores are direct PUTs: no temporaries, nothing to list.
            strays = ImageStore.deleteTemporaries(fs, new org.apache.hadoop.fs.Path(root));
        } finally {
            server.start();
        }
        assertFalse(failed.isOk());
        assertTrue(
                failed.error()
                        .startsWith(
                                "could not store "
                                        + root
                                        + "/images/ab/"
                                        + ID
                                        + ".png after 3 tries: "),
                failed.error());
        assertFalse(failed.error().contains(S3TestServer.SECRET_KEY));
        assertEquals(List.of(10L, 20L), sleeps);
        assertEquals(0, strays);

        StoredImage ok = store.store(ID, new byte[] {7});
        assertTrue(ok.isOk(), "the same client works again once the server is back: " + ok);
        assertArrayEquals(new byte[] {7}, S3Jobs.read(server, ok.uri()));
    }
}
