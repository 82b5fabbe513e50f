package sdbatch.jobs.generate;

/**
 * Where an image was stored, or why it could not be.
 *
 * @param path the path relative to the output root ({@code images/ab/ab12….png}), null when failed
 * @param uri the fully qualified URI of the stored file, null when failed
 * @param bytes the file size
 * @param sha256 the lower-case hex SHA-256 of the file, null when failed
 * @param error why the image could not be stored, null when ok
 */
public record StoredImage(String path, String uri, long bytes, String sha256, String error) {
    /** A stored image. */
    public static StoredImage ok(String path, String uri, long bytes, String sha256) {
        return new StoredImage(path, uri, bytes, sha256, null);
    }

    /** A failed store. */
    public static StoredImage failed(String error) {
        return new StoredImage(null, null, 0L, null, error);
    }

    /** Whether the image is stored. */
    public boolean isOk() {
        return error == null;
    }
}
