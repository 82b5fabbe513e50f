package sdbatch.schemas.validate;

import static sdbatch.schemas.validate.RowValidator.rejected;
import static sdbatch.schemas.validate.RowValidator.show;

import java.util.List;
import sdbatch.schemas.Columns;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.LoraRefs;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * {@link RowValidator}'s rules for the LoRA and ControlNet columns (issue 18): a {@code loras} cell
 * and the prompt's {@code <lora:...>} tags must parse ({@link LoraRefs}); the ControlNet numbers
 * follow diffusers' {@code check_inputs}: a finite scale, {@code 0 <= start < end <= 1}. Whether
 * the files exist is the job's to find out.
 */
final class AdapterRules {
    private AdapterRules() {}

    /** The LoRA and ControlNet columns' rules (see the class comment). */
    static void check(PromptRow row, List<Problem> p) {
        GenerationParameters given = row.parameters();
        if (!rejected(row, Columns.LORAS, p) && given.loras() != null) {
            try {
                LoraRefs.parse(given.loras());
            } catch (IllegalArgumentException e) {
                p.add(new Problem(Columns.LORAS, show(given.loras()), e.getMessage()));
            }
        }
        if (given.prompt() != null) {
            try {
                LoraRefs.extractTags(given.prompt());
            } catch (IllegalArgumentException e) {
                p.add(new Problem(Columns.PROMPT, show(given.prompt()), e.getMessage()));
            }
        }
        rejected(row, Columns.CONTROLNET, p);
        rejected(row, Columns.CONTROL_IMAGE, p);
        if (!rejected(row, Columns.CONTROLNET_CONDITIONING_SCALE, p)
                && given.controlnetConditioningScale() != null
                && !Double.isFinite(given.controlnetConditioningScale())) {
            p.add(
                    new Problem(
                            Columns.CONTROLNET_CONDITIONING_SCALE,
                            show(given.controlnetConditioningScale()),
                            "must be a finite number"));
        }
        boolean startOk = !rejected(row, Columns.CONTROL_GUIDANCE_START, p);
        boolean endOk = !rejected(row, Columns.CONTROL_GUIDANCE_END, p);
        if (startOk && endOk) {
            controlGuidance(given.controlGuidanceStart(), given.controlGuidanceEnd(), p);
        }
    }

    /** diffusers' rules for {@code control_guidance_start} and {@code _end} (null = 0 and 1). */
    private static void controlGuidance(Double start, Double end, List<Problem> p) {
        double s = start == null ? 0.0 : start;
        double e = end == null ? 1.0 : end;
        if (!(s >= 0.0) || !Double.isFinite(s)) {
            p.add(new Problem(Columns.CONTROL_GUIDANCE_START, show(s), "must be >= 0"));
        } else if (!(e <= 1.0) || !Double.isFinite(e)) {
            p.add(new Problem(Columns.CONTROL_GUIDANCE_END, show(e), "must be <= 1"));
        } else if (s >= e) {
            p.add(
                    new Problem(
                            Columns.CONTROL_GUIDANCE_START,
                            show(s),
                            "must be smaller than control_guidance_end " + show(e)));
        }
    }
}
