package sdbatch.jobs.e2e;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.spark.ExecutorPipelines;
import sdbatch.jobs.spark.GpuAssignment;
import sdbatch.jobs.spark.ModelSpec;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.testing.SharedData;

/**
 * The prompt-table rows of the LoRA job tests (one step at 64x64, a LoRA set or none), the table
 * folder beside them, and the pipeline their jobs run on.
 */
final class LoraRows {
    private LoraRows() {}

    /**
     * Row {@code id}: prompt {@code subject + " " + id}, {@code seed}, and {@code loras} (the
     * column's text) unless null.
     */
    static JsonObject row(String subject, String id, int seed, String loras) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("prompt", subject + " " + id);
        o.addProperty("seed", seed);
        o.addProperty("steps", 1);
        o.addProperty("width", 64);
        o.addProperty("height", 64);
        if (loras != null) {
            o.addProperty("loras", loras);
        }
        return o;
    }

    /** {@code dir/table}, with the golden SD1 LoRAs (kohya and peft) copied into its loras/. */
    static Path tableWithGoldenLoras(Path dir) throws IOException {
        Path table = Files.createDirectories(dir.resolve("table"));
        Path loras = Files.createDirectories(table.resolve("loras"));
        for (String f : List.of("lora-kohya-sd1.safetensors", "lora-peft-sd1.safetensors")) {
            Files.copy(SharedData.golden().resolve("loras").resolve(f), loras.resolve(f));
        }
        return table;
    }

    /**
     * The JVM's cached pipeline of the golden tiny-sd1 on the CPU in fp32: the one a local-mode
     * job's tasks use, so a test can count the LoRA merges they make.
     */
    static StableDiffusionPipeline tinySd1Pipeline() throws Exception {
        Path model = SharedData.golden().resolve("tiny-sd1");
        Path local =
                new ModelSpec(model.toString(), null, new HadoopConf(new Configuration()))
                        .localDir();
        return ExecutorPipelines.pipeline(
                local, ModelContent.hash(local), new GpuAssignment("cpu", null), "fp32");
    }

    /**
     * {@code generate --input INPUT --output OUT} on the golden tiny-sd1 with one task slot, {@code
     * partitions} partitions and batches of 4, then {@code more}.
     */
    static List<String> generateArgs(Path input, Path out, int partitions, String... more) {
        List<String> args =
                GenerateArgs.of(
                        input,
                        out,
                        "--model",
                        SharedData.golden().resolve("tiny-sd1").toString(),
                        "--master",
                        "local[1]",
                        "--partitions",
                        Integer.toString(partitions),
                        "--batch-size",
                        "4");
        args.addAll(List.of(more));
        return args;
    }
}
