package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import java.nio.file.Path;
import java.util.Map;

/**
 * The configuration of transformers' {@code T5EncoderModel} (SD3's {@code text_encoder_3}), read
 * from its {@code config.json}. Every field has transformers' {@code T5Config.__init__} default and
 * this record is the only place those defaults live; decoder-only and training keys are ignored.
 *
 * @param vocabSize {@code vocab_size}
 * @param dModel {@code d_model}: the hidden width
 * @param dKv {@code d_kv}: the width of one attention head
 * @param dFf {@code d_ff}: the feed-forward width
 * @param numLayers {@code num_layers}: encoder blocks
 * @param numHeads {@code num_heads}
 * @param relativeAttentionNumBuckets {@code relative_attention_num_buckets}
 * @param relativeAttentionMaxDistance {@code relative_attention_max_distance}
 * @param layerNormEpsilon {@code layer_norm_epsilon}
 * @param feedForwardProj {@code feed_forward_proj}: {@code relu}, {@code gelu}, {@code gated-gelu}
 *     (T5 v1.1, SD3's T5-XXL) or {@code gated-silu}
 * @param extra every key of the file this record does not model
 */
public record T5Config(
        int vocabSize,
        int dModel,
        int dKv,
        int dFf,
        int numLayers,
        int numHeads,
        int relativeAttentionNumBuckets,
        int relativeAttentionMaxDistance,
        double layerNormEpsilon,
        String feedForwardProj,
        Map<String, JsonElement> extra) {

    private static final ConfigReader<T5Config> READER =
            ConfigReader.transformersModel(T5Config.class, T5Config::from);

    public T5Config {
        DiffusersConfigJson.check(
                "text_encoder_3",
                Double.isFinite(layerNormEpsilon) && layerNormEpsilon >= 0,
                "layer_norm_epsilon",
                layerNormEpsilon,
                "must be a finite number >= 0");
        DiffusersConfigJson.check(
                "text_encoder_3",
                java.util.List.of("relu", "gelu", "gated-gelu", "gated-silu")
                        .contains(feedForwardProj),
                "feed_forward_proj",
                feedForwardProj,
                "is not supported (supported: relu, gelu, gated-gelu, gated-silu)");
        extra = extra == null ? Map.of() : extra;
    }

    /** Whether the feed-forward is gated ({@code wi_0}, {@code wi_1}) or plain ({@code wi}). */
    public boolean isGatedAct() {
        return feedForwardProj.startsWith("gated-");
    }

    /**
     * The feed-forward activation as transformers' {@code T5Config} derives it: {@code gated-gelu}
     * means {@code gelu_new} (the tanh approximation), otherwise the name after the dash.
     */
    public String denseActFn() {
        if (feedForwardProj.equals("gated-gelu")) {
            return "gelu_new";
        }
        String[] parts = feedForwardProj.split("-");
        return parts[parts.length - 1];
    }

    /** Reads {@code <dir>/config.json}. */
    public static T5Config load(Path dir) {
        return READER.load(dir);
    }

    /** Parses the text of a {@code config.json}; {@code source} names it in errors. */
    public static T5Config parse(String source, String json) {
        return READER.parse(source, json);
    }

    private static T5Config from(DiffusersConfigJson j) {
        // Unused by the encoder: training settings (dropout, initialisation), the decoder's and
        // generation's (layers, token ids, cache) and what transformers derives from
        // feed_forward_proj. PretrainedConfig's generic keys are known to every transformers
        // reader.
        j.ignore(
                "classifier_dropout",
                "dropout_rate",
                "initializer_factor",
                "num_decoder_layers",
                "eos_token_id",
                "pad_token_id",
                "bos_token_id",
                "use_cache",
                "scale_decoder_outputs",
                "dense_act_fn",
                "is_gated_act",
                "n_positions",
                "output_past");
        T5Config c =
                new T5Config(
                        j.getInt("vocab_size", 32128),
                        j.getInt("d_model", 512),
                        j.getInt("d_kv", 64),
                        j.getInt("d_ff", 2048),
                        j.getInt("num_layers", 6),
                        j.getInt("num_heads", 8),
                        j.getInt("relative_attention_num_buckets", 32),
                        j.getInt("relative_attention_max_distance", 128),
                        j.getDouble("layer_norm_epsilon", 1e-6),
                        j.getString("feed_forward_proj", "relu"),
                        j.extra());
        ConfigBounds.t5(j.source(), c);
        return c;
    }
}
