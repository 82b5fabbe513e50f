package sdbatch.schemas;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The generation parameters that came with SDXL and SD3 (issues 16, 19): the second and third text
 * encoders' prompts, SD3's T5 length, SDXL's micro-conditioning, and diffusers' {@code
 * guidance_rescale} (every family). Every field is nullable, null meaning diffusers' default. One
 * record for both of its holders, so these columns are listed once as fields:
 *
 * <ul>
 *   <li>{@link GenerationParameters#extra()} holds what a row states, as it states it (a row's
 *       {@code guidance_rescale} 0 still wins over a flag's value, an invalid row's metadata keeps
 *       its {@code ""});
 *   <li>{@link GenerationRequest#extra()} holds the {@link #canonical} form: values that are the
 *       same image as null are folded to null, and a request whose fields are all null has no
 *       {@code ExtraConditioning} at all, so its image id, its JSON and its metadata are what they
 *       were before these columns existed.
 * </ul>
 *
 * <p>The folding makes the ids, the dedup of equal requests and the metadata agree with diffusers:
 * {@code guidance_rescale} 0 ({@code rescale_noise_cfg} runs only above 0), and an empty {@code
 * prompt_2}, {@code negative_prompt_2}, {@code prompt_3} or {@code negative_prompt_3} (diffusers'
 * {@code prompt_2 = prompt_2 or prompt}: Python's {@code or} takes the first prompt for {@code ""}
 * as for {@code None}).
 *
 * @param prompt2 SDXL's and SD3's {@code prompt_2}, or null (= prompt)
 * @param negativePrompt2 {@code negative_prompt_2}, or null (= negative prompt)
 * @param prompt3 SD3's {@code prompt_3}, or null (= prompt)
 * @param negativePrompt3 SD3's {@code negative_prompt_3}, or null (= negative prompt)
 * @param maxSequenceLength SD3's {@code max_sequence_length} (T5 tokens), or null (256)
 * @param originalWidth SDXL's {@code original_size} width, or null (the image's)
 * @param originalHeight SDXL's {@code original_size} height, or null (the image's)
 * @param cropTop SDXL's {@code crops_coords_top_left} top, or null (0)
 * @param cropLeft SDXL's {@code crops_coords_top_left} left, or null (0)
 * @param targetWidth SDXL's {@code target_size} width, or null (the image's)
 * @param targetHeight SDXL's {@code target_size} height, or null (the image's)
 * @param guidanceRescale diffusers' {@code guidance_rescale}, or null (0: off)
 */
