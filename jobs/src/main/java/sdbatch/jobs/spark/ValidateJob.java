package sdbatch.jobs.spark;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.ValidateCommand;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.generate.RequestOrInvalid;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.io.ResumeIndex;
import sdbatch.schemas.ExtraConditioning;

/**
 * The Spark side of {@code sdbatch validate} ({@link ValidateCommand}): plans the table exactly as
 * {@link GenerateJob} does, and counts instead of generating.
 */
public final class ValidateJob {
    /** Invalid rows whose reasons are printed. */
    static final int SHOWN_INVALID = 20;

    private ValidateJob() {}

    /** Prints the counts (see {@link ValidateCommand}); exit 3 when some rows are invalid. */
    public static ExitCode run(
            SparkSession spark, JobOptions options, RowPlanner planner, PrintStream out) {
        InputTable in = InputTable.read(spark, options.input());
        JavaRDD<RequestOrInvalid> planned = in.planned(planner);
        planned.cache();
        try {
            JavaRDD<RequestOrInvalid> invalid = planned.filter(p -> p.invalid() != null);
            long invalidRows = invalid.count();
            long rows = in.rows().count();
            JavaRDD<PlannedRequest> requests =
                    planned.filter(p -> p.request() != null).map(RequestOrInvalid::request);
            long images = requests.count();
            JavaRDD<Tuple2<String, Long>> distinct =
                    requests.mapToPair(
                                    p ->
                                            new Tuple2<>(
                                                    p.imageId(),
                                                    ValidateCommand.unetEvaluations(p.request())))
                            .reduceByKey((a, b) -> a)
                            .map(t -> t);
            long distinctImages = distinct.count();
            long done = 0;
            if (options.resume() && options.output() != null) {
                Set<String> ids = ResumeIndex.okImageIds(spark, options.output());
                Broadcast<Set<String>> doneIds =
                        JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(ids);
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
            // SDXL/SD3 columns and guidance rescale (issues 16, 19): how many rows set each, and
            // the one warning a generate run would give about those this model ignores.
            Map<String, Long> extra = in.nonNullCounts(ExtraConditioning.COLUMNS);
            List<String> used = new ArrayList<>();
            extra.forEach(
                    (c, n) -> {
                        if (n > 0) {
                            used.add(c + " " + n);
                        }
                    });
            if (!used.isEmpty()) {
                out.printf(
                        "rows setting SDXL/SD3 columns or guidance_rescale: %s%n",
                        String.join(", ", used));
            }
            String ignored = planner.model().family().warning(extra);
            if (ignored != null) {
                out.printf("warning: %s%n", ignored);
            }
            List<RequestOrInvalid> shown = invalid.take(SHOWN_INVALID);
            for (RequestOrInvalid p : shown) {
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
