package sdbatch.jobs.generate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import sdbatch.jobs.adapters.LoraFiles;
import sdbatch.schemas.Adapters;
import sdbatch.schemas.Columns;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.LoraRefs;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.ResultRow;
import sdbatch.schemas.metadata.ImageId;
import sdbatch.schemas.sweep.SweepExpander;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.validate.RequestDefaults;
import sdbatch.schemas.validate.RowValidator;
import sdbatch.schemas.validate.ValidationResult;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * The pure step between a prompt-table row and its requests: {@link RowValidator#validate} against
 * the model's {@link RequestDefaults}, then {@link SweepExpander#expand} over the job's sweep, then
 * {@link ImageId#of} with the model identity. An invalid row becomes one {@link ResultRow#invalid}
 * naming the column, value and rule; it is never dropped.
 *
 * <p>Runs on executors, so it is serializable and carries only small specs ({@link ModelFacts}, the
 * {@link SweepSpec}, the size flags); the scheduler-aware {@link RequestDefaults} (which holds
 * functions) is rebuilt lazily in each JVM.
 */
public final class RowPlanner implements Serializable {
    private static final long serialVersionUID = 1L;

    private final ModelFacts model;
    private final SweepSpec sweep;
    private final Integer widthFlag;
    private final Integer heightFlag;
    private transient RequestDefaults defaults;
    // LoRA (issue 18): null = rows naming LoRAs are invalid
    private LoraFiles loraFiles;

    /**
     * @param model what the driver learned from the model
     * @param sweep the sweep flags
     * @param widthFlag {@code --width}, or null
     * @param heightFlag {@code --height}, or null
     */
    public RowPlanner(ModelFacts model, SweepSpec sweep, Integer widthFlag, Integer heightFlag) {
        this.model = Objects.requireNonNull(model, "model");
        this.sweep = Objects.requireNonNull(sweep, "sweep");
        this.widthFlag = widthFlag;
        this.heightFlag = heightFlag;
    }

    /** This planner resolving LoRAs with {@code files} (null = none may be named); returns this. */
    public RowPlanner withLoraFiles(LoraFiles files) {
        this.loraFiles = files;
        return this;
    }

    /** The LoRA reader, or null. */
    public LoraFiles loraFiles() {
        return loraFiles;
    }

    /** The model facts. */
    public ModelFacts model() {
        return model;
    }

    /** The sweep. */
    public SweepSpec sweep() {
        return sweep;
    }

    /** The validation defaults (built once per JVM). */
    public RequestDefaults defaults() {
        RequestDefaults d = defaults;
        if (d == null) {
            d = model.defaults(widthFlag, heightFlag);
            defaults = d;
        }
        return d;
    }

    /**
     * Problems with the job's own settings: the sweep values and the defaults every row without its
     * own value gets (flag sizes, the model's size and scheduler). Checked once on the driver; any
     * problem stops the job before it starts.
     */
    public List<Problem> checkJob() {
        RequestDefaults d = defaults();
        List<Problem> p = new ArrayList<>(sweep.validate(d));
        GenerationRequest probe =
                new GenerationRequest(
                        "",
                        "",
                        0,
                        d.steps(),
                        d.guidanceScale(),
                        d.scheduler(),
                        "{}",
                        d.width(),
                        d.height(),
                        d.eta(),
                        d.clipSkip(),
                        0,
                        "defaults",
                        0,
                        null);
        for (Problem q : RowValidator.check(probe, d)) {
            String column = q.column();
            if (column.equals("width") && widthFlag != null) {
                column = "--width";
            } else if (column.equals("height") && heightFlag != null) {
                column = "--height";
            } else {
                column = "model default " + column;
            }
            p.add(new Problem(column, q.value(), q.rule()));
        }
        return p;
    }

    /** Validates one row. */
    public ValidationResult validate(PromptRow row) {
        return RowValidator.validate(row, defaults());
    }

    /**
     * The metadata row of an invalid row. A text over its bound ({@link
     * RowValidator#MAX_PROMPT_CHARS}, {@link RowValidator#MAX_SCHEDULER_CONFIG_CHARS}) is kept cut
     * to the bound: the row is there with its error (which gives the full length), but a 200 MB
     * prompt is not copied into the metadata table.
     */
    public ResultRow invalid(ValidationResult.Invalid invalid) {
        ResultRow r = ResultRow.invalid(invalid.row(), invalid.message(), model.identity(), null);
        GenerationParameters p = r.parameters();
        if (p == null) {
            return r;
        }
        String prompt = cut(p.prompt(), RowValidator.MAX_PROMPT_CHARS);
        String negative = cut(p.negativePrompt(), RowValidator.MAX_PROMPT_CHARS);
        String config = cut(p.schedulerConfig(), RowValidator.MAX_SCHEDULER_CONFIG_CHARS);
        if (prompt == p.prompt()
                && negative == p.negativePrompt()
                && config == p.schedulerConfig()) {
            return r;
        }
        GenerationParameters kept =
                new GenerationParameters(
                        prompt,
                        negative,
                        p.seed(),
                        p.steps(),
                        p.guidanceScale(),
                        p.scheduler(),
                        config,
                        p.width(),
                        p.height(),
                        p.eta(),
                        p.clipSkip(),
                        p.loras(),
                        p.controlnet(),
                        p.controlImage(),
                        p.controlnetConditioningScale(),
                        p.controlGuidanceStart(),
                        p.controlGuidanceEnd());
        return new ResultRow(
                r.imageId(),
                r.imagePath(),
                r.imageUri(),
                r.sourceRow(),
                r.sourceId(),
                r.expansionIndex(),
                kept,
                r.model(),
                r.sha256(),
                r.bytes(),
                r.status(),
                r.error(),
                r.timings(),
                r.execution(),
                r.passthrough(),
                r.adapters());
    }

    /** {@code text} cut to {@code max} characters, or itself when shorter. */
    private static String cut(String text, int max) {
        return text == null || text.length() <= max ? text : text.substring(0, max);
    }

    /** The metadata row of a row that could not even be read (e.g. a line that is not JSON). */
    public ResultRow unreadable(PromptRow row, String error) {
        return ResultRow.invalid(row, error, model.identity(), null);
    }

    /** How many requests a valid row expands into. */
    public long count(ValidationResult.Valid valid) {
        return SweepExpander.count(valid.row(), sweep);
    }

    /**
     * Plans one input row: the metadata row of an invalid row (one that could not be read, or that
     * fails validation), or the row's expanded requests, lazily.
     *
     * @param row the row as read
     * @param corruptRecord the raw text of a line that is not valid JSON, or null
     */
    public Iterator<RequestOrInvalid> plan(PromptRow row, String corruptRecord) {
        if (corruptRecord != null) {
            String error =
                    "row "
                            + row.rowNumber()
                            + " is not valid JSON: "
                            + (corruptRecord.length() > 200
                                    ? corruptRecord.substring(0, 200) + "…"
                                    : corruptRecord);
            return List.of(RequestOrInvalid.invalid(unreadable(row, error))).iterator();
        }
        ValidationResult v = validate(row);
        if (v instanceof ValidationResult.Invalid inv) {
            return List.of(RequestOrInvalid.invalid(invalid(inv))).iterator();
        }
        ValidationResult.Valid valid = (ValidationResult.Valid) v;
        List<Problem> problems = new ArrayList<>();
        Adapted adapted = adapt(row, problems);
        if (!problems.isEmpty()) {
            return List.of(
                            RequestOrInvalid.invalid(
                                    invalid(new ValidationResult.Invalid(row, problems))))
                    .iterator();
        }
        return map(expand(valid, adapted), RequestOrInvalid::of);
    }

    /**
     * A row's LoRA set and prompt without its {@code <lora:...>} tags (issue 18).
     *
     * @param adapters the resolved set, or null for none
     * @param prompt the prompt without the tags
     */
    private record Adapted(Adapters adapters, String prompt) {}

    /**
     * Resolves a row's LoRAs ({@link LoraFiles}): a missing, pickle, LyCORIS or other non-LoRA file
     * is a problem of the row, under the column that named it. ControlNet rows are refused: their
     * control picture needs the picture reading of the img2img work, not in this build.
     */
    private Adapted adapt(PromptRow row, List<Problem> problems) {
        GenerationParameters given = row.parameters();
        if (given.controlnet() != null || given.controlImage() != null) {
            problems.add(
                    new Problem(
                            given.controlnet() != null ? Columns.CONTROLNET : Columns.CONTROL_IMAGE,
                            RowValidator.show(
                                    given.controlnet() != null
                                            ? given.controlnet()
                                            : given.controlImage()),
                            "ControlNet rows are not generated by this build yet (the control"
                                    + " picture reading is missing)"));
            return null;
        }
        LoraRefs.Extracted tags = LoraRefs.extractTags(given.prompt());
        boolean named =
                given.loras() != null
                        || !tags.tags().isEmpty()
                        || (loraFiles != null && !loraFiles.flagLoras().isEmpty());
        if (!named) {
            return new Adapted(null, given.prompt());
        }
        String column = given.loras() != null ? Columns.LORAS : Columns.PROMPT;
        if (loraFiles == null) {
            problems.add(
                    new Problem(
                            column,
                            RowValidator.show(given.loras()),
                            "this job reads no LoRA files (no LoRA reader configured)"));
            return null;
        }
        try {
            List<Adapters.Lora> set = loraFiles.resolve(given.loras(), tags.tags());
            return new Adapted(Adapters.of(set, null), tags.prompt());
        } catch (IllegalArgumentException e) {
            String where = given.loras() != null ? given.loras() : "--lora / <lora:...> tags";
            problems.add(new Problem(column, RowValidator.show(where), e.getMessage()));
            return null;
        }
    }

    /** The requests of a valid row, lazily, with their image ids (ordinals not yet assigned). */
    public Iterator<PlannedRequest> expand(ValidationResult.Valid valid) {
        return expand(valid, null);
    }

    private Iterator<PlannedRequest> expand(ValidationResult.Valid valid, Adapted adapted) {
        String identity = model.identity();
        return map(
                SweepExpander.expand(valid, sweep, defaults()),
                r -> {
                    GenerationRequest q =
                            adapted == null
                                    ? r
                                    : r.withPrompt(adapted.prompt())
                                            .withAdapters(adapted.adapters());
                    return new PlannedRequest(-1, ImageId.of(identity, q), q, List.of());
                });
    }

    /**
     * {@code it} with {@code f} applied to each element as it is taken (a row may expand lazily).
     */
    private static <A, B> Iterator<B> map(Iterator<A> it, Function<A, B> f) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public B next() {
                return f.apply(it.next());
            }
        };
    }
}
