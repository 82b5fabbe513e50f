package sdbatch.jobs.spark;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.generate.Generator;
import sdbatch.jobs.generate.PartitionRunner;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.generate.ReopeningGenerator;
import sdbatch.jobs.generate.ResultRows;
import sdbatch.jobs.generate.RowResult;
import sdbatch.jobs.generate.TaskInfo;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.io.ImageStore;
import sdbatch.schemas.Adapters;
import sdbatch.schemas.ResultRow;

/**
 * The executor side of generate: one task's partition of requests in, exactly one metadata row per
 * request (and per duplicate) out. Opens the task's generator on its device and the {@link
 * ImageStore}, and runs the pure {@link PartitionRunner}. A generator that cannot be opened fails
 * the task ({@link PipelineLoadException}), not its rows: Spark retries the task on another
 * executor and excludes one that keeps failing. A device that keeps faulting (a lost CUDA context)
 * fails the task too ({@link sdbatch.jobs.generate.DeviceFaultException}), after its pipeline was
 * evicted and reloaded. Serializable: Spark ships it to every task.
 *
 * @param generators opens the task's generator
 * @param deviceMode {@code --device}
 * @param batchSize {@code --batch-size}
 * @param overlapStores whether a batch is stored while the next is generated ({@link
 *     GenerateJob#OVERLAP_STORES_CONF})
 * @param hadoopConf the output file system's settings
 * @param output the output root
 * @param model the model identity
 * @param version the sdbatch version
 * @param passNames the passthrough columns, in order
 * @param counters the run's image counters (the driver's progress)
 */
record PartitionTask(
        GenerateJob.GeneratorFactory generators,
        JobOptions.Device deviceMode,
        int batchSize,
        boolean overlapStores,
        HadoopConf hadoopConf,
        String output,
        String model,
        String version,
        List<String> passNames,
        ImageCounters counters)
        implements Serializable {
    /** Runs one generation partition on an executor. */
    Iterator<Row> run(Iterator<PlannedRequest> requests) throws IOException {
        if (!requests.hasNext()) {
            return Collections.emptyIterator();
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
            // A pipeline that cannot load (CUDA driver too old, native library missing, GPU out
            // of memory, model copy not the driver's) is this executor's fault, not the rows':
            // failing their rows would make the executor a black hole that "finishes" partitions
            // fast. Failing the task makes Spark retry it elsewhere and exclude this executor.
            throw new PipelineLoadException(
                    "executor "
                            + task.executor()
                            + " cannot open the model on "
                            + device.device()
                            + "; failing the task so Spark retries it on another executor: "
                            + e.getMessage(),
                    e);
        }
        // A device fault discards the pipeline (PartitionRunner); the next batch then opens a
        // freshly loaded one through the factory.
        Generator<PlannedRequest> reopening =
                new ReopeningGenerator<>(generator, () -> generators.open(device));
        PartitionRunner<PlannedRequest> runner =
                new PartitionRunner<>(
                                reopening,
                                store,
                                PlannedRequest::imageId,
                                PlannedRequest::batchKey,
                                batchSize,
                                task,
                                System::nanoTime,
                                overlapStores)
                        .withOnFinished(r -> counters.count(r.status()));
        // Rows of one LoRA set run together (issue 18): the weights are merged once per set in
        // this partition, not once per switch between interleaved sets. Stable: ordinal order
        // is kept within a set.
        List<PlannedRequest> bySet = new ArrayList<>();
        requests.forEachRemaining(bySet::add);
        bySet.sort(Comparator.comparing(p -> Adapters.loraSetKey(p.request().adapters())));
        Iterator<RowResult<PlannedRequest>> results = runner.run(bySet.iterator());
        ResultRow.Execution execution =
                new ResultRow.Execution(task.executor(), task.device(), task.attempt(), version);
        return new Iterator<>() {
            private final ArrayDeque<Row> pending = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                if (pending.isEmpty() && results.hasNext()) {
                    pending.addAll(rows(results.next(), execution));
                }
                return !pending.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return pending.removeFirst();
            }
        };
    }

    /**
     * The metadata rows of one result ({@link ResultRows}): its request's, then each duplicate's,
     * which names the generated row in {@code duplicate_of}.
     */
    private List<Row> rows(RowResult<PlannedRequest> r, ResultRow.Execution execution) {
        List<ResultRow> rows = ResultRows.of(r, model, execution);
        String gpu = r.task().gpuAddress();
        Long duplicateOf = r.request().request().sourceRow();
        Row[] out = new Row[rows.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] =
                    SparkSchemas.row(
                            rows.get(i),
                            gpu,
                            r.batchSize(),
                            i == 0 ? null : duplicateOf,
                            version,
                            passNames);
        }
        return List.of(out);
    }
}
