package sdbatch.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URL;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Which log configuration bin/sdbatch's JVM gets (Logs). */
class LogsTest {
    private static final List<String> README = List.of("generate", "--input", "x.csv");

    @Test
    void theDefaultIsTheQuietConfigurationAtWarn() throws Exception {
        String config = Logs.quietConfigFor(README, new Properties(), Map.of());
        assertTrue(config != null && config.endsWith(Logs.QUIET_CONFIG), "" + config);
        Properties p = new Properties();
        try (InputStream in = new URL(config).openStream()) {
            p.load(in);
        }
        assertTrue("warn".equals(p.getProperty("rootLogger.level")), p.toString());
        assertTrue("SYSTEM_ERR".equals(p.getProperty("appender.console.target")), p.toString());
    }

    @Test
    void verboseLeavesSparksOwnDefaults() {
        assertNull(
                Logs.quietConfigFor(
                        List.of("generate", "--input", "x.csv", "--verbose"),
                        new Properties(),
                        Map.of()));
    }

    @Test
    void aConfigurationOfTheUsersOwnWins() {
        for (String property : Logs.USER_CONFIG_PROPERTIES) {
            Properties system = new Properties();
            system.setProperty(property, "/etc/my-log4j2.properties");
            assertNull(Logs.quietConfigFor(README, system, Map.of()), property);
        }
        assertNull(
                Logs.quietConfigFor(
                        README,
                        new Properties(),
                        Map.of(Logs.USER_CONFIG_ENV, "/etc/my-log4j2.properties")));
    }
}
