package sdbatch.jobs.s3;

import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

/**
 * Captures what Spark, Hadoop and sdbatch log through log4j2 (the backend Spark ships; slf4j is
 * bridged to it) while open, at INFO: the level of Spark's own default configuration, so the
 * capture holds what an operator sees in a driver log. The appenders already there (the console)
 * are silenced meanwhile (the expected errors of fault tests would fill the test output; {@link
 * S3Jobs.Run#toString()} shows the captured tail when a test fails). Exceptions are captured with
 * their causes.
 */
final class LogCapture implements AutoCloseable {
    private final StringWriter text = new StringWriter();
    private final String name = "sdbatch-capture-" + UUID.randomUUID();
    private final WriterAppender appender;
    private final Level oldLevel;
    private final Map<String, Appender> others;

    LogCapture() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        LoggerConfig root = config.getRootLogger();
        appender =
                WriterAppender.newBuilder()
                        .setName(name)
                        .setTarget(text)
                        .setLayout(
                                PatternLayout.newBuilder()
                                        .withConfiguration(config)
                                        .withPattern("%p %c: %m%n%throwable")
                                        .build())
                        .build();
        appender.start();
        oldLevel = root.getLevel();
        others = new LinkedHashMap<>(root.getAppenders());
        for (Map.Entry<String, Appender> e : others.entrySet()) {
            root.removeAppender(e.getKey());
            root.addAppender(e.getValue(), Level.OFF, null);
        }
        config.addAppender(appender);
        root.addAppender(appender, Level.INFO, null);
        root.setLevel(oldLevel.isMoreSpecificThan(Level.INFO) ? Level.INFO : oldLevel);
        context.updateLoggers();
    }

    /** Everything logged so far. */
    String text() {
        synchronized (text) {
            return text.toString();
        }
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        LoggerConfig root = config.getRootLogger();
        root.removeAppender(name);
        for (Map.Entry<String, Appender> e : others.entrySet()) {
            root.removeAppender(e.getKey());
            root.addAppender(e.getValue(), null, null);
        }
        root.setLevel(oldLevel);
        context.updateLoggers();
        appender.stop();
    }
}
