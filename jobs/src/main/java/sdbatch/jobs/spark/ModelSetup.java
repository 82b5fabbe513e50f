package sdbatch.jobs.spark;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.generate.ModelFacts;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * The driver's look at the model, before anything runs: resolve {@code --model} (or write the
 * built-in tiny model), load the pipeline once on the CPU, learn its {@link ModelFacts} (default
 * size, scheduler, text-encoder layers, UNet hash) and check the job's own settings against them.
 * Any problem is a {@link StartupException} (exit 2) before any generation.
 *
 * <p>In local mode the driver is the executor, so the pipeline is loaded through the JVM's {@link
 * ExecutorPipelineCache} under the key the tasks use for the CPU: they reuse it instead of loading
 * it again. On a cluster the driver's copy is closed once the facts are read.
 *
 * @param spec the model as shipped to executors
 * @param localDir the local folder on the driver
 * @param facts what the driver learned
 */
public record ModelSetup(ModelSpec spec, Path localDir, ModelFacts facts) {

    /**
     * Loads and checks the model of {@code options}.
     *
     * @throws StartupException for a model that cannot be read or loaded, naming it
     */
    public static ModelSetup load(JobOptions options, Configuration hadoop, PrintStream log) {
        ModelSpec spec =
                new ModelSpec(options.model(), options.modelCache(), new HadoopConf(hadoop));
        Path local;
        try {
            local = spec.localDir();
        } catch (IOException | RuntimeException e) {
            throw new StartupException(
                    "cannot read model " + spec.redacted() + ": " + e.getMessage(), e);
        }
        if (spec.builtin()) {
            log.println(
                    "sdbatch: no --model given: using the built-in tiny random-weight model at "
                            + local
                            + " (it draws noise, not pictures; pass --model with a diffusers"
                            + " folder for real images)");
        }
        boolean driverIsExecutor = options.master().startsWith("local");
        StableDiffusionPipeline pipeline;
        try {
            pipeline =
                    driverIsExecutor
                            // The device local-mode task 0 takes: --device gpu --dtype fp16 loads
                            // on the GPU, not refused on the CPU, and the task reuses this copy.
                            ? PipelineGenerator.pipeline(
                                    local,
                                    GpuAssignment.forLocalDriver(options.device()),
                                    options.dtype())
                            : StableDiffusionPipeline.load(
                                    local,
                                    PipelineGenerator.options(
                                            ai.djl.Device.cpu(), options.dtype()));
        } catch (IOException | RuntimeException e) {
            Throwable cause =
                    e instanceof IllegalStateException && e.getCause() != null ? e.getCause() : e;
            throw new StartupException(
                    "cannot load model "
                            + spec.redacted()
                            + " ("
                            + local
                            + "): "
                            + cause.getMessage(),
                    e);
        }
        try {
            ModelFacts facts;
            try {
                facts = ModelFacts.of(pipeline, spec.normalizedUri(), spec.displayName());
            } catch (RuntimeException e) {
                throw new StartupException(
                        "model " + spec.redacted() + " is not usable: " + e.getMessage(), e);
            }
            return new ModelSetup(spec, local, facts);
        } finally {
            if (!driverIsExecutor) {
                pipeline.close();
            }
        }
    }

    /**
     * The row planner of the job, after checking the sweep flags and the defaults against the
     * model.
     *
     * @throws StartupException naming each bad flag or default
     */
    public RowPlanner planner(JobOptions options) {
        RowPlanner planner =
                new RowPlanner(facts, options.sweep(), options.width(), options.height());
        java.util.List<Problem> problems;
        try {
            problems = planner.checkJob();
        } catch (RuntimeException e) {
            throw new StartupException("model " + spec.redacted() + ": " + e.getMessage(), e);
        }
        if (!problems.isEmpty()) {
            throw new StartupException(
                    String.join("; ", problems.stream().map(Problem::message).toList()));
        }
        return planner;
    }
}
