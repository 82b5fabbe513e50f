package sdbatch.jobs;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The sdbatch version, as recorded in every metadata row and in run.json. */
public final class Version {
    private Version() {}

    private static final String VERSION = load();

    /** The Maven project version this build was made from ({@code dev} when unknown). */
    public static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "dev";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "dev");
            return v.startsWith("${") ? "dev" : v;
        } catch (IOException e) {
            return "dev";
        }
    }
}
