package sdbatch.schemas.sweep;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.InputPictures;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.SchedulerConfigJson;
import sdbatch.schemas.util.Hashes;
import sdbatch.schemas.validate.RequestDefaults;
import sdbatch.schemas.validate.RowValidator;
import sdbatch.schemas.validate.ValidationResult;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * Expands one valid row into its generation requests: the cross product of the swept values over
 * the columns the row leaves null.
 *
 * <p><b>Precedence</b>, per column: <em>row column &gt; CLI flag or sweep &gt; model default</em>.
 * A row that sets {@code guidance_scale} gets that one value whatever {@code --guidance} says; a
 * row that leaves it null gets every {@code --guidance} value, or the default when the flag is
 * absent. Seeds: the row's {@code seed}; else every {@code --seeds} value; else {@code
 * --images-per-prompt} N (default 1) seeds derived from the row by {@link #derivedSeed}.
 *
 * <p><b>Order</b> (deterministic, documented because {@code expansion_index} records it):
 * schedulers outermost, then steps, then strengths (img2img and inpainting rows only), then
 * guidance scales, then guidance rescales ({@code --guidance-rescale}), then seeds innermost, each
 * list in the order written. Requests that may share a batch (same scheduler, steps and strength)
 * are thus adjacent.
 *
 * <p><b>Pictures.</b> A row with an {@code init_image} expands with what reading its pictures found
 * ({@link InputPictures.Read}): each request gets the pictures' locations and hashes, its strength
 * (the row's, else each {@code --strengths} value, else diffusers' default for the mode: {@link
 * RequestDefaults#strengthDefault}) and the row's {@code paste_back} (null = false). Its default
 * size is the caller's business (the picture's own, see {@link RequestDefaults#withSize}).
 */
public final class SweepExpander {
    private SweepExpander() {}

    private static final String SEED_TAG = "sdbatch-seed-v1";

    /** How many requests {@code row} expands into under {@code spec}. */
    public static long count(PromptRow row, SweepSpec spec) {
        GenerationParameters given = row.parameters();
        long strengths =
                given.initImage() == null || given.strength() != null
                        ? 1
                        : Math.max(1, spec.strengths().size());
        long seeds =
                given.seed() != null
                        ? 1
                        : spec.seeds() != null
                                ? spec.seeds().size()
                                : spec.imagesPerPrompt() != null ? spec.imagesPerPrompt() : 1;
        long n = seeds;
        n *=
                given.extra().guidanceRescale() != null
                        ? 1
                        : Math.max(1, spec.guidanceRescales().size());
        n *= given.guidanceScale() != null ? 1 : Math.max(1, spec.guidanceScales().size());
        n *= given.steps() != null ? 1 : Math.max(1, spec.steps().size());
        n *= given.scheduler() != null ? 1 : Math.max(1, spec.schedulers().size());
        return n * strengths;
    }

    /** All requests of a row as a list (convenience for tests and small sweeps). */
    public static List<GenerationRequest> expandAll(
            ValidationResult.Valid row, SweepSpec spec, RequestDefaults d) {
        return expandAll(row, spec, d, null);
    }

    /** All requests of a row with its pictures as a list (tests and small sweeps). */
    public static List<GenerationRequest> expandAll(
            ValidationResult.Valid row,
            SweepSpec spec,
            RequestDefaults d,
            InputPictures.Read read) {
        List<GenerationRequest> out = new ArrayList<>();
        expand(row, spec, d, read).forEachRemaining(out::add);
        return out;
    }

    /**
     * The requests of one valid row, lazily (a row may expand into millions).
     *
     * @param valid a row that passed {@code RowValidator}
     * @param spec the sweep (its values already checked with {@link SweepSpec#validate})
     * @param d model defaults; its scheduler resolver canonicalises names
     * @param read what reading the row's pictures found; null exactly when the row has no {@code
     *     init_image}
     * @throws IllegalArgumentException when a swept scheduler is unknown to {@code d}, or {@code
     *     read} does not match the row
     */
    public static Iterator<GenerationRequest> expand(
            ValidationResult.Valid valid,
            SweepSpec spec,
            RequestDefaults d,
            InputPictures.Read read) {
        PromptRow row = valid.row();
        GenerationParameters given = row.parameters();
        if ((given.initImage() != null) != (read != null)) {
            throw new IllegalArgumentException(
                    row.describe()
                            + (read == null
                                    ? " has an init_image that was not read"
                                    : " has no init_image but pictures were given"));
        }
        List<Double> strengths =
                read == null
                        ? List.of(Double.NaN)
                        : strengthsOf(row, spec, d, read.maskImage() != null);
        boolean pasteBack = Boolean.TRUE.equals(given.pasteBack());
        String negative = given.negativePrompt() != null ? given.negativePrompt() : "";
        List<String> schedulers = new ArrayList<>();
        if (given.scheduler() != null) {
            schedulers.add(resolve(d, given.scheduler()));
        } else if (!spec.schedulers().isEmpty()) {
            for (String s : spec.schedulers()) {
                schedulers.add(resolve(d, s));
            }
        } else {
            schedulers.add(resolve(d, d.scheduler()));
        }
        List<Integer> steps = stepsOf(row, spec, d);
        List<Double> guidance =
                given.guidanceScale() != null
                        ? List.of(given.guidanceScale())
                        : !spec.guidanceScales().isEmpty()
                                ? spec.guidanceScales()
                                : List.of(d.guidanceScale());
        // SDXL/SD3 columns and guidance rescale (issues 16, 19): the row's own, the rescale swept
        // like the guidance scale; null = diffusers' defaults (a request folds 0 to null).
        // ExtraConditioning.canonical does that, so the row's 0 is kept here and wins.
        List<Double> rescales =
                given.extra().guidanceRescale() != null
                        ? List.of(given.extra().guidanceRescale())
                        : !spec.guidanceRescales().isEmpty()
                                ? spec.guidanceRescales()
                                : java.util.Collections.singletonList(null);
        SeedSet seedSet = given.seed() == null ? spec.seeds() : null;
        long nSeeds =
                given.seed() != null
                        ? 1
                        : seedSet != null
                                ? seedSet.size()
                                : spec.imagesPerPrompt() != null ? spec.imagesPerPrompt() : 1;
        String schedulerConfig =
                SchedulerConfigJson.canonical(
                        given.schedulerConfig() != null
                                ? given.schedulerConfig()
                                : SchedulerConfigJson.EMPTY);
        int width = given.width() != null ? given.width() : d.width();
        int height = given.height() != null ? given.height() : d.height();
        double eta = given.eta() != null ? given.eta() : d.eta();
        int clipSkip = given.clipSkip() != null ? given.clipSkip() : d.clipSkip();
        String sourceId = row.describe();
        long total =
                nSeeds
                        * rescales.size()
                        * guidance.size()
                        * strengths.size()
                        * steps.size()
                        * schedulers.size();

        return new Iterator<>() {
            private long next;

            @Override
            public boolean hasNext() {
                return next < total;
            }

            @Override
            public GenerationRequest next() {
                if (next >= total) {
                    throw new NoSuchElementException();
                }
                long i = next++;
                long seedIndex = i % nSeeds;
                long rest = i / nSeeds;
                int rs = (int) (rest % rescales.size());
                rest /= rescales.size();
                int g = (int) (rest % guidance.size());
                rest /= guidance.size();
                int str = (int) (rest % strengths.size());
                rest /= strengths.size();
                int s = (int) (rest % steps.size());
                int sch = (int) (rest / steps.size());
                long seed =
                        given.seed() != null
                                ? given.seed()
                                : seedSet != null
                                        ? seedSet.get(seedIndex)
                                        : derivedSeed(given.prompt(), negative, seedIndex);
                return new GenerationRequest(
                        given.prompt(),
                        negative,
                        seed,
                        steps.get(s),
                        guidance.get(g),
                        schedulers.get(sch),
                        schedulerConfig,
                        width,
                        height,
                        eta,
                        clipSkip,
                        row.rowNumber(),
                        sourceId,
                        (int) i,
                        row.passthrough(),
                        read == null ? null : read.request(strengths.get(str), pasteBack),
                        null,
                        given.extra().withGuidanceRescale(rescales.get(rs)));
            }
        };
    }

    /**
     * The steps a row expands over: its own, else every {@code --steps} value, else the default.
     */
    public static List<Integer> stepsOf(PromptRow row, SweepSpec spec, RequestDefaults d) {
        Integer given = row.parameters().steps();
        return given != null
                ? List.of(given)
                : !spec.steps().isEmpty() ? spec.steps() : List.of(d.steps());
    }

    /**
     * The strengths a row with an {@code init_image} expands over: its own, else every {@code
     * --strengths} value, else diffusers' default for the mode and model family ({@link
     * RequestDefaults#strengthDefault}).
     */
    public static List<Double> strengthsOf(
            PromptRow row, SweepSpec spec, RequestDefaults d, boolean inpainting) {
        Double given = row.parameters().strength();
        return given != null
                ? List.of(given)
                : !spec.strengths().isEmpty()
                        ? spec.strengths()
                        : List.of(d.strengthDefault(inpainting));
    }

    /**
     * The problems of a row with an {@code init_image} whose steps and strengths leave some request
     * no denoising step ({@link RowValidator#keptSteps}): diffusers runs {@code int(steps ×
     * strength)} steps, and the pipeline refuses a request that runs none.
     */
    public static List<Problem> checkSchedules(
            PromptRow row, SweepSpec spec, RequestDefaults d, boolean inpainting) {
        List<Problem> p = new ArrayList<>();
        for (int steps : stepsOf(row, spec, d)) {
            for (double strength : strengthsOf(row, spec, d, inpainting)) {
                RowValidator.keptSteps(steps, strength, p);
            }
        }
        return p;
    }

    /**
     * The seed of image {@code index} of a row that names no seed: the first 4 bytes of
     * SHA-256({@value #SEED_TAG}, prompt, negative prompt, index), as an unsigned 32-bit value (0
     * .. 2^32-1; torch's CPU generator uses only the low 32 bits of a seed, so more would add
     * nothing). It depends only on the row's text, not on its position, so inserting or reordering
     * rows keeps every other row's seeds and images ({@code --resume} relies on it); two rows with
     * the same prompts get the same seeds and hence the same image ids.
     */
    public static long derivedSeed(String prompt, String negativePrompt, long index) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buf)) {
            for (String s : new String[] {SEED_TAG, prompt, negativePrompt}) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                out.writeInt(b.length);
                out.write(b);
            }
            out.writeLong(index);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] h = Hashes.sha256(buf.toByteArray());
        return ((h[0] & 0xFFL) << 24)
                | ((h[1] & 0xFFL) << 16)
                | ((h[2] & 0xFFL) << 8)
                | (h[3] & 0xFFL);
    }

    private static String resolve(RequestDefaults d, String name) {
        return d.schedulers()
                .resolver()
                .apply(name)
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "scheduler "
                                                + name
                                                + " is unknown; known: "
                                                + String.join(", ", d.schedulers().known())));
    }
}
