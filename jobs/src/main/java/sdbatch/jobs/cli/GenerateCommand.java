package sdbatch.jobs.cli;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import sdbatch.jobs.Redaction;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.spark.DeviceSupport;
import sdbatch.jobs.spark.DtypeSupport;
import sdbatch.jobs.spark.ExecutorPipelines;
import sdbatch.jobs.spark.GenerateJob;
import sdbatch.jobs.spark.ModelSetup;
import sdbatch.jobs.spark.PipelineGenerator;
import sdbatch.pipeline.models.kernels.Bf16Compute;

/**
 * {@code sdbatch generate}: starts the Spark session from {@code --master} and {@code --conf} (or
 * joins the one already running in this JVM, which it then leaves running), resolves the model and
 * the row planner on the driver (a bad model or flag fails here, exit 2), and runs {@link
 * GenerateJob}.
 */
public final class GenerateCommand implements Cli.Command {
    /** Resolves planner, generator factory and model identity from the options, on the driver. */
    @FunctionalInterface
    public interface ComponentsFactory {
        GenerateJob.Components create(
                JobOptions options, SparkSession spark, LongAccumulator truncated, PrintStream log)
                throws Exception;
    }

    private final ComponentsFactory components;

    /** Spark's executor heartbeat interval setting, and its default in seconds. */
    static final String HEARTBEAT_INTERVAL = "spark.executor.heartbeatInterval";

    static final int DEFAULT_HEARTBEAT_SECONDS = 10;

    /** The real command: the model of {@code --model} on the pipeline. */
    public GenerateCommand() {
        this(GenerateCommand::pipelineComponents);
    }

    /** A command with other components (tests). */
    public GenerateCommand(ComponentsFactory components) {
        this.components = components;
    }

    /**
     * The model's planner and the executor-side {@link PipelineGenerator}: what the real command
     * runs. Public so that tests can run the real job with a hook around its generator.
     */
    public static GenerateJob.Components pipelineComponents(
            JobOptions options, SparkSession spark, LongAccumulator truncated, PrintStream log) {
        checkDevice(options, spark);
        checkDtype(options, spark);
        ModelSetup model =
                ModelSetup.load(options, spark.sparkContext().hadoopConfiguration(), log);
        RowPlanner planner = model.planner(options);
        log.printf(
                "sdbatch: model %s (%s), default size %dx%d, scheduler %s%n",
                model.spec().redacted(),
                model.facts().identity(),
                model.facts().defaultSize(),
                model.facts().defaultSize(),
                model.facts().scheduler());
        return new GenerateJob.Components(
                planner,
                ExecutorPipelines.factory(
                        model.spec(),
                        options.dtype(),
                        model.facts().name(),
                        model.contentHash(),
                        truncated::add,
                        planner.pictures(),
                        planner.loraFiles(),
                        planner.controlNetFiles(),
                        model.embeddings(),
                        model.vae(),
                        model.withoutT5()),
                model.spec().redacted());
    }

    /**
     * Refuses a {@code --device} that cannot work ({@link DeviceSupport}): at start, before the
     * model is read or any task runs, not once per task or row.
     */
    static void checkDevice(JobOptions options, SparkSession spark) {
        DeviceSupport.checkAtStart(options.device(), spark.sparkContext().master(), gpuConf(spark));
    }

    /** Spark's GPU scheduling settings of the session. */
    private static Map<String, String> gpuConf(SparkSession spark) {
        Map<String, String> gpuConf = new HashMap<>();
        for (String key :
                List.of("spark.task.resource.gpu.amount", "spark.executor.resource.gpu.amount")) {
            String value = spark.sparkContext().getConf().get(key, null);
            if (value != null) {
                gpuConf.put(key, value);
            }
        }
        return gpuConf;
    }

    /**
     * Refuses a {@code --dtype} the tasks' device cannot run ({@link DtypeSupport}), and bf16 where
     * this machine's bfloat16 kernels fail their known-answer check: at start, before any row is
     * read.
     */
    static void checkDtype(JobOptions options, SparkSession spark) {
        DtypeSupport.checkAtStart(options.dtype(), options.device(), gpuConf(spark));
        if ("bf16".equals(options.dtype())) {
            try {
                Bf16Compute.requireAvailable();
            } catch (IllegalStateException e) {
                throw new StartupException(e.getMessage(), e);
            }
        }
    }

    @Override
    public ExitCode run(JobOptions options, PrintStream out, PrintStream err) throws Exception {
        boolean joined = SparkSession.getDefaultSession().isDefined();
        SparkSession spark = session(options, err);
        try {
            LongAccumulator truncated = spark.sparkContext().longAccumulator("sdbatch.truncated");
            return GenerateJob.run(
                            spark,
                            options,
                            components.create(options, spark, truncated, err),
                            err,
                            truncated)
                    .exitCode();
        } finally {
            if (!joined) {
                spark.stop();
            }
        }
    }

    /**
     * The session for a command: {@code --master}, then every {@code --conf} as given ({@code
     * spark.*} keys, Hadoop settings as {@code spark.hadoop.*}); the echo hides credentials. When
     * this JVM already runs a session (sdbatch embedded, or tests), that one is returned.
     */
    public static SparkSession session(JobOptions options, PrintStream log) {
        if (SparkSession.getDefaultSession().isDefined()) {
            return SparkSession.getDefaultSession().get();
        }
        SparkSession.Builder builder =
                SparkSession.builder()
                        .appName("sdbatch " + options.command())
                        .master(options.master())
                        .config("spark.ui.showConsoleProgress", "false");
        if (!options.conf().containsKey(HEARTBEAT_INTERVAL)) {
            // Running tasks' image counts reach the driver with executor heartbeats (GenerateJob's
            // progress line): send them at least as often as the line is printed. Spark's default,
            // 10 s, is kept for the default --progress-interval and longer ones.
            builder.config(
                    HEARTBEAT_INTERVAL,
                    Math.min(options.progressIntervalSeconds(), DEFAULT_HEARTBEAT_SECONDS) + "s");
        }
        for (Map.Entry<String, String> e : options.conf().entrySet()) {
            builder.config(e.getKey(), e.getValue());
        }
        log.println(
                "sdbatch: master " + options.master() + ", conf " + Redaction.conf(options.conf()));
        return builder.getOrCreate();
    }
}
