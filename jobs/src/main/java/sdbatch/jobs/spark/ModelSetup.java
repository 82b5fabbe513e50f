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
import sdbatch.jobs.pictures.PictureFiles;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.pipeline.PipelineConfig;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * The driver's look at the model, before anything runs: resolve {@code --model} (or write the
 * built-in tiny model), read its configs ({@link PipelineConfig}) and hash its files ({@link
 * ModelContent}) into its {@link ModelFacts} (default size, scheduler, text-encoder layers,
 * identity), and check the job's own settings against them. Any problem is a {@link
 * StartupException} (exit 2) before any generation.
 *
 * <p>The driver never builds the model: loading all weights to read a few configs cost the driver
 * as much native memory as an executor (about 4 GB for SD 1.5, in what is often a small driver
 * pod). A folder whose weights are broken is therefore refused by the executors' load (failing
 * their tasks, see {@link PartitionTask}), not here; its configs and files are checked here.
 *
 * @param spec the model as shipped to executors
 * @param localDir the local folder on the driver
 * @param facts what the driver learned
 * @param contentHash the content hash of the folder, which executors must find in their copy
 */
public record ModelSetup(ModelSpec spec, Path localDir, ModelFacts facts, String contentHash) {

    /**
     * Reads and checks the model of {@code options}, without building it.
     *
     * @throws StartupException for a model that cannot be read, naming it
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
        PipelineConfig config;
        String contentHash;
        try {
            config = PipelineConfig.read(local);
            contentHash = ModelContent.hash(local);
        } catch (IOException | RuntimeException e) {
            throw new StartupException(
                    "cannot read model " + spec.redacted() + " (" + local + "): " + e.getMessage(),
                    e);
        }
        ModelFacts facts;
        try {
            facts = ModelFacts.of(config, spec.normalizedUri(), spec.displayName(), contentHash);
        } catch (RuntimeException e) {
            throw new StartupException(
                    "model " + spec.redacted() + " is not usable: " + e.getMessage(), e);
        }
        return new ModelSetup(spec, local, facts, contentHash);
    }

    /**
     * The row planner of the job, after checking the sweep flags and the defaults against the
     * model.
     *
     * @throws StartupException naming each bad flag or default
     */
    public RowPlanner planner(JobOptions options) {
        PictureFiles pictures;
        try {
            pictures =
                    PictureFiles.forTable(spec.hadoop(), options.input(), options.maxInputPixels());
        } catch (IOException e) {
            throw new StartupException(
                    "cannot open prompt table " + options.input() + ": " + e.getMessage(), e);
        }
        RowPlanner planner =
                new RowPlanner(facts, options.sweep(), options.width(), options.height(), pictures);
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
