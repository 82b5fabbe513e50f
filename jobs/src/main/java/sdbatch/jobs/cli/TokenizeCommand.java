package sdbatch.jobs.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import sdbatch.jobs.adapters.EmbeddingsFolder;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.spark.ModelSpec;
import sdbatch.jobs.storage.StorageUris;
import sdbatch.pipeline.PipelineConfig;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.embeddings.TextualInversion;
import sdbatch.pipeline.family.StableDiffusion3Family;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.T5Tokenizer;

/**
 * {@code sdbatch tokenize [--model DIR] [--json] [--file F] [PROMPT...]}: the ids the model's CLIP
 * tokenizer gives each prompt, padded to its 77 positions, and how many tokens were cut, as the
 * pipeline will see them; no Spark. Prompts come from {@code --file} (one per line) and then the
 * arguments. Without {@code --model}, the built-in tiny model's tokenizer (a small synthetic
 * vocabulary, not CLIP's).
 *
 * <p>Text output, per prompt: {@code prompt: <text>}, {@code input_ids: <77 ids>}, {@code
 * truncated_tokens: <n>}. With {@code --json}: one object per line with {@code prompt}, {@code
 * input_ids}, {@code length} (ids before padding) and {@code truncated_tokens}.
 *
 * <p>An SDXL or SD3 model has a second tokenizer ({@code tokenizer_2}, which pads with another
 * token and feeds {@code text_encoder_2}): its ids follow, as {@code tokenizer_2.input_ids: ...}
 * and {@code tokenizer_2.truncated_tokens: ...} lines, or a {@code tokenizer_2} object ({@code
 * input_ids}, {@code length}, {@code truncated_tokens}) in the JSON line.
 *
 * <p>An SD3 model's T5 tokenizer ({@code tokenizer_3}) comes last, as the pipeline calls it for
 * {@code prompt_3}: {@code </s>} appended, cut to {@code --max-sequence-length} (default 256, the
 * {@code max_sequence_length} column's default) with {@code </s>} kept last, padded with its pad
 * id: {@code tokenizer_3.max_sequence_length}, {@code tokenizer_3.input_ids} and {@code
 * tokenizer_3.truncated_tokens} lines, or a {@code tokenizer_3} object ({@code
 * max_sequence_length}, {@code input_ids}, {@code length}, {@code truncated_tokens}). {@code
 * --max-sequence-length} on a model without {@code tokenizer_3} is refused.
 */
public final class TokenizeCommand implements Cli.Command {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    /** The component name of SD3's T5 tokenizer. */
    private static final String T5 = "tokenizer_3";

