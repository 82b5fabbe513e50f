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
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.spark.ModelSpec;
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
        CLIPTokenizer tokenizer;
        try {
            tokenizer = CLIPTokenizer.load(spec.localDir().resolve("tokenizer"));
        } catch (IOException | RuntimeException e) {
            throw new StartupException(
                    "cannot load the tokenizer of model " + spec.redacted() + ": " + e.getMessage(),
                    e);
        }
        if (options.adapterFlags().embeddings() != null) {
            tokenizer = withEmbeddings(tokenizer, options.adapterFlags().embeddings(), spec);
        }
        for (String given : prompts) {
            // diffusers expands a multi-vector embedding's trigger before tokenizing.
            String prompt = tokenizer.maybeConvertPrompt(given);
            CLIPTokenizer.Encoding enc = tokenizer.encode(prompt);
            long[] ids = enc.inputIds();
            if (options.json()) {
                JsonObject o = new JsonObject();
                o.addProperty("prompt", given);
                if (!prompt.equals(given)) {
                    o.addProperty("expanded_prompt", prompt);
                }
                JsonArray a = new JsonArray();
                for (long id : ids) {
                    a.add(id);
                }
                o.add("input_ids", a);
                o.addProperty("length", enc.length());
                o.addProperty("truncated_tokens", enc.truncatedTokens());
                out.println(GSON.toJson(o));
            } else {
                StringBuilder sb = new StringBuilder();
                for (long id : ids) {
                    sb.append(sb.length() == 0 ? "" : " ").append(id);
                }
                out.println("prompt: " + given);
                if (!prompt.equals(given)) {
                    out.println("expanded_prompt: " + prompt);
                }
                out.println("input_ids: " + sb);
                out.println("truncated_tokens: " + enc.truncatedTokens());
            }
            if (enc.truncated()) {
                err.printf(
                        "sdbatch tokenize: warning: %d tokens beyond %d were cut from \"%s\"%n",
                        enc.truncatedTokens(),
                        tokenizer.maxLength(),
                        prompt.length() > 60 ? prompt.substring(0, 60) + "..." : prompt);
            }
        }
        return ExitCode.OK;
    }

    /**
     * {@code tokenizer} with the tokens of every embedding in {@code --embeddings} added, as the
     * pipeline adds them ({@code TextualInversion.apply}; the text encoder's width is checked only
     * when a pipeline loads them).
     */
    private static CLIPTokenizer withEmbeddings(
            CLIPTokenizer tokenizer, String flag, ModelSpec spec) {
        try {
            java.nio.file.Path dir =
                    sdbatch.jobs.adapters.EmbeddingsFolder.local(
                            sdbatch.jobs.storage.StorageUris.isLocal(flag)
                                    ? java.nio.file.Path.of(flag).toAbsolutePath().toString()
                                    : flag,
                            spec);
            CLIPTokenizer out = tokenizer;
            for (TextualInversion.Embedding e : TextualInversion.loadFolder(dir)) {
                out = out.withAddedTokens(e.tokens(TextualInversion.TEXT_ENCODER));
            }
            return out;
        } catch (IOException | RuntimeException e) {
            throw new StartupException(Flags.EMBEDDINGS + " " + flag + ": " + e.getMessage(), e);
        }
    }
}
