package sdbatch.jobs.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sdbatch.schemas.util.FileTrees;

/**
 * Per-host local copy of a model folder that lives on any Hadoop file system ({@code s3a://},
 * {@code hdfs://}, {@code file:}, ...).
 *
 * <p>Contract of {@link #fetch}:
 *
 * <ul>
 *   <li>The folder is downloaded at most once per host and cache root: callers in this JVM wait on
 *       an in-JVM lock, callers in other JVMs on the same host on a {@link FileLock} of {@code
 *       <root>/.locks/<key>.lock}; whoever gets the lock second finds the finished copy.
 *   <li>A download goes to {@code <root>/.tmp-<key>-<random>}; every file's size is checked against
 *       the source listing and, when the source has a {@value ModelManifest#FILE_NAME}, against the
 *       manifest's size and SHA-256; only then is the folder renamed atomically to {@code
 *       <root>/<name>-<key>}. A crash leaves only the temporary folder, which the next caller for
 *       that key deletes, so a partial download is never used.
 *   <li>While copying, every file's SHA-256 is computed and recorded, with the source's size,
 *       modification time and ETag, in the copy's {@value ModelContent#COPY_RECORD}: a hash
 *       verified once per source version. {@link ModelContent#hash} builds the model's content hash
 *       from it without reading the files again.
 *   <li>A later call re-lists the source and reuses the copy only when the record matches the
 *       listing file by file (size, modification time, ETag), every local file has its size, and
 *       the recorded SHA-256s agree with the source's manifest if it has one. Retrained weights of
 *       the same size therefore count as a new version (new modification time; new ETag on object
 *       stores). Re-hashing the copy instead would read the whole model per task. A copy that fails
 *       this check (older sdbatch, truncated, deleted file, changed source) is deleted and fetched
 *       again.
 *   <li>The root is owner-only ({@link CacheFolder#secure}): nobody else on the host can plant
 *       weights or forge a record.
 * </ul>
 *
 * <p>{@link #resolve} is what the job calls: plain paths and {@code file:} URIs are used in place
 * (already local, nothing to gain from a copy); everything else goes through {@link #fetch}.
 *
 * <p>The key is the SHA-256 of the {@linkplain StorageUris#normalize normalized} URI, so
 * credentials in a URI never reach the file system; URIs in log lines and errors are {@linkplain
 * StorageUris#redact redacted}. Credentials come only from the Hadoop {@link Configuration} and the
 * environment. Thread-safe.
 *
 * <p>This class owns the local side: the cache layout (entry names, temporary folders), the locks
 * and the check of a copy against the source; reading the source (listing, manifest, the verified
 * copy of each file) is {@link ModelSource}'s. What stands alone lives beside them ({@link
 * ModelContent}, {@link ModelManifest}, {@link CacheFolder}, {@link StorageUris}).
 */
public final class ModelCache {

    /** Observes downloads; for tests and metrics. Called on the downloading thread. */
    public interface Listener {
        /**
         * A download into {@code tempDir} starts (after the lock is held and no valid copy was
         * found).
         */
        void downloadStarted(String redactedUri, Path tempDir);
    }

    private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
    private static final String TMP_PREFIX = ".tmp-";
    private static final String LOCK_DIR = ".locks";

    /** One lock per cache entry for the whole JVM, shared by every ModelCache instance. */
    private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS =
            new ConcurrentHashMap<>();

    private final Path root;
    private final Configuration conf;
    private final Listener listener;
    private final AtomicLong downloads = new AtomicLong();

    /**
     * @param root local cache root (created if missing); one per host is the point
     * @param conf Hadoop configuration with the file system settings ({@code fs.s3a.*} ...)
     */
    public ModelCache(Path root, Configuration conf) {
        this(root, conf, (uri, tmp) -> {});
    }

    /** As {@link #ModelCache(Path, Configuration)}, reporting downloads to {@code listener}. */
    public ModelCache(Path root, Configuration conf, Listener listener) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        this.conf = Objects.requireNonNull(conf, "conf");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** The cache root. */
    public Path root() {
        return root;
    }

    /** Number of downloads this instance has run (not counting cache hits). */
    public long downloads() {
        return downloads.get();
    }

    /**
     * The local folder holding the model at {@code modelUri}: the folder itself for a plain path or
     * {@code file:} URI, else a verified copy in the cache (see {@link #fetch}).
     *
     * @throws IOException when the model cannot be read or a copy fails verification
     */
    public Path resolve(String modelUri) throws IOException {
        if (StorageUris.isLocal(modelUri)) {
            Path local = StorageUris.localPath(modelUri);
            if (!Files.isDirectory(local)) {
                throw new NoSuchFileException(
                        local.toString(), null, "model folder does not exist or is not a folder");
            }
            return local;
        }
        return fetch(modelUri);
    }

