package sdbatch.schemas;

import java.io.Serializable;
import java.lang.invoke.MethodHandles;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import sdbatch.schemas.metadata.ImageId;
import sdbatch.schemas.util.RecordCopier;

/**
 * One metadata row: the outcome of one expanded request ({@link Status#OK} or {@link
 * Status#FAILED}) or of one invalid input row ({@link Status#INVALID}). Every input row yields at
 * least one result row, so nothing is lost silently.
 *
 * <p>The fields follow {@link Columns#OUTPUT} (see {@link #values()}), then the passthrough
 * columns. For invalid rows the generation fields hold what the row said (null where absent or
 * unconvertible) and the image fields are null.
 *
 * @param imageId image id, null when invalid
 * @param imagePath path relative to the output root, null when invalid
 * @param imageUri absolute URI of the written image, null unless ok
 * @param sourceRow 0-based input row number
 * @param sourceId the input row in messages, may be null
 * @param expansionIndex index in the row's expansion, null when invalid
 * @param parameters the generation parameters (the request's; as written when invalid, so the
 *     scheduler is the canonical alias or the written name, its config canonical JSON or the text)
 * @param model model identity
 * @param sha256 SHA-256 hex of the PNG bytes, null unless ok
 * @param bytes PNG size, null unless ok
 * @param status outcome
 * @param error reason for invalid/failed, null when ok
 * @param timings timings, null when nothing ran
 * @param execution where it ran, null when nothing ran
 * @param passthrough passthrough columns in table order
 * @param pictures the request's input pictures (their hashes and warning), null for text-to-image
 *     and invalid rows
 * @param adapters the request's LoRAs and ControlNet with their hashes, null when none or invalid
 * @param warning what looks wrong but did not stop the request ({@link Columns#WARNING}): its
 *     pictures' warning ({@link InputPictures#warning()}), then what generating it noticed (a
 *     prompt the tokenizer cut), joined with "; "; null when nothing
 */
