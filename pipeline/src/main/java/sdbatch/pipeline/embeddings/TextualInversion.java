package sdbatch.pipeline.embeddings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import sdbatch.pipeline.PipelineConfig;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.pipeline.weights.StateDictWeights;

/**
 * Textual-inversion embeddings, as diffusers' {@code TextualInversionLoaderMixin.
 * load_textual_inversion(file, token=<file stem>)} loads them: each file gives a trigger word (its
 * file name without {@code .safetensors}) and n vectors; the tokenizer gets the tokens {@code
 * trigger}, {@code trigger_1} … {@code trigger_(n-1)} and the text encoder's token embedding the n
 * rows, and {@link CLIPTokenizer#maybeConvertPrompt} makes the trigger in a prompt stand for all n.
 *
 * <p>File formats (safetensors only; pickle files are refused):
 *
 * <ul>
 *   <li>AUTOMATIC1111's: the vectors under {@code emb_params} ([n, width]);
 *   <li>diffusers' ({@code save_textual_inversion}): one tensor, named by its token ([width] or [n,
 *       width]); the file's stem is the trigger all the same, as with {@code token=} given;
 *   <li>SDXL's: {@code clip_l} for {@code text_encoder} and {@code clip_g} for {@code
 *       text_encoder_2}.
 * </ul>
 *
 * A file whose vectors do not fit the text encoder's width, or whose trigger (or {@code trigger_i})
 * is already in the tokenizer's vocabulary, is an error naming the file, as diffusers makes it.
 */
public final class TextualInversion {
    /** The text encoder an SD 1.x/2.x embedding, and SDXL's {@code clip_l}, is for. */
    public static final String TEXT_ENCODER = "text_encoder";

    /** The second text encoder (SDXL's {@code clip_g}). */
    public static final String TEXT_ENCODER_2 = "text_encoder_2";

    /**
     * One embedding file.
     *
     * @param trigger the trigger word (the file's stem)
     * @param file where it was read
     * @param vectors [n][width] per text encoder component ({@link #TEXT_ENCODER}, {@link
     *     #TEXT_ENCODER_2})
     */
    public record Embedding(String trigger, Path file, Map<String, float[][]> vectors) {
        /** The tokens it adds: {@code trigger}, {@code trigger_1}, … one per vector. */
        public List<String> tokens(String component) {
            List<String> out = new ArrayList<>();
            float[][] v = vectors.get(component);
            for (int i = 0; i < v.length; i++) {
                out.add(i == 0 ? trigger : trigger + "_" + i);
            }
            return out;
        }
    }

    private TextualInversion() {}

