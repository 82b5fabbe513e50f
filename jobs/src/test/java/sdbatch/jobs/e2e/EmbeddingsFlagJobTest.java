package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.weights.SafetensorsWriter;

/**
 * A {@code --embeddings} folder that does not fit the model stops {@code sdbatch generate}, {@code
 * validate} and {@code tokenize} at start (exit 2, before any task or metadata), naming the file
 * and the reason, as diffusers' {@code load_textual_inversion} refuses it: vectors whose width is
 * not the text encoder's {@code hidden_size} (SDXL: {@code clip_l} against {@code text_encoder},
 * {@code clip_g} against {@code text_encoder_2}), or a trigger already in the tokenizer's
 * vocabulary. A good folder next to the bad file does not help: the job refuses the folder.
 */
class EmbeddingsFlagJobTest extends SharedSparkSession {
    @TempDir Path dir;

    /** Spark tasks started in this class's session (every command here joins it). */
    private final AtomicInteger tasksStarted = new AtomicInteger();

    @BeforeAll
    void countTasks() {
        spark.sparkContext()
                .addSparkListener(
                        new SparkListener() {
                            @Override
                            public void onTaskStart(SparkListenerTaskStart taskStart) {
                                tasksStarted.incrementAndGet();
                            }
                        });
    }

    /** A folder with the golden (good) embedding and {@code bad}'s file written by {@code bad}. */
    private Path folder(String name, SafetensorsWriter bad) throws Exception {
        Path emb = Files.createDirectories(dir.resolve("emb-" + name));
        Files.copy(
                SharedData.golden().resolve("embeddings/tinystyle.safetensors"),
                emb.resolve("tinystyle.safetensors"));
        bad.write(emb.resolve(name + ".safetensors"));
        return emb;
    }

    private static int hiddenSize(String model, String encoder) throws Exception {
        return CLIPTextConfig.load(SharedData.golden().resolve(model).resolve(encoder))
                .hiddenSize();
    }

    private Path table() throws Exception {
        JsonObject o = new JsonObject();
        o.addProperty("id", "one");
        o.addProperty("prompt", "a lighthouse, tinystyle");
        o.addProperty("seed", 1);
        o.addProperty("steps", 1);
        o.addProperty("width", 64);
        o.addProperty("height", 64);
        Path input = dir.resolve("one.jsonl");
        Files.write(input, List.of(o.toString()), StandardCharsets.UTF_8);
        return input;
    }

    private GenerateArgs.CliRun generate(String model, Path embeddings, Path out) throws Exception {
        return GenerateArgs.run(
                GenerateArgs.of(
                        table(),
                        out,
                        "--model",
                        SharedData.golden().resolve(model).toString(),
                        "--embeddings",
                        embeddings.toString(),
                        "--master",
                        "local[1]"));
    }

    private static GenerateArgs.CliRun command(String... args) {
        return GenerateArgs.run(new ArrayList<>(List.of(args)));
    }

    @Test
    void aWrongWidthEmbeddingStopsGenerateValidateAndTokenizeWithExitTwo() throws Exception {
        int width = hiddenSize("tiny-sd1", "text_encoder");
        int wrong = width + 16;
        Path emb =
                folder(
                        "wide",
                        new SafetensorsWriter()
                                .add("emb_params", new long[] {1, wrong}, new float[wrong]));
        Path out = dir.resolve("out");
        GenerateArgs.CliRun run = generate("tiny-sd1", emb, out);
        assertEquals(2, run.code(), run.text());
        assertNamesWidth(run.text(), "wide.safetensors", wrong, "text_encoder", width);
        assertFalse(Files.exists(out.resolve("metadata")), "no metadata: the job never started");
        assertEquals(0, tasksStarted.get(), "no Spark task ran");

        GenerateArgs.CliRun validate =
                command(
                        "validate",
                        "--input",
                        table().toString(),
                        "--model",
                        SharedData.golden().resolve("tiny-sd1").toString(),
                        "--embeddings",
                        emb.toString(),
                        "--master",
                        "local[1]");
        assertEquals(2, validate.code(), validate.text());
        assertNamesWidth(validate.text(), "wide.safetensors", wrong, "text_encoder", width);

        GenerateArgs.CliRun tokenize =
                command(
                        "tokenize",
                        "--model",
                        SharedData.golden().resolve("tiny-sd1").toString(),
                        "--embeddings",
                        emb.toString(),
                        "a lighthouse");
        assertEquals(2, tokenize.code(), tokenize.text());
        assertNamesWidth(tokenize.text(), "wide.safetensors", wrong, "text_encoder", width);
    }

