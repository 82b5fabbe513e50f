package sdbatch.jobs.cli;

import java.io.PrintStream;
import org.apache.spark.sql.SparkSession;
import sdbatch.jobs.spark.ModelSetup;
import sdbatch.jobs.spark.ValidateJob;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.SchedulerNames;

/**
 * {@code sdbatch validate}: what {@code generate} would do with the same flags, without generating.
 * Prints rows by status (with the first invalid rows' reasons), the images after sweep expansion
 * (and how many distinct ones: equal requests are generated once), with {@code --resume} how many
 * are already made, and the UNet evaluations the rest needs. Exit codes as {@code generate}: 0
 * every row valid, 3 some rows invalid, 2 could not start.
 *
 * <p><b>UNet evaluations</b> per image: {@code steps}, doubled when classifier-free guidance is on
 * ({@code guidance_scale > 1}: the UNet runs on the unconditional and the conditional half), and
 * for Heun's second-order method {@code 2 × steps − 1} instead of {@code steps} (diffusers' Heun
 * evaluates the UNet twice per step except the last). It is the count of UNet batch rows, the
 * measure of the job's compute.
 */
public final class ValidateCommand implements Cli.Command {

    @Override
    public ExitCode run(JobOptions options, PrintStream out, PrintStream err) throws Exception {
        boolean joined = SparkSession.getDefaultSession().isDefined();
        SparkSession spark = GenerateCommand.session(options, err);
        try {
            ModelSetup model =
                    ModelSetup.load(options, spark.sparkContext().hadoopConfiguration(), err);
            return ValidateJob.run(spark, options, model.planner(options), out);
        } finally {
            if (!joined) {
                spark.stop();
            }
        }
    }

    /** UNet evaluations of one request (see class doc). */
    public static long unetEvaluations(GenerationRequest r) {
        boolean heun =
                SchedulerNames.lookup(r.scheduler())
                        .map(e -> e.diffusersClass().equals("HeunDiscreteScheduler"))
                        .orElse(false);
        long perPass = heun ? 2L * r.steps() - 1 : r.steps();
        return perPass * (r.guidanceScale() > 1.0 ? 2 : 1);
    }
}
