package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one config record is read from its {@code config.json}: the record's port of its library's
 * {@code __init__} argument handling ({@code from}), whether the file carries diffusers' {@code
 * ConfigMixin} metadata, and the logger that reports the keys {@code from} did not use. Each record
 * declares its reader once; its {@code load(dir)} and {@code parse(source, json)} both go through
 * it, so a file on disk and the same text in memory are read alike.
 *
 * @param <C> the config record
 */
final class ConfigReader<C> {
    /** The file name inside a model component's folder, for diffusers and transformers alike. */
    static final String FILE_NAME = "config.json";

    /**
     * The keys diffusers' {@code ConfigMixin} writes about a model rather than for its {@code
     * __init__}: known without being read.
     */
    private static final Set<String> MODEL_METADATA =
            Set.of("_class_name", "_diffusers_version", "_name_or_path");

    /**
     * The keys transformers' {@code PretrainedConfig} writes into every model's config, whatever
     * the model: what the file is ({@code architectures}, {@code model_type}, versions, the dtype
     * it was saved in), the outputs, heads and generation settings of other uses of the model. None
     * changes the encoder forward sdbatch runs: known without being read.
     */
    static final Set<String> TRANSFORMERS_METADATA =
            Set.of(
                    "architectures",
                    "model_type",
                    "transformers_version",
                    "_name_or_path",
                    "_commit_hash",
                    "dtype",
                    "torch_dtype",
                    "is_decoder",
                    "is_encoder_decoder",
                    "tie_word_embeddings",
                    "task_specific_params",
                    "decoder_start_token_id",
                    "output_attentions",
                    "output_hidden_states",
                    "return_dict",
                    "use_return_dict",
                    "torchscript",
                    "id2label",
                    "label2id",
                    "problem_type",
                    "chunk_size_feed_forward",
                    "pruned_heads",
                    "add_cross_attention",
                    "cross_attention_hidden_size",
                    "prefix",
                    "finetuning_task",
                    "tokenizer_class",
                    "sep_token_id");

    private final Function<DiffusersConfigJson, C> from;
    private final Set<String> metadata;
    private final Logger log;

    private ConfigReader(Function<DiffusersConfigJson, C> from, Set<String> metadata, Logger log) {
        this.from = from;
        this.metadata = metadata;
        this.log = log;
    }

    /**
     * The reader of a diffusers model's config ({@code unet}, {@code vae}, {@code transformer},
     * ...): {@code ConfigMixin}'s metadata keys ({@code _class_name}, ...) are known.
     *
     * @param record names the logger, as the record's own would be named
     */
    static <C> ConfigReader<C> diffusersModel(
            Class<?> record, Function<DiffusersConfigJson, C> from) {
        return new ConfigReader<>(from, MODEL_METADATA, LoggerFactory.getLogger(record));
    }

    /**
     * The reader of a transformers model's config ({@code text_encoder_3}): {@code
     * PretrainedConfig}'s generic keys ({@link #TRANSFORMERS_METADATA}) are known, so {@code from}
     * marks only its model's own unused keys.
     *
     * @param record names the logger, as the record's own would be named
     */
    static <C> ConfigReader<C> transformersModel(
            Class<?> record, Function<DiffusersConfigJson, C> from) {
        return new ConfigReader<>(from, TRANSFORMERS_METADATA, LoggerFactory.getLogger(record));
    }

    /** Reads {@code <dir>/config.json}; a missing or malformed file names the path. */
    C load(Path dir) {
        return build(DiffusersConfigJson.read(dir.resolve(FILE_NAME)));
    }

    /** Parses the text of a {@code config.json}; {@code source} names it in errors. */
    C parse(String source, String json) {
        return build(DiffusersConfigJson.parse(source, json));
    }

    /**
     * Builds the record with {@code from}, then logs once the keys it did not use: they stay in the
     * record's {@code extra()}, never fatal.
     */
    private C build(DiffusersConfigJson j) {
        j.ignore(metadata);
        C config = from.apply(j);
        Map<String, JsonElement> unused = j.extra();
        if (!unused.isEmpty()) {
            log.info("{}: keys not used by sdbatch: {}", j.source(), unused.keySet());
        }
        return config;
    }
}
