package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.Cli;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.Generator;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.schemas.Adapters;

/**
 * The partition planner keeps each LoRA set's rows together (issue 18): a table whose rows cycle
 * through four LoRA sets of unequal size (6, 4, 3 and 2 rows) and plain rows, over three
 * partitions, merges each set in about one task, not in every task. Plain cost balancing (LPT) of
 * these equal-cost rows deals them out round-robin, so that every set lands in two or three tasks
 * (11 task × set pairs, 11 merges); the grouped planner cuts the sets laid out one after another,
 * so the tasks hold at most sets + partitions - 1 = 6 pairs.
 *
 * <p>One task slot ({@code local[1]}): the tasks run one after another on the JVM's one pipeline,
 * as each would on its own executor, so the merges each task makes are exact. A hook around the
 * real generator records, per task, each batch's LoRA set and the pipeline's merges during it.
 */
class LoraPartitionPlanJobTest extends SharedSparkSession {
    /** Per task (partition id): the LoRA set of each batch it generated, in order. */
    private static final Map<Integer, List<String>> SETS = new ConcurrentHashMap<>();

    /** Per task: the merges the pipeline made while the task's batches ran. */
    private static final Map<Integer, Long> MERGES = new ConcurrentHashMap<>();

    /** The JVM's pipeline for tiny-sd1 on the CPU: the one the job's tasks use. */
    private static volatile StableDiffusionPipeline pipeline;

    @TempDir Path dir;

    @Override
    protected String master() {
        return "local[1]";
    }

    private static JsonObject row(String id, int seed, String loras) {
        return LoraRows.row("a harbour", id, seed, loras);
    }

    @Test
    void eachLoraSetMergesInAboutOneTaskNotInEveryTask() throws Exception {
        Path table = LoraRows.tableWithGoldenLoras(dir);
        String kohya = "loras/lora-kohya-sd1.safetensors:";
        String peft = "loras/lora-peft-sd1.safetensors:";
        // Weights no other test uses, so the cached pipeline cannot already hold one of the sets.
        String[] sets = {
            kohya + 0.17, peft + 0.23, kohya + 0.31 + ";" + peft + 0.43, peft + 0.61, null
        };
        int[] rowsPerSet = {6, 4, 3, 2, 3};
        // Round after round, one row of every set that has rows left: the sets interleave.
        List<String> lines = new ArrayList<>();
        for (int round = 0; round < 6; round++) {
            for (int s = 0; s < sets.length; s++) {
                if (round < rowsPerSet[s]) {
                    lines.add(row("s" + s + "r" + round, 1000 + lines.size(), sets[s]).toString());
                }
            }
        }
        Path input = table.resolve("sets.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);

        pipeline = LoraRows.tinySd1Pipeline();
        long before = pipeline.loraWeights().mergeCount();
        SETS.clear();
        MERGES.clear();

        int partitions = 3;
        Path out = dir.resolve("out");
        GenerateArgs.CliRun run =
                GenerateArgs.run(recordingCli(), LoraRows.generateArgs(input, out, partitions));
        assertEquals(0, run.code(), run.text());
        List<Row> rows = metadata(out);
        assertEquals(lines.size(), rows.size());
        for (Row r : rows) {
            assertEquals("ok", r.getAs("status"), r.<String>getAs("error"));
        }

        long merges = pipeline.loraWeights().mergeCount() - before;
        Map<Integer, Set<String>> setsPerTask = new TreeMap<>();
        Set<String> allSets = new LinkedHashSet<>();
        for (Map.Entry<Integer, List<String>> e : SETS.entrySet()) {
            Set<String> own = new LinkedHashSet<>(e.getValue());
            own.remove(""); // plain rows merge nothing
            setsPerTask.put(e.getKey(), own);
            allSets.addAll(own);
        }
        int pairs = setsPerTask.values().stream().mapToInt(Set::size).sum();
        String numbers =
                "merges per task "
                        + new TreeMap<>(MERGES)
                        + ", LoRA sets per task "
                        + setsPerTask.entrySet().stream()
                                .map(e -> e.getKey() + "=" + e.getValue().size())
                                .toList()
                        + ", executor merges "
                        + merges
                        + ", task x set pairs "
                        + pairs;
        System.out.println("LoraPartitionPlanJobTest: " + numbers);
        assertEquals(4, allSets.size(), numbers);
        assertEquals(partitions, setsPerTask.size(), numbers);
        assertEquals(merges, MERGES.values().stream().mapToLong(Long::longValue).sum(), numbers);
        for (Map.Entry<Integer, Set<String>> e : setsPerTask.entrySet()) {
            assertTrue(
                    MERGES.getOrDefault(e.getKey(), 0L) <= e.getValue().size(),
                    "task " + e.getKey() + " merges each of its sets once: " + numbers);
        }
        int bound = allSets.size() + partitions - 1;
        assertTrue(pairs <= bound, "sets kept together (at most " + bound + "): " + numbers);
        assertTrue(merges <= bound, "at most " + bound + " merges: " + numbers);
    }

    /**
     * The real command line whose {@code generate} runs the real job with a hook around its
     * generator that records, per task, each batch's LoRA set and the pipeline's merges.
     */
    private static Cli recordingCli() {
        return GenerateArgs.withGeneratorHook(
                generators -> device -> recording(generators.open(device)));
    }

    private static Generator<PlannedRequest> recording(Generator<PlannedRequest> real) {
        return batch -> {
            int task = TaskContext.getPartitionId();
            long before = pipeline.loraWeights().mergeCount();
            List<GeneratedPng> out = real.generate(batch);
            MERGES.merge(task, pipeline.loraWeights().mergeCount() - before, Long::sum);
            SETS.computeIfAbsent(task, t -> new ArrayList<>())
                    .add(Adapters.loraSetKey(batch.get(0).request().adapters()));
            return out;
        };
    }
}
