package sdbatch.schemas.validate;

import static sdbatch.schemas.validate.RowValidator.rejected;
import static sdbatch.schemas.validate.RowValidator.show;

import java.util.List;
import sdbatch.schemas.Columns;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * {@link RowValidator}'s rules for the img2img and inpainting columns: {@code init_image} and
 * {@code mask_image} are usable locations, a mask needs an init picture, {@code strength} is in (0,
 * 1] and only with an init picture, {@code paste_back} only with a mask. The pictures themselves
 * are the job's to read.
 */
final class PictureRules {
    private PictureRules() {}

    /** The picture columns' rules (see the class comment). */
    static void check(PromptRow row, List<Problem> p) {
        GenerationParameters given = row.parameters();
        boolean initOk = !rejected(row, Columns.INIT_IMAGE, p);
        if (initOk && given.initImage() != null) {
            initOk = location(Columns.INIT_IMAGE, given.initImage(), p);
        }
        boolean hasInit = initOk && given.initImage() != null;
        boolean maskOk = !rejected(row, Columns.MASK_IMAGE, p);
        if (maskOk
                && given.maskImage() != null
                && location(Columns.MASK_IMAGE, given.maskImage(), p)) {
            if (initOk && given.initImage() == null) {
                p.add(
                        new Problem(
                                Columns.MASK_IMAGE,
                                show(given.maskImage()),
                                "needs an init_image (inpainting repaints a picture)"));
            }
        }
        if (!rejected(row, Columns.STRENGTH, p) && given.strength() != null) {
            strength(Columns.STRENGTH, given.strength(), p);
            if (initOk && !hasInit) {
                p.add(
                        new Problem(
                                Columns.STRENGTH,
                                show(given.strength()),
                                "applies only to rows with an init_image (img2img, inpainting)"));
            }
        }
        if (!rejected(row, Columns.PASTE_BACK, p)
                && Boolean.TRUE.equals(given.pasteBack())
                && maskOk
                && given.maskImage() == null) {
            p.add(
                    new Problem(
                            Columns.PASTE_BACK,
                            "true",
                            "applies only to inpainting rows (with a mask_image)"));
        }
    }

    /** Checks a picture location; adds to {@code out} and returns false when it is unusable. */
    private static boolean location(String column, String location, List<Problem> out) {
        if (location.isBlank()) {
            out.add(new Problem(column, show(location), "is blank; leave it null for none"));
            return false;
        }
        if (location.length() > RowValidator.MAX_PICTURE_LOCATION_CHARS) {
            out.add(
                    new Problem(
                            column,
                            show(location),
                            "is longer than "
                                    + RowValidator.MAX_PICTURE_LOCATION_CHARS
                                    + " characters"));
            return false;
        }
        if (location.indexOf('\0') >= 0) {
            out.add(new Problem(column, show(location), "contains the character U+0000"));
            return false;
        }
        return true;
    }

    /** See {@link RowValidator#strength}. */
    static void strength(String column, double strength, List<Problem> out) {
        if (!(strength > 0 && strength <= 1)) {
            out.add(
                    new Problem(
                            column,
                            show(strength),
                            "must be in (0, 1] (diffusers' strength: 1 = from pure noise)"));
        }
    }

    /** See {@link RowValidator#keptSteps}. */
    static void keptSteps(int steps, double strength, List<Problem> out) {
        if ((int) (steps * strength) < 1) {
            out.add(
                    new Problem(
                            "steps x strength",
                            steps + " x " + show(strength),
                            "runs no denoising step (diffusers keeps int(steps x strength) of"
                                    + " them): raise steps or strength"));
        }
    }
}
