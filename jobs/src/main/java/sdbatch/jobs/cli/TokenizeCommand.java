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
import sdbatch.pipeline.tokenizer.CLIPTokenizer;

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
 * <p>An SDXL model has a second tokenizer ({@code tokenizer_2}, which pads with another token and
 * feeds {@code text_encoder_2}): its ids follow, as {@code tokenizer_2.input_ids: ...} and {@code
 * tokenizer_2.truncated_tokens: ...} lines, or a {@code tokenizer_2} object ({@code input_ids},
 * {@code length}, {@code truncated_tokens}) in the JSON line.
 */
public final class TokenizeCommand implements Cli.Command {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

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
        // The model's CLIP tokenizers in order: "tokenizer", and SDXL's "tokenizer_2".
        Map<String, CLIPTokenizer> tokenizers = new LinkedHashMap<>();
        Path local;
        try {
            local = spec.localDir();
            tokenizers.put("tokenizer", CLIPTokenizer.load(local.resolve("tokenizer")));
            if (ModelIndex.load(local).components().containsKey("tokenizer_2")) {
                tokenizers.put("tokenizer_2", CLIPTokenizer.load(local.resolve("tokenizer_2")));
            }
        } catch (IOException | RuntimeException e) {
            throw new StartupException(
                    "cannot load the tokenizer of model " + spec.redacted() + ": " + e.getMessage(),
                    e);
        }
        if (options.adapterFlags().embeddings() != null) {
            Map<String, CLIPTokenizer> with =
                    withEmbeddings(local, options.adapterFlags().embeddings(), spec);
            tokenizers.put("tokenizer", with.get(TextualInversion.TEXT_ENCODER));
            if (tokenizers.containsKey("tokenizer_2")) {
                tokenizers.put("tokenizer_2", with.get(TextualInversion.TEXT_ENCODER_2));
            }
        }
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
            if (options.json()) {
                out.println(GSON.toJson(json));
            }
        }
        return ExitCode.OK;
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