    /**
     * Every {@code .safetensors} embedding of {@code dir}, by file name.
     *
     * @throws ModelLoadException for a missing folder, a pickle file in it, or a file in no known
     *     format (each naming the file)
     */
    public static List<Embedding> loadFolder(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("embeddings folder " + dir + " does not exist");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        List<Embedding> out = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (StateDictWeights.PICKLE_EXTENSIONS.stream().anyMatch(name::endsWith)) {
                throw new ModelLoadException(pickleRefusal("embedding", f));
            }
            if (name.endsWith(".safetensors")) {
                out.add(read(f));
            }
        }
        return out;
    }

    /** The message refusing a pickle LoRA or embedding: loading one can execute arbitrary code. */
    public static String pickleRefusal(String what, Path file) {
        return what
                + " "
                + file
                + " is a pickle file, which sdbatch refuses because loading a pickle can execute"
                + " arbitrary code. Convert it to safetensors (for example with"
                + " safetensors.torch.save_file) and use the .safetensors file.";
    }

    /** One embedding file (any of the formats above). */
    public static Embedding read(Path file) throws IOException {
        String name = file.getFileName().toString();
        if (!name.endsWith(".safetensors")) {
            throw new ModelLoadException(
                    StateDictWeights.PICKLE_EXTENSIONS.stream().anyMatch(name::endsWith)
                            ? pickleRefusal("embedding", file)
                            : "embedding " + file + " is not a .safetensors file");
        }
        String trigger = name.substring(0, name.length() - ".safetensors".length());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Set<String> keys = f.tensors().keySet();
            Map<String, float[][]> vectors = new LinkedHashMap<>();
            if (keys.contains("emb_params")) {
                vectors.put(TEXT_ENCODER, rows(f, "emb_params"));
            } else if (keys.contains("clip_l") && keys.contains("clip_g") && keys.size() == 2) {
                vectors.put(TEXT_ENCODER, rows(f, "clip_l"));
                vectors.put(TEXT_ENCODER_2, rows(f, "clip_g"));
            } else if (keys.size() == 1) {
                vectors.put(TEXT_ENCODER, rows(f, keys.iterator().next()));
            } else {
                throw new ModelLoadException(
                        "embedding "
                                + file
                                + " is in no known textual-inversion format (expected emb_params,"
                                + " one tensor named by its token, or clip_l + clip_g); it holds "
                                + keys);
            }
            return new Embedding(trigger, file, vectors);
        }
    }

    /** A [width] or [n, width] tensor as n rows. */
    private static float[][] rows(SafetensorsFile f, String key) {
        long[] shape = f.info(key).shape();
        if (shape.length < 1 || shape.length > 2 || shape[shape.length - 1] < 1) {
            throw new ModelLoadException(
                    "embedding "
                            + f.path()
                            + ": tensor '"
                            + key
                            + "' has shape "
                            + java.util.Arrays.toString(shape)
                            + "; expected [width] or [vectors, width]");
        }
        int n = shape.length == 1 ? 1 : Math.toIntExact(shape[0]);
        int width = Math.toIntExact(shape[shape.length - 1]);
        if (n < 1) {
            throw new ModelLoadException("embedding " + f.path() + " has no vectors");
        }
        float[] flat = f.readFloats(key);
        float[][] out = new float[n][width];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * width, out[i], 0, width);
        }
        return out;
    }

    /**
     * Adds every embedding's tokens to {@code tokenizer} and its rows to {@code encoder}'s token
     * embedding, embedding by embedding, as diffusers' {@code load_textual_inversion} does for one
     * text encoder, after {@link #addTokens} has checked them all.
     *
     * @param component which of an embedding's vector sets to use ({@link #TEXT_ENCODER} or {@link
     *     #TEXT_ENCODER_2})
     * @return the tokenizer that knows the new tokens (the given one is immutable)
     * @throws ModelLoadException naming the file: see {@link #addTokens}
     */
    public static CLIPTokenizer apply(
            List<Embedding> embeddings,
            String component,
            CLIPTokenizer tokenizer,
            CLIPTextModel encoder) {
        CLIPTokenizer out =
                addTokens(
                        embeddings,
                        component,
                        tokenizer,
                        encoder.hiddenSize(),
                        encoder.tokenCount());
        for (Embedding e : embeddings) {
            encoder.appendTokenEmbeddings(e.vectors().get(component));
        }
        return out;
    }

    /**
     * The checks of diffusers' {@code load_textual_inversion} for one text encoder, without the
     * encoder's weights: every embedding has vectors for {@code component}, as wide as the
     * encoder's token embedding ({@code hidden_size}), and its tokens ({@code trigger}, {@code
     * trigger_1} …) are in neither the vocabulary nor another embedding. The pipeline calls this
     * when it loads the embeddings ({@link #apply}); a job's driver calls it through {@link
     * #tokenizersFor} with the widths of the encoders' {@code config.json}, so a folder that does
     * not fit stops the job at start instead of failing every executor's load.
     *
     * @param encoderWidth the text encoder's {@code hidden_size}
     * @param encoderTokens the rows of the encoder's token embedding ({@code vocab_size}), which
     *     must be the tokenizer's ids for new tokens to get the ids of new rows
     * @return {@code tokenizer} with the embeddings' tokens added (the given one is immutable)
     * @throws ModelLoadException naming the file and the reason
     */
    public static CLIPTokenizer addTokens(
            List<Embedding> embeddings,
            String component,
            CLIPTokenizer tokenizer,
            int encoderWidth,
            long encoderTokens) {
        if (!embeddings.isEmpty() && tokenizer.vocabSize() != encoderTokens) {
            throw new ModelLoadException(
                    "the tokenizer has "
                            + tokenizer.vocabSize()
                            + " ids but the "
                            + component
                            + " embeds "
                            + encoderTokens
                            + ": cannot add textual-inversion tokens");
        }
        CLIPTokenizer out = tokenizer;
        for (Embedding e : embeddings) {
            float[][] v = e.vectors().get(component);
            if (v == null) {
                throw new ModelLoadException(
                        "embedding "
                                + e.file()
                                + " has vectors for "
                                + e.vectors().keySet()
                                + " but none for "
                                + component
                                + ": an embedding for another model family");
            }
            if (v[0].length != encoderWidth) {
                throw new ModelLoadException(
                        "embedding "
                                + e.file()
                                + ": its vectors are "
                                + v[0].length
                                + " wide but this model's "
                                + component
                                + " is "
                                + encoderWidth
                                + " wide (hidden_size): an embedding for another model");
            }
            try {
                out = out.withAddedTokens(e.tokens(component));
            } catch (IllegalArgumentException ex) {
                throw new ModelLoadException(
                        "embedding "
                                + e.file()
                                + ": "
                                + ex.getMessage()
                                + "; rename the file to choose another trigger word",
                        ex);
            }
        }
        return out;
    }

    /**
     * The model's CLIP tokenizers with {@code embeddings}' tokens added, each checked by {@link
     * #addTokens} against its text encoder as {@link sdbatch.pipeline.StableDiffusionPipeline#load}
     * will check it, from the model's configs ({@code hidden_size}, {@code vocab_size}) and
     * tokenizer files alone: no weight is read. SD 1.x/2.x: {@code tokenizer} with {@link
     * #TEXT_ENCODER}; SDXL also {@code tokenizer_2} with {@link #TEXT_ENCODER_2}.
     *
     * @return the tokenizers by the text encoder they feed ({@link #TEXT_ENCODER}, {@link
     *     #TEXT_ENCODER_2})
     * @throws ModelLoadException naming the file and the reason, or for an SD3 model (which the
     *     pipeline loads no embeddings into)
     */
    public static Map<String, CLIPTokenizer> tokenizersFor(
            PipelineConfig config, List<Embedding> embeddings) {
        if (config.isSd3()) {
            throw new ModelLoadException(sd3Refusal(config.modelDir()));
        }
        Map<String, CLIPTokenizer> out = new LinkedHashMap<>();
        out.put(TEXT_ENCODER, checked(config, "tokenizer", TEXT_ENCODER, embeddings));
        if (config.isSdxl()) {
            out.put(TEXT_ENCODER_2, checked(config, "tokenizer_2", TEXT_ENCODER_2, embeddings));
        }
        return out;
    }

    private static CLIPTokenizer checked(
            PipelineConfig config,
            String tokenizerName,
            String component,
            List<Embedding> embeddings) {
        CLIPTextConfig encoder =
                TEXT_ENCODER.equals(component) ? config.textEncoder() : config.textEncoder2();
        CLIPTokenizer tokenizer =
                CLIPTokenizer.load(ModelIndex.load(config.modelDir()).componentDir(tokenizerName));
        return addTokens(
                embeddings, component, tokenizer, encoder.hiddenSize(), encoder.vocabSize());
    }

    /** Why an SD3 model takes no embeddings. */
    public static String sd3Refusal(Path modelDir) {
        return modelDir + ": textual-inversion embeddings on an SD3 model are not supported";
    }
}
