package sdbatch.jobs.cli;

import java.net.URL;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The log level of a command started by {@code bin/sdbatch}: warnings and errors only, unless
 * {@code --verbose} or the user's own log4j2 configuration asks for more.
 *
 * <p>Why a configuration file chosen before anything logs: with no log4j2 configuration at all,
 * Spark installs its own defaults at INFO (some 350 lines for a six-image job) the first time it
 * logs, and only when log4j2 is still unconfigured. Pointing log4j2 at {@value #QUIET_CONFIG} first
 * makes Spark keep its hands off, and leaves the user every usual way to override it. Under {@code
 * spark-submit} logging is configured before sdbatch's {@code main} runs, so this changes nothing
 * there (Spark's {@code conf/log4j2.properties} rules).
 */
public final class Logs {
    /** The classpath resource of the default configuration. */
    public static final String QUIET_CONFIG = "sdbatch/jobs/log4j2-quiet.properties";

    /** The system properties and environment variable by which log4j2 finds a configuration. */
    static final List<String> USER_CONFIG_PROPERTIES =
            List.of("log4j2.configurationFile", "log4j.configurationFile");

    static final String USER_CONFIG_ENV = "LOG4J_CONFIGURATION_FILE";

    private Logs() {}

    /**
     * What {@link #configure} would install for {@code args}: the quiet configuration's URL, or
     * null to leave logging as it is ({@code --verbose}, or a configuration of the user's own).
     */
    static String quietConfigFor(List<String> args, Properties system, Map<String, String> env) {
        if (args.contains(Flags.VERBOSE)) {
            return null;
        }
        for (String p : USER_CONFIG_PROPERTIES) {
            if (system.getProperty(p) != null) {
                return null;
            }
        }
        if (env.get(USER_CONFIG_ENV) != null) {
            return null;
        }
        URL url = Logs.class.getClassLoader().getResource(QUIET_CONFIG);
        return url == null ? null : url.toString();
    }

    /** Installs {@link #quietConfigFor} for this JVM; call before anything logs. */
    static void configure(List<String> args) {
        String config = quietConfigFor(args, System.getProperties(), System.getenv());
        if (config != null) {
            System.setProperty("log4j2.configurationFile", config);
        }
    }
}
