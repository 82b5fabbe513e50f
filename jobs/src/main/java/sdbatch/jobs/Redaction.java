package sdbatch.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdbatch.jobs.cli.Flags;
import sdbatch.jobs.storage.StorageUris;

/**
 * Keeps credentials out of logs, {@code run.json} and metadata. A configuration key that looks like
 * a credential has its value replaced by {@link #REDACTED}; a URI's user-info is dropped. The key
 * test errs on the side of hiding: a false positive costs a less useful log line, a false negative
 * leaks a secret.
 */
public final class Redaction {
    private Redaction() {}

    /** What replaces a hidden value. */
    public static final String REDACTED = "*********(redacted)";

    private static final String[] SECRET_WORDS = {
        "secret",
        "password",
        "passwd",
        "access.key",
        "accesskey",
        "access_key",
        "account.key",
        "token",
        "session",
        "credential",
        "private",
        "signature",
        "sas.",
        // Server-side encryption keys (fs.s3a.encryption.key, its older
        // fs.s3a.server-side-encryption.key) and any other setting named "...key".
        "encryption"
    };

    /** Whether the value of configuration {@code key} must never be shown. */
    public static boolean isSecretKey(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        for (String word : SECRET_WORDS) {
            if (k.contains(word)) {
                return true;
            }
        }
        return k.endsWith(".key") || k.endsWith("_key") || k.endsWith("-key");
    }

    /** {@code conf} with the values of secret keys replaced. */
    public static Map<String, String> conf(Map<String, String> conf) {
        Map<String, String> out = new LinkedHashMap<>();
        conf.forEach((k, v) -> out.put(k, isSecretKey(k) ? REDACTED : uri(v)));
        return out;
    }

    /**
     * {@code value} without the user-info of any URI in it (a URI, or a message naming URIs);
     * secrets may hold '/', so everything from {@code scheme://} to the {@code @} is hidden.
     */
    public static String uri(String value) {
        return StorageUris.redact(value, REDACTED);
    }

    /** A message (an exception's, say) safe to print: URIs' user-info hidden. */
    public static String text(String message) {
        return StorageUris.redact(message, REDACTED);
    }

    /** Command-line arguments with {@code --conf} secrets and URI credentials hidden. */
    public static List<String> args(List<String> args) {
        List<String> out = new ArrayList<>(args.size());
        boolean confValue = false;
        for (String arg : args) {
            if (confValue || arg.startsWith(Flags.CONF + "=")) {
                String kv = confValue ? arg : arg.substring(Flags.CONF.length() + 1);
                int eq = kv.indexOf('=');
                String hidden =
                        eq > 0 && isSecretKey(kv.substring(0, eq))
                                ? kv.substring(0, eq + 1) + REDACTED
                                : uri(kv);
                out.add(confValue ? hidden : Flags.CONF + "=" + hidden);
            } else {
                out.add(uri(arg));
            }
            confValue = !confValue && arg.equals(Flags.CONF);
        }
        return out;
    }
}
