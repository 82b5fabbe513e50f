package sdbatch.pipeline.schedulers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * The scheduler registry: diffusers class names, sdbatch aliases and AUTOMATIC1111 sampler names
 * (all case-insensitive) to a new scheduler built from a model folder's {@code
 * scheduler_config.json} plus a request's overrides, like diffusers' {@code
 * Cls.from_config(folder_config, **overrides)}.
 *
 * <table>
 * <caption>Names</caption>
 * <tr><th>class</th><th>aliases</th><th>A1111</th></tr>
 * <tr><td>DDIMScheduler</td><td>ddim</td><td>DDIM</td></tr>
 * <tr><td>PNDMScheduler</td><td>pndm</td><td>PLMS</td></tr>
 * <tr><td>LMSDiscreteScheduler</td><td>lms</td><td>LMS</td></tr>
 * <tr><td>EulerDiscreteScheduler</td><td>euler</td><td>Euler</td></tr>
 * <tr><td>EulerAncestralDiscreteScheduler</td><td>euler_a</td><td>Euler a</td></tr>
 * <tr><td>DPMSolverMultistepScheduler</td><td>dpmpp_2m; dpmpp_2m_karras (+ use_karras_sigmas)</td>
 * <td>DPM++ 2M; DPM++ 2M Karras</td></tr>
 * <tr><td>DDPMScheduler</td><td>ddpm</td><td>DDPM</td></tr>
 * <tr><td>HeunDiscreteScheduler</td><td>heun</td><td>Heun</td></tr>
 * <tr><td>UniPCMultistepScheduler</td><td>unipc</td><td>UniPC</td></tr>
 * <tr><td>FlowMatchEulerDiscreteScheduler</td><td>flow_match_euler</td><td>Euler (infotext
 * only: as a name, "Euler" stays EulerDiscreteScheduler)</td></tr>
 * </table>
 *
 * <p>{@code null} or {@code "default"} means the folder's own {@code _class_name}. Stateless and
 * thread-safe; the schedulers it makes are not (one per run).
 */
public final class Schedulers {
    private Schedulers() {}

    private record Entry(
            String className,
            String a1111,
            String overrides,
            Function<SchedulerConfig, Scheduler> make) {}

    private static final Map<String, Entry> CLASSES = new LinkedHashMap<>();
    private static final Map<String, Entry> NAMES = new LinkedHashMap<>();
    private static final List<String> DISPLAY = new ArrayList<>();

    static {
        cls("DDIMScheduler", "DDIM", DDIMScheduler::new, "ddim");
        cls("PNDMScheduler", "PLMS", PNDMScheduler::new, "pndm");
        cls("LMSDiscreteScheduler", "LMS", LMSDiscreteScheduler::new, "lms");
        cls("EulerDiscreteScheduler", "Euler", EulerDiscreteScheduler::new, "euler");
        cls(
                "EulerAncestralDiscreteScheduler",
                "Euler a",
                EulerAncestralDiscreteScheduler::new,
                "euler_a");
        cls(
                "DPMSolverMultistepScheduler",
                "DPM++ 2M",
                DPMSolverMultistepScheduler::new,
                "dpmpp_2m");
        cls("DDPMScheduler", "DDPM", DDPMScheduler::new, "ddpm");
        cls("HeunDiscreteScheduler", "Heun", HeunDiscreteScheduler::new, "heun");
        cls("UniPCMultistepScheduler", "UniPC", UniPCMultistepScheduler::new, "unipc");
        // SD3's scheduler: A1111 and Forge call it "Euler" in the infotext, but that name already
        // means EulerDiscreteScheduler here, so it is not registered as a name.
        Entry flow =
                new Entry(
                        FlowMatchEulerDiscreteScheduler.CLASS_NAME,
                        "Euler",
                        null,
                        FlowMatchEulerDiscreteScheduler::new);
        CLASSES.put(FlowMatchEulerDiscreteScheduler.CLASS_NAME, flow);
        NAMES.put(norm(FlowMatchEulerDiscreteScheduler.CLASS_NAME), flow);
        NAMES.put("flow_match_euler", flow);
        DISPLAY.add(FlowMatchEulerDiscreteScheduler.CLASS_NAME);
        DISPLAY.add("flow_match_euler");
        Entry karras =
                new Entry(
                        "DPMSolverMultistepScheduler",
                        "DPM++ 2M Karras",
                        "{\"use_karras_sigmas\": true}",
                        DPMSolverMultistepScheduler::new);
        NAMES.put("dpmpp_2m_karras", karras);
        NAMES.put(norm("DPM++ 2M Karras"), karras);
        DISPLAY.add("dpmpp_2m_karras");
        DISPLAY.add("DPM++ 2M Karras");
    }

