package sdbatch.schemas;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The scheduler names a prompt table or flag may use, and the canonical alias each stands for. Pure
 * data, so validation, image ids and the A1111 infotext agree without knowing the pipeline's
 * scheduler classes.
 *
 * <p>Accepted, case-insensitively: the short aliases ({@code euler_a}), the diffusers class names
 * ({@code EulerAncestralDiscreteScheduler}) and the AUTOMATIC1111 sampler names ({@code Euler a},
 * {@code PLMS}, {@code DPM++ 2M Karras}). The canonical form is the short alias; {@code
 * dpmpp_2m_karras} is {@code DPMSolverMultistepScheduler} with {@code use_karras_sigmas=true}.
 */
public final class SchedulerNames {
    private SchedulerNames() {}

    /**
     * One scheduler.
     *
     * @param alias canonical short alias
     * @param diffusersClass the diffusers class name
     * @param a1111Name the AUTOMATIC1111 sampler name written in infotext
     * @param impliedConfig config overrides the alias implies (canonical JSON, {@code {}} if none)
     */
    public record Entry(
            String alias, String diffusersClass, String a1111Name, String impliedConfig) {}

    /** Every known scheduler, in documentation order. */
    public static final List<Entry> ALL =
            List.of(
                    new Entry("ddim", "DDIMScheduler", "DDIM", "{}"),
                    new Entry("pndm", "PNDMScheduler", "PLMS", "{}"),
                    new Entry("lms", "LMSDiscreteScheduler", "LMS", "{}"),
                    new Entry("euler", "EulerDiscreteScheduler", "Euler", "{}"),
                    new Entry("euler_a", "EulerAncestralDiscreteScheduler", "Euler a", "{}"),
                    new Entry("dpmpp_2m", "DPMSolverMultistepScheduler", "DPM++ 2M", "{}"),
                    new Entry(
                            "dpmpp_2m_karras",
                            "DPMSolverMultistepScheduler",
                            "DPM++ 2M Karras",
                            "{\"use_karras_sigmas\":true}"),
                    // A1111 has no DDPM sampler; the name is ours.
                    new Entry("ddpm", "DDPMScheduler", "DDPM", "{}"),
                    new Entry("heun", "HeunDiscreteScheduler", "Heun", "{}"),
                    new Entry("unipc", "UniPCMultistepScheduler", "UniPC", "{}"),
                    // SD3's flow matching: A1111/Forge write "Euler" for it, but as a name "Euler"
                    // keeps meaning EulerDiscreteScheduler.
                    new Entry(
                            "flow_match_euler", "FlowMatchEulerDiscreteScheduler", "Euler", "{}"));

    private static final Map<String, Entry> BY_NAME;

    static {
        Map<String, Entry> m = new LinkedHashMap<>();
        for (Entry e : ALL) {
            m.put(e.alias().toLowerCase(Locale.ROOT), e);
            m.putIfAbsent(e.a1111Name().toLowerCase(Locale.ROOT), e);
            // The class name denotes the class with its folder config: the non-Karras alias.
            m.putIfAbsent(e.diffusersClass().toLowerCase(Locale.ROOT), e);
        }
        BY_NAME = Collections.unmodifiableMap(m);
    }

    /** The entry a name denotes (alias, diffusers class or A1111 name, any case), or empty. */
    public static Optional<Entry> lookup(String name) {
        if (name == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(BY_NAME.get(name.strip().toLowerCase(Locale.ROOT)));
    }

    /** The canonical alias a name denotes, or empty when unknown. */
    public static Optional<String> canonical(String name) {
        return lookup(name).map(Entry::alias);
    }

    /** Every accepted spelling, for "unknown scheduler" messages. */
    public static List<String> knownNames() {
        List<String> out = new ArrayList<>();
        for (Entry e : ALL) {
            out.add(e.alias());
        }
        for (Entry e : ALL) {
            if (!out.contains(e.diffusersClass())) {
                out.add(e.diffusersClass());
            }
        }
        for (Entry e : ALL) {
            if (!out.contains(e.a1111Name())) {
                out.add(e.a1111Name());
            }
        }
        return out;
    }
}
