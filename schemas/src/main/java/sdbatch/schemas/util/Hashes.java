package sdbatch.schemas.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 as sdbatch writes it everywhere (image ids, the metadata {@code sha256} column, model
 * manifests, cache keys): lower-case hex of the full digest.
 */
public final class Hashes {
    private Hashes() {}

    /** Read size when hashing a file: large enough that safetensors files stream quickly. */
    private static final int FILE_BUFFER = 1 << 20;

    /** A fresh SHA-256 digest, for callers that feed it while they copy. */
    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /** The SHA-256 digest of {@code bytes}. */
    public static byte[] sha256(byte[] bytes) {
        return newSha256().digest(bytes);
    }

    /** Lower-case hex SHA-256 of {@code bytes}. */
    public static String sha256Hex(byte[] bytes) {
        return hex(sha256(bytes));
    }

    /** Lower-case hex SHA-256 of a local file's bytes, read in 1 MiB pieces. */
    public static String sha256Hex(Path file) throws IOException {
        MessageDigest md = newSha256();
        byte[] buf = new byte[FILE_BUFFER];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return hex(md.digest());
    }

    /** Lower-case hex of a digest (two digits a byte). */
    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }
}
