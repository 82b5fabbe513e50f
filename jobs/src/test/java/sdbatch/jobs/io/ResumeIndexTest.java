package sdbatch.jobs.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 item 5: the resume index is one recursive listing of {@code images/}, whatever the
 * number of images, and only whole images under their own prefix count.
 */
class ResumeIndexTest {
    @TempDir java.nio.file.Path dir;

    /** The local file system, counting listings and per-path status lookups. */
    static final class Counting extends FilterFileSystem {
        final AtomicInteger listings = new AtomicInteger();
        final AtomicInteger lookups = new AtomicInteger();

        Counting() throws IOException {
            super(FileSystem.getLocal(new Configuration()).getRawFileSystem());
        }

        @Override
        public RemoteIterator<LocatedFileStatus> listFiles(Path f, boolean recursive)
                throws IOException {
            listings.incrementAndGet();
            return super.listFiles(f, recursive);
        }

        @Override
        public FileStatus getFileStatus(Path f) throws IOException {
            lookups.incrementAndGet();
            return super.getFileStatus(f);
        }
    }

    private void write(String relative, int bytes) throws IOException {
        java.nio.file.Path p = dir.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[bytes]);
    }

    @Test
    void oneListingFindsEveryWholeImageAndNothingElse() throws Exception {
        int images = 300;
        for (int i = 0; i < images; i++) {
            String id = String.format("%02x%030d", i % 256, i);
            write(ImageStore.relativePath(id), 1 + i % 7);
        }
        write("images/ab/.ab0001.png.1234.tmp", 3); // a killed attempt's temporary
        write("images/cd/ab0002.png", 3); // not under its own prefix
        write("images/ab/ab0003.txt", 3); // not a PNG
        Counting fs = new Counting();

        Map<String, Long> stored = ResumeIndex.storedImages(fs, new Path(dir.toString()));

        assertEquals(images, stored.size());
        assertEquals(1L + 5 % 7, stored.get(String.format("%02x%030d", 5, 5)));
        assertEquals(1, fs.listings.get(), "one listing");
        assertEquals(
                1, fs.lookups.get(), "one lookup (does images/ exist), none per image: " + images);
    }
}
