package sdbatch.jobs.pictures;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.util.Objects;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.security.AccessControlException;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.io.Retries;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.schemas.util.Hashes;

/**
 * The input pictures of a prompt table, read through Hadoop file systems on the executors (never
 * collected on the driver): a location resolved against the table's folder, its bytes read with the
 * job's storage retries ({@link Retries#STORAGE}, as image writes are), hashed and decoded ({@link
 * PictureDecoder}). Every problem is a {@link PictureProblem} naming the file and the reason.
 * Serializable: planning and generation tasks carry it.
 *
 * @param hadoop the file systems' settings
 * @param base the absolute URI of the folder relative locations resolve against (the prompt table's
 *     folder; see {@link #baseOf})
 * @param maxPixels the largest width × height of a picture ({@code --max-input-pixels})
 * @param attempts storage tries per read
 * @param backoffMillis the first wait between tries
 */
public record PictureFiles(
        HadoopConf hadoop, String base, long maxPixels, int attempts, long backoffMillis)
        implements Serializable {

    /** The default {@code --max-input-pixels}: 4096 × 4096. */
    public static final long MAX_PIXELS_DEFAULT = 4096L * 4096L;

    /**
     * Bytes a picture file may have per pixel of the limit: a 16-bit RGBA PNG stored without
     * compression needs 8 and a filter byte per row; a bigger file cannot hold an acceptable
     * picture and is refused before it is read into memory.
     */
    private static final long MAX_BYTES_PER_PIXEL = 9;

    /** A decoded picture and what identifies it. */
    public record Loaded(String uri, String sha256, RgbImage image) {}

    /** Checks presence. */
    public PictureFiles {
        Objects.requireNonNull(hadoop, "hadoop");
        Objects.requireNonNull(base, "base");
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
    }

    /** Pictures of the table at {@code table}, with the job's storage retries. */
    public static PictureFiles forTable(HadoopConf hadoop, String table, long maxPixels)
            throws IOException {
        Retries r = Retries.STORAGE;
        return new PictureFiles(
                hadoop, baseOf(hadoop, table), maxPixels, r.attempts(), r.backoffMillis());
    }

    /**
     * The folder relative picture locations of the table at {@code table} resolve against: the
     * folder holding a table file, or the table's own folder when it is a folder of part files.
     */
    public static String baseOf(HadoopConf hadoop, String table) throws IOException {
        Path path = new Path(table);
        FileSystem fs = path.getFileSystem(hadoop.get());
        Path qualified = fs.makeQualified(path);
        boolean folder;
        try {
            folder = fs.getFileStatus(qualified).isDirectory();
        } catch (FileNotFoundException e) {
            folder = false; // the table reader reports the missing table
        }
        Path base = folder || qualified.getParent() == null ? qualified : qualified.getParent();
        return base.toString();
    }

    /** The absolute URI of {@code location}: as given when absolute, else under {@link #base}. */
    public String resolve(String location) throws PictureProblem {
        try {
            Path path = new Path(location.strip());
            if (!path.isAbsolute() && path.toUri().getScheme() == null) {
                path = new Path(new Path(base), path);
            }
            return path.getFileSystem(hadoop.get()).makeQualified(path).toString();
        } catch (IllegalArgumentException | IOException e) {
            throw new PictureProblem(
                    "picture location "
                            + location
                            + " is not a usable path or URI: "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * Reads, hashes and decodes the picture at {@code location} (resolved first).
     *
     * @throws PictureProblem naming the file and the reason
     */
    public Loaded load(String location) throws PictureProblem {
        String uri = resolve(location);
        byte[] bytes = read(uri);
        String sha = Hashes.sha256Hex(bytes);
        return new Loaded(uri, sha, decode(uri, bytes));
    }

    /**
     * The picture at the absolute {@code uri}, which must still have the content the job planned
     * with ({@code sha256}): a file changed during the run would give an image under an id that
     * names other content.
     *
     * @throws PictureProblem naming the file and the reason
     */
    public RgbImage load(String uri, String sha256) throws PictureProblem {
        byte[] bytes = read(uri);
        String actual = Hashes.sha256Hex(bytes);
        if (!actual.equals(sha256)) {
            throw new PictureProblem(
                    "picture "
                            + uri
                            + " changed since the job planned it (sha256 "
                            + actual
                            + ", planned "
                            + sha256
                            + "); run the job again to plan with the new picture");
        }
        return decode(uri, bytes);
    }

    private RgbImage decode(String uri, byte[] bytes) throws PictureProblem {
        try {
            return PictureDecoder.decode(bytes, maxPixels);
        } catch (PictureProblem e) {
            throw new PictureProblem("picture " + uri + " " + e.getMessage(), e.getCause());
        }
    }

    /** The file's bytes, with retries for what another try may fix. */
    byte[] read(String uri) throws PictureProblem {
        Path path = new Path(uri);
        Retries retries = new Retries(attempts, backoffMillis, Thread::sleep);
        try {
            return retries.run(PictureFiles::retryable, () -> readOnce(path));
        } catch (FileNotFoundException e) {
            throw new PictureProblem("picture " + uri + " does not exist", e);
        } catch (AccessControlException e) {
            throw new PictureProblem(
                    "picture " + uri + " cannot be read (permission denied): " + e.getMessage(), e);
        } catch (NotAPictureFile e) {
            throw new PictureProblem("picture " + uri + " " + e.getMessage(), e);
        } catch (IOException e) {
            throw new PictureProblem(
                    "picture "
                            + uri
                            + " cannot be read after "
                            + attempts
                            + " tries: "
                            + e.getClass().getName()
                            + ": "
                            + e.getMessage(),
                    e);
        } catch (InterruptedException e) {
            throw new PictureProblem("interrupted while reading picture " + uri, e);
        }
    }

    private byte[] readOnce(Path path) throws IOException {
        FileSystem fs = path.getFileSystem(hadoop.get());
        FileStatus status = fs.getFileStatus(path);
        if (status.isDirectory()) {
            throw new NotAPictureFile("is a folder, not a picture file");
        }
        long limit = Math.min(Integer.MAX_VALUE - 8L, maxPixels * MAX_BYTES_PER_PIXEL + (1 << 20));
        if (status.getLen() > limit) {
            throw new NotAPictureFile(
                    "has "
                            + status.getLen()
                            + " bytes, more than a picture within the pixel limit can need ("
                            + limit
                            + ")");
        }
        byte[] bytes = new byte[(int) status.getLen()];
        try (FSDataInputStream in = fs.open(path)) {
            in.readFully(0, bytes);
        }
        return bytes;
    }

    /** Whether another try may succeed: not for a missing file, a refusal or a bad file. */
    private static boolean retryable(IOException e) {
        return !(e instanceof FileNotFoundException
                || e instanceof AccessControlException
                || e instanceof NotAPictureFile);
    }

    /** A file that is not a picture file this reader takes (a folder, too many bytes). */
    private static final class NotAPictureFile extends IOException {
        private static final long serialVersionUID = 1L;

        NotAPictureFile(String message) {
            super(message);
        }
    }
}