    /**
     * A verified local copy of the folder at {@code modelUri}, read through Hadoop's file system
     * for its scheme ({@code file:} included, which is how tests exercise the copy path).
     *
     * @throws IOException when the source cannot be listed or read, is empty, or a copied file's
     *     size or SHA-256 differs from the listing or manifest (the message names the file)
     */
    public Path fetch(String modelUri) throws IOException {
        String redacted = StorageUris.redact(modelUri);
        String key = StorageUris.cacheKey(modelUri);
        org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path(modelUri);
        Path entry = root.resolve(entryName(source, key));
        CacheFolder.secure(root);
        Files.createDirectories(root.resolve(LOCK_DIR));

        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(entry, p -> new ReentrantLock());
        try {
            jvmLock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for model " + redacted);
        }
        try (FileChannel channel =
                        FileChannel.open(
                                root.resolve(LOCK_DIR).resolve(key + ".lock"),
                                StandardOpenOption.CREATE,
                                StandardOpenOption.WRITE);
                FileLock ignored = channel.lock()) {
            return fetchLocked(source, redacted, key, entry);
        } finally {
            jvmLock.unlock();
        }
    }

    private Path fetchLocked(
            org.apache.hadoop.fs.Path source, String redacted, String key, Path entry)
            throws IOException {
        // A temporary folder of this key can only be a leftover of a crashed download: we hold
        // the lock, so nobody else is downloading it.
        deleteLeftovers(key);

        ModelSource from = ModelSource.open(source, redacted, conf);

        if (Files.isDirectory(entry)) {
            String problem = validate(entry, from);
            if (problem == null) {
                LOG.debug("model {} found in cache {}", redacted, entry);
                return entry;
            }
            LOG.warn(
                    "cached copy {} of model {} is stale or invalid ({}); deleting it and fetching"
                            + " again",
                    entry,
                    redacted,
                    problem);
            FileTrees.deleteRecursively(entry);
        }

        Path tmp = root.resolve(TMP_PREFIX + key + "-" + UUID.randomUUID());
        Files.createDirectories(tmp);
        downloads.incrementAndGet();
        listener.downloadStarted(redacted, tmp);
        long start = System.nanoTime();
        try {
            // The record is the copy's proof of origin (the source version it was made from) and
            // of content (each file's SHA-256, computed while copying): later fetches re-validate
            // against it without reading the files again.
            ModelContent.writeRecord(tmp, from.copyTo(tmp));
            String problem = validate(tmp, from);
            if (problem != null) {
                throw new IOException("copy of model " + redacted + " is incomplete: " + problem);
            }
            Files.move(tmp, entry, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            FileTrees.deleteRecursively(tmp);
            throw e;
        }
        LOG.info(
                "copied model {} ({} files, {} bytes) to {} in {} ms",
                redacted,
                from.listing().size(),
                from.bytes(),
                entry,
                (System.nanoTime() - start) / 1_000_000);
        return entry;
    }

    /**
     * Null when {@code dir} is a copy of exactly this version of the source, else the first
     * problem. The copy's {@value ModelContent#COPY_RECORD} must list every source file with the
     * source's current size, modification time and ETag (a retrained file of the same size has a
     * new modification time, and on object stores a new ETag); each local file must have its size;
     * and where the source's manifest gives a SHA-256, the one recorded while copying must equal
     * it. No file is read again: that would cost the whole model per task.
     */
    private static String validate(Path dir, ModelSource from) throws IOException {
        Map<String, ModelSource.SourceFile> listing = from.listing();
        Map<String, ModelContent.CopiedFile> record = ModelContent.readRecord(dir);
        if (record == null) {
            return "it has no readable " + ModelContent.COPY_RECORD + " (made by an older sdbatch)";
        }
        if (!record.keySet().equals(listing.keySet())) {
            return "the source's files are no longer those copied";
        }
        for (Map.Entry<String, ModelSource.SourceFile> e : listing.entrySet()) {
            String rel = e.getKey();
            ModelSource.SourceFile source = e.getValue();
            ModelContent.CopiedFile copied = record.get(rel);
            if (copied.size() != source.size()
                    || copied.modified() != source.modified()
                    || !Objects.equals(copied.etag(), source.etag())) {
                return "'"
                        + rel
                        + "' changed at the source since it was copied (size, modification time"
                        + " or ETag)";
            }
            Path p = dir.resolve(rel);
            if (!Files.isRegularFile(p)) {
                return "'" + rel + "' is missing";
            }
            long size = Files.size(p);
            if (size != source.size()) {
                return "'" + rel + "' has " + size + " bytes, the source has " + source.size();
            }
            ModelManifest.Entry expected = from.expected(rel);
            if (expected != null
                    && expected.sha256() != null
                    && !expected.sha256().equals(copied.sha256())) {
                return "'"
                        + rel
                        + "' has sha256 "
                        + copied.sha256()
                        + ", the manifest says "
                        + expected.sha256();
            }
        }
        return null;
    }

    private void deleteLeftovers(String key) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, TMP_PREFIX + key + "-*")) {
            for (Path p : ds) {
                LOG.info("deleting leftover of an interrupted model download: {}", p);
                FileTrees.deleteRecursively(p);
            }
        }
    }

    private static String entryName(org.apache.hadoop.fs.Path source, String key) {
        String name = source.getName().replaceAll("[^A-Za-z0-9._-]", "_");
        if (name.isEmpty() || name.startsWith(".")) {
            name = "model";
        }
        return name + "-" + key.substring(0, 32);
    }
}
