package sdbatch.pipeline.lora;

import java.nio.file.Path;

/**
 * One LoRA of a request's set: a local safetensors file, its expected SHA-256 (checked when the
 * file is read for a merge; null = not checked) and its weight (the multiplier of {@code alpha /
 * rank × up @ down}; negative values subtract the LoRA's direction). Two specs are the same LoRA
 * when path, hash and weight are equal: a set's identity is its list of specs, in order (the order
 * of the additions decides float rounding).
 *
 * @param path the {@code .safetensors} file (a job resolves URIs to local copies first)
 * @param sha256 lower-case hex SHA-256 of the file, or null
 * @param weight the LoRA's weight, finite
 */
public record LoraSpec(Path path, String sha256, double weight) {
    public LoraSpec {
        if (path == null) {
            throw new IllegalArgumentException("LoRA path is null");
        }
        if (!Double.isFinite(weight)) {
            throw new IllegalArgumentException(
                    "LoRA " + path + ": weight " + weight + " is not finite");
        }
        if (sha256 != null && !sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException(
                    "LoRA " + path + ": sha256 '" + sha256 + "' is not 64 lower-case hex digits");
        }
    }

    /** A LoRA at {@code weight} whose hash is not checked. */
    public static LoraSpec of(Path path, double weight) {
        return new LoraSpec(path, null, weight);
    }
}
