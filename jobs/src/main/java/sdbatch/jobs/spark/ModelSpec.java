package sdbatch.jobs.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import org.apache.spark.SparkEnv;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.storage.CacheFolder;
import sdbatch.jobs.storage.ModelCache;
import sdbatch.jobs.storage.StorageUris;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.schemas.util.FileTrees;

/**
 * Which model a job uses, as it crosses the wire: the {@code --model} URI (null for the built-in
 * tiny model), the {@code --model-cache} folder (null for the default) and the Hadoop settings to
 * read a remote model with. {@link #localDir()} turns it into a local folder in whichever JVM asks,
 * at most one copy per host (see {@link ModelCache}).
 *
 * <p>The built-in model is {@code TinyModels.write(<cache>/sdbatch-tiny-sd1, SD1, 0)}: a real
 * diffusers folder with random weights (it draws noise). Writing is deterministic, so every host
 * that writes its own copy gets byte-identical files and the same model hash and image ids.
 *
 * @param uri the {@code --model} value, or null for the built-in tiny model
 * @param cacheDir the {@code --model-cache} value, or null: {@code sdbatch-models} under the first
 *     {@code spark.local.dir}, else under {@code java.io.tmpdir} (a folder that outlives the Spark
 *     application, unlike {@code SparkFiles.getRootDirectory()}, so later jobs reuse the copy)
 * @param hadoop Hadoop settings for remote models
 */
public record ModelSpec(String uri, String cacheDir, HadoopConf hadoop) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The folder name of the built-in tiny model under the cache. */
    public static final String BUILTIN_NAME = "sdbatch-tiny-sd1";

    /** Whether this is the built-in tiny model. */
    public boolean builtin() {
        return uri == null;
    }

    /** The URI as hashed into the model identity: normalized, or {@code builtin:<name>}. */
    public String normalizedUri() {
        return builtin() ? "builtin:" + BUILTIN_NAME : StorageUris.normalize(uri);
    }

    /** The model's display name: the last path segment of its URI. */
    public String displayName() {
        if (builtin()) {
            return BUILTIN_NAME;
        }
        String n = normalizedUri();
        return n.substring(n.lastIndexOf('/') + 1);
    }

    /** The URI safe to log. */
    public String redacted() {
        return builtin() ? "(built-in tiny model)" : StorageUris.redact(uri);
    }

    /** The local cache root in this JVM. */
    public Path cacheRoot() {
        if (cacheDir != null) {
            return Path.of(cacheDir).toAbsolutePath().normalize();
        }
        String base = System.getProperty("java.io.tmpdir");
        SparkEnv env = SparkEnv.get();
        if (env != null) {
            String local = env.conf().get("spark.local.dir", "");
            if (!local.isBlank()) {
                base = local.split(",")[0].trim();
            }
        }
        return Path.of(base, "sdbatch-models").toAbsolutePath().normalize();
    }

    /**
     * The model as a local folder in this JVM: the folder itself for a local path, a verified
     * per-host copy for a remote URI, the built-in model written once per cache root.
     */
    public Path localDir() throws IOException {
        Path root = cacheRoot();
        if (builtin()) {
            return builtinModel(root);
        }
        return new ModelCache(root, hadoop.get()).resolve(uri);
    }

    /**
     * {@code <root>/sdbatch-tiny-sd1}, written if missing: into a temporary sibling, then renamed,
     * so a reader never sees half a model; a concurrent writer on the same host that loses the
     * rename drops its copy (both are byte-identical).
     */
    public static synchronized Path builtinModel(Path root) throws IOException {
        // Checked before the copy is trusted: a folder others can write could hold planted weights.
        CacheFolder.secure(root);
        Path dir = root.resolve(BUILTIN_NAME);
        if (Files.isRegularFile(dir.resolve("model_index.json"))) {
            return dir;
        }
        Path tmp = root.resolve(".tmp-" + BUILTIN_NAME + "-" + UUID.randomUUID());
        try {
            TinyModels.write(tmp, TinyModels.Variant.SD1, 0);
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                if (!Files.isRegularFile(dir.resolve("model_index.json"))) {
                    throw e;
                }
            } catch (IOException e) {
                // Another JVM renamed its copy first (a non-empty target): use that one.
                if (!Files.isRegularFile(dir.resolve("model_index.json"))) {
                    throw e;
                }
            }
        } finally {
            FileTrees.deleteRecursively(tmp);
        }
        return dir;
    }
}
