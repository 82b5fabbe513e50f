package sdbatch.pipeline.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.stream.Stream;
import sdbatch.schemas.util.Hashes;

/**
 * AUTOMATIC1111's "Model hash" of a diffusers folder: the first 10 hex digits of the SHA-256 of the
 * UNet's safetensors file(s), in name order. PNG infotext carries it.
 */
public final class ModelHash {
    private ModelHash() {}

    /** The hash of the {@code *.safetensors} files in {@code unetDir}. */
    public static String ofUnet(Path unetDir) {
        try (Stream<Path> files = Files.list(unetDir)) {
            return sha256(
                            files.filter(f -> f.toString().endsWith(".safetensors"))
                                    .sorted()
                                    .toList())
                    .substring(0, 10);
        } catch (IOException e) {
            throw new ModelLoadException("cannot hash the UNet weights in " + unetDir, e);
        }
    }

    /**
     * The lower-case hex SHA-256 of the files' bytes, one after another (of one file: its {@code
     * sha256sum}).
     */
    public static String sha256(List<Path> files) throws IOException {
        MessageDigest sha = Hashes.newSha256();
        byte[] buf = new byte[1 << 20];
        for (Path p : files) {
            try (InputStream in = Files.newInputStream(p)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                }
            }
        }
        return Hashes.hex(sha.digest());
    }
}
