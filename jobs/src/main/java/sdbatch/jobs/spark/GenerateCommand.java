package sdbatch.jobs.spark;

import java.io.PrintStream;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import sdbatch.jobs.Cli;
import sdbatch.jobs.ExitCode;
import sdbatch.jobs.JobOptions;
import sdbatch.jobs.Redaction;

/**
 * {@code sdbatch generate}: starts (or joins) the Spark session from {@code --master} and {@code
 * --conf}, resolves the job's components on the driver (a bad model fails here, exit 2), and runs
 * {@link GenerateJob}.
 */
public final class GenerateCommand implements Cli.Command {
    /** Resolves planner, generator factory and model identity from the options, on the driver. */
    @FunctionalInterface
    public interface ComponentsFactory {
        GenerateJob.Components create(JobOptions options, SparkSession spark) throws Exception;
    }

    private final ComponentsFactory components;

    public GenerateCommand(ComponentsFactory components) {
        this.components = components;
    }

    @Override
    public ExitCode run(JobOptions options, PrintStream out, PrintStream err) throws Exception {
        SparkSession spark = session(options, err);
        try {
            return GenerateJob.run(spark, options, components.create(options, spark), err)
                    .exitCode();
        } finally {
            spark.stop();
        }
    }

    /**
     * The session for a command: {@code --master}, then every {@code --conf} as given ({@code
     * spark.*} keys, Hadoop settings as {@code spark.hadoop.*}); the echo hides credentials.
     */
    public static SparkSession session(JobOptions options, PrintStream log) {
        SparkSession.Builder builder =
                SparkSession.builder()
                        .appName("sdbatch " + options.command())
                        .master(options.master());
        for (Map.Entry<String, String> e : options.conf().entrySet()) {
            builder.config(e.getKey(), e.getValue());
        }
        log.println(
                "sdbatch: master " + options.master() + ", conf " + Redaction.conf(options.conf()));
        return builder.getOrCreate();
    }
}
