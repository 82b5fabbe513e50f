package sdbatch.jobs.adapters;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import sdbatch.jobs.spark.ModelSpec;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.jobs.storage.StorageUris;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.schemas.util.Hashes;

/**
 * The job's {@code --vae} folder (issue 16): a diffusers {@code AutoencoderKL} folder loaded in
 * place of the model's {@code vae/} by every executor's pipeline (users pair SDXL with a separate
 * fp16-safe VAE; any family). Like {@link EmbeddingsFolder}: its content hash ({@link
 * ModelContent#hash}) joins the model identity and the executor's pipeline cache key, and executors
 * refuse a copy whose hash is not the driver's. The A1111 infotext names it ({@code VAE hash}: the
 * weights file's SHA-256, as A1111 hashes its VAE file; {@code VAE}: the folder's name).
 *
 * @param uri the folder, absolute (a URI is copied once per host through the model cache)
 * @param sha256 the folder's content hash, computed on the driver
 * @param weightsSha256 SHA-256 of its weights file (A1111's {@code VAE hash})
 * @param name the folder's last path segment (A1111's {@code VAE})
 */
public record VaeFolder(String uri, String sha256, String weightsSha256, String name)
        implements Serializable {
    /** The weights files a diffusers VAE folder may hold, in the order a loader prefers them. */
    static final List<String> WEIGHTS =
            List.of(
                    "diffusion_pytorch_model.safetensors",
                    "diffusion_pytorch_model.fp16.safetensors");

    /**
     * Reads and checks the folder {@code uri} (on this host: a remote one is copied through {@code
     * model}'s cache): it must be a folder with a {@code config.json} that parses as an {@code
     * AutoencoderKL} config and a safetensors weights file.
     *
     * @return the folder with its hashes
     * @throws IllegalArgumentException naming the folder and what is wrong
     * @throws IOException when it cannot be read
     */
    public static VaeFolder check(String uri, ModelSpec model) throws IOException {
        Path dir = EmbeddingsFolder.local(uri, model);
        String shown = StorageUris.redact(uri);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(shown + " is not a folder");
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(
                    shown + " has no config.json: not a diffusers AutoencoderKL folder");
        }
        try {
            VaeConfig.load(dir);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    shown + "/config.json is not an AutoencoderKL config: " + e.getMessage(), e);
        }
        Path weights = weightsFile(dir);
        if (weights == null) {
            throw new IllegalArgumentException(
                    shown + " has no safetensors weights (" + String.join(" or ", WEIGHTS) + ")");
        }
        String fileSha = Hashes.sha256Hex(weights);
        String name = uri.replaceAll("/+$", "");
        name = name.substring(name.lastIndexOf('/') + 1);
        return new VaeFolder(uri, EmbeddingsFolder.hash(dir), fileSha, name);
    }

    /** The folder's weights file, or null. */
    static Path weightsFile(Path dir) throws IOException {
        for (String w : WEIGHTS) {
            if (Files.isRegularFile(dir.resolve(w))) {
                return dir.resolve(w);
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                    .sorted()
                    .findFirst()
                    .orElse(null);
        }
    }

    /**
     * The folder on this host, checked against the driver's hash.
     *
     * @throws IllegalStateException when this host's copy has other content
     */
    public Path localChecked(ModelSpec model) throws IOException {
        return EmbeddingsFolder.localChecked("VAE folder", uri, sha256, model);
    }
}
