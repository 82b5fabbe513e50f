package sdbatch.jobs.spark;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import sdbatch.jobs.Redaction;
import sdbatch.jobs.Version;
import sdbatch.jobs.cli.JobOptions;

/**
 * {@code run.json} in the output root: what ran (version, command, arguments and settings with
 * credentials hidden by {@link Redaction}, input, output, model), when, in how many partitions, and
 * how it ended (counts by status, images per second, exit code). Rewritten by every run.
 */
final class RunReport {
    private RunReport() {}

    /**
     * Writes {@code run.json} under {@code root}.
     *
     * @param partitions generation partitions
     * @param toGenerate images the run set out to generate
     * @param warnings the job's warnings (e.g. SDXL/SD3 columns the model ignores)
     */
    static void write(
            FileSystem fs,
            Path root,
            JobOptions options,
            GenerateJob.Components components,
            GenerateJob.Summary summary,
            Instant start,
            Instant end,
            int partitions,
            long toGenerate,
            java.util.List<String> warnings)
            throws IOException {
        JsonObject json = new JsonObject();
        json.addProperty("sdbatch_version", Version.get());
        json.addProperty("command", options.command());
        JsonArray args = new JsonArray();
        Redaction.args(options.args()).forEach(args::add);
        json.add("arguments", args);
        JsonObject conf = new JsonObject();
        Redaction.conf(options.conf()).forEach(conf::addProperty);
        json.add("conf", conf);
        json.addProperty("input", Redaction.uri(options.input()));
        json.addProperty("output", Redaction.uri(options.output()));
        json.addProperty("model", Redaction.uri(components.model()));
        json.addProperty("model_identity", components.planner().model().identity());
        json.addProperty("model_family", components.planner().model().family().family());
        json.addProperty("start", start.toString());
        json.addProperty("end", end.toString());
        double seconds = Math.max(1e-3, Duration.between(start, end).toMillis() / 1000.0);
        json.addProperty("duration_seconds", seconds);
        json.addProperty("partitions", partitions);
        json.addProperty("requests_to_generate", toGenerate);
        JsonObject counts = new JsonObject();
        counts.addProperty("rows", summary.rows());
        counts.addProperty("ok", summary.ok());
        counts.addProperty("invalid", summary.invalid());
        counts.addProperty("failed", summary.failed());
        counts.addProperty("resumed", summary.resumed());
        counts.addProperty("generated", summary.generated());
        json.add("counts", counts);
        json.addProperty("images_per_second", summary.generated() / seconds);
        json.addProperty("stopped_early", summary.stoppedEarly());
        json.addProperty("exit_code", summary.exitCode().code());
        JsonArray warned = new JsonArray();
        warnings.forEach(warned::add);
        json.add("warnings", warned);
        try (OutputStream out = fs.create(new Path(root, "run.json"), true)) {
            out.write(
                    new GsonBuilder()
                            .setPrettyPrinting()
                            .disableHtmlEscaping()
                            .create()
                            .toJson(json)
                            .getBytes(StandardCharsets.UTF_8));
        }
    }
}
