package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * A diffusers pipeline folder's {@code model_index.json}: the pipeline class and, for each
 * component, the library and class that saved it ({@code "unet": ["diffusers",
 * "UNet2DConditionModel"]}). Components saved as {@code [null, null]} (an absent safety checker)
 * are left out of {@link #components()}.
 *
 * @param dir the pipeline folder
 * @param className {@code _class_name}, e.g. {@code StableDiffusionPipeline}
 * @param diffusersVersion {@code _diffusers_version}, or null
 * @param components present components by name, in file order, unmodifiable
 * @param extra every other key ({@code requires_safety_checker}, ...), unmodifiable
 */
public record ModelIndex(
        Path dir,
        String className,
        String diffusersVersion,
        Map<String, Component> components,
        Map<String, JsonElement> extra) {

    /** The file name inside a pipeline folder. */
    public static final String FILE_NAME = "model_index.json";

    /**
     * One component entry.
     *
     * @param name the key, which is also the sub-folder name ({@code unet})
     * @param library {@code diffusers} or {@code transformers}
     * @param className the class that saved it ({@code UNet2DConditionModel})
     */
    public record Component(String name, String library, String className) {
        /**
         * The file that must exist in the component's folder for it to be loadable: {@code
         * scheduler_config.json} for a scheduler, {@code tokenizer_config.json} for a tokenizer
         * (the vocabulary files are the tokenizer's own business), else {@code config.json}.
         */
        public String configFileName() {
            if (className.endsWith("Scheduler")) {
                return "scheduler_config.json";
            }
            if (className.contains("Tokenizer")) {
                return "tokenizer_config.json";
            }
            return "config.json";
        }
    }

    public ModelIndex {
        components = Collections.unmodifiableMap(new LinkedHashMap<>(components));
        extra = extra == null ? Map.of() : extra;
    }

    /**
     * Reads {@code <dir>/model_index.json} and checks that every listed component has its folder
     * and its config file, so a broken download fails here with the path, not deep inside a model.
     *
     * @throws ModelLoadException if the folder, the index, a component folder or a config is
     *     missing, or an entry is not {@code [library, class]}
     */
    public static ModelIndex load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("model folder " + dir + " does not exist");
        }
        Path file =
                ModelLoadException.requireFile(
                        dir,
                        FILE_NAME,
                        "model folder",
                        "a diffusers pipeline folder, as pipe.save_pretrained(dir) writes it, is"
                                + " expected");
        DiffusersConfigJson j = DiffusersConfigJson.read(file);
        ModelIndex index = from(dir, j);
        List<String> problems = new ArrayList<>();
        for (Component c : index.components().values()) {
            Path sub = dir.resolve(c.name());
            if (!Files.isDirectory(sub)) {
                problems.add(
                        "component '"
                                + c.name()
                                + "' ("
                                + c.className()
                                + ") has no folder "
                                + sub);
            } else if (!Files.isRegularFile(sub.resolve(c.configFileName()))) {
                problems.add(
                        "component '"
                                + c.name()
                                + "' ("
                                + c.className()
                                + ") has no "
                                + c.configFileName()
                                + " in "
                                + sub);
            }
        }
        if (!problems.isEmpty()) {
            throw new ModelLoadException(
                    dir + " is incomplete:\n  " + String.join("\n  ", problems));
        }
        return index;
    }

    /** Parses the text of a {@code model_index.json} without checking any folder. */
    public static ModelIndex parse(Path dir, String json) {
        return from(dir, DiffusersConfigJson.parse(String.valueOf(dir.resolve(FILE_NAME)), json));
    }

    private static ModelIndex from(Path dir, DiffusersConfigJson j) {
        String className = j.getString("_class_name", null);
        String version = j.getString("_diffusers_version", null);
        Map<String, Component> components = new LinkedHashMap<>();
        Map<String, JsonElement> rest = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : j.extra().entrySet()) {
            String key = e.getKey();
            JsonElement v = e.getValue();
            if (key.startsWith("_") || !v.isJsonArray()) {
                rest.put(key, v);
                continue;
            }
            var a = v.getAsJsonArray();
            if (a.size() != 2) {
                throw j.bad(key, v, "is not a [library, class] pair");
            }
            if (a.get(0).isJsonNull() && a.get(1).isJsonNull()) {
                continue; // an absent optional component (safety_checker: [null, null])
            }
            if (!a.get(0).isJsonPrimitive() || !a.get(1).isJsonPrimitive()) {
                throw j.bad(key, v, "is not a [library, class] pair of strings");
            }
            components.put(key, new Component(key, a.get(0).getAsString(), a.get(1).getAsString()));
        }
        return new ModelIndex(
                dir, className, version, components, Collections.unmodifiableMap(rest));
    }

    /**
     * A boolean the pipeline registered in its config ({@code force_zeros_for_empty_prompt}, {@code
     * requires_aesthetics_score}), or {@code dflt} where the file has none.
     *
     * @throws ModelLoadException if the value is not a boolean
     */
    public boolean flag(String key, boolean dflt) {
        JsonElement v = extra.get(key);
        if (v == null || v.isJsonNull()) {
            return dflt;
        }
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
            throw new ModelLoadException(
                    dir + "/" + FILE_NAME + ": " + key + " is " + v + ", not true or false");
        }
        return v.getAsBoolean();
    }

    /** The component named {@code name}, or a clear error listing those present. */
    public Component component(String name) {
        Component c = components.get(name);
        if (c == null) {
            throw new ModelLoadException(
                    dir
                            + "/"
                            + FILE_NAME
                            + " lists no component '"
                            + name
                            + "' (present: "
                            + components.keySet()
                            + ")");
        }
        return c;
    }

    /** The folder of component {@code name} (checked to exist by {@link #load}). */
    public Path componentDir(String name) {
        return dir.resolve(component(name).name());
    }
}
