package sdbatch.pipeline.config;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A diffusers {@code scheduler/scheduler_config.json}: the {@code _class_name} and every key that
 * sdbatch's schedulers honour, each with the {@code __init__} default of the scheduler class it is
 * read for. This class is the only place those defaults live.
 *
 * <p>Like diffusers' {@code ConfigMixin}, only the keys present in the file (or in overrides) are
 * stored; a getter returns the stored value or, when absent, the default of {@link #className()}.
 * So {@code forClass("EulerDiscreteScheduler")} on a PNDM config keeps the file's shared keys
 * ({@code beta_schedule}, {@code timestep_spacing}, ...) and takes Euler's defaults for the rest,
 * which is diffusers' {@code EulerDiscreteScheduler.from_config(pndm.config)}.
 *
 * <p>Keys the file has but sdbatch does not know (e.g. {@code _diffusers_version}) are kept in
 * {@link #extra()} and never fatal. A known key with a value of the wrong type or outside its set
 * of allowed values is an {@link IllegalArgumentException} naming the key and the value. Overrides
 * ({@link #withOverrides(String)}) are stricter: an unknown key is an error too.
 *
 * <p>Immutable and thread-safe.
 */
public final class SchedulerConfig {
    private static final System.Logger LOG = System.getLogger(SchedulerConfig.class.getName());
    private static final Gson GSON = new GsonBuilder().serializeNulls().create();

    /** The value kinds a key can hold. */
    private enum Kind {
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

    private record Key(Kind kind, Object defaultValue, Set<String> allowed) {}

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    /** Per-class exceptions to {@link #KEYS}' defaults: class name to key to default. */
    private static final Map<String, Map<String, Object>> CLASS_DEFAULTS = new LinkedHashMap<>();

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

    private final String className;
    private final Map<String, Object> values;
    private final Map<String, JsonElement> extra;

    private SchedulerConfig(
            String className, Map<String, Object> values, Map<String, JsonElement> extra) {
        this.className = Objects.requireNonNull(className, "className");
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /** A config with every key at {@code className}'s defaults (diffusers' {@code Cls()}). */
    public static SchedulerConfig defaults(String className) {
        return new SchedulerConfig(className, Map.of(), Map.of());
    }

    /** Reads {@code scheduler_config.json}. */
    public static SchedulerConfig read(Path file) throws IOException {
        String json = Files.readString(file, StandardCharsets.UTF_8);
        try {
            return parse(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses the JSON text of a {@code scheduler_config.json}. Unknown keys go to {@link #extra()};
     * a missing {@code _class_name} is an error.
     */
    public static SchedulerConfig parse(String json) {
        JsonObject obj = parseObject(json, "scheduler config");
        JsonElement cls = obj.get("_class_name");
        if (cls == null || !cls.isJsonPrimitive() || !cls.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException(
                    "scheduler config: _class_name is missing or not a string: " + cls);
        }
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, JsonElement> extra = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : obj.entrySet()) {
            if (e.getKey().equals("_class_name")) {
                continue;
            }
            Key key = KEYS.get(e.getKey());
            if (key == null) {
                extra.put(e.getKey(), e.getValue());
            } else {
                values.put(e.getKey(), convert(e.getKey(), key, e.getValue()));
            }
        }
        if (extra.keySet().stream().anyMatch(k -> !k.startsWith("_"))) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "scheduler config keys not used by sdbatch (kept in extra()): {0}",
                    extra.keySet());
        }
        return new SchedulerConfig(cls.getAsString(), values, extra);
    }

    /**
     * This config with a request's overrides applied, like diffusers' {@code from_config(config,
     * **kwargs)}. {@code json} is a JSON object of config keys ({@code null} or blank: none).
     *
     * @throws IllegalArgumentException for an unknown key or a bad value, naming both
     */
    public SchedulerConfig withOverrides(String json) {
        if (json == null || json.isBlank()) {
            return this;
        }
        JsonObject obj = parseObject(json, "scheduler overrides");
        Map<String, Object> v = new LinkedHashMap<>(values);
        for (Map.Entry<String, JsonElement> e : obj.entrySet()) {
            Key key = KEYS.get(e.getKey());
            if (key == null) {
                throw new IllegalArgumentException(
                        "scheduler override "
                                + e.getKey()
                                + "="
                                + e.getValue()
                                + " is not a known scheduler config key; known: "
                                + KEYS.keySet());
            }
            v.put(e.getKey(), convert(e.getKey(), key, e.getValue()));
        }
        return new SchedulerConfig(className, v, extra);
    }

    /** This config with one key set (the value is checked like an override). */
    public SchedulerConfig with(String key, Object value) {
        JsonObject o = new JsonObject();
        o.add(key, GSON.toJsonTree(value));
        return withOverrides(GSON.toJson(o));
    }

    /** The same stored keys read for another scheduler class (diffusers' {@code from_config}). */
    public SchedulerConfig forClass(String otherClassName) {
        return new SchedulerConfig(otherClassName, values, extra);
    }

    /** The JSON form: {@code _class_name}, the stored keys and {@link #extra()}. */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("_class_name", className);
        for (Map.Entry<String, Object> e : values.entrySet()) {
            o.add(e.getKey(), GSON.toJsonTree(e.getValue()));
        }
        for (Map.Entry<String, JsonElement> e : extra.entrySet()) {
            o.add(e.getKey(), e.getValue());
        }
        return GSON.toJson(o);
    }

    /** {@code _class_name}: the scheduler class this config is read for. */
    public String className() {
        return className;
    }

    /** Unknown keys of the file, as read. */
    public Map<String, JsonElement> extra() {
        return extra;
    }

    /** Whether the file or an override set {@code key}. */
    public boolean isSet(String key) {
        return values.containsKey(key);
    }

    /** The known keys. */
    public static Set<String> knownKeys() {
        return Collections.unmodifiableSet(KEYS.keySet());
    }

    private Object get(String key) {
        if (values.containsKey(key)) {
            return values.get(key);
        }
        Map<String, Object> cls = CLASS_DEFAULTS.get(className);
        if (cls != null && cls.containsKey(key)) {
            return cls.get(key);
        }
        return KEYS.get(key).defaultValue();
    }

    public int numTrainTimesteps() {
        return (Integer) get("num_train_timesteps");
    }

    public double betaStart() {
        return (Double) get("beta_start");
    }

    public double betaEnd() {
        return (Double) get("beta_end");
    }

    public String betaSchedule() {
        return (String) get("beta_schedule");
    }

    /** {@code trained_betas}, or null. */
    public double[] trainedBetas() {
        double[] b = (double[]) get("trained_betas");
        return b == null ? null : b.clone();
    }

    public String predictionType() {
        return (String) get("prediction_type");
    }

    public String timestepSpacing() {
        return (String) get("timestep_spacing");
    }

    public int stepsOffset() {
        return (Integer) get("steps_offset");
    }

    public boolean setAlphaToOne() {
        return (Boolean) get("set_alpha_to_one");
    }

    public boolean clipSample() {
        return (Boolean) get("clip_sample");
    }

    public double clipSampleRange() {
        return (Double) get("clip_sample_range");
    }

    public boolean thresholding() {
        return (Boolean) get("thresholding");
    }

    public double dynamicThresholdingRatio() {
        return (Double) get("dynamic_thresholding_ratio");
    }

    public double sampleMaxValue() {
        return (Double) get("sample_max_value");
    }

    public boolean skipPrkSteps() {
        return (Boolean) get("skip_prk_steps");
    }

    public boolean useKarrasSigmas() {
        return (Boolean) get("use_karras_sigmas");
    }

    public boolean useExponentialSigmas() {
        return (Boolean) get("use_exponential_sigmas");
    }

    public boolean useBetaSigmas() {
        return (Boolean) get("use_beta_sigmas");
    }

    public String interpolationType() {
        return (String) get("interpolation_type");
    }

    /** {@code sigma_min}, or null. */
    public Double sigmaMin() {
        return (Double) get("sigma_min");
    }

    /** {@code sigma_max}, or null. */
    public Double sigmaMax() {
        return (Double) get("sigma_max");
    }

    public String timestepType() {
        return (String) get("timestep_type");
    }

    public boolean rescaleBetasZeroSnr() {
        return (Boolean) get("rescale_betas_zero_snr");
    }

    public String finalSigmasType() {
        return (String) get("final_sigmas_type");
    }

    public int solverOrder() {
        return (Integer) get("solver_order");
    }

    public String algorithmType() {
        return (String) get("algorithm_type");
    }

    public String solverType() {
        return (String) get("solver_type");
    }

    public boolean lowerOrderFinal() {
        return (Boolean) get("lower_order_final");
    }

    public boolean eulerAtFinal() {
        return (Boolean) get("euler_at_final");
    }

    public double lambdaMinClipped() {
        return (Double) get("lambda_min_clipped");
    }

    /** {@code variance_type}, or null. */
    public String varianceType() {
        return (String) get("variance_type");
    }

    public boolean predictX0() {
        return (Boolean) get("predict_x0");
    }

    @SuppressWarnings("unchecked")
    public List<Integer> disableCorrector() {
        return (List<Integer>) get("disable_corrector");
    }

    private static JsonObject parseObject(String json, String what) {
        JsonElement el;
        try {
            el = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + json, e);
        }
        if (!el.isJsonObject()) {
            throw new IllegalArgumentException(what + " must be a JSON object: " + json);
        }
        return el.getAsJsonObject();
    }

    private static IllegalArgumentException bad(String name, JsonElement v, String rule) {
        return new IllegalArgumentException(
                "scheduler config key " + name + " has value " + v + ": " + rule);
    }

    private static Object convert(String name, Key key, JsonElement v) {
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

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SchedulerConfig)) {
            return false;
        }
        SchedulerConfig c = (SchedulerConfig) o;
        return className.equals(c.className) && toJson().equals(c.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return toJson();
    }
}
