package sdbatch.schemas.validate;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import sdbatch.schemas.Columns;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.SchedulerConfigJson;
import sdbatch.schemas.validate.ValidationResult.Invalid;
import sdbatch.schemas.validate.ValidationResult.Problem;
import sdbatch.schemas.validate.ValidationResult.Valid;

/**
 * The row rules, as pure functions that never throw on bad data: every problem becomes a {@link
 * Problem} naming the column, the value (quoted, cut to {@value #MAX_SHOWN} characters) and the
 * rule. The rules are diffusers' {@code check_inputs} plus the job's limits:
 *
 * <ul>
 *   <li>{@code prompt} is required (null is invalid, the empty string is allowed as in diffusers);
 *       prompt texts may not contain U+0000 (a PNG text chunk cannot hold it) and are at most
 *       {@value #MAX_PROMPT_CHARS} characters (UTF-16 units)
 *   <li>{@code seed} &gt;= 0 (no "-1 = random": every image must be reproducible)
 *   <li>{@code steps} in 1..maxSteps
 *   <li>{@code guidance_scale} finite and &gt;= 0
 *   <li>{@code width}, {@code height} positive multiples of 8, width × height &lt;= maxPixels (a
 *       null side counts as the model default)
 *   <li>{@code scheduler} known to the resolver
 *   <li>{@code scheduler_config} a JSON object the scheduler accepts, at most {@value
 *       #MAX_SCHEDULER_CONFIG_CHARS} characters
 *   <li>{@code eta} finite and &gt;= 0
 *   <li>{@code clip_skip} in 0..textEncoderLayers-1
 *   <li>{@code init_image}, {@code mask_image} non-blank locations of at most {@value
 *       #MAX_PICTURE_LOCATION_CHARS} characters; a mask needs an init picture
 *   <li>{@code strength} in (0, 1], only with an init picture; {@code paste_back} true only with a
 *       mask
 *   <li>{@code prompt_2}, {@code negative_prompt_2}, {@code prompt_3}, {@code negative_prompt_3}
 *       follow the prompt's text rules
 *   <li>{@code max_sequence_length} in 1..{@value #MAX_SEQUENCE_LENGTH} (diffusers' SD3 {@code
 *       check_inputs})
 *   <li>{@code original_width}, {@code original_height}, {@code target_width}, {@code
 *       target_height} &gt; 0 and {@code crop_top}, {@code crop_left} &gt;= 0 (SDXL's
 *       micro-conditioning: sizes and an offset in pixels)
 *   <li>{@code guidance_rescale} in [0, 1] (diffusers' {@code rescale_noise_cfg} factor)
 *   <li>a value of the wrong type (kept in {@link PromptRow#rejected()}) is a problem of its column
 * </ul>
 *
 * The pictures themselves (readable, a format we decode, within the pixel limit) are checked by the
 * job when it reads them, once per row.
 *
 * <p>Null columns are not checked: they take the flag or model default, which the job checks once.
 *
 * <p>This class holds the entry points and the per-value rules of the core columns; the rules of
 * each other group of columns live beside it: {@link PromptRules} (prompt texts, T5 tokens), {@link
 * SizeRules} (sizes, SDXL's micro-conditioning), {@link PictureRules} (img2img and inpainting) and
 * {@link AdapterRules} (LoRA, ControlNet).
 */
public final class RowValidator {
    private RowValidator() {}

    /** Longest value shown in a message, in characters. */
    public static final int MAX_SHOWN = 80;

    /**
     * Longest prompt or negative prompt, in characters (UTF-16 units). CLIP reads only the first 77
     * tokens (a few hundred characters), so this refuses nothing a model can use; it keeps a
     * corrupt or hostile row (a 200 MB prompt) from being tokenized, copied into every batch and
     * written into PNG text chunks, which would exhaust an executor's memory.
     */
    public static final int MAX_PROMPT_CHARS = 100_000;

    /**
     * Longest {@code scheduler_config} text, in characters: room for a {@code trained_betas} list
     * of 1000 values written with full precision, several times over.
     */
    public static final int MAX_SCHEDULER_CONFIG_CHARS = 100_000;

    /** Largest SD3 {@code max_sequence_length}: T5's 512 positions (diffusers' rule). */
    public static final int MAX_SEQUENCE_LENGTH = 512;

    /** Longest {@code init_image} or {@code mask_image} location, in characters. */
    public static final int MAX_PICTURE_LOCATION_CHARS = 4096;

