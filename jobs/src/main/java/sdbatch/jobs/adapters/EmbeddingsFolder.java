package sdbatch.jobs.adapters;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import sdbatch.jobs.spark.ModelSpec;
import sdbatch.jobs.storage.ModelCache;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.jobs.storage.StorageUris;

/**
 * The job's {@code --embeddings} folder (issue 18): every textual-inversion {@code .safetensors}
 * embedding in it is loaded into each executor's pipeline. Its content hash ({@link
 * ModelContent#hash}) is part of the model identity (so image ids change when an embedding does)
 * and of the executor's pipeline cache key (a pipeline loaded with other embeddings is another
 * pipeline); executors refuse a copy whose hash is not the driver's, as they do for the model.
 *
 * @param uri the folder, absolute (a URI is copied once per host through the model cache)
 * @param sha256 the folder's content hash, computed on the driver
 */
public record EmbeddingsFolder(String uri, String sha256) implements Serializable {
    private static final ConcurrentHashMap<Path, String> HASHES = new ConcurrentHashMap<>();

    /** The folder on this host (a remote one copied through {@code model}'s cache). */
    public static Path local(String uri, ModelSpec model) throws IOException {
        if (StorageUris.isLocal(uri)) {
            return StorageUris.localPath(uri).toAbsolutePath().normalize();
        }
        return new ModelCache(model.cacheRoot(), model.hadoop().get()).fetch(uri);
    }

    /** The content hash of {@code folder}, computed once per folder in this JVM. */
    public static String hash(Path folder) throws IOException {
        String h = HASHES.get(folder);
        if (h == null) {
            h = ModelContent.hash(folder);
            HASHES.put(folder, h);
        }
        return h;
    }

    /**
     * The folder on this host, checked against the driver's hash.
     *
     * @throws IllegalStateException when this host's copy has other content
     */
    public Path localChecked(ModelSpec model) throws IOException {
        return localChecked("embeddings folder", uri, sha256, model);
    }

    /**
     * The folder {@code uri} on this host, checked against {@code planned}, the content hash the
     * driver planned the job with (an embeddings or {@code --vae} folder).
     *
     * @param what the folder's kind in the message ({@code embeddings folder})
     * @throws IllegalStateException when this host's copy has other content
     */
    static Path localChecked(String what, String uri, String planned, ModelSpec model)
            throws IOException {
        Path dir = local(uri, model);
        checkPlanned(what + " " + StorageUris.redact(uri), hash(dir), planned);
        return dir;
    }

    /**
     * Refuses a folder whose content on this host ({@code actual}) is not what the job planned with
     * ({@code planned}): its images would carry an image id that claims other weights.
     *
     * @param folder the folder as the message names it ({@code embeddings folder <uri>})
     * @throws IllegalStateException naming the folder and both hashes
     */
    static void checkPlanned(String folder, String actual, String planned) {
        if (!actual.equals(planned)) {
            throw new IllegalStateException(
                    folder
                            + " changed since the job planned it (content hash "
                            + actual
                            + ", planned "
                            + planned
                            + ")");
        }
    }
}
