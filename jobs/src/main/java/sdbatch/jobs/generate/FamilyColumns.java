package sdbatch.jobs.generate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import sdbatch.schemas.Columns;
import sdbatch.schemas.ExtraConditioning;
import sdbatch.schemas.GenerationRequest;

/**
 * Which of the SDXL/SD3 columns a model's family uses (issues 16, 19), decided by its folder's
 * {@code model_index.json} {@code _class_name}, and what the family makes of a null negative
 * prompt. One prompt table can serve several families: a column the model does not use is dropped
 * from its requests (so it is neither in the image id nor in the metadata, and rows differing only
 * in it are one image), and the job says so once ({@link #warning}), not once per row.
 *
 * <ul>
 *   <li>SD 1.x/2.x ({@code StableDiffusionPipeline} and every other class name): none of them.
 *   <li>SDXL ({@code StableDiffusionXL*}): {@code prompt_2}, {@code negative_prompt_2} and the
 *       micro-conditioning; with {@code force_zeros_for_empty_prompt} (its default, true) a null
 *       negative prompt is zero embeddings, another image than {@code ""}.
 *   <li>SD3 ({@code StableDiffusion3*}): {@code prompt_2}, {@code negative_prompt_2}, {@code
 *       prompt_3}, {@code negative_prompt_3}, {@code max_sequence_length}; a null negative prompt
 *       is encoded as {@code ""}, as diffusers' SD3 does.
 * </ul>
 *
 * {@code guidance_rescale} applies to every family.
 *
 * @param family the family's name in messages ({@code SD 1.x/2.x}, {@code SDXL}, {@code SD3})
 * @param className the folder's {@code _class_name}
 * @param unused the columns of {@link ExtraConditioning#COLUMNS} this family does not use
 * @param nullNegativeDiffers whether a null negative prompt is another image than {@code ""}
 */
public record FamilyColumns(
        String family, String className, List<String> unused, boolean nullNegativeDiffers)
        implements Serializable {
    private static final List<String> SECOND = List.of(Columns.PROMPT_2, Columns.NEGATIVE_PROMPT_2);
    private static final List<String> THIRD =
            List.of(Columns.PROMPT_3, Columns.NEGATIVE_PROMPT_3, Columns.MAX_SEQUENCE_LENGTH);

    /** SD 1.x/2.x's: the family of every folder before SDXL. */
    public static final FamilyColumns SD = of("StableDiffusionPipeline", null);

    /** Keeps {@code unused} in {@link ExtraConditioning#COLUMNS} order (messages list it). */
    public FamilyColumns {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(className, "className");
        List<String> given = List.copyOf(unused);
        unused = ExtraConditioning.COLUMNS.stream().filter(given::contains).toList();
    }

    /**
     * The family of a folder.
     *
     * @param className its {@code model_index.json} {@code _class_name}
     * @param forceZerosForEmptyPrompt its {@code force_zeros_for_empty_prompt}, or null when the
     *     folder does not say (SDXL's default: true)
     */
    public static FamilyColumns of(String className, Boolean forceZerosForEmptyPrompt) {
        String c = className == null ? "" : className;
        List<String> unused = new ArrayList<>();
        if (c.startsWith("StableDiffusionXL")) {
            unused.addAll(THIRD);
            return new FamilyColumns(
                    "SDXL",
                    c,
                    unused,
                    forceZerosForEmptyPrompt == null || forceZerosForEmptyPrompt);
        }
        if (c.startsWith("StableDiffusion3")) {
            unused.addAll(ExtraConditioning.MICRO_CONDITIONING);
            return new FamilyColumns("SD3", c, unused, false);
        }
        unused.addAll(SECOND);
        unused.addAll(THIRD);
        unused.addAll(ExtraConditioning.MICRO_CONDITIONING);
        return new FamilyColumns("SD 1.x/2.x", c, unused, false);
    }

    /** Whether this is SD3's family (flow matching, T5). */
    public boolean isSd3() {
        return "SD3".equals(family);
    }

    /**
     * {@code q} as this family runs it: the columns it does not use dropped, and a negative prompt
     * the row left null kept null where that is another image ({@code rowNegativeWasNull}; the
     * expander writes {@code ""} for it).
     */
    public GenerationRequest apply(GenerationRequest q, boolean rowNegativeWasNull) {
        GenerationRequest out = q;
        if (q.extra() != null) {
            out = out.withExtra(q.extra().without(unused));
        }
        if (nullNegativeDiffers && rowNegativeWasNull) {
            out = out.withNegativePrompt(null);
        }
        return out;
    }

    /**
     * The job's one warning about the columns this family ignores, or null when no row sets one.
     *
     * @param nonNull column → rows where it is not null (columns absent from the map: none)
     */
    public String warning(Map<String, Long> nonNull) {
        List<String> set = new ArrayList<>();
        for (String c : unused) {
            long n = nonNull.getOrDefault(c, 0L);
            if (n > 0) {
                set.add(c + " (" + n + (n == 1 ? " row)" : " rows)"));
            }
        }
        if (set.isEmpty()) {
            return null;
        }
        return "the model is "
                + family
                + " ("
                + className
                + "), which does not use "
                + String.join(", ", set)
                + ": ignored (not in the image ids nor the metadata; the table may serve other"
                + " families)";
    }
}
