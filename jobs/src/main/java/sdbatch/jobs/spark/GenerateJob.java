package sdbatch.jobs.spark;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;
import sdbatch.jobs.Redaction;
import sdbatch.jobs.Version;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.generate.CostPartitioner;
import sdbatch.jobs.generate.Generator;
import sdbatch.jobs.generate.PartitionRunner;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.generate.RowResult;
import sdbatch.jobs.generate.StoredImage;
import sdbatch.jobs.generate.TaskInfo;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.io.ImageStore;
import sdbatch.jobs.io.PromptTableReader;
import sdbatch.jobs.io.ResumeIndex;
import sdbatch.schemas.Columns;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.ResultRow;
import sdbatch.schemas.Status;
import sdbatch.schemas.validate.ValidationResult;

/**
 * {@code sdbatch generate}: prompt table in; images, one metadata table and {@code run.json} out.
 * Only wiring; the row logic is pure and lives in {@code sdbatch.jobs.generate}.
 *
 * <ol>
 *   <li>Read the table ({@link PromptTableReader}): known columns typed or raw strings, passthrough
 *       columns, {@code source_row}.
 *   <li>Plan every row on the executors ({@link RowPlanner}): validate and expand over the sweep.
 *       Number the requests densely and deterministically ({@code zipWithIndex}).
 *   <li>With {@code --resume}, drop requests whose image is already {@code ok} ({@link
 *       ResumeIndex}); their old rows are carried over.
 *   <li>Collect only (ordinal, cost) pairs, assign partitions with {@link CostPartitioner} on the
 *       driver, shuffle the requests there, sorted by ordinal inside each partition.
 *   <li>{@code mapPartitions} with a {@link PartitionRunner}: the executor's cached pipeline, the
 *       {@link ImageStore}, exactly one result per request. A batch's images are stored on a writer
 *       thread while the next batch is generated, one batch deep ({@value #OVERLAP_STORES_CONF}
 *       {@code =false}, e.g. {@code --conf spark.sdbatch.store.overlap=false}, stores them inline).
 *   <li>Write metadata = results ∪ invalid rows ∪ carried rows through Spark's commit protocol
 *       (task retries and speculative attempts never leave two rows) into a fresh folder, then swap
 *       it in as {@code metadata/}; count statuses from what was written; write {@code run.json}.
 * </ol>
 *
 * The driver logs progress at {@code --progress-interval}; past {@code --max-failures} it cancels
 * the job (exit 4, no metadata swapped in, images made so far are kept for {@code --resume}).
 */
public final class GenerateJob {
    /** Spark setting: whether image stores overlap the next batch's generation (default true). */
    public static final String OVERLAP_STORES_CONF = "spark.sdbatch.store.overlap";

    private GenerateJob() {}

    /** Opens the generator of one task on the executor (use {@link ExecutorPipelineCache}). */
    @FunctionalInterface
    public interface GeneratorFactory extends Serializable {
        /** The generator for a task running on {@code device}; called once per task. */
        Generator<PlannedRequest> open(GpuAssignment device) throws Exception;
    }

    /**
     * What the job needs besides Spark and the options, resolved on the driver before anything runs
     * (a bad model is a {@link StartupException} there).
     *
     * @param planner validates and expands rows (serializable, small)
     * @param generators opens generators on executors
     * @param model the model as given, safe to log (run.json)
     */
    public record Components(RowPlanner planner, GeneratorFactory generators, String model) {}

    /**
     * The outcome of a run.
     *
     * @param rows metadata rows written (including carried-over rows)
     * @param ok rows with status ok
     * @param invalid rows with status invalid
     * @param failed rows with status failed
     * @param resumed ok images skipped because an earlier run made them
     * @param generated images generated by this run
     * @param stoppedEarly whether {@code --max-failures} stopped the job
     * @param exitCode the process exit code
     */
    public record Summary(
            long rows,
            long ok,
            long invalid,
            long failed,
            long resumed,
            long generated,
            boolean stoppedEarly,
            ExitCode exitCode) {}

    /** One planned item: a request to generate, or the metadata row of an invalid input row. */
    record Planned(PlannedRequest request, ResultRow invalid) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Runs the job; the truncation counter may be null. */
    public static Summary run(
            SparkSession spark, JobOptions options, Components components, PrintStream log)
            throws IOException {
        return run(spark, options, components, log, null);
    }

