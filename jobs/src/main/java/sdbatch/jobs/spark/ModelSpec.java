package sdbatch.jobs.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
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
 * @param cacheDir the {@code --model-cache} value, or null for the default of each JVM ({@link
 *     #cacheRoot(String, Map, Properties)}: {@value #CACHE_ENV}, else the user's cache folder, a
 *     folder that outlives the Spark application so later jobs reuse the copy)
 * @param hadoop Hadoop settings for remote models
 */
public record ModelSpec(String uri, String cacheDir, HadoopConf hadoop) implements Serializable {
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

    /** The environment variable naming the model cache folder where no flag does. */
    public static final String CACHE_ENV = "SDBATCH_MODEL_CACHE";

    /** The local cache root in this JVM (see {@link #cacheRoot(String, Map, Properties)}). */
    public Path cacheRoot() {
        return cacheRoot(cacheDir, System.getenv(), System.getProperties());
    }

    /**
     * The model cache root, first of:
     *
     * <ol>
     *   <li>{@code --model-cache} ({@code flag}), the same in every JVM of the job;
     *   <li>{@value #CACHE_ENV} in this JVM's environment: the knob for a cluster whose nodes have
     *       a persistent local disk (set on executors with {@code
     *       spark.executorEnv.SDBATCH_MODEL_CACHE}; {@code deploy/submit-k8s.sh} points it at the
     *       pod template's hostPath);
     *   <li>{@code $XDG_CACHE_HOME/sdbatch/models}, else {@code ~/.cache/sdbatch/models}, when that
     *       base folder exists: per user and outliving every job, as Hugging Face's cache;
     *   <li>{@code <java.io.tmpdir>/sdbatch-models-<user>}, the user in the name so that users of a
     *       shared {@code /tmp} do not meet in one folder.
     * </ol>
     *
     * <p>Not {@code spark.local.dir} nor a bare {@code java.io.tmpdir} as before: on YARN both are
     * per application or per container (one download per executor per job), on Kubernetes per pod.
     * Whichever folder wins must be owner-only ({@link CacheFolder#secure}).
     *
     * @param flag {@code --model-cache}, or null
     * @param env the environment
     * @param properties the system properties ({@code user.home}, {@code user.name}, {@code
     *     java.io.tmpdir})
     */
    public static Path cacheRoot(String flag, Map<String, String> env, Properties properties) {
        if (flag != null && !flag.isBlank()) {
            return Path.of(flag).toAbsolutePath().normalize();
        }
        String fromEnv = env.get(CACHE_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv).toAbsolutePath().normalize();
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null
                && !xdg.isBlank()
                && Path.of(xdg).isAbsolute()
                && Files.isDirectory(Path.of(xdg))) {
            return Path.of(xdg, "sdbatch", "models").normalize();
        }
        String home = properties.getProperty("user.home");
        if (home != null
                && !home.isBlank()
                && Path.of(home).isAbsolute()
                && Files.isDirectory(Path.of(home))) {
            return Path.of(home, ".cache", "sdbatch", "models").normalize();
        }
        String user =
                properties.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        return Path.of(properties.getProperty("java.io.tmpdir"), "sdbatch-models-" + user)
                .toAbsolutePath()
                .normalize();
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