    private static void cls(
            String className,
            String a1111,
            Function<SchedulerConfig, Scheduler> make,
            String alias) {
        Entry e = new Entry(className, a1111, null, make);
        CLASSES.put(className, e);
        NAMES.put(norm(className), e);
        NAMES.put(alias, e);
        NAMES.put(norm(a1111), e);
        DISPLAY.add(className);
        DISPLAY.add(alias);
        DISPLAY.add(a1111);
    }

    private static String norm(String name) {
        return name.trim().toLowerCase(Locale.ROOT);
    }

    /** Every accepted name, for messages and help. */
    public static List<String> knownNames() {
        return List.copyOf(DISPLAY);
    }

    private static Entry lookup(String name, SchedulerConfig folderConfig) {
        if (name == null || name.isBlank() || norm(name).equals("default")) {
            if (folderConfig == null) {
                throw new IllegalArgumentException(
                        "scheduler \"" + name + "\" (default) needs the folder's scheduler config");
            }
            Entry e = CLASSES.get(folderConfig.className());
            if (e == null) {
                throw new IllegalArgumentException(
                        "the model's scheduler _class_name "
                                + folderConfig.className()
                                + " is not supported; known: "
                                + knownNames());
            }
            return e;
        }
        Entry e = NAMES.get(norm(name));
        if (e == null) {
            throw new IllegalArgumentException(
                    "unknown scheduler \"" + name + "\"; known: " + knownNames());
        }
        return e;
    }

    /**
     * The config the scheduler {@code name} is built from: folder config, alias keys, overrides.
     */
    public static SchedulerConfig resolveConfig(
            String name, SchedulerConfig folderConfig, String overridesJson) {
        Entry e = lookup(name, folderConfig);
        SchedulerConfig base =
                folderConfig == null
                        ? SchedulerConfig.defaults(e.className())
                        : folderConfig.forClass(e.className());
        if (e.overrides() != null) {
            base = base.withOverrides(e.overrides());
        }
        return base.withOverrides(overridesJson);
    }

    /**
     * A new scheduler.
     *
     * @param name a class name, alias or A1111 sampler name; null or "default" = the folder's class
     * @param folderConfig the model folder's {@code scheduler_config.json} (null: class defaults)
     * @param overridesJson a JSON object of config keys to override, or null
     * @throws IllegalArgumentException for an unknown name (listing the known ones) or a bad
     *     override
     */
    public static Scheduler create(
            String name, SchedulerConfig folderConfig, String overridesJson) {
        return create(name, folderConfig, overridesJson, 0.0);
    }

    /**
     * As {@link #create(String, SchedulerConfig, String)}, with the pipeline's {@code eta} (used by
     * DDIM, ignored by the others, as diffusers' {@code prepare_extra_step_kwargs} does).
     */
    public static Scheduler create(
            String name, SchedulerConfig folderConfig, String overridesJson, double eta) {
        Entry e = lookup(name, folderConfig);
        SchedulerConfig c = resolveConfig(name, folderConfig, overridesJson);
        if (e.className().equals("DDIMScheduler")) {
            return new DDIMScheduler(c, eta);
        }
        return e.make().apply(c);
    }

    /** The diffusers class name {@code name} resolves to. */
    public static String canonicalName(String name, SchedulerConfig folderConfig) {
        return lookup(name, folderConfig).className();
    }

    /** The diffusers class name of a scheduler. */
    public static String canonicalName(Scheduler scheduler) {
        return scheduler.config().className();
    }

    /**
     * The AUTOMATIC1111 sampler name for the PNG infotext ("Euler a", "DPM++ 2M Karras", ...), from
     * the scheduler's class and config.
     */
    public static String a1111Name(Scheduler scheduler) {
        return a1111Name(scheduler.config());
    }

    /** The AUTOMATIC1111 sampler name of the scheduler {@code name} would build. */
    public static String a1111Name(
            String name, SchedulerConfig folderConfig, String overridesJson) {
        return a1111Name(resolveConfig(name, folderConfig, overridesJson));
    }

    private static String a1111Name(SchedulerConfig c) {
        Entry e = CLASSES.get(c.className());
        if (e == null) {
            throw new IllegalArgumentException("unknown scheduler class " + c.className());
        }
        if (c.useKarrasSigmas()) {
            return e.a1111() + " Karras";
        }
        return e.a1111();
    }
}