    /** Validates one row; never throws on bad data. */
    public static ValidationResult validate(PromptRow row, RequestDefaults d) {
        GenerationParameters given = row.parameters();
        List<Problem> p = new ArrayList<>();
        if (row.rejected().containsKey(Columns.PROMPT)) {
            rejected(row, Columns.PROMPT, p);
        } else if (given.prompt() == null) {
            p.add(new Problem(Columns.PROMPT, "null", "is required (an empty string is allowed)"));
        } else {
            PromptRules.text(Columns.PROMPT, given.prompt(), p);
        }
        if (!rejected(row, Columns.NEGATIVE_PROMPT, p) && given.negativePrompt() != null) {
            PromptRules.text(Columns.NEGATIVE_PROMPT, given.negativePrompt(), p);
        }
        if (!rejected(row, Columns.SEED, p) && given.seed() != null) {
            seed(given.seed(), p);
        }
        if (!rejected(row, Columns.STEPS, p) && given.steps() != null) {
            steps(Columns.STEPS, given.steps(), d, p);
        }
        if (!rejected(row, Columns.GUIDANCE_SCALE, p) && given.guidanceScale() != null) {
            guidance(Columns.GUIDANCE_SCALE, given.guidanceScale(), p);
        }
        String scheduler = d.scheduler();
        boolean schedulerOk = true;
        if (!rejected(row, Columns.SCHEDULER, p) && given.scheduler() != null) {
            Optional<String> s = scheduler(Columns.SCHEDULER, given.scheduler(), d, p);
            schedulerOk = s.isPresent();
            scheduler = s.orElse(null);
        } else if (row.rejected().containsKey(Columns.SCHEDULER)) {
            schedulerOk = false;
        }
        if (!rejected(row, Columns.SCHEDULER_CONFIG, p) && given.schedulerConfig() != null) {
            schedulerConfig(given.schedulerConfig(), schedulerOk ? scheduler : null, d, p);
        }
        boolean wOk = !rejected(row, Columns.WIDTH, p);
        boolean hOk = !rejected(row, Columns.HEIGHT, p);
        if (wOk && hOk) {
            SizeRules.size(given.width(), given.height(), d, p);
        }
        if (!rejected(row, Columns.ETA, p) && given.eta() != null) {
            eta(Columns.ETA, given.eta(), p);
        }
        if (!rejected(row, Columns.CLIP_SKIP, p) && given.clipSkip() != null) {
            clipSkip(given.clipSkip(), d, p);
        }
        PictureRules.check(row, p);
        AdapterRules.check(row, p);
        // The SDXL and SD3 columns and guidance rescale (issues 16, 19).
        PromptRules.checkExtra(row, p);
        SizeRules.microConditioning(row, p);
        if (!rejected(row, Columns.GUIDANCE_RESCALE, p)
                && given.extra().guidanceRescale() != null) {
            guidanceRescale(Columns.GUIDANCE_RESCALE, given.extra().guidanceRescale(), p);
        }
        return p.isEmpty() ? new Valid(row) : new Invalid(row, p);
    }

    /**
     * Checks a resolved request against the same rules (the pipeline's {@code checkInputs} and the
     * job's check of flag and model defaults use it). Returns the problems, empty when fine.
     */
    public static List<Problem> check(GenerationRequest r, RequestDefaults d) {
        List<Problem> p = new ArrayList<>();
        PromptRules.text(Columns.PROMPT, r.prompt(), p);
        if (r.negativePrompt() != null) {
            PromptRules.text(Columns.NEGATIVE_PROMPT, r.negativePrompt(), p);
        }
        seed(r.seed(), p);
        steps(Columns.STEPS, r.steps(), d, p);
        guidance(Columns.GUIDANCE_SCALE, r.guidanceScale(), p);
        Optional<String> s = scheduler(Columns.SCHEDULER, r.scheduler(), d, p);
        schedulerConfig(r.schedulerConfig(), s.orElse(null), d, p);
        SizeRules.size(r.width(), r.height(), d, p);
        eta(Columns.ETA, r.eta(), p);
        clipSkip(r.clipSkip(), d, p);
        return p;
    }

    /** Checks one guidance rescale (a row's or a {@code --guidance-rescale} flag's). */
    public static void guidanceRescale(String column, double v, List<Problem> out) {
        if (!(v >= 0 && v <= 1)) {
            out.add(
                    new Problem(
                            column,
                            show(v),
                            "must be in [0, 1] (diffusers' guidance_rescale; 0 = off)"));
        }
    }

    /** Checks one strength (a row's or a {@code --strengths} flag's); adds to {@code out}. */
    public static void strength(String column, double strength, List<Problem> out) {
        PictureRules.strength(column, strength, out);
    }

    /**
     * Checks that {@code steps} at {@code strength} runs at least one denoising step: diffusers'
     * {@code get_timesteps} keeps {@code int(steps × strength)} of them (Python truncates the float
     * product, as the cast does here); adds to {@code out}.
     */
    public static void keptSteps(int steps, double strength, List<Problem> out) {
        PictureRules.keptSteps(steps, strength, out);
    }

