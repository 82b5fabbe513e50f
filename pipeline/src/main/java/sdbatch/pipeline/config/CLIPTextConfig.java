package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * The configuration of the Stable Diffusion text encoder, read from {@code
 * text_encoder/config.json} as transformers writes it for {@code CLIPTextModel}.
 *
 * <p>Every field has transformers' {@code CLIPTextConfig.__init__} default, and this record is the
 * only place those defaults live. Keys this record does not model are kept in {@link #extra()}
 * (unmodifiable, in file order) and never fatal; keys that transformers writes but that do not
 * change inference ({@code architectures}, {@code initializer_range}, dropout rates...) are kept
 * silently, anything else is logged once per parse. A value of the wrong type or out of range is a
 * {@link ModelLoadException} naming the file, the key and the value.
 *
 * @param vocabSize rows of {@code token_embedding}
 * @param hiddenSize width of the residual stream (and of the text embeddings SD consumes)
 * @param intermediateSize width of each layer's MLP
 * @param projectionDim output width of {@code CLIPTextModelWithProjection}; unused by {@code
 *     CLIPTextModel}, kept for completeness
 * @param numHiddenLayers encoder layers; {@code clip_skip} must be smaller
 * @param numAttentionHeads heads per self-attention; must divide {@code hiddenSize}
 * @param maxPositionEmbeddings rows of {@code position_embedding}: the longest sequence (77)
 * @param hiddenAct MLP activation: {@code quick_gelu}, {@code gelu} (exact, erf), {@code gelu_new}
 *     or {@code gelu_pytorch_tanh} (tanh approximation)
 * @param layerNormEps epsilon of every LayerNorm
 * @param padTokenId id of the padding token
 * @param bosTokenId id of {@code <|startoftext|>}
 * @param eosTokenId id of {@code <|endoftext|>}; the legacy value 2 (old SD 1.x configs) makes the
 *     pooled output take the position of the largest id, as transformers does
 * @param dtype {@code dtype} (transformers 5) or {@code torch_dtype} (transformers 4) as written,
 *     or null; informational, the compute dtype is chosen by the caller
 * @param extra every other key of the file, unmodifiable
 */
public record CLIPTextConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int projectionDim,
        int numHiddenLayers,
        int numAttentionHeads,
        int maxPositionEmbeddings,
        String hiddenAct,
        double layerNormEps,
        int padTokenId,
        int bosTokenId,
        int eosTokenId,
        String dtype,
        Map<String, JsonElement> extra) {

    private static final Logger LOG = LoggerFactory.getLogger(CLIPTextConfig.class);

    /** The file name inside a {@code text_encoder} folder. */
    public static final String FILE_NAME = "config.json";

    /** Activations this implementation computes, as transformers' {@code ACT2FN} names them. */
    public static final List<String> SUPPORTED_ACTIVATIONS =
            List.of("quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh");

    // transformers CLIPTextConfig.__init__ defaults (configuration_clip.py).
    public static final int VOCAB_SIZE_DEFAULT = 49408;
    public static final int HIDDEN_SIZE_DEFAULT = 512;
    public static final int INTERMEDIATE_SIZE_DEFAULT = 2048;
    public static final int PROJECTION_DIM_DEFAULT = 512;
    public static final int NUM_HIDDEN_LAYERS_DEFAULT = 12;
    public static final int NUM_ATTENTION_HEADS_DEFAULT = 8;
    public static final int MAX_POSITION_EMBEDDINGS_DEFAULT = 77;
    public static final String HIDDEN_ACT_DEFAULT = "quick_gelu";
    public static final double LAYER_NORM_EPS_DEFAULT = 1e-5;
    // Since transformers PR #24773 the defaults are the real CLIP tokenizer ids (pad stays 1).
    public static final int PAD_TOKEN_ID_DEFAULT = 1;
    public static final int BOS_TOKEN_ID_DEFAULT = 49406;
    public static final int EOS_TOKEN_ID_DEFAULT = 49407;

    /**
     * Keys transformers writes into a CLIP text config that do not affect inference here: kept in
     * {@link #extra()} without a log line: {@code PretrainedConfig}'s generic keys ({@link
     * ConfigReader#TRANSFORMERS_METADATA}) and CLIP's initialisation and dropout settings.
     */
    private static final Set<String> KNOWN_IGNORED =
            Stream.concat(
                            ConfigReader.TRANSFORMERS_METADATA.stream(),
                            Stream.of(
                                    "initializer_range",
                                    "initializer_factor",
                                    "attention_dropout",
                                    "dropout"))
                    .collect(Collectors.toUnmodifiableSet());

    public CLIPTextConfig {
        extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /** transformers' default configuration (the text tower of openai/clip-vit-base-patch32). */
    public static CLIPTextConfig defaults() {
        return parse(new JsonObject(), "<defaults>");
    }

    /** Reads {@code <textEncoderDir>/config.json}. */
    public static CLIPTextConfig load(Path textEncoderDir) throws IOException {
        Path file =
                ModelLoadException.requireFile(
                        textEncoderDir,
                        FILE_NAME,
                        "text encoder folder",
                        "transformers' save_pretrained writes it");
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /**
     * Parses a config.json text.
     *
     * @param source names the file in error messages
     */
    public static CLIPTextConfig parse(String json, String source) {
        JsonElement root;
        try {
            root = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new ModelLoadException(source + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isJsonObject()) {
            throw new ModelLoadException(source + " must hold a JSON object, not " + root);
        }
        return parse(root.getAsJsonObject(), source);
    }

    private static CLIPTextConfig parse(JsonObject o, String source) {
        Reader r = new Reader(o, source);
        CLIPTextConfig c =
                new CLIPTextConfig(
                        r.positiveInt("vocab_size", VOCAB_SIZE_DEFAULT),
                        r.positiveInt("hidden_size", HIDDEN_SIZE_DEFAULT),
                        r.positiveInt("intermediate_size", INTERMEDIATE_SIZE_DEFAULT),
                        r.positiveInt("projection_dim", PROJECTION_DIM_DEFAULT),
                        r.positiveInt("num_hidden_layers", NUM_HIDDEN_LAYERS_DEFAULT),
                        r.positiveInt("num_attention_heads", NUM_ATTENTION_HEADS_DEFAULT),
                        r.positiveInt("max_position_embeddings", MAX_POSITION_EMBEDDINGS_DEFAULT),
                        r.string("hidden_act", HIDDEN_ACT_DEFAULT),
                        r.positiveDouble("layer_norm_eps", LAYER_NORM_EPS_DEFAULT),
                        r.tokenId("pad_token_id", PAD_TOKEN_ID_DEFAULT),
                        r.tokenId("bos_token_id", BOS_TOKEN_ID_DEFAULT),
                        r.tokenId("eos_token_id", EOS_TOKEN_ID_DEFAULT),
                        r.dtype(),
                        r.rest());
        ConfigBounds.clipText(source, c);
        if (!SUPPORTED_ACTIVATIONS.contains(c.hiddenAct)) {
            throw new ModelLoadException(
                    source
                            + ": hidden_act \""
                            + c.hiddenAct
                            + "\" is not supported (supported: "
                            + SUPPORTED_ACTIVATIONS
                            + ")");
        }
        if (c.hiddenSize % c.numAttentionHeads != 0) {
            throw new ModelLoadException(
                    source
                            + ": hidden_size "
                            + c.hiddenSize
                            + " is not a multiple of num_attention_heads "
                            + c.numAttentionHeads);
        }
        List<String> unknown =
                c.extra.keySet().stream().filter(k -> !KNOWN_IGNORED.contains(k)).toList();
        if (!unknown.isEmpty()) {
            LOG.info("{}: keys not used by CLIPTextModel, kept and ignored: {}", source, unknown);
        }
        return c;
    }

    /** Width of one attention head. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Reads typed keys and remembers which ones it consumed. */
    private static final class Reader {
        private final JsonObject o;
        private final String source;
        private final Set<String> used = new java.util.HashSet<>();

        Reader(JsonObject o, String source) {
            this.o = o;
            this.source = source;
        }

        private JsonPrimitive primitive(String key) {
            used.add(key);
            JsonElement e = o.get(key);
            if (e == null || e.isJsonNull()) {
                return null;
            }
            if (!e.isJsonPrimitive()) {
                throw bad(key, e, "a single value");
            }
            return e.getAsJsonPrimitive();
        }

        int positiveInt(String key, int def) {
            int v = integer(key, def, "a positive integer");
            if (v <= 0) {
                throw bad(key, o.get(key), "a positive integer");
            }
            return v;
        }

        /** Token ids may be null in a config (no such token); null reads as the default. */
        int tokenId(String key, int def) {
            return integer(key, def, "an integer");
        }

        private int integer(String key, int def, String rule) {
            JsonPrimitive p = primitive(key);
            if (p == null) {
                return def;
            }
            if (!p.isNumber()) {
                throw bad(key, p, rule);
            }
            double d = p.getAsDouble();
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw bad(key, p, rule);
            }
            return (int) d;
        }

        double positiveDouble(String key, double def) {
            JsonPrimitive p = primitive(key);
            if (p == null) {
                return def;
            }
            if (!p.isNumber() || !(p.getAsDouble() > 0) || Double.isInfinite(p.getAsDouble())) {
                throw bad(key, p, "a positive number");
            }
            return p.getAsDouble();
        }

        String string(String key, String def) {
            JsonPrimitive p = primitive(key);
            if (p == null) {
                return def;
            }
            if (!p.isString()) {
                throw bad(key, p, "a string");
            }
            return p.getAsString();
        }

        String dtype() {
            // transformers 5 writes "dtype", transformers 4 "torch_dtype"; either is informational.
            String d = string("dtype", null);
            String td = string("torch_dtype", null);
            return d != null ? d : td;
        }

        Map<String, JsonElement> rest() {
            Map<String, JsonElement> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : o.entrySet()) {
                if (!used.contains(e.getKey())) {
                    out.put(e.getKey(), e.getValue());
                }
            }
            return out;
        }

        private ModelLoadException bad(String key, JsonElement value, String rule) {
            return new ModelLoadException(
                    source + ": " + key + " must be " + rule + ", got " + value);
        }
    }
}
