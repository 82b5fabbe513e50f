package sdbatch.jobs.storage;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import sdbatch.schemas.util.Hashes;

/**
 * The optional {@value #FILE_NAME} file in a model folder: the expected size and SHA-256 of each
 * file, so {@link ModelCache} can prove a copy is byte-identical and not only the right length.
 *
 * <p>Format (JSON, UTF-8), paths relative to the model folder with {@code /} separators:
 *
 * <pre>{@code
 * {
 *   "version": 1,
 *   "files": {
 *     "model_index.json": {"size": 541, "sha256": "9e1c..."},
 *     "unet/diffusion_pytorch_model.safetensors": {"size": 3438167536, "sha256": "19da..."}
 *   }
 * }
 * }</pre>
 *
 * <p>{@code sha256} (64 lower- or upper-case hex digits) may be omitted for a file; {@code size} is
 * required. The manifest does not list itself. Files in the folder that the manifest does not list
 * are still copied and size-checked. {@link #write} creates a manifest for a local folder.
 */
public final class ModelManifest {

    /** File name of the manifest inside a model folder. */
    public static final String FILE_NAME = "sdbatch-manifest.json";

    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");

    /** Expected size in bytes and, when known, lower-case hex SHA-256 (else null). */
    public record Entry(long size, String sha256) {}

    private final Map<String, Entry> files;

    private ModelManifest(Map<String, Entry> files) {
        this.files = Collections.unmodifiableMap(new TreeMap<>(files));
    }

    /** Relative path to expected entry, sorted by path. */
    public Map<String, Entry> files() {
        return files;
    }

    /**
     * Parses a manifest.
     *
     * @param in the JSON bytes (not closed)
     * @param where where it came from, for error messages (already redacted)
     * @throws IOException on malformed JSON or a bad entry, naming {@code where} and the path
     */
    public static ModelManifest parse(InputStream in, String where) throws IOException {
        JsonElement root;
        try {
            root = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (JsonParseException e) {
            throw new IOException("malformed JSON in model manifest " + where, e);
        }
        if (!root.isJsonObject() || !root.getAsJsonObject().has("files")) {
            throw new IOException(
                    "model manifest " + where + " must be an object with a \"files\" object");
        }
        JsonObject obj = root.getAsJsonObject();
        if (obj.has("version") && obj.get("version").getAsInt() != 1) {
            throw new IOException(
                    "model manifest "
                            + where
                            + " has version "
                            + obj.get("version")
                            + "; this sdbatch reads version 1");
        }
        if (!obj.get("files").isJsonObject()) {
            throw new IOException("model manifest " + where + ": \"files\" must be an object");
        }
        Map<String, Entry> files = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : obj.getAsJsonObject("files").entrySet()) {
            String path = e.getKey();
            checkRelativePath(path, where);
            if (!e.getValue().isJsonObject() || !e.getValue().getAsJsonObject().has("size")) {
                throw new IOException(
                        "model manifest " + where + ": entry '" + path + "' needs a \"size\"");
            }
            JsonObject f = e.getValue().getAsJsonObject();
            long size;
            try {
                size = f.get("size").getAsLong();
            } catch (RuntimeException ex) {
                throw new IOException(
                        "model manifest "
                                + where
                                + ": size of '"
                                + path
                                + "' is not an integer: "
                                + f.get("size"),
                        ex);
            }
            if (size < 0) {
                throw new IOException(
                        "model manifest "
                                + where
                                + ": size of '"
                                + path
                                + "' is negative: "
                                + size);
            }
            String sha = null;
            if (f.has("sha256") && !f.get("sha256").isJsonNull()) {
                sha = f.get("sha256").getAsString();
                if (!HEX64.matcher(sha).matches()) {
                    throw new IOException(
                            "model manifest "
                                    + where
                                    + ": sha256 of '"
                                    + path
                                    + "' is not 64 hex digits: '"
                                    + sha
                                    + "'");
                }
                sha = sha.toLowerCase(Locale.ROOT);
            }
            files.put(path, new Entry(size, sha));
        }
        return new ModelManifest(files);
    }

    /**
     * Writes {@value #FILE_NAME} into a local model folder, listing every regular file under it
     * (except the manifest) with its size and SHA-256.
     *
     * @return the manifest written
     */
    public static ModelManifest write(Path folder) throws IOException {
        Map<String, Entry> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                String rel = folder.relativize(p).toString().replace('\\', '/');
                if (rel.equals(FILE_NAME)) {
                    continue;
                }
                files.put(rel, new Entry(Files.size(p), Hashes.sha256Hex(p)));
            }
        }
        writeFileTable(
                folder.resolve(FILE_NAME),
                files,
                (e, f) -> {
                    f.addProperty("size", e.size());
                    f.addProperty("sha256", e.sha256());
                });
        return new ModelManifest(files);
    }

    /**
     * Writes {@code {"version": 1, "files": {name: fields}}}, names sorted, pretty-printed: the
     * shape of this manifest and of a cached copy's record ({@link ModelContent}).
     *
     * @param fields puts one file's fields into its (empty) JSON object
     */
    static <T> void writeFileTable(
            Path target, Map<String, T> files, BiConsumer<T, JsonObject> fields)
            throws IOException {
        JsonObject fileObj = new JsonObject();
        for (Map.Entry<String, T> e : new TreeMap<>(files).entrySet()) {
            JsonObject f = new JsonObject();
            fields.accept(e.getValue(), f);
            fileObj.add(e.getKey(), f);
        }
        JsonObject root = new JsonObject();
        root.addProperty("version", 1);
        root.add("files", fileObj);
        Gson gson = new GsonBuilder().setPrettyPrinting().create();
        Files.writeString(target, gson.toJson(root) + "\n");
    }

    /** Rejects absolute paths and {@code ..} so no listed file can land outside the cache. */
    static void checkRelativePath(String path, String where) throws IOException {
        if (path.isEmpty()
                || path.startsWith("/")
                || path.contains("\\")
                || path.contains("\0")
                || Stream.of(path.split("/", -1))
                        .anyMatch(s -> s.isEmpty() || s.equals(".") || s.equals(".."))) {
            throw new IOException(
                    "model file path '"
                            + path
                            + "' from "
                            + where
                            + " is not a plain relative path (no leading /, '.', '..' or"
                            + " empty segments)");
        }
    }
}
