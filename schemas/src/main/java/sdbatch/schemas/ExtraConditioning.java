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
 * The generation parameters that came with SDXL and SD3 (issues 16, 19), as a request uses them:
 * the second and third text encoders' prompts, SD3's T5 length, SDXL's micro-conditioning, and
 * diffusers' {@code guidance_rescale} (every family). Every field is nullable, null meaning
 * diffusers' default (see {@link GenerationParameters}); a request whose fields are all null has no
 * {@code ExtraConditioning} at all ({@link #of} returns null), so its image id, its JSON and its
 * metadata are what they were before these columns existed.
 *
 * <p>Values that are the same image as null are folded to null, so the ids, the dedup of equal
 * requests and the metadata agree with diffusers: {@code guidance_rescale} 0 ({@code
 * rescale_noise_cfg} runs only above 0), and an empty {@code prompt_2}, {@code negative_prompt_2},
 * {@code prompt_3} or {@code negative_prompt_3} (diffusers' {@code prompt_2 = prompt_2 or prompt}:
 * Python's {@code or} takes the first prompt for {@code ""} as for {@code None}).
 *
 * @param prompt2 {@code prompt_2}, never {@code ""} (folded to null)
 * @param negativePrompt2 {@code negative_prompt_2}, never {@code ""}
 * @param prompt3 {@code prompt_3}, never {@code ""}
 * @param negativePrompt3 {@code negative_prompt_3}, never {@code ""}
 * @param maxSequenceLength {@code max_sequence_length}
 * @param originalWidth {@code original_width}
 * @param originalHeight {@code original_height}
 * @param cropTop {@code crop_top}
 * @param cropLeft {@code crop_left}
 * @param targetWidth {@code target_width}
 * @param targetHeight {@code target_height}
 * @param guidanceRescale {@code guidance_rescale}, never 0 (folded to null)
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
        implements ExtraColumns, Serializable {

    private static final long serialVersionUID = 1L;

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

    /** Folds what is the same image as null into null (see the class comment), -0.0 into 0.0. */
    public ExtraConditioning {
        prompt2 = emptyIsNull(prompt2);
        negativePrompt2 = emptyIsNull(negativePrompt2);
        prompt3 = emptyIsNull(prompt3);
        negativePrompt3 = emptyIsNull(negativePrompt3);
        if (guidanceRescale != null) {
            guidanceRescale = guidanceRescale == 0.0 ? null : guidanceRescale + 0.0;
        }
    }

    private static String emptyIsNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /**
     * The extra conditioning of {@code p}'s columns with {@code guidanceRescale} (the row's or a
     * swept value), or null when every field is null.
     */
    public static ExtraConditioning of(GenerationParameters p, Double guidanceRescale) {
        ExtraConditioning e =
                new ExtraConditioning(
                        p.prompt2(),
                        p.negativePrompt2(),
                        p.prompt3(),
                        p.negativePrompt3(),
                        p.maxSequenceLength(),
                        p.originalWidth(),
                        p.originalHeight(),
                        p.cropTop(),
                        p.cropLeft(),
                        p.targetWidth(),
                        p.targetHeight(),
                        guidanceRescale);
        return e.isEmpty() ? null : e;
    }

    /** Whether every field is null. */
    public boolean isEmpty() {
        return COLUMNS.stream().allMatch(c -> value(c) == null);
    }

    /**
     * This conditioning without {@code columns} (those a model family does not use), or null when
     * nothing is left.
     */
    public ExtraConditioning without(Collection<String> columns) {
        Map<String, Object> v = new HashMap<>();
        for (String c : COLUMNS) {
            if (!columns.contains(c)) {
                v.put(c, value(c));
            }
        }
        return fromValues(v);
    }

    /**
     * The value of one of {@link #COLUMNS}.
     *
     * @throws IllegalArgumentException for any other name
     */
    public Object value(String column) {
        return ExtraColumns.value(this, column);
    }

    /** The conditioning of a column → value map (absent keys are null), or null when empty. */
    private static ExtraConditioning fromValues(Map<String, ?> v) {
        return of(GenerationParameters.fromValues(v), (Double) v.get(Columns.GUIDANCE_RESCALE));
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

    /** The conditioning written by {@link #addTo}, or null when {@code o} has none of its keys. */
    public static ExtraConditioning fromJson(JsonObject o) {
        Map<String, Object> v = new HashMap<>();
        for (String c : COLUMNS) {
            JsonElement e = o.get(c);
            if (e == null || e.isJsonNull()) {
                continue;
            }
            v.put(c, RequestJson.value(e, Columns.input(c).orElseThrow()));
        }
        return fromValues(v);
    }
}
