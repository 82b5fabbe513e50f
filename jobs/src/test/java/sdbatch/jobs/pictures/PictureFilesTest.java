package sdbatch.jobs.pictures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.schemas.util.Hashes;

/**
 * {@link PictureFiles}: relative locations resolve against the table's folder, a flaky read is
 * retried, and a missing file, a folder or a file changed since planning is a problem naming it.
 */
class PictureFilesTest {
    @TempDir Path dir;

    /** Local files under the scheme {@code flaky:}; the first {@link #failures} opens fail. */
    public static final class FlakyFs extends RawLocalFileSystem {
        static final AtomicInteger failures = new AtomicInteger();
        static final AtomicInteger opens = new AtomicInteger();

        @Override
        public URI getUri() {
            return URI.create("flaky:///");
        }

        @Override
        public String getScheme() {
            return "flaky";
        }

        @Override
        public FSDataInputStream open(org.apache.hadoop.fs.Path f, int bufferSize)
                throws IOException {
            opens.incrementAndGet();
            if (failures.getAndDecrement() > 0) {
                throw new IOException("injected read failure");
            }
            return super.open(f, bufferSize);
        }
    }

    private static HadoopConf conf() {
        Configuration c = new Configuration();
        c.set("fs.flaky.impl", FlakyFs.class.getName());
        c.setBoolean("fs.flaky.impl.disable.cache", true);
        return new HadoopConf(c);
    }

    private Path picture(String name) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, TestPictures.encode(TestPictures.rgbPicture(16, 8, 5), "png"));
        return p;
    }

    @Test
    void relativeLocationsResolveAgainstTheTablesFolder() throws Exception {
        Path pic = picture("tables/pics/a.png");
        Path table = dir.resolve("tables/prompts.csv");
        Files.writeString(table, "prompt\n");
        PictureFiles files = PictureFiles.forTable(conf(), table.toString(), 1 << 20);
        assertEquals("file:" + dir.resolve("tables"), files.base());
        PictureFiles.Loaded loaded = files.load("pics/a.png");
        assertEquals("file:" + pic, loaded.uri());
        assertEquals(Hashes.sha256Hex(Files.readAllBytes(pic)), loaded.sha256());
        assertEquals(16, loaded.image().width());
        assertEquals("file:" + pic, files.load(pic.toString()).uri(), "absolute as given");

        // A table that is a folder of part files: locations resolve inside it.
        Path folder = dir.resolve("tables/parquet");
        Files.createDirectories(folder);
        assertEquals("file:" + folder, PictureFiles.forTable(conf(), folder.toString(), 1).base());
    }

    @Test
    void aFlakyReadIsRetriedAndAMissingFileIsNot() throws Exception {
        Path pic = picture("a.png");
        PictureFiles files = new PictureFiles(conf(), "flaky:" + dir, 1 << 20, 4, 1);
        FlakyFs.failures.set(2);
        FlakyFs.opens.set(0);
        assertEquals(16, files.load("a.png").image().width());
        assertEquals(3, FlakyFs.opens.get(), "two failures, then the read");

        FlakyFs.failures.set(10);
        PictureProblem e = assertThrows(PictureProblem.class, () -> files.load("a.png"));
        assertTrue(e.getMessage().contains("after 4 tries"), e.getMessage());
        assertTrue(e.getMessage().contains("injected read failure"), e.getMessage());
        assertTrue(e.getMessage().contains("flaky:" + pic), e.getMessage());

        FlakyFs.failures.set(0);
        FlakyFs.opens.set(0);
        PictureProblem missing = assertThrows(PictureProblem.class, () -> files.load("b.png"));
        assertTrue(missing.getMessage().contains("b.png does not exist"), missing.getMessage());
        assertEquals(0, FlakyFs.opens.get(), "a missing file is not retried");
    }

    @Test
    void aFolderOrAFileChangedSincePlanningIsAProblem() throws Exception {
        Path pic = picture("a.png");
        Files.createDirectories(dir.resolve("d.png"));
        PictureFiles files = new PictureFiles(conf(), "file:" + dir, 1 << 20, 1, 1);
        PictureProblem folder = assertThrows(PictureProblem.class, () -> files.load("d.png"));
        assertTrue(folder.getMessage().contains("is a folder"), folder.getMessage());

        PictureFiles.Loaded planned = files.load("a.png");
        assertEquals(planned.image(), files.load(planned.uri(), planned.sha256()));
        Files.write(pic, TestPictures.encode(TestPictures.rgbPicture(16, 8, 6), "png"));
        PictureProblem changed =
                assertThrows(
                        PictureProblem.class, () -> files.load(planned.uri(), planned.sha256()));
        assertTrue(changed.getMessage().contains("changed since the job planned it"));
    }
}
