package sdbatch.pipeline.config;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
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
            SchedulerConfigKeys.Key key = SchedulerConfigKeys.KEYS.get(e.getKey());
            if (key == null) {
                extra.put(e.getKey(), e.getValue());
            } else {
                values.put(e.getKey(), SchedulerConfigKeys.convert(e.getKey(), key, e.getValue()));
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
            SchedulerConfigKeys.Key key = SchedulerConfigKeys.KEYS.get(e.getKey());
            if (key == null) {
                throw new IllegalArgumentException(
                        "scheduler override "
                                + e.getKey()
                                + "="
                                + e.getValue()
                                + " is not a known scheduler config key; known: "
                                + SchedulerConfigKeys.KEYS.keySet());
            }
            v.put(e.getKey(), SchedulerConfigKeys.convert(e.getKey(), key, e.getValue()));
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
        return Collections.unmodifiableSet(SchedulerConfigKeys.KEYS.keySet());
    }

    private Object get(String key) {
        if (values.containsKey(key)) {
            return values.get(key);
        }
        Map<String, Object> cls = SchedulerConfigKeys.CLASS_DEFAULTS.get(className);
        if (cls != null && cls.containsKey(key)) {
            return cls.get(key);
        }
        return SchedulerConfigKeys.KEYS.get(key).defaultValue();
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

    /** {@code shift} (FlowMatchEulerDiscreteScheduler). */
    public double shift() {
        return (Double) get("shift");
    }

    public boolean useDynamicShifting() {
        return (Boolean) get("use_dynamic_shifting");
    }

    /** {@code base_shift}, or null. */
    public Double baseShift() {
        return (Double) get("base_shift");
    }

    /** {@code max_shift}, or null. */
    public Double maxShift() {
        return (Double) get("max_shift");
    }

    public int baseImageSeqLen() {
        return (Integer) get("base_image_seq_len");
    }

    public int maxImageSeqLen() {
        return (Integer) get("max_image_seq_len");
    }

    public boolean invertSigmas() {
        return (Boolean) get("invert_sigmas");
    }

    /** {@code shift_terminal}, or null. */
    public Double shiftTerminal() {
        return (Double) get("shift_terminal");
    }

    public String timeShiftType() {
        return (String) get("time_shift_type");
    }

    public boolean stochasticSampling() {
        return (Boolean) get("stochastic_sampling");
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
