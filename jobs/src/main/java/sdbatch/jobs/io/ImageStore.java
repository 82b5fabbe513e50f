package sdbatch.jobs.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileAlreadyExistsException;
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
 * <p><b>The first committed image wins.</b> A task retry, a speculative attempt or a zombie task of
 * an attempt Spark already gave up on may store the same image id again, and a GPU may not make the
 * same bytes twice. The final name is therefore only ever created, never replaced: if it exists, or
 * another attempt commits it between the check and this attempt's commit, this attempt keeps
 * nothing of its own and reports the size and SHA-256 of the file that is there. Whichever
 * attempt's metadata row Spark commits, its {@code sha256} is the hash of the stored bytes. The
 * commit that refuses to replace is a hard link on the local file system (atomic), {@code rename}
 * on HDFS and the like (which refuse an existing destination), and {@code create} without overwrite
 * on object stores (S3A checks with one HEAD request before the PUT: two PUTs within that window
 * can still both land, the later one winning, which only an object store's conditional write could
 * exclude).
 *
 * <p><b>Retries</b> ({@link Retries}). Each I/O failure is retried up to {@code attempts} times in
 * all, sleeping {@code backoffMillis × 2^(try-1)} between tries; what still fails comes back as
 * {@link StoredImage#failed} naming the path and the last error, so the row (not the job) fails.
 */
public final class ImageStore implements ImageSink {
    /** Schemes whose rename is a copy and whose single write is atomic. */
    public static final Set<String> DIRECT_WRITE_SCHEMES =
            Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs");

    private static final Pattern IMAGE_ID = Pattern.compile("[0-9a-f]{2}[0-9a-zA-Z_-]*");

    private final FileSystem fs;
    private final Path root;
    private final Retries retries;
    private final boolean direct;

    /**
     * @param fs the output's file system
     * @param root the output root (images go under {@code root/images})
     * @param attempts tries per image, at least 1
     * @param backoffMillis the first wait between tries
     * @param sleeper how to wait ({@code Thread::sleep})
     */
    public ImageStore(
            FileSystem fs, Path root, int attempts, long backoffMillis, Retries.Sleeper sleeper) {
        this.retries = new Retries(attempts, backoffMillis, sleeper);
        this.fs = fs;
        this.root = fs.makeQualified(root);
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
        Retries r = Retries.STORAGE;
        return new ImageStore(target, root, r.attempts(), r.backoffMillis(), r.sleeper());
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
        try {
            return retries.run(e -> true, () -> writeOnce(relative, target, png, sha));
        } catch (InterruptedException e) {
            return StoredImage.failed("interrupted while storing " + target);
        } catch (IOException last) {
            return StoredImage.failed(
                    "could not store "
                            + target
                            + " after "
                            + retries.attempts()
                            + " tries: "
                            + last.getClass().getName()
                            + ": "
                            + last.getMessage());
        }
    }

    /** Stores {@code png} at {@code target} unless an image is there; returns what is there. */
    private StoredImage writeOnce(String relative, Path target, byte[] png, String sha)
            throws IOException {
        StoredImage existing = existing(relative, target);
        if (existing != null) {
            return existing;
        }
        StoredImage mine = StoredImage.ok(relative, target.toString(), png.length, sha);
        if (direct) {
            try (OutputStream out = fs.create(target, false)) {
                out.write(png);
            } catch (FileAlreadyExistsException e) {
                return existingOrThrow(relative, target, e);
            }
            return mine;
        }
        Path tmp =
                new Path(
                        target.getParent(),
                        "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (OutputStream out = fs.create(tmp, false)) {
                out.write(png);
            }
            if (commitWithoutReplacing(tmp, target)) {
                return mine;
            }
            return existingOrThrow(
                    relative,
                    target,
                    new IOException("rename " + tmp + " to " + target + " failed"));
        } finally {
            // After a hard link the temporary is a second name of the image; after a refused or
            // failed commit it is garbage; after a rename it is gone already.
            deleteQuietly(tmp);
        }
    }

    /**
     * Moves {@code tmp} to {@code target} unless {@code target} exists; false when it exists (or
     * the file system refused for another reason).
     */
    private boolean commitWithoutReplacing(Path tmp, Path target) throws IOException {
        if ("file".equals(fs.getUri().getScheme())) {
            // The local file system's rename replaces an existing file; link(2) fails instead,
            // atomically, when another attempt got there first.
            try {
                Files.createLink(localFile(target), localFile(tmp));
                return true;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            }
        }
        // HDFS (and the other file systems with a real rename) refuse an existing destination.
        return fs.rename(tmp, target);
    }

    private static java.nio.file.Path localFile(Path p) {
        return java.nio.file.Path.of(p.toUri().getPath());
    }

    private StoredImage existingOrThrow(String relative, Path target, IOException cause)
            throws IOException {
        StoredImage existing = existing(relative, target);
        if (existing == null) {
            throw cause;
        }
        return existing;
    }

    /** The image already stored at {@code target} (its size and hash), or null when none is. */
    private StoredImage existing(String relative, Path target) throws IOException {
        FileStatus status;
        try {
            status = fs.getFileStatus(target);
        } catch (java.io.FileNotFoundException e) {
            return null;
        }
        if (!status.isFile()) {
            throw new IOException(target + " exists and is not a file");
        }
        byte[] stored;
        try (InputStream in = fs.open(target)) {
            stored = in.readAllBytes();
        }
        return StoredImage.ok(relative, target.toString(), stored.length, Hashes.sha256Hex(stored));
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
