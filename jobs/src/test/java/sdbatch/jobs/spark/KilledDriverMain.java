package sdbatch.jobs.spark;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.PlannedRequest;

/**
 * The driver {@link GenerateJobResumeTest} kills: a {@code local[2]} generate run of {@link
 * FakeImages} whose generator takes {@code args[2]} milliseconds per image, in its own JVM.
 *
 * <p>Arguments: input, output, milliseconds per image.
 */
public final class KilledDriverMain {
    private KilledDriverMain() {}

    public static void main(String[] args) throws Exception {
        long millis = Long.parseLong(args[2]);
        SparkSession spark =
                SparkSession.builder()
                        .appName("KilledDriverMain")
                        .master("local[2]")
                        .config("spark.ui.enabled", "false")
                        .config("spark.driver.host", "127.0.0.1")
                        .config("spark.driver.bindAddress", "127.0.0.1")
                        .config("spark.sql.shuffle.partitions", "2")
                        .config("spark.default.parallelism", "2")
                        .getOrCreate();
        JobOptions options =
                JobOptions.parse(
                        List.of(
                                "generate",
                                "--input",
                                args[0],
                                "--output",
                                args[1],
                                "--partitions",
                                "2",
                                "--batch-size",
                                "1"));
        GenerateJob.GeneratorFactory slow =
                device ->
                        batch -> {
                            List<GeneratedPng> out = new ArrayList<>();
                            for (PlannedRequest p : batch) {
                                Thread.sleep(millis);
                                out.add(GeneratedPng.ok(FakeImages.png(p.request())));
                            }
                            return out;
                        };
        GenerateJob.run(
                spark,
                options,
                new GenerateJob.Components(FakeImages.planner(1), slow, "fake"),
                new PrintStream(System.out, true, StandardCharsets.UTF_8));
        spark.stop();
    }
}