public record ResultRow(
        String imageId,
        String imagePath,
        String imageUri,
        long sourceRow,
        String sourceId,
        Integer expansionIndex,
        GenerationParameters parameters,
        String model,
        String sha256,
        Long bytes,
        Status status,
        String error,
        Timings timings,
        Execution execution,
        Map<String, Object> passthrough,
        InputPictures pictures,
        Adapters adapters,
        String warning)
        implements Serializable {

    /** The separator of several warnings in {@link Columns#WARNING}. */
    public static final String WARNING_SEPARATOR = "; ";

    /**
     * Wall-clock breakdown of one image, milliseconds.
     *
     * @param startedAt when work on this image started
     * @param encodeMs prompt encoding
     * @param denoiseMs denoising loop
     * @param decodeMs VAE decode
     * @param writeMs PNG encode and write
     * @param totalMs all of it
     */
    public record Timings(
            Instant startedAt,
            long encodeMs,
            long denoiseMs,
            long decodeMs,
            long writeMs,
            long totalMs)
            implements Serializable {}

    /**
     * Where a request ran.
     *
     * @param executor Spark executor id ({@code driver} in local mode)
     * @param device device used ({@code cpu}, {@code gpu:0})
     * @param attempt Spark task attempt number
     * @param sdbatchVersion sdbatch version
     */
    public record Execution(String executor, String device, int attempt, String sdbatchVersion)
            implements Serializable {}

    /**
     * How a request ended: its image written, or why not. The part of an image's row that is not
     * its request's columns, so that one factory ({@link ResultRow#of}) builds both kinds of row.
     *
     * @param status {@link Status#OK} or {@link Status#FAILED}
     * @param imageUri absolute URI of the written image, null unless ok
     * @param sha256 SHA-256 hex of the PNG bytes, null unless ok
     * @param bytes PNG size, null unless ok
     * @param error why it failed, null when ok
     */
    public record Outcome(Status status, String imageUri, String sha256, Long bytes, String error) {
        /** A successfully written image. */
        public static Outcome written(String imageUri, String sha256, long bytes) {
            return new Outcome(Status.OK, imageUri, sha256, bytes, null);
        }

        /** A request whose generation or write failed; {@code error} names the cause. */
        public static Outcome failed(String error) {
            return new Outcome(Status.FAILED, null, null, null, error);
        }
    }

    /** Checks status and parameters and copies passthrough. */
    public ResultRow {
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(status, "status");
        if (status != Status.OK && (error == null || error.isEmpty())) {
            throw new IllegalArgumentException("a " + status.value() + " row needs an error");
        }
        passthrough = PromptRow.orderedCopy(passthrough);
    }

    /** This row with {@code w} as its whole warning (null = none). */
    public ResultRow withWarning(String w) {
        return COPIER.copy(this, f -> f.warning = w);
    }

    /**
     * This row with other generation parameters (an invalid row's texts cut to their bounds, as the
     * job keeps them).
     */
    public ResultRow withParameters(GenerationParameters p) {
        return COPIER.copy(this, f -> f.parameters = p);
    }

    /** Copies with a change, through {@link Fields} (checked to mirror the components). */
    private static final RecordCopier<ResultRow, Fields> COPIER =
            RecordCopier.of(MethodHandles.lookup(), ResultRow.class, Fields.class);

    /** A row being copied with a change: one mutable field per component, same name and type. */
    private static final class Fields {
        String imageId;
        String imagePath;
        String imageUri;
        long sourceRow;
        String sourceId;
        Integer expansionIndex;
        GenerationParameters parameters;
        String model;
        String sha256;
        Long bytes;
        Status status;
        String error;
        Timings timings;
        Execution execution;
        Map<String, Object> passthrough;
        InputPictures pictures;
        Adapters adapters;
        String warning;
    }

    /**
     * This row with {@code more} after its warning, joined with {@value #WARNING_SEPARATOR}; itself
     * when {@code more} is null or empty.
     */
    public ResultRow withAddedWarning(String more) {
        if (more == null || more.isEmpty()) {
            return this;
        }
        return withWarning(
                warning == null || warning.isEmpty() ? more : warning + WARNING_SEPARATOR + more);
    }

    /**
     * The row of one expanded request: the request's columns (its source row, parameters,
     * passthrough, pictures and adapters, and its pictures' warning) plus how it ended.
     */
    public static ResultRow of(
            GenerationRequest r,
            String imageId,
            String model,
            Outcome outcome,
            Timings timings,
            Execution execution) {
        return new ResultRow(
                imageId,
                ImageId.path(imageId),
                outcome.imageUri(),
                r.sourceRow(),
                r.sourceId(),
                r.expansionIndex(),
                r.parameters(),
                model,
                outcome.sha256(),
                outcome.bytes(),
                outcome.status(),
                outcome.error(),
                timings,
                execution,
                r.passthrough(),
                r.pictures(),
                r.adapters(),
                r.pictures() == null ? null : r.pictures().warning());
    }

    /** An input row that broke a validation rule; {@code error} names column, value and rule. */
    public static ResultRow invalid(
            PromptRow row, String error, String model, Execution execution) {
        return new ResultRow(
                null,
                null,
                null,
                row.rowNumber(),
                row.sourceId(),
                null,
                row.parameters(),
                model,
                null,
                null,
                Status.INVALID,
                error,
                null,
                execution,
                row.passthrough(),
                null,
                null,
                null);
    }

    /**
     * The values of {@link Columns#OUTPUT}, in that order, with the Java types of their {@link
     * ColumnType} ({@code status} as its lower-case string). Passthrough values are not included.
     */
    public List<Object> values() {
        List<Object> v = new ArrayList<>(Columns.OUTPUT.size());
        for (Column c : Columns.OUTPUT) {
            v.add(value(c.name()));
        }
        return v;
    }

    /**
     * The value of one output column.
     *
     * @throws IllegalArgumentException for a name not in {@link Columns#OUTPUT}
     */
    public Object value(String column) {
        if (GenerationParameters.COLUMNS.contains(column)) {
            return parameters.value(column);
        }
        Timings t = timings;
        Execution x = execution;
        Adapters.ControlNetUse cn = adapters == null ? null : adapters.controlNet();
        return switch (column) {
            case Columns.IMAGE_ID -> imageId;
            case Columns.IMAGE_PATH -> imagePath;
            case Columns.IMAGE_URI -> imageUri;
            case Columns.SOURCE_ROW -> sourceRow;
            case Columns.SOURCE_ID -> sourceId;
            case Columns.EXPANSION_INDEX -> expansionIndex;
            case Columns.MODEL -> model;
            case Columns.SHA256 -> sha256;
            case Columns.BYTES -> bytes;
            case Columns.STATUS -> status.value();
            case Columns.ERROR -> error;
            case Columns.INIT_IMAGE_SHA256 -> pictures == null ? null : pictures.initImageSha256();
            case Columns.MASK_IMAGE_SHA256 -> pictures == null ? null : pictures.maskImageSha256();
            case Columns.WARNING -> warning;
            case Columns.LORA_SHA256 -> adapters == null ? null : adapters.loraSha256s();
            case Columns.CONTROLNET_SHA256 -> cn == null ? null : cn.sha256();
            case Columns.CONTROL_IMAGE_SHA256 -> cn == null ? null : cn.controlImageSha256();
            case Columns.STARTED_AT -> t == null ? null : t.startedAt();
            case Columns.ENCODE_MS -> t == null ? null : t.encodeMs();
            case Columns.DENOISE_MS -> t == null ? null : t.denoiseMs();
            case Columns.DECODE_MS -> t == null ? null : t.decodeMs();
            case Columns.WRITE_MS -> t == null ? null : t.writeMs();
            case Columns.TOTAL_MS -> t == null ? null : t.totalMs();
            case Columns.EXECUTOR -> x == null ? null : x.executor();
            case Columns.DEVICE -> x == null ? null : x.device();
            case Columns.ATTEMPT -> x == null ? null : x.attempt();
            case Columns.SDBATCH_VERSION -> x == null ? null : x.sdbatchVersion();
            default ->
                    throw new IllegalArgumentException(
                            "column "
                                    + column
                                    + " is not a metadata column; known: "
                                    + Columns.OUTPUT);
        };
    }
}