    @Override
    public ExitCode run(JobOptions options, PrintStream out, PrintStream err) {
        List<String> prompts = new ArrayList<>();
        if (options.file() != null) {
            try {
                prompts.addAll(Files.readAllLines(Path.of(options.file()), StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                throw new StartupException(
                        "cannot read " + Flags.FILE + " " + options.file() + ": " + e.getMessage(),
                        e);
            }
        }
        prompts.addAll(options.prompts());
        ModelSpec spec =
                new ModelSpec(
                        options.model(), options.modelCache(), new HadoopConf(new Configuration()));
        // The model's CLIP tokenizers in order: "tokenizer", and SDXL's/SD3's "tokenizer_2".
        Map<String, CLIPTokenizer> tokenizers = new LinkedHashMap<>();
        Path t5Dir = null;
        Path local;
        try {
            local = spec.localDir();
            tokenizers.put("tokenizer", CLIPTokenizer.load(local.resolve("tokenizer")));
            Map<String, ?> components = ModelIndex.load(local).components();
            if (components.containsKey("tokenizer_2")) {
                tokenizers.put("tokenizer_2", CLIPTokenizer.load(local.resolve("tokenizer_2")));
            }
            if (components.containsKey(T5)) {
                t5Dir = local.resolve(T5);
            }
        } catch (IOException | RuntimeException e) {
            throw new StartupException(
                    "cannot load the tokenizer of model " + spec.redacted() + ": " + e.getMessage(),
                    e);
        }
        if (t5Dir == null && options.maxSequenceLength() != null) {
            throw new StartupException(
                    Flags.MAX_SEQUENCE_LENGTH
                            + " applies to an SD3 model's T5 tokenizer, and model "
                            + spec.redacted()
                            + " has no "
                            + T5);
        }
        if (options.adapterFlags().embeddings() != null) {
            Map<String, CLIPTokenizer> with =
                    withEmbeddings(local, options.adapterFlags().embeddings(), spec);
            tokenizers.put("tokenizer", with.get(TextualInversion.TEXT_ENCODER));
            if (tokenizers.containsKey("tokenizer_2")) {
                tokenizers.put("tokenizer_2", with.get(TextualInversion.TEXT_ENCODER_2));
            }
        }
        T5Tokenizer t5;
        try {
            t5 = t5Dir == null ? null : T5Tokenizer.load(t5Dir);
        } catch (RuntimeException e) {
            throw new StartupException(
                    "cannot load the tokenizer of model " + spec.redacted() + ": " + e.getMessage(),
                    e);
        }
        try {
            show(prompts, tokenizers, t5, options, out, err);
        } finally {
            if (t5 != null) {
                t5.close();
            }
        }
        return ExitCode.OK;
    }

    /** Every prompt through every tokenizer, as text lines or one JSON line per prompt. */
    private static void show(
            List<String> prompts,
            Map<String, CLIPTokenizer> tokenizers,
            T5Tokenizer t5,
            JobOptions options,
            PrintStream out,
            PrintStream err) {
        int maxSequenceLength =
                options.maxSequenceLength() == null
                        ? StableDiffusion3Family.DEFAULT_MAX_SEQUENCE_LENGTH
                        : options.maxSequenceLength();
        for (String given : prompts) {
            JsonObject json = new JsonObject();
            json.addProperty("prompt", given);
            if (!options.json()) {
                out.println("prompt: " + given);
            }
            for (Map.Entry<String, CLIPTokenizer> t : tokenizers.entrySet()) {
                // The first tokenizer's lines keep their plain names; the second's are prefixed.
                String prefix = "tokenizer".equals(t.getKey()) ? "" : t.getKey() + ".";
                JsonObject target = json;
                if (!prefix.isEmpty()) {
                    target = new JsonObject();
                    json.add(t.getKey(), target);
                }
                show(t.getValue(), given, prefix, options.json() ? target : null, out, err);
            }
            if (t5 != null) {
                JsonObject target = null;
                if (options.json()) {
                    target = new JsonObject();
                    json.add(T5, target);
                }
                showT5(t5, given, maxSequenceLength, target, out, err);
            }
            if (options.json()) {
                out.println(GSON.toJson(json));
            }
        }
    }

    /**
     * The T5 ids of one prompt at {@code maxSequenceLength}: into {@code json} when given, else as
     * {@code tokenizer_3.} lines; a truncation warning on {@code err}. SD3 applies no textual
     * inversion, so the prompt is tokenized as given.
     */
    private static void showT5(
            T5Tokenizer tokenizer,
            String prompt,
            int maxSequenceLength,
            JsonObject json,
            PrintStream out,
            PrintStream err) {
        T5Tokenizer.Encoding enc = tokenizer.encode(prompt, maxSequenceLength);
        long[] ids = enc.inputIds();
        int length = Math.min(tokenizer.encodeUnpadded(prompt).length, maxSequenceLength);
        if (json != null) {
            json.addProperty("max_sequence_length", maxSequenceLength);
            JsonArray a = new JsonArray();
            for (long id : ids) {
                a.add(id);
            }
            json.add("input_ids", a);
            json.addProperty("length", length);
            json.addProperty("truncated_tokens", enc.truncatedTokens());
        } else {
            StringBuilder sb = new StringBuilder();
            for (long id : ids) {
                sb.append(sb.length() == 0 ? "" : " ").append(id);
            }
            out.println(T5 + ".max_sequence_length: " + maxSequenceLength);
            out.println(T5 + ".input_ids: " + sb);
            out.println(T5 + ".truncated_tokens: " + enc.truncatedTokens());
        }
        if (enc.truncatedTokens() > 0) {
            err.printf(
                    "sdbatch tokenize: warning: %d T5 tokens beyond max_sequence_length %d were cut"
                            + " from \"%s\"%n",
                    enc.truncatedTokens(),
                    maxSequenceLength,
                    prompt.length() > 60 ? prompt.substring(0, 60) + "..." : prompt);
        }
    }

    /**
     * One tokenizer's ids of one prompt: into {@code json} when given, else as text lines whose
     * names start with {@code prefix}; a truncation warning on {@code err}.
     */
    private static void show(
            CLIPTokenizer tokenizer,
            String given,
            String prefix,
            JsonObject json,
            PrintStream out,
            PrintStream err) {
        // diffusers expands a multi-vector embedding's trigger before tokenizing.
        String prompt = tokenizer.maybeConvertPrompt(given);
        CLIPTokenizer.Encoding enc = tokenizer.encode(prompt);
        long[] ids = enc.inputIds();
        if (json != null) {
            if (!prompt.equals(given)) {
                json.addProperty("expanded_prompt", prompt);
            }
            JsonArray a = new JsonArray();
            for (long id : ids) {
                a.add(id);
            }
            json.add("input_ids", a);
            json.addProperty("length", enc.length());
            json.addProperty("truncated_tokens", enc.truncatedTokens());
        } else {
            StringBuilder sb = new StringBuilder();
            for (long id : ids) {
                sb.append(sb.length() == 0 ? "" : " ").append(id);
            }
            if (!prompt.equals(given)) {
                out.println(prefix + "expanded_prompt: " + prompt);
            }
            out.println(prefix + "input_ids: " + sb);
            out.println(prefix + "truncated_tokens: " + enc.truncatedTokens());
        }
        if (enc.truncated() && prefix.isEmpty()) {
            // Both CLIP tokenizers cut at the same place; one warning per prompt.
            err.printf(
                    "sdbatch tokenize: warning: %d tokens beyond %d were cut from \"%s\"%n",
                    enc.truncatedTokens(),
                    tokenizer.maxLength(),
                    prompt.length() > 60 ? prompt.substring(0, 60) + "..." : prompt);
        }
    }

    /**
     * The model's tokenizers with the tokens of every embedding in {@code --embeddings} added, as
     * the pipeline adds them, and checked as it checks them ({@link
     * TextualInversion#tokenizersFor}: width against each text encoder's {@code hidden_size},
     * triggers against the vocabulary), by the text encoder they feed.
     */
    private static Map<String, CLIPTokenizer> withEmbeddings(
            Path model, String flag, ModelSpec spec) {
        try {
            Path dir =
                    EmbeddingsFolder.local(
                            StorageUris.isLocal(flag)
                                    ? Path.of(flag).toAbsolutePath().toString()
                                    : flag,
                            spec);
            return TextualInversion.tokenizersFor(
                    PipelineConfig.read(model), TextualInversion.loadFolder(dir));
        } catch (IOException | RuntimeException e) {
            throw new StartupException(Flags.EMBEDDINGS + " " + flag + ": " + e.getMessage(), e);
        }
    }
}
