package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import java.nio.file.Path;
import java.util.Map;
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
    private static final String[] MODEL_METADATA = {
        "_class_name", "_diffusers_version", "_name_or_path"
    };

    private final Function<DiffusersConfigJson, C> from;
    private final boolean diffusersMetadata;
    private final Logger log;

    private ConfigReader(
            Function<DiffusersConfigJson, C> from, boolean diffusersMetadata, Logger log) {
        this.from = from;
        this.diffusersMetadata = diffusersMetadata;
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
        return new ConfigReader<>(from, true, LoggerFactory.getLogger(record));
    }

    /**
     * The reader of a transformers model's config: no diffusers metadata, so {@code from} marks the
     * keys transformers writes about the model itself.
     *
     * @param record names the logger, as the record's own would be named
     */
    static <C> ConfigReader<C> transformersModel(
            Class<?> record, Function<DiffusersConfigJson, C> from) {
        return new ConfigReader<>(from, false, LoggerFactory.getLogger(record));
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
        if (diffusersMetadata) {
            j.ignore(MODEL_METADATA);
        }
        C config = from.apply(j);
        Map<String, JsonElement> unused = j.extra();
        if (!unused.isEmpty()) {
            log.info("{}: keys not used by sdbatch: {}", j.source(), unused.keySet());
        }
        return config;
    }
}
