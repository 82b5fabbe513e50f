package sdbatch.jobs.storage;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import sdbatch.schemas.util.Hashes;

/**
 * The content hash of a model folder: what the model identity (and so every image id) is made of,
 * and what an executor compares with the driver's before it generates anything.
 *
 * <p><b>What is hashed:</b> every regular file of the folder — the text encoder(s), the UNet, the
 * VAE, the tokenizer, every config, and whatever else it holds (a LoRA or ControlNet folder added
 * later is covered without a change here) — except files or folders whose name starts with {@code
 * .} (tool metadata such as {@code .cache/huggingface}, which differs per download, and this
 * class's {@value #COPY_RECORD}) and the {@value ModelManifest#FILE_NAME}. The hash is the SHA-256
 * of the lines {@code <relative path>\0<size>\0<sha256 of the file>\n} in path order, so a renamed,
 * added, removed or retrained file (even one of the same shape and size) changes it.
 *
 * <p><b>Cost:</b> hashing reads every byte (about 2–4 s for a 4 GB SD 1.5 folder on one core). It
 * is paid once per version of the files, not per task: a {@link ModelCache} copy records each
 * file's SHA-256 while downloading it ({@value #COPY_RECORD}), which {@link #hash} then trusts (the
 * cache folder is owner-only, see {@link CacheFolder}); a folder used in place is hashed once per
 * JVM and listing (paths, sizes, modification times), so a retrained local folder is hashed again.
 */
public final class ModelContent {
    /**
     * The record a {@link ModelCache} copy keeps beside its files: per file the source's size,
     * modification time and ETag (what says whether the source changed) and the SHA-256 computed
     * while copying (what the content hash is made of).
     */
    public static final String COPY_RECORD = ".sdbatch-copy.json";

    /**
     * One copied file as {@value #COPY_RECORD} records it.
     *
     * @param size bytes
     * @param modified the source's modification time in ms (0 when the store has none)
     * @param etag the source's ETag, or null when the store has none
     * @param sha256 lower-case hex SHA-256 of the copied bytes
     */
    public record CopiedFile(long size, long modified, String etag, String sha256) {}

    private record Memo(String listing, String hash) {}

    private static final ConcurrentHashMap<Path, Memo> MEMO = new ConcurrentHashMap<>();

    private ModelContent() {}

    /** Whether {@code rel} (relative, with '/') counts towards the content hash. */
    public static boolean counted(String rel) {
        if (rel.equals(ModelManifest.FILE_NAME)) {
            return false;
        }
        for (String segment : rel.split("/")) {
            if (segment.startsWith(".")) {
                return false;
            }
        }
        return true;
    }

