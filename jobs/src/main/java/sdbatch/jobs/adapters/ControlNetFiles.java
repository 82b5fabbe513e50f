package sdbatch.jobs.adapters;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import sdbatch.jobs.spark.ModelSpec;
import sdbatch.jobs.storage.ModelCache;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.jobs.storage.StorageUris;

/**
 * Resolves ControlNet folders (diffusers {@code ControlNetModel}: {@code config.json} and {@code
 * diffusion_pytorch_model.safetensors}) to folders on this host and hashes their content (once per
 * JVM and folder), for the {@code controlnet} column and the {@code --controlnet} flag.
 *
 * <p>Locations: a row's relative path is resolved against the prompt table's folder (as {@code
 * init_image}); the flag is made absolute on the driver. A local folder is read in place; a remote
 * one is copied once per host through the model cache, as the model is. The content hash ({@link
 * ModelContent#hash}: the files' paths, sizes and SHA-256s) goes into the image id, so an image
 * names the ControlNet's content, not its location.
 *
 * @param model the job's model spec (cache root and Hadoop settings)
 * @param tableFolder the prompt table's folder (relative row locations), or null
 * @param flagControlNet {@code --controlnet}, absolute, or null
 */
public record ControlNetFiles(ModelSpec model, String tableFolder, String flagControlNet)
        implements Serializable {
    private static final ConcurrentHashMap<Path, String> HASHES = new ConcurrentHashMap<>();

    /** The ControlNet of a row: its {@code controlnet} cell made absolute, else the flag's. */
    public String location(String cell) {
        return cell != null ? LoraFiles.absolute(tableFolder, cell) : flagControlNet;
    }

    /**
     * The folder at {@code uri} on this host (a remote one copied through the model cache).
     *
     * @throws IllegalArgumentException naming the folder and the reason
     */
    public Path local(String uri) {
        Path folder;
        if (StorageUris.isLocal(uri)) {
            folder = StorageUris.localPath(uri).toAbsolutePath().normalize();
        } else {
            try {
                folder = new ModelCache(model.cacheRoot(), model.hadoop().get()).fetch(uri);
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "ControlNet "
                                + StorageUris.redact(uri)
                                + " cannot be read: "
                                + e.getMessage(),
                        e);
            }
        }
        if (!Files.isRegularFile(folder.resolve("config.json"))) {
            throw new IllegalArgumentException(
                    "ControlNet "
                            + StorageUris.redact(uri)
                            + " is not a diffusers ControlNetModel folder (no config.json in "
                            + folder
                            + ")");
        }
        return folder;
    }

    /**
     * The content hash of the ControlNet at {@code uri}, computed once per folder in this JVM.
     *
     * @throws IllegalArgumentException naming the folder and the reason
     */
    public String sha256(String uri) {
        Path folder = local(uri);
        String h = HASHES.get(folder);
        if (h != null) {
            return h;
        }
        try {
            h = ModelContent.hash(folder);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "ControlNet " + StorageUris.redact(uri) + " cannot be read: " + e.getMessage(),
                    e);
        }
        HASHES.put(folder, h);
        return h;
    }

    /**
     * The folder at {@code uri} on this host, checked against {@code planned}, the content hash the
     * planner put in the image id.
     *
     * @throws IllegalStateException when this host's copy has other content
     * @throws IllegalArgumentException naming the folder when it cannot be read
     */
    public Path localChecked(String uri, String planned) {
        EmbeddingsFolder.checkPlanned("ControlNet " + uri, sha256(uri), planned);
        return local(uri);
    }
}