    /** Checks one steps value (a row's or a {@code --steps} flag's); adds to {@code out}. */
    public static void steps(String column, int steps, RequestDefaults d, List<Problem> out) {
        if (steps < 1 || steps > d.maxSteps()) {
            out.add(
                    new Problem(
                            column,
                            Integer.toString(steps),
                            "must be between 1 and " + d.maxSteps()));
        }
    }

    /** Checks one guidance scale; adds to {@code out}. */
    public static void guidance(String column, double g, List<Problem> out) {
        if (!Double.isFinite(g) || g < 0) {
            out.add(new Problem(column, show(g), "must be a finite number >= 0"));
        }
    }

    /** Checks one eta; adds to {@code out}. */
    public static void eta(String column, double eta, List<Problem> out) {
        if (!Double.isFinite(eta) || eta < 0) {
            out.add(new Problem(column, show(eta), "must be a finite number >= 0"));
        }
    }

    /**
     * Resolves one scheduler name; adds a problem listing the known names when unknown, or the
     * model's reason when it cannot run that scheduler (SD3: flow matching only).
     *
     * @return the canonical alias, or empty when unknown or unfit
     */
    public static Optional<String> scheduler(
            String column, String name, RequestDefaults d, List<Problem> out) {
        Optional<String> s = d.schedulers().resolver().apply(name);
        if (s.isEmpty()) {
            out.add(
                    new Problem(
                            column,
                            show(name),
                            "is not a known scheduler; known: "
                                    + String.join(", ", d.schedulers().known())));
            return s;
        }
        Optional<String> misfit = d.schedulers().fit().apply(s.get());
        if (misfit.isPresent()) {
            out.add(new Problem(column, show(name), misfit.get()));
            return Optional.empty();
        }
        return s;
    }

    private static void schedulerConfig(
            String json, String scheduler, RequestDefaults d, List<Problem> out) {
        if (json.length() > MAX_SCHEDULER_CONFIG_CHARS) {
            out.add(
                    new Problem(
                            Columns.SCHEDULER_CONFIG,
                            show(json),
                            "is longer than " + MAX_SCHEDULER_CONFIG_CHARS + " characters"));
            return;
        }
        JsonObject o;
        try {
            o = SchedulerConfigJson.parseObject(json);
        } catch (IllegalArgumentException e) {
            out.add(new Problem(Columns.SCHEDULER_CONFIG, show(json), e.getMessage()));
            return;
        }
        if (scheduler == null) {
            return; // the unknown scheduler is already reported; its keys cannot be judged
        }
        Optional<String> problem = d.schedulers().configCheck().apply(scheduler, o);
        problem.ifPresent(m -> out.add(new Problem(Columns.SCHEDULER_CONFIG, show(json), m)));
    }

    private static void seed(long seed, List<Problem> out) {
        if (seed < 0) {
            out.add(
                    new Problem(
                            Columns.SEED,
                            Long.toString(seed),
                            "must be >= 0 (there is no random seed: leave it null to derive one"
                                    + " from the row)"));
        }
    }

    private static void clipSkip(int clipSkip, RequestDefaults d, List<Problem> out) {
        if (clipSkip < 0 || clipSkip >= d.textEncoderLayers()) {
            out.add(
                    new Problem(
                            Columns.CLIP_SKIP,
                            Integer.toString(clipSkip),
                            "must be between 0 and "
                                    + (d.textEncoderLayers() - 1)
                                    + " (the text encoder has "
                                    + d.textEncoderLayers()
                                    + " layers)"));
        }
    }

    /**
     * Adds the problem of a value of the wrong type in {@code column} (kept in {@link
     * PromptRow#rejected()}); returns whether there was one.
     */
    static boolean rejected(PromptRow row, String column, List<Problem> out) {
        PromptRow.Rejected r = row.rejected().get(column);
        if (r == null) {
            return false;
        }
        out.add(new Problem(column, show(r.value()), r.rule()));
        return true;
    }

    /**
     * A value as shown in messages: strings quoted (JSON escapes) and cut to {@value #MAX_SHOWN}
     * characters with the full length noted, numbers as Java prints them.
     */
    public static String show(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof CharSequence) {
            String s = value.toString();
            int n = s.codePointCount(0, s.length());
            String cut = s;
            String suffix = "";
            if (n > MAX_SHOWN) {
                cut = s.substring(0, s.offsetByCodePoints(0, MAX_SHOWN));
                suffix = "... (" + n + " characters)";
            }
            StringBuilder sb = new StringBuilder();
            jsonString(cut, sb);
            return sb.append(suffix).toString();
        }
        return value.toString();
    }

    private static void jsonString(String s, StringBuilder sb) {
        // Same escaping as the canonical JSON, so a control character is visible in the message.
        sb.append(SchedulerConfigJson.canonical(jsonOf(s)));
    }

    private static com.google.gson.JsonPrimitive jsonOf(String s) {
        return new com.google.gson.JsonPrimitive(s);
    }
}