    /**
     * The content hash of relative path → (size, SHA-256) pairs; paths that are not {@link
     * #counted} are ignored.
     */
    public static String hash(Map<String, Long> sizes, Map<String, String> sha256s) {
        StringBuilder lines = new StringBuilder();
        for (Map.Entry<String, Long> e : new TreeMap<>(sizes).entrySet()) {
            if (!counted(e.getKey())) {
                continue;
            }
            String sha = Objects.requireNonNull(sha256s.get(e.getKey()), e.getKey());
            lines.append(e.getKey())
                    .append('\0')
                    .append(e.getValue())
                    .append('\0')
                    .append(sha)
                    .append('\n');
        }
        return Hashes.sha256Hex(lines.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The content hash of a local model folder: from its {@value #COPY_RECORD} when it is a cache
     * copy whose files still have the recorded sizes, else by reading every counted file (once per
     * JVM and listing).
     *
     * @throws IOException when the folder cannot be listed or a file read
     */
    public static String hash(Path folder) throws IOException {
        Path dir = folder.toAbsolutePath().normalize();
        Map<String, BasicFileAttributes> files = list(dir);
        StringBuilder listing = new StringBuilder();
        for (Map.Entry<String, BasicFileAttributes> e : files.entrySet()) {
            listing.append(e.getKey())
                    .append('\0')
                    .append(e.getValue().size())
                    .append('\0')
                    .append(e.getValue().lastModifiedTime().toMillis())
                    .append('\n');
        }
        String signature = Hashes.sha256Hex(listing.toString().getBytes(StandardCharsets.UTF_8));
        Memo memo = MEMO.get(dir);
        if (memo != null && memo.listing().equals(signature)) {
            return memo.hash();
        }
        Map<String, Long> sizes = new TreeMap<>();
        files.forEach((rel, attrs) -> sizes.put(rel, attrs.size()));
        Map<String, String> shas = recordedSha256s(dir, sizes);
        if (shas == null) {
            shas = new TreeMap<>();
            for (String rel : sizes.keySet()) {
                shas.put(rel, Hashes.sha256Hex(dir.resolve(rel)));
            }
        }
        String hash = hash(sizes, shas);
        MEMO.put(dir, new Memo(signature, hash));
        return hash;
    }

    /** Counted regular files under {@code dir}, relative path (with '/') to attributes, sorted. */
    private static Map<String, BasicFileAttributes> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "model folder does not exist");
        }
        Map<String, BasicFileAttributes> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                String rel = dir.relativize(p).toString().replace('\\', '/');
                if (rel.isEmpty() || !counted(rel)) {
                    continue;
                }
                BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class);
                if (attrs.isRegularFile()) {
                    files.put(rel, attrs);
                }
            }
        }
        return files;
    }

    /**
     * The SHA-256s of a cache copy's {@value #COPY_RECORD}, or null when there is none or it does
     * not describe exactly these files with these sizes (then the caller reads the files).
     */
    private static Map<String, String> recordedSha256s(Path dir, Map<String, Long> sizes)
            throws IOException {
        Map<String, CopiedFile> record = readRecord(dir);
        if (record == null) {
            return null;
        }
        Map<String, String> shas = new TreeMap<>();
        for (Map.Entry<String, Long> e : sizes.entrySet()) {
            CopiedFile copied = record.get(e.getKey());
            if (copied == null || copied.size() != e.getValue() || copied.sha256() == null) {
                return null;
            }
            shas.put(e.getKey(), copied.sha256());
        }
        long recordedCounted = record.keySet().stream().filter(ModelContent::counted).count();
        return recordedCounted == sizes.size() ? shas : null;
    }

    /** Writes {@value #COPY_RECORD} into {@code dir}. */
    static void writeRecord(Path dir, Map<String, CopiedFile> files) throws IOException {
        ModelManifest.writeFileTable(
                dir.resolve(COPY_RECORD),
                files,
                (c, f) -> {
                    f.addProperty("size", c.size());
                    f.addProperty("modified", c.modified());
                    if (c.etag() != null) {
                        f.addProperty("etag", c.etag());
                    }
                    f.addProperty("sha256", c.sha256());
                });
    }

    /** The {@value #COPY_RECORD} of {@code dir}, or null when absent or unreadable. */
    static Map<String, CopiedFile> readRecord(Path dir) throws IOException {
        Path file = dir.resolve(COPY_RECORD);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonElement root = JsonParser.parseString(Files.readString(file));
            JsonObject files = root.getAsJsonObject().getAsJsonObject("files");
            Map<String, CopiedFile> out = new TreeMap<>();
            for (Map.Entry<String, JsonElement> e : files.entrySet()) {
                JsonObject f = e.getValue().getAsJsonObject();
                out.put(
                        e.getKey(),
                        new CopiedFile(
                                f.get("size").getAsLong(),
                                f.get("modified").getAsLong(),
                                f.has("etag") ? f.get("etag").getAsString() : null,
                                f.get("sha256").getAsString()));
            }
            return out;
        } catch (JsonParseException | IllegalStateException | NullPointerException e) {
            // A record cut short by a crash or edited by hand: the copy is not trusted.
            return null;
        }
    }
}