public record ExtraConditioning(
        String prompt2,
        String negativePrompt2,
        String prompt3,
        String negativePrompt3,
        Integer maxSequenceLength,
        Integer originalWidth,
        Integer originalHeight,
        Integer cropTop,
        Integer cropLeft,
        Integer targetWidth,
        Integer targetHeight,
        Double guidanceRescale)
        implements Serializable {

    /** None given: every field null (what {@link GenerationParameters} holds without them). */
    public static final ExtraConditioning NONE =
            new ExtraConditioning(
                    null, null, null, null, null, null, null, null, null, null, null, null);

    /** The second and third text encoders' prompt columns (SDXL, SD3). */
    public static final List<String> PROMPTS =
            List.of(
                    Columns.PROMPT_2,
                    Columns.NEGATIVE_PROMPT_2,
                    Columns.PROMPT_3,
                    Columns.NEGATIVE_PROMPT_3);

    /** The SDXL micro-conditioning columns ({@code add_time_ids}). */
    public static final List<String> MICRO_CONDITIONING =
            List.of(
                    Columns.ORIGINAL_WIDTH,
                    Columns.ORIGINAL_HEIGHT,
                    Columns.CROP_TOP,
                    Columns.CROP_LEFT,
                    Columns.TARGET_WIDTH,
                    Columns.TARGET_HEIGHT);

    /**
     * The columns this record holds, in the order they are hashed and written: the prompts, the T5
     * length, the micro-conditioning, guidance rescale.
     */
    public static final List<String> COLUMNS =
            Stream.of(
                            PROMPTS,
                            List.of(Columns.MAX_SEQUENCE_LENGTH),
                            MICRO_CONDITIONING,
                            List.of(Columns.GUIDANCE_RESCALE))
                    .flatMap(List::stream)
                    .toList();

    /**
     * The conditioning a request holds for {@code e}: what is the same image as null folded into
     * null (see the class comment), -0.0 into 0.0; null when {@code e} is null or nothing is left.
     */
    public static ExtraConditioning canonical(ExtraConditioning e) {
        if (e == null) {
            return null;
        }
        Map<String, Object> v = e.values();
        v.replaceAll(ExtraConditioning::canonicalValue);
        ExtraConditioning folded = fromValues(v);
        return folded.isEmpty() ? null : folded;
    }

    private static Object canonicalValue(String column, Object value) {
        if (PROMPTS.contains(column) && "".equals(value)) {
            return null;
        }
        if (column.equals(Columns.GUIDANCE_RESCALE) && value instanceof Double d) {
            return d == 0.0 ? null : d + 0.0;
        }
        return value;
    }

    /**
     * This conditioning with {@code guidanceRescale} (the row's or a swept value) in place of its
     * own.
     */
    public ExtraConditioning withGuidanceRescale(Double guidanceRescale) {
        Map<String, Object> v = values();
        v.put(Columns.GUIDANCE_RESCALE, guidanceRescale);
        return fromValues(v);
    }

    /** Whether every field is null. */
    public boolean isEmpty() {
        return COLUMNS.stream().allMatch(c -> value(c) == null);
    }

    /**
     * This conditioning without {@code columns} (those a model family does not use), {@link
     * #canonical}: null when nothing is left.
     */
    public ExtraConditioning without(Collection<String> columns) {
        Map<String, Object> v = values();
        v.keySet().removeAll(columns);
        return canonical(fromValues(v));
    }

    /**
     * A column → value map of every field (null ones included, in no order), to change and read
     * back ({@link #fromValues}).
     */
    public Map<String, Object> values() {
        Map<String, Object> v = new HashMap<>();
        for (String c : COLUMNS) {
            v.put(c, value(c));
        }
        return v;
    }

    /**
     * The value of one of {@link #COLUMNS}.
     *
     * @throws IllegalArgumentException for any other name
     */
    public Object value(String column) {
        return switch (column) {
            case Columns.PROMPT_2 -> prompt2;
            case Columns.NEGATIVE_PROMPT_2 -> negativePrompt2;
            case Columns.PROMPT_3 -> prompt3;
            case Columns.NEGATIVE_PROMPT_3 -> negativePrompt3;
            case Columns.MAX_SEQUENCE_LENGTH -> maxSequenceLength;
            case Columns.ORIGINAL_WIDTH -> originalWidth;
            case Columns.ORIGINAL_HEIGHT -> originalHeight;
            case Columns.CROP_TOP -> cropTop;
            case Columns.CROP_LEFT -> cropLeft;
            case Columns.TARGET_WIDTH -> targetWidth;
            case Columns.TARGET_HEIGHT -> targetHeight;
            case Columns.GUIDANCE_RESCALE -> guidanceRescale;
            default ->
                    throw new IllegalArgumentException(
                            "column " + column + " is not an extra conditioning column");
        };
    }

    /**
     * The conditioning held by a column → value map whose values already have their columns' Java
     * types (absent keys are null), as the map says it (not folded).
     *
     * @throws ClassCastException when a value has another type than its column's
     */
    public static ExtraConditioning fromValues(Map<String, ?> values) {
        // GenerationParameters reads every input column from a map, these among them
        return GenerationParameters.fromValues(values).extra();
    }

    /**
     * Adds what the image id hashes: for each column in {@link #COLUMNS} order, whether it is set
     * and then its value (strings as UTF-8 with their length, numbers big-endian, doubles by their
     * bits), so no two different settings share an encoding.
     */
    public void hashInto(DataOutputStream out) throws IOException {
        for (String c : COLUMNS) {
            Object v = value(c);
            out.writeBoolean(v != null);
            if (v instanceof String s) {
                byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.writeInt(b.length);
                out.write(b);
            } else if (v instanceof Integer i) {
                out.writeInt(i);
            } else if (v instanceof Double d) {
                out.writeLong(Double.doubleToLongBits(d));
            }
        }
    }

    /** The set fields as keys of the PNG's request JSON (null ones are left out). */
    public void addTo(JsonObject o) {
        for (String c : COLUMNS) {
            RequestJson.put(o, c, value(c));
        }
    }

    /**
     * The conditioning written by {@link #addTo}, {@link #canonical}: null when {@code o} has none
     * of its keys.
     */
    public static ExtraConditioning fromJson(JsonObject o) {
        Map<String, Object> v = new HashMap<>();
        for (String c : COLUMNS) {
            JsonElement e = o.get(c);
            if (e == null || e.isJsonNull()) {
                continue;
            }
            v.put(c, RequestJson.value(e, Columns.input(c).orElseThrow()));
        }
        return canonical(fromValues(v));
    }
}
