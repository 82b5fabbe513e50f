package sdbatch.jobs.storage;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sdbatch.schemas.util.Hashes;

/**
 * URI helpers for storage locations given on the command line: redaction for logs, normalization
 * for cache keys, and the local-path test.
 *
 * <p>Contract: {@link #redact} never returns user-info ({@code s3a://KEY:SECRET@bucket/...} becomes
 * {@code s3a://***@bucket/...}); {@link #normalize} returns the same string for spellings of one
 * location that differ only in scheme/host case, user-info, a trailing slash or redundant {@code
 * .}/{@code //} path segments.
 */
public final class StorageUris {

    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");
    // A URI's user-info anywhere in a text: everything from "scheme://" to an '@' with no space
    // in between. Secrets may hold '/' (AWS secret keys do), so '/' does not end it; a path with
    // an '@' is hidden up to it as well, which costs a less useful log line, never a leak.
    private static final Pattern USER_INFO =
            Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^\\s@]*@");

    private StorageUris() {}

    /** The URI with any user-info replaced by {@code ***}; safe to log. Null stays null. */
    public static String redact(String uri) {
        return redact(uri, "***");
    }

    /**
     * {@code text} (a URI, or a message that may contain URIs) with the user-info of every URI in
     * it replaced by {@code marker}. Null stays null.
     */
    public static String redact(String text, String marker) {
        if (text == null || !text.contains("@")) {
            return text;
        }
        return USER_INFO
                .matcher(text)
                .replaceAll(m -> Matcher.quoteReplacement(m.group(1) + marker + "@"));
    }

    /**
     * True for a plain path ({@code /data/models/sd15}, {@code models/sd15}) or a {@code file:}
     * URI; these are read in place rather than copied.
     */
    public static boolean isLocal(String uri) {
        if (!SCHEME.matcher(uri).matches()) {
            return true;
        }
        // A Windows drive letter would look like a one-letter scheme; not a remote file system.
        String scheme = uri.substring(0, uri.indexOf(':'));
        return scheme.length() == 1 || scheme.equalsIgnoreCase("file");
    }

    /** The local path of a plain path or {@code file:} URI (see {@link #isLocal}). */
    public static Path localPath(String uri) {
        if (!isLocal(uri)) {
            throw new IllegalArgumentException(
                    "not a local path or file: URI: '" + redact(uri) + "'");
        }
        if (uri.regionMatches(true, 0, "file:", 0, 5)) {
            try {
                URI parsed = new URI(uri);
                if (parsed.getPath() == null) {
                    throw new IllegalArgumentException("file: URI without a path: '" + uri + "'");
                }
                return Paths.get(parsed.getPath());
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("malformed file: URI '" + uri + "'", e);
            }
        }
        return Paths.get(uri);
    }

    /**
     * Canonical spelling used for cache keys: lower-case scheme and host, no user-info, no query or
     * fragment, normalized path without a trailing slash.
     */
    public static String normalize(String uri) {
        if (isLocal(uri)) {
            return "file:" + localPath(uri).toAbsolutePath().normalize();
        }
        try {
            URI parsed = new URI(uri);
            String scheme = parsed.getScheme().toLowerCase(Locale.ROOT);
            String host = parsed.getHost();
            if (host == null) {
                // s3a bucket names with underscores are not valid URI hosts; keep the authority.
                host = parsed.getRawAuthority();
                if (host != null && host.contains("@")) {
                    host = host.substring(host.indexOf('@') + 1);
                }
            }
            host = host == null ? "" : host.toLowerCase(Locale.ROOT);
            String port = parsed.getPort() >= 0 ? ":" + parsed.getPort() : "";
            String path = parsed.getRawPath() == null ? "" : parsed.getRawPath();
            path = path.replaceAll("/{2,}", "/");
            String normalizedPath = path.isEmpty() ? "" : URI.create(path).normalize().toString();
            while (normalizedPath.endsWith("/")) {
                normalizedPath = normalizedPath.substring(0, normalizedPath.length() - 1);
            }
            return scheme + "://" + host + port + normalizedPath;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("malformed URI '" + redact(uri) + "'", e);
        }
    }

    /** Hex SHA-256 of the normalized URI: the cache key, which never contains credentials. */
    public static String cacheKey(String uri) {
        return Hashes.sha256Hex(normalize(uri).getBytes(StandardCharsets.UTF_8));
    }
}
