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
 */
final class SchedulerConfigKeys {
    private SchedulerConfigKeys() {}

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

    record Key(Kind kind, Object defaultValue, Set<String> allowed) {}

    static final Map<String, Key> KEYS = new LinkedHashMap<>();

    /** Per-class exceptions to {@link #KEYS}' defaults: class name to key to default. */
    static final Map<String, Map<String, Object>> CLASS_DEFAULTS = new LinkedHashMap<>();

    static {
        key("num_train_timesteps", Kind.POSITIVE_INT, 1000);
        key("beta_start", Kind.DOUBLE, 0.0001);
        key("beta_end", Kind.DOUBLE, 0.02);
        key(
                "beta_schedule",
                Kind.ENUM,
                "linear",
                "linear",
                "scaled_linear",
                "squaredcos_cap_v2",
                "sigmoid");
        key("trained_betas", Kind.FLOAT_LIST, null);
        key("prediction_type", Kind.ENUM, "epsilon", "epsilon", "v_prediction", "sample");
        key("timestep_spacing", Kind.ENUM, "linspace", "linspace", "leading", "trailing");
        key("steps_offset", Kind.NON_NEGATIVE_INT, 0);
        key("set_alpha_to_one", Kind.BOOL, false);
        key("clip_sample", Kind.BOOL, false);
        key("clip_sample_range", Kind.DOUBLE, 1.0);
        key("thresholding", Kind.BOOL, false);
        key("dynamic_thresholding_ratio", Kind.DOUBLE, 0.995);
        key("sample_max_value", Kind.DOUBLE, 1.0);
        key("skip_prk_steps", Kind.BOOL, false);
        key("use_karras_sigmas", Kind.BOOL, false);
        key("use_exponential_sigmas", Kind.BOOL, false);
        key("use_beta_sigmas", Kind.BOOL, false);
        key("interpolation_type", Kind.ENUM, "linear", "linear", "log_linear");
        key("sigma_min", Kind.NULLABLE_DOUBLE, null);
        key("sigma_max", Kind.NULLABLE_DOUBLE, null);
        key("timestep_type", Kind.ENUM, "discrete", "discrete", "continuous");
        key("rescale_betas_zero_snr", Kind.BOOL, false);
        key("final_sigmas_type", Kind.ENUM, "zero", "zero", "sigma_min");
        key("solver_order", Kind.POSITIVE_INT, 2);
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
        key("lambda_min_clipped", Kind.DOUBLE, Double.NEGATIVE_INFINITY);
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
        key("disable_corrector", Kind.INT_LIST, List.of());

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
    }

    private static void key(String name, Kind kind, Object dflt, String... allowed) {
        KEYS.put(name, new Key(kind, dflt, Set.of(allowed)));
    }

    private static void classDefaults(String cls, Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        CLASS_DEFAULTS.put(cls, m);
    }

    private static IllegalArgumentException bad(String name, JsonElement v, String rule) {
        return new IllegalArgumentException(
                "scheduler config key " + name + " has value " + v + ": " + rule);
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
                    return i;
                }
            case DOUBLE:
                {
                    // diffusers writes -inf for lambda_min_clipped as the JSON token -Infinity.
                    if (v != null
                            && v.isJsonPrimitive()
                            && v.getAsJsonPrimitive().isString()
                            && v.getAsString().matches("-?Infinity")) {
                        return v.getAsString().startsWith("-")
                                ? Double.NEGATIVE_INFINITY
                                : Double.POSITIVE_INFINITY;
                    }
                    return number(name, v, "a number");
                }
            case NULLABLE_DOUBLE:
                return isNull ? null : number(name, v, "a number or null");
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
                    JsonArray a = v.getAsJsonArray();
                    double[] out = new double[a.size()];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = number(name, a.get(i), "a list of numbers");
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
                    JsonArray a = v.getAsJsonArray();
                    Integer[] out = new Integer[a.size()];
                    for (int i = 0; i < out.length; i++) {
                        double d = number(name, a.get(i), "a list of integers");
                        if (d != Math.rint(d)) {
                            throw bad(name, v, "expected a list of integers");
                        }
                        out[i] = (int) d;
                    }
                    return List.of(out);
                }
            default:
                throw new AssertionError(key.kind());
        }
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
