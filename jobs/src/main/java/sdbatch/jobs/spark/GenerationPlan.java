package sdbatch.jobs.spark;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.generate.CostPartitioner;
import sdbatch.jobs.generate.FamilyColumns;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.generate.RequestOrInvalid;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.io.ResumeIndex;

/**
 * What a generate run will do, decided on the driver before any image is generated:
 *
 * <ol>
 *   <li>Read the table ({@link InputTable}).
 *   <li>Plan every row on the executors ({@link RowPlanner#plan}): validate and expand over the
 *       sweep. Number the requests densely and deterministically ({@code zipWithIndex}).
 *   <li>One generation per image id: equal requests ride along as duplicates ({@link
 *       PlannedRequest#merge}).
 *   <li>With {@code --resume}, drop requests whose image is already stored ({@link ResumeIndex}:
 *       one listing of the images, also those of a run whose driver died before its commit); their
 *       metadata rows are built from the current input ({@link ResumedRows}).
 *   <li>Collect only (ordinal, cost, LoRA set hash) triples and assign partitions with {@link
 *       CostPartitioner}, keeping each LoRA set's requests together.
 * </ol>
 *
 * The planned rows stay persisted until {@link #unpersist}: the invalid rows and the requests are
 * both read from them.
 *
 * @param schema the metadata table's schema (with the passthrough columns)
 * @param passthroughNames the passthrough columns, in order
 * @param planned every planned item, numbered
 * @param invalidRows the metadata rows of the invalid input rows
 * @param requests the requests to generate: one per image id, without the resumed ones
 * @param carried the ok rows of the current requests whose image {@code --resume} found stored, or
 *     null
 * @param resumed images skipped because an earlier run made them
 * @param total images to generate
 * @param partitions generation partitions
 * @param assignment each request's partition, by ordinal
 * @param warnings what the job warns about once (SDXL/SD3 columns the model ignores), for the log
 *     and {@code run.json}
 */
record GenerationPlan(
        StructType schema,
        List<String> passthroughNames,
        JavaRDD<RequestOrInvalid> planned,
        JavaRDD<Row> invalidRows,
        JavaRDD<PlannedRequest> requests,
        Dataset<Row> carried,
        long resumed,
        long total,
        int partitions,
        Broadcast<AssignedPartitioner.Assignment> assignment,
        List<String> warnings) {

    /** Plans the run (reads the table, runs the counting jobs of resume and partitioning). */
    static GenerationPlan make(
            SparkSession spark, JobOptions options, RowPlanner planner, String version) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String output = options.output();

        // 1. Read.
        InputTable in = InputTable.read(spark, options.input());
        StructType schema = SparkSchemas.metadata(in.passthroughSchema());
        List<String> passNames = in.passthroughNames();
        // SDXL/SD3 columns the model's family ignores: one warning per job, not one per row.
        FamilyColumns family = planner.model().family();
        String ignored = family.warning(in.nonNullCounts(family.unused()));
        List<String> warnings = ignored == null ? List.of() : List.of(ignored);

        // 2. Validate and expand every row; number the requests densely and deterministically.
        JavaRDD<RequestOrInvalid> planned =
                in.planned(planner).zipWithIndex().map(t -> t._1().withOrdinal(t._2()));
        planned.persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<Row> invalidRows =
                planned.filter(p -> p.invalid() != null)
                        .map(
                                p ->
                                        SparkSchemas.row(
                                                p.invalid(), null, null, null, version, passNames));

        // 3. One generation per image id: equal requests ride along as duplicates. Folded with a
        // mutable combiner, not a pairwise merge: N identical rows cost O(N), not O(N^2).
        JavaRDD<PlannedRequest> valid =
                planned.filter(p -> p.request() != null)
                        .mapToPair(p -> new Tuple2<>(p.request().imageId(), p.request()))
                        .combineByKey(
                                PlannedRequest.Fold::of,
                                PlannedRequest.Fold::add,
                                PlannedRequest.Fold::addAll)
                        .values()
                        .map(PlannedRequest.Fold::result);

        // 4. Resume: one listing of the stored images, taken once; the carried rows are built
        // from the current input (a new duplicate of a done image gets its row, a removed row's
        // old row is dropped) and computed once, here.
        Dataset<Row> carried = null;
        long resumed = 0;
        if (options.resume()) {
            ResumeIndex index = ResumeIndex.load(spark, output);
            if (!index.stored().isEmpty()) {
                Broadcast<Map<String, Long>> stored = jsc.broadcast(index.stored());
                JavaRDD<PlannedRequest> done =
                        valid.filter(p -> stored.value().containsKey(p.imageId()));
                valid = valid.filter(p -> !stored.value().containsKey(p.imageId()));
                String rootUri = qualifiedRoot(spark, output);
                JavaRDD<Row> rows =
                        ResumedRows.of(
                                done,
                                index,
                                stored,
                                new HadoopConf(jsc.hadoopConfiguration()),
                                rootUri,
                                planner.model().identity(),
                                version,
                                passNames);
                carried = spark.createDataFrame(rows, schema);
                carried.persist(StorageLevel.MEMORY_AND_DISK());
                // Old metadata that cannot be read, or a stored image that cannot be, stops the
                // run here, before any image is generated, not at the final write.
                carried.count();
                resumed = done.count();
            }
        }

        // 5. Cost-balanced partitions that keep each LoRA set's rows together (issue 18: a set
        // merged once per partition, not in every partition).
        List<long[]> costs =
                valid.map(p -> new long[] {p.ordinal(), p.cost(), p.loraSetHash()}).collect();
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
        int[] groups = new int[sorted.length];
        Map<Long, Integer> groupIds = new HashMap<>();
        for (int i = 0; i < sorted.length; i++) {
            ordinals[i] = sorted[i][0];
            costArray[i] = sorted[i][1];
            groups[i] = groupIds.computeIfAbsent(sorted[i][2], h -> groupIds.size());
        }
        int[] assigned = CostPartitioner.assign(costArray, groups, partitions);
        Broadcast<AssignedPartitioner.Assignment> assignment =
                jsc.broadcast(new AssignedPartitioner.Assignment(ordinals, assigned));
        return new GenerationPlan(
                schema,
                passNames,
                planned,
                invalidRows,
                valid,
                carried,
                resumed,
                total,
                partitions,
                assignment,
                warnings);
    }

    /** The requests in their assigned partitions, sorted by ordinal inside each. */
    JavaRDD<PlannedRequest> partitioned() {
        return requests.mapToPair(p -> new Tuple2<>(p.ordinal(), p))
                .repartitionAndSortWithinPartitions(new AssignedPartitioner(assignment, partitions))
                .values();
    }

    /** Releases the persisted planned and carried rows (after the metadata is written). */
    void unpersist() {
        planned.unpersist(false);
        if (carried != null) {
            carried.unpersist(false);
        }
    }

    /** The output root qualified as {@link sdbatch.jobs.io.ImageStore} qualifies it. */
    private static String qualifiedRoot(SparkSession spark, String output) {
        Path root = new Path(output);
        try {
            return root.getFileSystem(spark.sparkContext().hadoopConfiguration())
                    .makeQualified(root)
                    .toString();
        } catch (IOException e) {
            throw new StartupException("cannot open output " + output + ": " + e.getMessage(), e);
        }
    }
}
