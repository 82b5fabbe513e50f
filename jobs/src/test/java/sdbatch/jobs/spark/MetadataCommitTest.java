package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.io.ResumeIndex;
import sdbatch.jobs.testing.SharedSparkSession;

/**
 * Issue 15 item 6: the metadata swap is two folder moves (on s3a each a copy and a delete of every
 * file). A crash between them must not leave an output without {@code metadata/}: the next reader
 * finishes the swap.
 */
class MetadataCommitTest extends SharedSparkSession {
    @TempDir java.nio.file.Path dir;

    /** The local file system, whose moves of {@code dest} fail (the driver "dies" there). */
    static final class FailingMoveInto extends FilterFileSystem {
        private final String dest;

        FailingMoveInto(String dest) throws IOException {
            super(FileSystem.getLocal(new Configuration()));
            this.dest = dest;
        }

        @Override
        public boolean rename(Path src, Path dst) throws IOException {
            if (dst.getName().equals(dest) || dst.toString().contains("/" + dest + "/")) {
                throw new IOException("injected: the driver died moving " + src + " to " + dst);
            }
            return super.rename(src, dst);
        }
    }

    /** Metadata rows with just the columns the reader needs. */
    private Dataset<Row> table(String... imageIds) {
        return spark.createDataset(List.of(imageIds), Encoders.STRING())
                .selectExpr(
                        "value AS image_id",
                        "concat('images/', substr(value, 1, 2), '/', value, '.png') AS image_path",
                        "'ok' AS status");
    }

    private void image(java.nio.file.Path output, String id) throws IOException {
        java.nio.file.Path png = output.resolve("images/" + id.substring(0, 2) + "/" + id + ".png");
        Files.createDirectories(png.getParent());
        Files.write(png, new byte[] {1});
    }

    /** The image ids of the ok rows the next reader ({@code --resume}) finds in the metadata. */
    private Set<String> okIds(String out) {
        Dataset<Row> ok = ResumeIndex.okRows(spark, out);
        assertNotNull(ok, "the reader finds a metadata table");
        return ok.select("image_id").as(Encoders.STRING()).collectAsList().stream()
                .collect(Collectors.toSet());
    }

    @Test
    void aSwapThatDiesBetweenItsTwoMovesIsFinishedByTheNextReader() throws Exception {
        java.nio.file.Path output = dir.resolve("out");
        for (String id : List.of("aa01", "bb02", "cc03")) {
            image(output, id);
        }
        String out = output.toString();
        Path root = new Path(out);
        FileSystem local = FileSystem.getLocal(new Configuration());

        MetadataCommit first = new MetadataCommit(spark, local, root, out, "run1");
        assertTrue(first.write(table("aa01"), () -> false, () -> {}));
        assertEquals(1L, first.swapInAndCount().get("ok"));

        // The second run's first move (old table aside) succeeds, its second (new table in) fails.
        MetadataCommit second =
                new MetadataCommit(spark, new FailingMoveInto("metadata"), root, out, "run2");
        assertTrue(second.write(table("aa01", "bb02", "cc03"), () -> false, () -> {}));
        assertThrows(IOException.class, second::swapInAndCount);

        // The next reader finds the committed new table, and the swap leaves nothing behind.
        assertEquals(Set.of("aa01", "bb02", "cc03"), okIds(out));
        try (Stream<java.nio.file.Path> files = Files.list(output)) {
            List<String> names =
                    files.map(p -> p.getFileName().toString())
                            .filter(n -> !n.startsWith("."))
                            .sorted()
                            .toList();
            assertEquals(List.of("images", "metadata"), names);
        }
        assertFalse(Files.exists(output.resolve("metadata.swap")));
    }

    @Test
    void aSwapThatDiesHalfwayThroughMovingTheOldTableAsideIsFinished() throws Exception {
        java.nio.file.Path output = dir.resolve("out2");
        for (String id : List.of("aa01", "bb02")) {
            image(output, id);
        }
        String out = output.toString();
        Path root = new Path(out);
        FileSystem local = FileSystem.getLocal(new Configuration());
        MetadataCommit first = new MetadataCommit(spark, local, root, out, "run1");
        assertTrue(first.write(table("aa01").repartition(3), () -> false, () -> {}));
        first.swapInAndCount();

        // As on s3a: the folder rename is refused and the file-by-file move dies after the
        // first file, so both the old table and the aside folder hold part of it.
        FileSystem halfway =
                new FilterFileSystem(local) {
                    int moved;

                    @Override
                    public boolean rename(Path src, Path dst) throws IOException {
                        if (dst.getName().startsWith("metadata.replaced-")) {
                            return false;
                        }
                        if (dst.toString().contains("metadata.replaced-") && moved++ > 0) {
                            throw new IOException("injected: the driver died moving " + src);
                        }
                        return super.rename(src, dst);
                    }
                };
        MetadataCommit second = new MetadataCommit(spark, halfway, root, out, "run2");
        assertTrue(second.write(table("aa01", "bb02"), () -> false, () -> {}));
        assertThrows(IOException.class, second::swapInAndCount);

        assertEquals(Set.of("aa01", "bb02"), okIds(out));
        assertEquals(2L, spark.read().parquet(out + "/metadata").count(), "no old part mixed in");
    }
}