    /**
     * Runs the job.
     *
     * @param truncated counts prompts the tokenizer cut (the generator adds to it), or null
     */
    public static Summary run(
            SparkSession spark,
            JobOptions options,
            Components components,
            PrintStream log,
            LongAccumulator truncated)
            throws IOException {
        Instant start = Instant.now();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String output = options.output();
        Path root = new Path(output);
        FileSystem fs;
        try {
            fs = root.getFileSystem(jsc.hadoopConfiguration());
            fs.mkdirs(root);
        } catch (IOException e) {
            throw new StartupException("cannot create output " + output + ": " + e.getMessage(), e);
        }
        HadoopConf hadoopConf = new HadoopConf(jsc.hadoopConfiguration());
        String version = Version.get();
        RowPlanner planner = components.planner();
        String model = planner.model().identity();

        // 1. Read.
        Input in = Input.read(spark, options.input());
        StructType schema = SparkSchemas.metadata(in.passthroughSchema());
        List<String> passNames = in.passthroughNames();
        Layout layout = in.layout();

        // 2. Validate and expand every row; number the requests densely and deterministically.
        JavaRDD<Planned> planned =
                in.rows()
                        .flatMap(row -> plan(planner, layout, row))
                        .zipWithIndex()
                        .map(
                                t ->
                                        t._1().request() == null
                                                ? t._1()
                                                : new Planned(
                                                        t._1().request().withOrdinal(t._2()),
                                                        null));
        planned.persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<Row> invalidRows =
                planned.filter(p -> p.invalid() != null)
                        .map(
                                p ->
                                        SparkSchemas.row(
                                                p.invalid(), null, null, null, version, passNames));

        // 3. One generation per image id: equal requests ride along as duplicates.
        JavaRDD<PlannedRequest> valid =
                planned.filter(p -> p.request() != null)
                        .mapToPair(p -> new Tuple2<>(p.request().imageId(), p.request()))
                        .reduceByKey(PlannedRequest::merge)
                        .values();

        // 4. Resume.
        Dataset<Row> carried = null;
        long resumed = 0;
        long carriedRows = 0;
        if (options.resume()) {
            Dataset<Row> ok = ResumeIndex.okRows(spark, output);
            if (ok != null) {
                Set<String> done = ResumeIndex.okImageIds(spark, output);
                Broadcast<Set<String>> doneIds = jsc.broadcast(done);
                resumed = valid.filter(p -> doneIds.value().contains(p.imageId())).count();
                valid = valid.filter(p -> !doneIds.value().contains(p.imageId()));
                carried = ResumeIndex.align(ok, schema);
                carriedRows = carried.count();
            }
        }

        // 5. Cost-balanced partitions.
        List<long[]> costs = valid.map(p -> new long[] {p.ordinal(), p.cost()}).collect();
        long total = costs.size();
        int partitions =
                (int)
                        Math.max(
                                1,
                                Math.min(
                                        total,
                                        options.partitions() != null
                                                ? options.partitions()
                                                : jsc.defaultParallelism()));
        long[][] sorted = costs.toArray(new long[0][]);
        Arrays.sort(sorted, (a, b) -> Long.compare(a[0], b[0]));
        long[] ordinals = new long[sorted.length];
        long[] costArray = new long[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            ordinals[i] = sorted[i][0];
            costArray[i] = sorted[i][1];
        }
        int[] assigned = CostPartitioner.assign(costArray, partitions);
        Broadcast<AssignedPartitioner.Assignment> assignment =
                jsc.broadcast(new AssignedPartitioner.Assignment(ordinals, assigned));

        // 6. Generate.
        LongAccumulator doneCount = jsc.sc().longAccumulator("sdbatch.done");
        LongAccumulator failedCount = jsc.sc().longAccumulator("sdbatch.failed");
        GeneratorFactory generators = components.generators();
        JobOptions.Device deviceMode = options.device();
        int batchSize = options.batchSize();
        // Store batch k while generating batch k+1 (PartitionRunner); off only to measure it, or
        // where a test must know exactly when each image is written.
        boolean overlapStores = jsc.getConf().getBoolean(OVERLAP_STORES_CONF, true);
        JavaRDD<Row> results =
                valid.mapToPair(p -> new Tuple2<>(p.ordinal(), p))
                        .repartitionAndSortWithinPartitions(
                                new AssignedPartitioner(assignment, partitions))
                        .values()
                        .mapPartitions(
                                it ->
                                        runPartition(
                                                it,
                                                generators,
                                                deviceMode,
                                                batchSize,
                                                overlapStores,
                                                hadoopConf,
                                                output,
                                                model,
                                                version,
                                                passNames,
                                                doneCount,
                                                failedCount));

        // 7. Write, swap, count.
        Dataset<Row> metadata = spark.createDataFrame(results.union(invalidRows), schema);
        if (carried != null) {
            metadata = metadata.unionByName(carried);
        }
        String runId = UUID.randomUUID().toString();
        Path staging = new Path(root, "metadata.staging-" + runId);
        String group = "sdbatch-generate-" + runId;
        log.printf(
                "sdbatch: %d images to generate in %d partitions (%d resumed)%n",
                total, partitions, resumed);
        Progress progress =
                new Progress(log, total, doneCount, failedCount, options.maxFailures(), jsc, group);
        ScheduledExecutorService ticker =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "sdbatch-progress");
                            t.setDaemon(true);
                            return t;
                        });
        ticker.scheduleAtFixedRate(
                progress::tick,
                options.progressIntervalSeconds(),
                options.progressIntervalSeconds(),
                TimeUnit.SECONDS);
        jsc.sc().addSparkListener(progress.listener);
        jsc.setJobGroup(group, "sdbatch generate " + runId, true);
        boolean stopped = false;
        try {
            metadata.write().mode(SaveMode.ErrorIfExists).parquet(staging.toString());
        } catch (RuntimeException e) {
            if (!progress.stopped()) {
                // An aborted commit leaves no half-written staging folder behind (best effort: the
                // storage that failed the commit may fail this delete too).
                try {
                    fs.delete(staging, true);
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            stopped = true;
            fs.delete(staging, true);
        } finally {
            jsc.clearJobGroup();
            jsc.sc().removeSparkListener(progress.listener);
            ticker.shutdownNow();
            planned.unpersist(false);
        }
        int strays = ImageStore.deleteTemporaries(fs, root);
        if (strays > 0) {
            log.printf("sdbatch: deleted %d temporary image files of killed attempts%n", strays);
        }
        Map<String, Long> counts = new HashMap<>();
        if (!stopped) {
            swapIn(fs, staging, ResumeIndex.metadataPath(output));
            for (Row r :
                    spark.read()
                            .parquet(ResumeIndex.metadataPath(output).toString())
                            .groupBy(Columns.STATUS)
                            .count()
                            .collectAsList()) {
                counts.put(r.getString(0), r.getLong(1));
            }
        }
        long ok = counts.getOrDefault(Status.OK.value(), 0L);
        long invalid = counts.getOrDefault(Status.INVALID.value(), 0L);
        long failed = counts.getOrDefault(Status.FAILED.value(), 0L);
        long rows = ok + invalid + failed;
        long generated = doneCount.value() - failedCount.value();
        ExitCode exit = stopped ? ExitCode.FAILED_ROWS : ExitCode.of(invalid, failed);
        Summary summary = new Summary(rows, ok, invalid, failed, resumed, generated, stopped, exit);
        Instant end = Instant.now();
        writeRunJson(fs, root, options, components, summary, start, end, partitions, total);
        progress.finish(summary, Duration.between(start, end));
        if (truncated != null && truncated.value() > 0) {
            log.printf(
                    "sdbatch: %d prompt texts were longer than the tokenizer's 77 tokens and were"
                            + " cut (see the executor logs for which rows)%n",
                    truncated.value());
        }
        return summary;
    }

    /**
     * The normalized prompt table: its rows, the position of each part, the passthrough columns.
     *
     * @param rows the rows: known columns, passthrough columns, {@code source_row}
     * @param layout where the parts are in a row
     * @param passthroughSchema the passthrough columns as read
     */
    record Input(JavaRDD<Row> rows, Layout layout, StructType passthroughSchema) {
        static Input read(SparkSession spark, String location) {
            Dataset<Row> table = PromptTableReader.read(spark, location);
            List<StructField> pass = new ArrayList<>();
            StructField[] fields = table.schema().fields();
            int known = Columns.INPUT.size();
            for (int i = known; i < fields.length - 1; i++) {
                pass.add(fields[i]);
            }
            StructType passSchema = new StructType(pass.toArray(new StructField[0]));
            List<String> names = List.of(passSchema.fieldNames());
            return new Input(
                    table.javaRDD(),
                    new Layout(known, names, names.indexOf(SparkSchemas.CORRUPT_RECORD)),
                    passSchema);
        }

        List<String> passthroughNames() {
            return layout.passthrough();
        }
    }

    /**
     * Where the parts of a normalized row are.
     *
     * @param known number of known columns (in {@link Columns#INPUT} order, first)
     * @param passthrough passthrough column names, in order, after the known ones
     * @param corruptIndex index of {@code _corrupt_record} among the passthrough columns, or -1
     */
    record Layout(int known, List<String> passthrough, int corruptIndex) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Plans one normalized input row: one invalid metadata row, or its expanded requests. */
    static Iterator<Planned> plan(RowPlanner planner, Layout layout, Row row) {
        Map<String, Object> columns = new LinkedHashMap<>();
        for (int i = 0; i < layout.known(); i++) {
            columns.put(Columns.INPUT.get(i).name(), row.get(i));
        }
        List<String> pass = layout.passthrough();
        for (int j = 0; j < pass.size(); j++) {
            columns.put(pass.get(j), row.get(layout.known() + j));
        }
        long sourceRow = row.getLong(layout.known() + pass.size());
        PromptRow prompt = PromptRow.fromColumns(sourceRow, null, columns);
        if (layout.corruptIndex() >= 0 && row.get(layout.known() + layout.corruptIndex()) != null) {
            String corrupt = row.get(layout.known() + layout.corruptIndex()).toString();
            String error =
                    "row "
                            + sourceRow
                            + " is not valid JSON: "
                            + (corrupt.length() > 200 ? corrupt.substring(0, 200) + "…" : corrupt);
            return List.of(new Planned(null, planner.unreadable(prompt, error))).iterator();
        }
        ValidationResult v = planner.validate(prompt);
        if (v instanceof ValidationResult.Invalid inv) {
            return List.of(new Planned(null, planner.invalid(inv))).iterator();
        }
        Iterator<PlannedRequest> it = planner.expand((ValidationResult.Valid) v);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Planned next() {
                return new Planned(it.next(), null);
            }
        };
    }

    /** Runs one generation partition on an executor. */
    private static Iterator<Row> runPartition(
            Iterator<PlannedRequest> requests,
            GeneratorFactory generators,
            JobOptions.Device deviceMode,
            int batchSize,
            boolean overlapStores,
            HadoopConf hadoopConf,
            String output,
            String model,
            String version,
            List<String> passNames,
            LongAccumulator doneCount,
            LongAccumulator failedCount)
            throws IOException {
        if (!requests.hasNext()) {
            return java.util.Collections.emptyIterator();
        }
        TaskContext context = TaskContext.get();
        SparkEnv env = SparkEnv.get();
        GpuAssignment device = GpuAssignment.forCurrentTask(deviceMode);
        TaskInfo task =
                new TaskInfo(
                        env == null ? "driver" : env.executorId(),
                        device.device(),
                        device.gpuAddress(),
                        context == null ? 0 : context.attemptNumber());
        Path root = new Path(output);
        ImageStore store = ImageStore.open(root.getFileSystem(hadoopConf.get()), root);
        Generator<PlannedRequest> generator;
        try {
            generator = generators.open(device);
        } catch (Exception e) {
            // The task cannot load its pipeline: every request of the partition fails with the
            // cause (PartitionRunner turns the throw into failed rows), the job goes on.
            generator =
                    batch -> {
                        throw new IllegalStateException("opening the generator failed", e);
                    };
        }
        PartitionRunner<PlannedRequest> runner =
                new PartitionRunner<>(
                        generator,
                        store,
                        PlannedRequest::imageId,
                        PlannedRequest::batchKey,
                        batchSize,
                        task,
                        System::nanoTime,
                        overlapStores,
                        r -> {
                            // Counted as each image is stored (or fails), so running tasks'
                            // heartbeats carry per-image progress to the driver (Progress). The
                            // writer thread (stores overlap) or the task thread adds; the lock
                            // keeps two adds from ever interleaving.
                            synchronized (doneCount) {
                                doneCount.add(1);
                                if (r.status() == Status.FAILED) {
                                    failedCount.add(1);
                                }
                            }
                        });
        Iterator<RowResult<PlannedRequest>> results = runner.run(requests);
        ResultRow.Execution execution =
                new ResultRow.Execution(task.executor(), task.device(), task.attempt(), version);
        return new Iterator<>() {
            private final java.util.ArrayDeque<Row> pending = new java.util.ArrayDeque<>();

            @Override
            public boolean hasNext() {
                if (pending.isEmpty() && results.hasNext()) {
                    RowResult<PlannedRequest> r = results.next();
                    pending.addAll(resultRows(r, model, execution, version, passNames));
                }
                return !pending.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return pending.removeFirst();
            }
        };
    }

    /** The metadata rows of one generated image: its request's, then each duplicate's. */
    static List<Row> resultRows(
            RowResult<PlannedRequest> r,
            String model,
            ResultRow.Execution execution,
            String version,
            List<String> passNames) {
        PlannedRequest p = r.request();
        ResultRow.Timings timings =
                new ResultRow.Timings(
                        r.startedAt(),
                        r.encodeMs(),
                        r.denoiseMs(),
                        r.decodeMs(),
                        r.writeMs(),
                        r.totalMs());
        String gpu = r.task().gpuAddress();
        List<Row> out = new ArrayList<>(1 + p.duplicates().size());
        out.add(
                SparkSchemas.row(
                        resultRow(p.request(), p.imageId(), r, model, timings, execution),
                        gpu,
                        r.batchSize(),
                        null,
                        version,
                        passNames));
        for (GenerationRequest d : p.duplicates()) {
            out.add(
                    SparkSchemas.row(
                            resultRow(d, p.imageId(), r, model, timings, execution),
                            gpu,
                            r.batchSize(),
                            p.request().sourceRow(),
                            version,
                            passNames));
        }
        return out;
    }

    private static ResultRow resultRow(
            GenerationRequest q,
            String imageId,
            RowResult<PlannedRequest> r,
            String model,
            ResultRow.Timings timings,
            ResultRow.Execution execution) {
        StoredImage image = r.image();
        if (r.status() == Status.OK) {
            return ResultRow.ok(
                    q,
                    imageId,
                    image.uri(),
                    model,
                    image.sha256(),
                    image.bytes(),
                    timings,
                    execution);
        }
        return ResultRow.failed(q, imageId, model, r.error(), timings, execution);
    }

    /** Replaces {@code target} with {@code staging}; the old folder is removed last. */
    private static void swapIn(FileSystem fs, Path staging, Path target) throws IOException {
        Path old = null;
        if (fs.exists(target)) {
            old = new Path(target.getParent(), target.getName() + ".replaced-" + UUID.randomUUID());
            if (!fs.rename(target, old)) {
                throw new IOException("cannot move " + target + " aside to " + old);
            }
        }
        if (!fs.rename(staging, target)) {
            throw new IOException("cannot rename " + staging + " to " + target);
        }
        if (old != null) {
            fs.delete(old, true);
        }
    }

    private static void writeRunJson(
            FileSystem fs,
            Path root,
            JobOptions options,
            Components components,
            Summary summary,
            Instant start,
            Instant end,
            int partitions,
            long toGenerate)
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

    /** Driver-side progress log and the {@code --max-failures} guard. */
    private static final class Progress {
        private final PrintStream log;
        private final long total;
        private final LongAccumulator done;
        private final LongAccumulator failed;
        private final long maxFailures;
        private final JavaSparkContext jsc;
        private final String group;
        private final long startNanos = System.nanoTime();
        private volatile boolean stopped;
        private final boolean bar = System.console() != null;
        private volatile boolean barShown;

        Progress(
                PrintStream log,
                long total,
                LongAccumulator done,
                LongAccumulator failed,
                long maxFailures,
                JavaSparkContext jsc,
                String group) {
            this.log = log;
            this.total = total;
            this.done = done;
            this.failed = failed;
            this.maxFailures = maxFailures;
            this.jsc = jsc;
            this.group = group;
            this.count = new ProgressCount(total);
        }

        /** Images done: finished tasks' and running tasks' counts, from Spark's events. */
        private final ProgressCount count;

        /**
         * Feeds {@link #count} from the listener bus: executor heartbeats carry each running task's
         * done counter (every {@code spark.executor.heartbeatInterval}, which {@link
         * GenerateCommand#session} ties to {@code --progress-interval}), and a task's end carries
         * its final value. Both count images as they are stored, so the line moves per image while
         * a partition is still running, not per finished partition.
         */
        final org.apache.spark.scheduler.SparkListener listener =
                new org.apache.spark.scheduler.SparkListener() {
                    @Override
                    public void onExecutorMetricsUpdate(
                            org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate e) {
                        for (var t :
                                scala.jdk.javaapi.CollectionConverters.asJava(e.accumUpdates())) {
                            Long value = doneValue(t._4());
                            if (value != null) {
                                count.heartbeat((Long) t._1(), value);
                            }
                        }
                    }

                    @Override
                    public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd e) {
                        // A successful task's end carries its final accumulator values; a failed
                        // or killed attempt's counts are dropped, as Spark drops them.
                        Long value = doneValue(e.taskInfo().accumulables());
                        count.taskEnded(
                                e.taskInfo().taskId(),
                                e.taskInfo().successful() && value != null ? value : 0L);
                    }
                };

        /** The done counter's value among {@code infos}, or null when it is not there. */
        private Long doneValue(
                scala.collection.Iterable<org.apache.spark.scheduler.AccumulableInfo> infos) {
            for (var info : scala.jdk.javaapi.CollectionConverters.asJava(infos)) {
                if (info.id() == done.id() && info.update().isDefined()) {
                    return ((Number) info.update().get()).longValue();
                }
            }
            return null;
        }

        /** One progress line: images done (see {@link #listener}), failures, rate and ETA. */
        void tick() {
            long d = count.done();
            long f = failed.value();
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            double rate = d / Math.max(seconds, 1e-9);
            String eta =
                    rate > 0
                            ? String.format(
                                    java.util.Locale.ROOT,
                                    "%dm%02ds",
                                    (long) ((total - d) / rate) / 60,
                                    (long) ((total - d) / rate) % 60)
                            : "?";
            String line =
                    String.format(
                            java.util.Locale.ROOT,
                            "%d/%d images (%.1f%%), %d failed, %.2f images/s, ETA %s",
                            d,
                            total,
                            total == 0 ? 100.0 : 100.0 * d / total,
                            f,
                            rate,
                            eta);
            if (bar) {
                // A terminal: redraw one line in place.
                log.print("\r" + bar(d, total) + " " + line + "   ");
                log.flush();
                barShown = true;
            } else {
                log.println("sdbatch: " + line);
            }
            if (maxFailures >= 0 && f > maxFailures && !stopped) {
                stopped = true;
                log.printf(
                        "sdbatch: %d failures exceed --max-failures %d; stopping%n",
                        f, maxFailures);
                jsc.cancelJobGroup(group);
            }
        }

        boolean stopped() {
            return stopped;
        }

        /** {@code [#####-----]}: 30 cells. */
        static String bar(long done, long total) {
            int cells = 30;
            int full = total == 0 ? cells : (int) (cells * done / total);
            return "[" + "#".repeat(full) + "-".repeat(cells - full) + "]";
        }

        void finish(Summary s, Duration elapsed) {
            if (barShown) {
                log.println();
            }
            log.printf(
                    "sdbatch: done in %s: %d rows: %d ok (%d generated, %d resumed), %d invalid,"
                            + " %d failed%s; exit %d%n",
                    String.format(
                            java.util.Locale.ROOT,
                            "%dm%02ds",
                            elapsed.toMinutes(),
                            elapsed.toSecondsPart()),
                    s.rows(),
                    s.ok(),
                    s.generated(),
                    s.resumed(),
                    s.invalid(),
                    s.failed(),
                    s.stoppedEarly() ? " (stopped early)" : "",
                    s.exitCode().code());
        }
    }
}
