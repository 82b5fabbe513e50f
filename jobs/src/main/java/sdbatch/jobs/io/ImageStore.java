package sdbatch.jobs.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import sdbatch.jobs.generate.ImageSink;
import sdbatch.jobs.generate.StoredImage;
import sdbatch.schemas.util.Hashes;

/**
 * Stores PNGs under {@code <output>/images/<first two hex>/<image_id>.png} through a Hadoop {@link
 * FileSystem}; the two-character prefix spreads keys over directories (and S3 partitions).
 *
 * <p><b>Never half an image.</b> Where the file system has rename, the bytes go to a hidden
 * temporary name in the same directory ({@code .<id>.png.<uuid>.tmp}; Hadoop readers skip names
 * starting with a dot) and are renamed into place; a failed attempt deletes its temporary. On
 * object stores ({@code s3a}, {@code gs}, …) rename is a copy, but a single PUT is already atomic,
 * so the final name is written directly.
 *
 * <p><b>Idempotent.</b> If the final file exists with the same SHA-256 (a task retry or a
 * speculative attempt of the same deterministic request), nothing is written. If it exists with
 * other bytes, it is replaced: the latest attempt wins, and its hash is the one recorded.
 *
 * <p><b>Retries.</b> Each I/O failure is retried up to {@code attempts} times in all, sleeping
 * {@code backoffMillis × 2^(try-1)} between tries; what still fails comes back as {@link
 * StoredImage#failed} naming the path and the last error, so the row (not the job) fails.
 */
public final class ImageStore implements ImageSink {
    /** Schemes whose rename is a copy and whose single write is atomic. */
    public static final Set<String> DIRECT_WRITE_SCHEMES =
            Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs");

    private static final Pattern IMAGE_ID = Pattern.compile("[0-9a-f]{2}[0-9a-zA-Z_-]*");

    /** How to wait between retries (a seam for tests). */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private final FileSystem fs;
    private final Path root;
    private final int attempts;
    private final long backoffMillis;
    private final Sleeper sleeper;
    private final boolean direct;

    /**
     * @param fs the output's file system
     * @param root the output root (images go under {@code root/images})
     * @param attempts tries per image, at least 1
     * @param backoffMillis the first wait between tries
     * @param sleeper how to wait ({@code Thread::sleep})
     */
    public ImageStore(FileSystem fs, Path root, int attempts, long backoffMillis, Sleeper sleeper) {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
        }
        this.fs = fs;
        this.root = fs.makeQualified(root);
        this.attempts = attempts;
        this.backoffMillis = backoffMillis;
        this.sleeper = sleeper;
        this.direct = writesDirectly(fs);
    }

    /** Whether {@code fs} is an object store written with one direct PUT per image. */
    private static boolean writesDirectly(FileSystem fs) {
        return DIRECT_WRITE_SCHEMES.contains(
                String.valueOf(fs.getUri().getScheme()).toLowerCase(Locale.ROOT));
    }

    /**
     * An image store with 4 tries and 200 ms initial backoff. On the local file system it writes
     * through the raw file system: the checksummed one would put a {@code .crc} file beside every
     * image, and the SHA-256 in the metadata already guards the content.
     */
    public static ImageStore open(FileSystem fs, Path root) {
        FileSystem target = fs instanceof ChecksumFileSystem c ? c.getRawFileSystem() : fs;
        return new ImageStore(target, root, 4, 200L, Thread::sleep);
    }

    /** The path of image {@code imageId} relative to the output root. */
    public static String relativePath(String imageId) {
        if (imageId == null || !IMAGE_ID.matcher(imageId).matches()) {
            throw new IllegalArgumentException(
                    "image id must start with two lower-case hex digits and hold only [0-9a-zA-Z_-],"
                            + " got '"
                            + imageId
                            + "'");
        }
        return "images/" + imageId.substring(0, 2) + "/" + imageId + ".png";
    }

    @Override
    public StoredImage store(String imageId, byte[] png) {
        String relative = relativePath(imageId);
        Path target = new Path(root, relative);
        String sha = Hashes.sha256Hex(png);
        IOException last = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (attempt > 1) {
                try {
                    sleeper.sleep(backoffMillis << (attempt - 2));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return StoredImage.failed("interrupted while storing " + target);
                }
            }
            try {
                writeOnce(target, png, sha);
                return StoredImage.ok(relative, target.toString(), png.length, sha);
            } catch (IOException e) {
                last = e;
            }
        }
        return StoredImage.failed(
                "could not store "
                        + target
                        + " after "
                        + attempts
                        + " tries: "
                        + last.getClass().getName()
                        + ": "
                        + last.getMessage());
    }

    private void writeOnce(Path target, byte[] png, String sha) throws IOException {
        if (sameContent(target, png.length, sha)) {
            return;
        }
        if (direct) {
            try (OutputStream out = fs.create(target, true)) {
                out.write(png);
            }
            return;
        }
        Path tmp =
                new Path(
                        target.getParent(),
                        "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
        boolean committed = false;
        try {
            try (OutputStream out = fs.create(tmp, false)) {
                out.write(png);
            }
            committed = fs.rename(tmp, target);
            if (!committed) {
                // HDFS refuses to rename onto an existing file; another attempt may have won.
                if (sameContent(target, png.length, sha)) {
                    return;
                }
                fs.delete(target, false);
                committed = fs.rename(tmp, target);
                if (!committed) {
                    throw new IOException("rename " + tmp + " to " + target + " failed");
                }
            }
        } finally {
            if (!committed) {
                deleteQuietly(tmp);
            }
        }
    }

    private boolean sameContent(Path target, long length, String sha) throws IOException {
        FileStatus status;
        try {
            status = fs.getFileStatus(target);
        } catch (java.io.FileNotFoundException e) {
            return false;
        }
        if (!status.isFile() || status.getLen() != length) {
            return false;
        }
        try (InputStream in = fs.open(target)) {
            return Hashes.sha256Hex(in.readAllBytes()).equals(sha);
        }
    }

    private void deleteQuietly(Path tmp) {
        try {
            fs.delete(tmp, false);
        } catch (IOException | RuntimeException e) {
            // The temporary is hidden (dot name) and harmless; the original error matters more.
        }
    }

    /**
     * Deletes stray temporaries under {@code root/images} left by killed attempts (a killed JVM
     * cannot run its finally blocks). Run by the driver after the job. On object stores ({@link
     * #DIRECT_WRITE_SCHEMES}) images are written directly, so there are none, and nothing is
     * listed: listing every image key of a large output would cost one LIST request per thousand
     * images on every run.
     *
     * @return how many were deleted
     */
    public static int deleteTemporaries(FileSystem fs, Path root) throws IOException {
        if (writesDirectly(fs)) {
            return 0;
        }
        Path images = new Path(root, "images");
        if (!fs.exists(images)) {
            return 0;
        }
        int deleted = 0;
        var files = fs.listFiles(images, true);
        while (files.hasNext()) {
            Path p = files.next().getPath();
            if (p.getName().startsWith(".") && p.getName().endsWith(".tmp")) {
                if (fs.delete(p, false)) {
                    deleted++;
                }
            }
        }
        return deleted;
    }
}
