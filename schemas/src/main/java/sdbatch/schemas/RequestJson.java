package sdbatch.schemas;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link GenerationRequest} as the JSON object of the PNG's {@code sdbatch} chunk, and back (see
 * {@link GenerationRequest#toJson()}): the core parameters written here, each part of the request
 * ({@link InputPictures}, {@link Adapters}, {@link ExtraConditioning}) under its own keys, absent
 * when the request has none.
 */
final class RequestJson {
    private RequestJson() {}

    /** The input columns {@link GenerationRequest#pictures} stands for. */
    private static final List<String> PICTURE_COLUMNS =
            List.of(Columns.INIT_IMAGE, Columns.MASK_IMAGE, Columns.STRENGTH, Columns.PASTE_BACK);

    /** The input columns {@link GenerationRequest#adapters} stands for. */
    private static final List<String> ADAPTER_COLUMNS =
            List.of(
                    Columns.LORAS,
                    Columns.CONTROLNET,
                    Columns.CONTROL_IMAGE,
                    Columns.CONTROLNET_CONDITIONING_SCALE,
                    Columns.CONTROL_GUIDANCE_START,
                    Columns.CONTROL_GUIDANCE_END);

    /** Whether {@code column} is written by the core parameters (not by a part of the request). */
    private static boolean isCore(String column) {
        return !PICTURE_COLUMNS.contains(column)
                && !ADAPTER_COLUMNS.contains(column)
                && !ExtraConditioning.COLUMNS.contains(column);
    }

    /** See {@link GenerationRequest#toJson()}. */
    static String write(GenerationRequest r) {
        JsonObject o = new JsonObject();
        GenerationParameters parameters = r.parameters();
        for (String column : GenerationParameters.COLUMNS) {
            if (!isCore(column)) {
                continue;
            }
            if (column.equals(Columns.SCHEDULER_CONFIG)) {
                o.add(column, JsonParser.parseString(r.schedulerConfig()));
            } else {
                put(o, column, parameters.value(column)); // a null negative prompt: none, on SDXL
            }
        }
        InputPictures pictures = r.pictures();
        if (pictures != null) {
            o.addProperty(Columns.INIT_IMAGE, pictures.initImage());
            o.addProperty(Columns.INIT_IMAGE_SHA256, pictures.initImageSha256());
            if (pictures.isInpainting()) {
                o.addProperty(Columns.MASK_IMAGE, pictures.maskImage());
                o.addProperty(Columns.MASK_IMAGE_SHA256, pictures.maskImageSha256());
            }
            o.addProperty(Columns.STRENGTH, pictures.strength());
            o.addProperty(Columns.PASTE_BACK, pictures.pasteBack());
        }
        if (r.adapters() != null) {
            r.adapters().addTo(o);
        }
        if (r.extra() != null) {
            r.extra().addTo(o);
        }
        o.addProperty(Columns.SOURCE_ROW, r.sourceRow());
        o.addProperty(Columns.SOURCE_ID, r.sourceId());
        o.addProperty(Columns.EXPANSION_INDEX, r.expansionIndex());
        return new GsonBuilder().disableHtmlEscaping().create().toJson(o);
    }

    /** See {@link GenerationRequest#fromJson(String)}. */
    static GenerationRequest read(String json) {
        JsonObject o = SchedulerConfigJson.parseObject(json);
        try {
            Map<String, Object> values = new HashMap<>();
            for (Column column : Columns.INPUT) {
                if (!isCore(column.name())) {
                    continue;
                }
                JsonElement e = o.get(column.name());
                if (column.name().equals(Columns.NEGATIVE_PROMPT)
                        && (e == null || e.isJsonNull())) {
                    continue; // none, on SDXL
                }
                values.put(
                        column.name(),
                        column.name().equals(Columns.SCHEDULER_CONFIG) && e.isJsonObject()
                                ? SchedulerConfigJson.canonical(e)
                                : value(e, column));
            }
            return GenerationRequest.of(
                            GenerationParameters.fromValues(values),
                            o.get(Columns.SOURCE_ROW).getAsLong(),
                            o.get(Columns.SOURCE_ID).getAsString(),
                            o.get(Columns.EXPANSION_INDEX).getAsInt(),
                            Map.of(),
                            o.has(Columns.INIT_IMAGE) ? pictures(o) : null)
                    .withAdapters(Adapters.fromJson(o))
                    .withExtra(ExtraConditioning.fromJson(o));
        } catch (NullPointerException | UnsupportedOperationException | IllegalStateException e) {
            throw new IllegalArgumentException("not a GenerationRequest JSON object: " + json, e);
        }
    }

    private static InputPictures pictures(JsonObject o) {
        boolean mask = o.has(Columns.MASK_IMAGE);
        return new InputPictures(
                o.get(Columns.INIT_IMAGE).getAsString(),
                o.get(Columns.INIT_IMAGE_SHA256).getAsString(),
                mask ? o.get(Columns.MASK_IMAGE).getAsString() : null,
                mask ? o.get(Columns.MASK_IMAGE_SHA256).getAsString() : null,
                o.get(Columns.STRENGTH).getAsDouble(),
                o.get(Columns.PASTE_BACK).getAsBoolean(),
                null);
    }

    /** Adds a column's value under its name: numbers as numbers, text as text; null: nothing. */
    static void put(JsonObject o, String column, Object value) {
        if (value instanceof Number n) {
            o.addProperty(column, n);
        } else if (value != null) {
            o.addProperty(column, (String) value);
        }
    }

    /**
     * A column's value read back with its column's Java type.
     *
     * @throws IllegalStateException for a timestamp column (no input column has that type) or a
     *     JSON value of another kind
     */
    static Object value(JsonElement e, Column column) {
        return switch (column.type()) {
            case STRING -> e.getAsString();
            case INT -> e.getAsInt();
            case LONG -> e.getAsLong();
            case DOUBLE -> e.getAsDouble();
            case BOOLEAN -> e.getAsBoolean();
            case TIMESTAMP ->
                    throw new IllegalStateException("no input column has type " + column.type());
        };
    }
}
