package sdbatch.jobs.spark;

import java.io.PrintStream;
import java.util.List;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;
import sdbatch.jobs.Cli;
import sdbatch.jobs.ExitCode;
import sdbatch.jobs.JobOptions;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.io.ResumeIndex;
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
    /** Invalid rows whose reasons are printed. */
    static final int SHOWN_INVALID = 20;

    @Override
    public ExitCode run(JobOptions options, PrintStream out, PrintStream err) throws Exception {
        boolean joined = SparkSession.getDefaultSession().isDefined();
        SparkSession spark = GenerateCommand.session(options, err);
        try {
            ModelSetup model =
                    ModelSetup.load(options, spark.sparkContext().hadoopConfiguration(), err);
            return validate(spark, options, model.planner(options), out);
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

    static ExitCode validate(
            SparkSession spark, JobOptions options, RowPlanner planner, PrintStream out) {
        GenerateJob.Input in = GenerateJob.Input.read(spark, options.input());
        GenerateJob.Layout layout = in.layout();
        JavaRDD<GenerateJob.Planned> planned =
                in.rows().flatMap(row -> GenerateJob.plan(planner, layout, row));
        planned.cache();
        try {
            JavaRDD<GenerateJob.Planned> invalid = planned.filter(p -> p.invalid() != null);
            long invalidRows = invalid.count();
            long rows = in.rows().count();
            JavaRDD<PlannedRequest> requests =
                    planned.filter(p -> p.request() != null).map(GenerateJob.Planned::request);
            long images = requests.count();
            JavaRDD<Tuple2<String, Long>> distinct =
                    requests.mapToPair(p -> new Tuple2<>(p.imageId(), unetEvaluations(p.request())))
                            .reduceByKey((a, b) -> a)
                            .map(t -> t);
            long distinctImages = distinct.count();
            long done = 0;
            if (options.resume() && options.output() != null) {
                Set<String> ids = ResumeIndex.okImageIds(spark, options.output());
                Broadcast<Set<String>> doneIds =
                        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(
                                        spark.sparkContext())
                                .broadcast(ids);
                done = distinct.filter(t -> doneIds.value().contains(t._1())).count();
                distinct = distinct.filter(t -> !doneIds.value().contains(t._1()));
            }
            long evaluations = distinct.map(Tuple2::_2).fold(0L, Long::sum);
            out.printf("rows: %d (%d valid, %d invalid)%n", rows, rows - invalidRows, invalidRows);
            out.printf(
                    "images after expansion: %d (%d distinct; equal requests are generated"
                            + " once)%n",
                    images, distinctImages);
            if (options.resume()) {
                out.printf("already made (--resume): %d%n", done);
            }
            out.printf("images to generate: %d%n", distinctImages - done);
            out.printf(
                    "UNet evaluations: %d (steps, x2 with guidance > 1, Heun 2 x steps - 1)%n",
                    evaluations);
            List<GenerateJob.Planned> shown = invalid.take(SHOWN_INVALID);
            for (GenerateJob.Planned p : shown) {
                out.printf("invalid row %d: %s%n", p.invalid().sourceRow(), p.invalid().error());
            }
            if (invalidRows > shown.size()) {
                out.printf("... and %d more invalid rows%n", invalidRows - shown.size());
            }
            return invalidRows > 0 ? ExitCode.INVALID_ROWS : ExitCode.OK;
        } finally {
            planned.unpersist(false);
        }
    }
}
