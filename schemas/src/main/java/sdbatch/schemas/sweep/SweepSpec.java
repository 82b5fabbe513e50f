package sdbatch.schemas.sweep;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import sdbatch.schemas.validate.RequestDefaults;
import sdbatch.schemas.validate.RowValidator;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * The sweep flags of one job: {@code --seeds}, {@code --images-per-prompt}, {@code --guidance},
 * {@code --steps}, {@code --schedulers}, {@code --strengths}, {@code --guidance-rescale}. Each list
 * applies only to rows that leave the column null ({@link SweepExpander} documents the precedence);
 * an empty list means "not swept". {@code --strengths} applies only to rows with an {@code
 * init_image}.
 *
 * @param seeds {@code --seeds}, or null
 * @param imagesPerPrompt {@code --images-per-prompt}, or null (1 when seeds are derived)
 * @param guidanceScales {@code --guidance} values in order
 * @param steps {@code --steps} values in order
 * @param schedulers {@code --schedulers} names in order, as written
 * @param strengths {@code --strengths} values in order (img2img and inpainting rows only)
 * @param guidanceRescales {@code --guidance-rescale} values in order (issue 16: diffusers' {@code
 *     guidance_rescale}, every family)
 */
public record SweepSpec(
        SeedSet seeds,
        Integer imagesPerPrompt,
        List<Double> guidanceScales,
        List<Integer> steps,
        List<String> schedulers,
        List<Double> strengths,
        List<Double> guidanceRescales)
        implements Serializable {

    /** Most requests one row may expand into. */
    public static final long MAX_PER_ROW = 10_000_000L;

    /** No sweep: one request per row. */
    public static final SweepSpec NONE =
            new SweepSpec(null, null, List.of(), List.of(), List.of(), List.of(), List.of());

    /** Checks the combination (seeds and images-per-prompt exclude each other). */
    public SweepSpec {
        guidanceScales = List.copyOf(guidanceScales);
        steps = List.copyOf(steps);
        schedulers = List.copyOf(schedulers);
        strengths = List.copyOf(strengths);
        guidanceRescales = List.copyOf(guidanceRescales);
        if (seeds != null && imagesPerPrompt != null) {
            throw new IllegalArgumentException(
                    "--seeds and --images-per-prompt exclude each other: --seeds names the seeds,"
                            + " --images-per-prompt derives N seeds per row");
        }
        if (imagesPerPrompt != null && (imagesPerPrompt < 1 || imagesPerPrompt > MAX_PER_ROW)) {
            throw new IllegalArgumentException(
                    "--images-per-prompt "
                            + imagesPerPrompt
                            + " must be between 1 and "
                            + MAX_PER_ROW);
        }
        long n =
                maxPerRowOf(
                        seeds,
                        imagesPerPrompt,
                        List.of(guidanceScales, steps, schedulers, strengths, guidanceRescales));
        if (n > MAX_PER_ROW) {
            throw new IllegalArgumentException(
                    "the sweep expands a row into up to "
                            + n
                            + " requests, more than "
                            + MAX_PER_ROW);
        }
    }

    /** Parses the flag values without {@code --strengths} and {@code --guidance-rescale}. */
    public static SweepSpec parse(
            String seeds,
            Integer imagesPerPrompt,
            String guidance,
            String steps,
            String schedulers) {
        return parse(seeds, imagesPerPrompt, guidance, steps, schedulers, null, null);
    }

    /**
     * Parses the flag values; a null or absent flag is not swept.
     *
     * @param seeds {@code --seeds} text, e.g. {@code 0-99,1234}
     * @param imagesPerPrompt {@code --images-per-prompt}, or null
     * @param guidance {@code --guidance} text, e.g. {@code 1.5,3,7.5,12}
     * @param steps {@code --steps} text, e.g. {@code 20,50}
     * @param schedulers {@code --schedulers} text, e.g. {@code euler_a,dpmpp_2m}
     * @param strengths {@code --strengths} text, e.g. {@code 0.3,0.5,0.8}
     * @param guidanceRescales {@code --guidance-rescale} text, e.g. {@code 0,0.7}
     * @throws IllegalArgumentException naming the flag, the item and the rule
     */
    public static SweepSpec parse(
            String seeds,
            Integer imagesPerPrompt,
            String guidance,
            String steps,
            String schedulers,
            String strengths,
            String guidanceRescales) {
        return new SweepSpec(
                seeds == null ? null : SeedSet.parse(seeds),
                imagesPerPrompt,
                guidance == null ? List.of() : doubles("--guidance", guidance),
                steps == null ? List.of() : ints("--steps", steps),
                schedulers == null ? List.of() : names("--schedulers", schedulers),
                strengths == null ? List.of() : doubles("--strengths", strengths),
                guidanceRescales == null
                        ? List.of()
                        : doubles("--guidance-rescale", guidanceRescales));
    }

    /**
     * Checks the swept values with the row rules (steps range, guidance finite and >= 0, known
     * schedulers); the problems name the flag. Empty when all are fine.
     */
    public List<Problem> validate(RequestDefaults d) {
        List<Problem> p = new ArrayList<>();
        for (int s : steps) {
            RowValidator.steps("--steps", s, d, p);
        }
        for (double g : guidanceScales) {
            RowValidator.guidance("--guidance", g, p);
        }
        for (double s : strengths) {
            RowValidator.strength("--strengths", s, p);
        }
        for (double r : guidanceRescales) {
            RowValidator.guidanceRescale("--guidance-rescale", r, p);
        }
        Set<String> canonical = new HashSet<>();
        for (String s : schedulers) {
            RowValidator.scheduler("--schedulers", s, d, p)
                    .ifPresent(
                            c -> {
                                if (!canonical.add(c)) {
                                    p.add(
                                            new Problem(
                                                    "--schedulers",
                                                    RowValidator.show(s),
                                                    "names scheduler "
                                                            + c
                                                            + " twice (the same images twice)"));
                                }
                            });
        }
        return p;
    }

    /** The most requests one row can expand into (an img2img row that fixes nothing). */
    public long maxPerRow() {
        return maxPerRowOf(
                seeds,
                imagesPerPrompt,
                List.of(guidanceScales, steps, schedulers, strengths, guidanceRescales));
    }

    /**
     * The seeds per row times the values of each swept list (an empty list: not swept, one value);
     * {@link ArithmeticException} when that overflows a long.
     */
    private static long maxPerRowOf(SeedSet seeds, Integer ipp, List<List<?>> swept) {
        long n = seeds != null ? seeds.size() : ipp != null ? ipp : 1;
        for (List<?> values : swept) {
            n = Math.multiplyExact(n, Math.max(1, values.size()));
        }
        return n;
    }

    private static List<String> items(String flag, String text) {
        List<String> out = new ArrayList<>();
        for (String raw : text.split(",", -1)) {
            String item = raw.strip();
            if (item.isEmpty()) {
                throw new IllegalArgumentException(
                        flag + " '" + text + "' has an empty item; separate values with commas");
            }
            out.add(item);
        }
        return out;
    }

    private static List<Double> doubles(String flag, String text) {
        List<Double> out = new ArrayList<>();
        for (String item : items(flag, text)) {
            if (!item.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
                throw new IllegalArgumentException(
                        flag + " item '" + item + "' is not a decimal number");
            }
            addOnce(out, Double.parseDouble(item) + 0.0, flag, item);
        }
        return out;
    }

    private static List<Integer> ints(String flag, String text) {
        List<Integer> out = new ArrayList<>();
        for (String item : items(flag, text)) {
            int v;
            try {
                if (!item.matches("[+-]?\\d+")) {
                    throw new NumberFormatException();
                }
                v = Integer.parseInt(item);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        flag + " item '" + item + "' is not an integer", e);
            }
            addOnce(out, v, flag, v);
        }
        return out;
    }

    /**
     * Adds {@code value} unless the list holds it: a value listed twice would make the same images
     * twice, so it is refused, named as {@code shown}.
     */
    private static <T> void addOnce(List<T> out, T value, String flag, Object shown) {
        if (out.contains(value)) {
            throw new IllegalArgumentException(
                    flag + " names " + shown + " twice (the same images twice)");
        }
        out.add(value);
    }

    private static List<String> names(String flag, String text) {
        return items(flag, text);
    }
}