    @Test
    void anSdxlEmbeddingWhoseClipGDoesNotFitTextEncoder2StopsTheJob() throws Exception {
        int l = hiddenSize("tiny-sdxl", "text_encoder");
        int g = hiddenSize("tiny-sdxl", "text_encoder_2");
        // clip_g as wide as text_encoder_2's projection, not its hidden size.
        int projection =
                CLIPTextConfig.load(SharedData.golden().resolve("tiny-sdxl/text_encoder_2"))
                        .projectionDim();
        int wrong = projection != g ? projection : g + 8;
        Path emb =
                folder(
                        "xlstyle",
                        new SafetensorsWriter()
                                .add("clip_l", new long[] {1, l}, new float[l])
                                .add("clip_g", new long[] {1, wrong}, new float[wrong]));
        // The golden embedding is for SD 1.x (emb_params only): move it away for SDXL.
        Files.delete(emb.resolve("tinystyle.safetensors"));
        Path out = dir.resolve("out-xl");
        GenerateArgs.CliRun run = generate("tiny-sdxl", emb, out);
        assertEquals(2, run.code(), run.text());
        assertNamesWidth(run.text(), "xlstyle.safetensors", wrong, "text_encoder_2", g);
        assertFalse(Files.exists(out.resolve("metadata")), "no metadata: the job never started");

        // The same file with clip_g as wide as text_encoder_2 passes the same check: tokenize
        // shows its token in both tokenizers (the id after each vocabulary).
        new SafetensorsWriter()
                .add("clip_l", new long[] {1, l}, new float[l])
                .add("clip_g", new long[] {1, g}, new float[g])
                .write(emb.resolve("xlstyle.safetensors"));
        GenerateArgs.CliRun tokenize =
                command(
                        "tokenize",
                        "--model",
                        SharedData.golden().resolve("tiny-sdxl").toString(),
                        "--embeddings",
                        emb.toString(),
                        "xlstyle");
        assertEquals(0, tokenize.code(), tokenize.text());
        int vocab =
                CLIPTokenizer.load(SharedData.golden().resolve("tiny-sdxl/tokenizer")).vocabSize();
        int vocab2 =
                CLIPTokenizer.load(SharedData.golden().resolve("tiny-sdxl/tokenizer_2"))
                        .vocabSize();
        assertTrue(tokenize.text().contains("\ninput_ids: 49406 " + vocab + " "), tokenize.text());
        assertTrue(
                tokenize.text().contains("\ntokenizer_2.input_ids: 49406 " + vocab2 + " "),
                tokenize.text());
    }

    @Test
    void aTriggerAlreadyInTheVocabularyStopsTheJobWithExitTwo() throws Exception {
        int width = hiddenSize("tiny-sd1", "text_encoder");
        // "cat" is a CLIP vocabulary entry (as is "cat</w>"): diffusers refuses the token.
        Path emb =
                folder(
                        "cat",
                        new SafetensorsWriter()
                                .add("emb_params", new long[] {1, width}, new float[width]));
        Path out = dir.resolve("out-cat");
        GenerateArgs.CliRun run = generate("tiny-sd1", emb, out);
        assertEquals(2, run.code(), run.text());
        String text = run.text();
        assertTrue(text.contains("cat.safetensors"), text);
        assertTrue(text.contains("'cat' is already in the tokenizer's vocabulary"), text);
        assertFalse(Files.exists(out.resolve("metadata")), "no metadata: the job never started");
    }

    private static void assertNamesWidth(
            String text, String file, int found, String encoder, int expected) {
        assertTrue(text.contains(file), text);
        assertTrue(
                text.contains(
                        "its vectors are "
                                + found
                                + " wide but this model's "
                                + encoder
                                + " is "
                                + expected
                                + " wide"),
                text);
    }
}
