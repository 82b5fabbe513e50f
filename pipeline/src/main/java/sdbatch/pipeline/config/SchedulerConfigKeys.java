package sdbatch.pipeline.config;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonPrimitive;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scheduler config keys sdbatch's schedulers honour: each key's kind, its default (the {@code
 * __init__} default of diffusers' schedulers), its allowed values, the per-class exceptions to
 * those defaults, and the conversion of a JSON value to a checked Java value. {@link
 * SchedulerConfig} reads them; a new scheduler's keys and defaults are added here.
 *
 * <p><b>Every numeric key has a range</b> ({@link Range}), because a per-request override comes
 * from untrusted rows: {@code num_train_timesteps} sizes the schedule arrays ({@code new
 * float[num_train_timesteps]} in {@code NoiseSchedule}), so 2³¹−1 would ask for 8 GB per request;
 * an infinite or out-of-(0, 1) beta makes NaN schedules. The ranges are wide around what diffusers'
 * published configs use (1000 timesteps, betas near 10⁻⁴..10⁻², solver order 1..3) and refuse only
 * what no scheduler can use; a value outside is an {@link IllegalArgumentException} naming the key,
 * the value and the range, which makes the row invalid before anything is allocated.
 */
final class SchedulerConfigKeys {
    private SchedulerConfigKeys() {}

    /**
     * Most training timesteps (and most entries of a list key): 10× the 1000 every Stable Diffusion
     * checkpoint is trained with; it bounds each schedule array to 40 KB.
     */
    static final int MAX_TRAIN_TIMESTEPS = 10_000;

    /**
     * The accepted values of a numeric key (of each element, for a list key), ends included or not
     * as the flags say; NaN is never inside.
     */
    record Range(double min, boolean minIncluded, double max, boolean maxIncluded) {
        static Range closed(double min, double max) {
            return new Range(min, true, max, true);
        }

        static Range open(double min, double max) {
            return new Range(min, false, max, false);
        }

        boolean contains(double v) {
            return (minIncluded ? v >= min : v > min) && (maxIncluded ? v <= max : v < max);
        }

        @Override
        public String toString() {
            return (minIncluded ? "[" : "(")
                    + show(min)
                    + ", "
                    + show(max)
                    + (maxIncluded ? "]" : ")");
        }

        private static String show(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15
                    ? Long.toString((long) v)
                    : Double.toString(v);
        }
    }

    /** The value kinds a key can hold. */
    enum Kind {
        INT,
        NON_NEGATIVE_INT,
        POSITIVE_INT,
        DOUBLE,
        BOOL,
        ENUM,
        NULLABLE_ENUM,
        NULLABLE_DOUBLE,
        FLOAT_LIST,
        INT_LIST
    }

    /**
     * @param range the numeric values accepted, null for keys that hold no number
     */
    record Key(Kind kind, Object defaultValue, Set<String> allowed, Range range) {}

    static final Map<String, Key> KEYS = new LinkedHashMap<>();

    /** Per-class exceptions to {@link #KEYS}' defaults: class name to key to default. */
    static final Map<String, Map<String, Object>> CLASS_DEFAULTS = new LinkedHashMap<>();

    static {
        key("num_train_timesteps", Kind.POSITIVE_INT, 1000, Range.closed(1, MAX_TRAIN_TIMESTEPS));
        key("beta_start", Kind.DOUBLE, 0.0001, Range.open(0, 1));
        key("beta_end", Kind.DOUBLE, 0.02, Range.open(0, 1));
        key(
                "beta_schedule",
                Kind.ENUM,
                "linear",
                "linear",
                "scaled_linear",
                "squaredcos_cap_v2",
                "sigmoid");
        // A rescaled (zero terminal SNR) schedule ends in beta = 1, so 1 is a valid trained beta.
        key("trained_betas", Kind.FLOAT_LIST, null, new Range(0, false, 1, true));
        key("prediction_type", Kind.ENUM, "epsilon", "epsilon", "v_prediction", "sample");
        key("timestep_spacing", Kind.ENUM, "linspace", "linspace", "leading", "trailing");
        key("steps_offset", Kind.NON_NEGATIVE_INT, 0, Range.closed(0, MAX_TRAIN_TIMESTEPS));
        key("set_alpha_to_one", Kind.BOOL, false);
        key("clip_sample", Kind.BOOL, false);
        key("clip_sample_range", Kind.DOUBLE, 1.0, new Range(0, false, 1000, true));
        key("thresholding", Kind.BOOL, false);
        // A quantile of |x0|: a fraction.
        key("dynamic_thresholding_ratio", Kind.DOUBLE, 0.995, new Range(0, false, 1, true));
        key("sample_max_value", Kind.DOUBLE, 1.0, new Range(0, false, 1000, true));
        key("skip_prk_steps", Kind.BOOL, false);
        key("use_karras_sigmas", Kind.BOOL, false);
        key("use_exponential_sigmas", Kind.BOOL, false);
        key("use_beta_sigmas", Kind.BOOL, false);
        key("interpolation_type", Kind.ENUM, "linear", "linear", "log_linear");
        // Noise levels: SD's run to ~15, EDM's to 80.
        key("sigma_min", Kind.NULLABLE_DOUBLE, null, Range.closed(0, 10_000));
        key("sigma_max", Kind.NULLABLE_DOUBLE, null, Range.closed(0, 10_000));
        key("timestep_type", Kind.ENUM, "discrete", "discrete", "continuous");
        key("rescale_betas_zero_snr", Kind.BOOL, false);
        key("final_sigmas_type", Kind.ENUM, "zero", "zero", "sigma_min");
        // diffusers' multistep solvers implement orders 1 to 3.
        key("solver_order", Kind.POSITIVE_INT, 2, Range.closed(1, 3));
        key(
                "algorithm_type",
                Kind.ENUM,
                "dpmsolver++",
                "dpmsolver++",
                "sde-dpmsolver++",
                "dpmsolver",
                "sde-dpmsolver",
                "deis");
        key("solver_type", Kind.ENUM, "midpoint", "midpoint", "heun", "logrho", "bh1", "bh2");
        key("lower_order_final", Kind.BOOL, true);
        key("euler_at_final", Kind.BOOL, false);
        // log(alpha/sigma) of SD schedules lies within ±20; -Infinity (the default) is "no clip".
        key(
                "lambda_min_clipped",
                Kind.DOUBLE,
                Double.NEGATIVE_INFINITY,
                Range.closed(Double.NEGATIVE_INFINITY, 1000));
        key(
                "variance_type",
                Kind.NULLABLE_ENUM,
                null,
                "fixed_small",
                "fixed_small_log",
                "fixed_large",
                "fixed_large_log",
                "learned",
                "learned_range");
        key("predict_x0", Kind.BOOL, true);
        key("disable_corrector", Kind.INT_LIST, List.of(), Range.closed(0, MAX_TRAIN_TIMESTEPS));
        // FlowMatchEulerDiscreteScheduler (SD3): the timestep shift and its resolution-dependent
        // variant. SD3's published shifts are 1 to 6; a shift of 0 or below inverts the schedule.
        key("shift", Kind.DOUBLE, 1.0, new Range(0, false, 1000, true));
        key("use_dynamic_shifting", Kind.BOOL, false);
        key("base_shift", Kind.NULLABLE_DOUBLE, 0.5, Range.closed(-100, 100));
        key("max_shift", Kind.NULLABLE_DOUBLE, 1.15, Range.closed(-100, 100));
        key("base_image_seq_len", Kind.POSITIVE_INT, 256, Range.closed(1, Integer.MAX_VALUE));
        key("max_image_seq_len", Kind.POSITIVE_INT, 4096, Range.closed(1, Integer.MAX_VALUE));
        key("invert_sigmas", Kind.BOOL, false);
        // The sigma the shifted schedule is stretched to end at (null: not stretched).
        key("shift_terminal", Kind.NULLABLE_DOUBLE, null, new Range(0, false, 1, false));
        key("time_shift_type", Kind.ENUM, "exponential", "exponential", "linear");
        key("stochastic_sampling", Kind.BOOL, false);

        classDefaults(
                "DDIMScheduler",
                "clip_sample",
                true,
                "set_alpha_to_one",
                true,
                "timestep_spacing",
                "leading");
        classDefaults("PNDMScheduler", "set_alpha_to_one", false, "timestep_spacing", "leading");
        classDefaults(
                "DDPMScheduler",
                "clip_sample",
                true,
                "timestep_spacing",
                "leading",
                "variance_type",
                "fixed_small");
        classDefaults("HeunDiscreteScheduler", "beta_start", 0.00085, "beta_end", 0.012);
        classDefaults("UniPCMultistepScheduler", "solver_type", "bh2");
        classDefaults("LMSDiscreteScheduler");
        classDefaults("EulerDiscreteScheduler");
        classDefaults("EulerAncestralDiscreteScheduler");
        classDefaults("DPMSolverMultistepScheduler");
        classDefaults("FlowMatchEulerDiscreteScheduler");
    }

    private static void key(String name, Kind kind, Object dflt, String... allowed) {
        KEYS.put(name, new Key(kind, dflt, Set.of(allowed), null));
    }

    private static void key(String name, Kind kind, Object dflt, Range range) {
        KEYS.put(name, new Key(kind, dflt, Set.of(), range));
    }

    private static void classDefaults(String cls, Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        CLASS_DEFAULTS.put(cls, m);
    }

    private static IllegalArgumentException bad(String name, JsonElement v, String rule) {
        String shown = String.valueOf(v);
        if (shown.length() > 80) {
            // A 10,000-number list or a 1,000-digit number is named, not echoed in full.
            shown = shown.substring(0, 80) + "... (" + shown.length() + " characters)";
        }
        return new IllegalArgumentException(
                "scheduler config key " + name + " has value " + shown + ": " + rule);
    }

    static Object convert(String name, Key key, JsonElement v) {
        boolean isNull = v == null || v instanceof JsonNull;
        switch (key.kind()) {
            case INT:
            case NON_NEGATIVE_INT:
            case POSITIVE_INT:
                {
                    double d = number(name, v, "an integer");
                    if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                        throw bad(name, v, "expected an integer");
                    }
                    int i = (int) d;
                    if (key.kind() == Kind.NON_NEGATIVE_INT && i < 0) {
                        throw bad(name, v, "must be >= 0");
                    }
                    if (key.kind() == Kind.POSITIVE_INT && i < 1) {
                        throw bad(name, v, "must be >= 1");
                    }
                    return (int) inRange(name, key, v, i);
                }
            case DOUBLE:
                {
                    // diffusers writes -inf for lambda_min_clipped as the JSON token -Infinity.
                    if (v != null
                            && v.isJsonPrimitive()
                            && v.getAsJsonPrimitive().isString()
                            && v.getAsString().matches("-?Infinity")) {
                        double inf =
                                v.getAsString().startsWith("-")
                                        ? Double.NEGATIVE_INFINITY
                                        : Double.POSITIVE_INFINITY;
                        return inRange(name, key, v, inf);
                    }
                    return inRange(name, key, v, number(name, v, "a number"));
                }
            case NULLABLE_DOUBLE:
                return isNull ? null : inRange(name, key, v, number(name, v, "a number or null"));
            case BOOL:
                if (v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean()) {
                    return v.getAsBoolean();
                }
                throw bad(name, v, "expected true or false");
            case ENUM:
            case NULLABLE_ENUM:
                if (isNull && key.kind() == Kind.NULLABLE_ENUM) {
                    return null;
                }
                if (v != null
                        && v.isJsonPrimitive()
                        && v.getAsJsonPrimitive().isString()
                        && key.allowed().contains(v.getAsString())) {
                    return v.getAsString();
                }
                throw bad(name, v, "expected one of " + key.allowed());
            case FLOAT_LIST:
                {
                    if (isNull) {
                        return null;
                    }
                    if (!v.isJsonArray()) {
                        throw bad(name, v, "expected a list of numbers or null");
                    }
                    JsonArray a = checkedList(name, v);
                    double[] out = new double[a.size()];
                    for (int i = 0; i < out.length; i++) {
                        out[i] =
                                inRange(
                                        name + "[" + i + "]",
                                        key,
                                        a.get(i),
                                        number(name, a.get(i), "a list of numbers"));
                    }
                    return out;
                }
            case INT_LIST:
                {
                    if (isNull) {
                        return List.of();
                    }
                    if (!v.isJsonArray()) {
                        throw bad(name, v, "expected a list of integers");
                    }
                    JsonArray a = checkedList(name, v);
                    Integer[] out = new Integer[a.size()];
                    for (int i = 0; i < out.length; i++) {
                        double d = number(name, a.get(i), "a list of integers");
                        if (d != Math.rint(d)) {
                            throw bad(name, v, "expected a list of integers");
                        }
                        out[i] = (int) inRange(name + "[" + i + "]", key, a.get(i), d);
                    }
                    return List.of(out);
                }
            default:
                throw new AssertionError(key.kind());
        }
    }

    /** {@code d} when inside the key's range, else an error naming the key, value and range. */
    private static double inRange(String name, Key key, JsonElement v, double d) {
        if (key.range() != null && !key.range().contains(d)) {
            throw bad(
                    name,
                    v,
                    "must be in "
                            + key.range()
                            + (Double.isInfinite(d)
                                            && v != null
                                            && v.isJsonPrimitive()
                                            && v.getAsJsonPrimitive().isNumber()
                                    ? " (the number is beyond a double's range)"
                                    : ""));
        }
        return d;
    }

    /** The array of a list key, at most {@link #MAX_TRAIN_TIMESTEPS} long. */
    private static JsonArray checkedList(String name, JsonElement v) {
        JsonArray a = v.getAsJsonArray();
        if (a.size() > MAX_TRAIN_TIMESTEPS) {
            throw new IllegalArgumentException(
                    "scheduler config key "
                            + name
                            + " has "
                            + a.size()
                            + " values: at most "
                            + MAX_TRAIN_TIMESTEPS
                            + " are accepted");
        }
        return a;
    }

    private static double number(String name, JsonElement v, String expected) {
        if (v != null && v.isJsonPrimitive()) {
            JsonPrimitive p = v.getAsJsonPrimitive();
            if (p.isNumber()) {
                double d = p.getAsDouble();
                if (!Double.isNaN(d)) {
                    return d;
                }
            }
        }
        throw bad(name, v, "expected " + expected);
    }
}
