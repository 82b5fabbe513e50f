package sdbatch.pipeline.lora;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import sdbatch.pipeline.embeddings.TextualInversion;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.pipeline.weights.StateDictWeights;

/**
 * A LoRA safetensors file read from its header: the layers it changes, each with its two factors'
 * keys and shapes and its {@code alpha}. Tensor data is read only for a merge ({@link LoraMerge}).
 *
 * <p>Formats, as diffusers' {@code lora_state_dict} takes them for Stable Diffusion:
 *
 * <ul>
 *   <li>kohya / AUTOMATIC1111: {@code lora_unet_<module>}, {@code lora_te_<module>} (SDXL: {@code
 *       lora_te1_}, {@code lora_te2_} for {@code text_encoder_2}), with {@code .lora_down.weight},
 *       {@code .lora_up.weight} and {@code .alpha} (absent: alpha = rank). {@code <module>} is the
 *       module's path with every {@code .} made {@code _}, so it is resolved against the model's
 *       real module names ({@link LoraTargets}), which undoes that replacement exactly.
 *   <li>diffusers / PEFT: {@code unet.<module>.lora_A.weight}, {@code .lora_B.weight} ({@code
 *       text_encoder.}, {@code text_encoder_2.}); alpha and rank from the header metadata's {@code
 *       lora_adapter_metadata} (PEFT's {@code LoraConfig} per component: {@code lora_alpha}, {@code
 *       r}, {@code alpha_pattern}, {@code rank_pattern}, {@code use_rslora}), else as diffusers'
 *       {@code get_peft_kwargs} without alphas: every layer's alpha is the rank of the component's
 *       first {@code lora_B} (alpha = rank when all ranks agree).
 * </ul>
 *
 * LyCORIS variants (LoHa, LoKr, LoCon's Tucker {@code lora_mid}, OFT, (IA)³, full and norm diffs)
 * and DoRA are refused by name, never half-applied; pickle files are refused.
 */
final class LoraFile {

    /**
     * One changed layer.
     *
     * @param component the diffusers component ({@code unet}, {@code text_encoder}, {@code
     *     text_encoder_2})
     * @param module the module as the file names it: kohya's underscore form, or a dotted path
     * @param kohya whether {@code module} is kohya's underscore form
     * @param sourceKey the file's key naming the layer (for errors)
     * @param downKey the key of {@code lora_down} / {@code lora_A} ([rank, in] or [rank, in, k, k])
     * @param upKey the key of {@code lora_up} / {@code lora_B} ([out, rank] or [out, rank, 1, 1])
     * @param scale alpha / rank (alpha / √rank with rsLoRA), before the LoRA's weight
     */
    record Layer(
            String component,
            String module,
            boolean kohya,
            String sourceKey,
            String downKey,
            long[] downShape,
            String upKey,
            long[] upShape,
            double scale) {
        int rank() {
            return Math.toIntExact(downShape[0]);
        }
    }

    /** LyCORIS and other non-LoRA networks, by a key fragment each uses. */
    private static final Map<String, String> REFUSED =
            Map.ofEntries(
                    Map.entry("hada_w1_a", "LyCORIS LoHa"),
                    Map.entry("hada_t1", "LyCORIS LoHa"),
                    Map.entry("lokr_w1", "LyCORIS LoKr"),
                    Map.entry("lokr_w2", "LyCORIS LoKr"),
                    Map.entry("lokr_t2", "LyCORIS LoKr"),
                    Map.entry("lora_mid", "LyCORIS LoCon with Tucker decomposition (lora_mid)"),
                    Map.entry("oft_blocks", "LyCORIS OFT"),
                    Map.entry("oft_diag", "LyCORIS OFT"),
                    Map.entry("boft_", "BOFT"),
                    Map.entry(".on_input", "LyCORIS (IA)³"),
                    Map.entry("ia3_", "(IA)³"),
                    Map.entry(".diff", "LyCORIS full weight difference"),
                    Map.entry(".diff_b", "LyCORIS full weight difference"),
                    Map.entry(".w_norm", "LyCORIS norm weights"),
                    Map.entry(".b_norm", "LyCORIS norm weights"),
                    Map.entry("dora_scale", "DoRA"),
                    Map.entry("lora_magnitude_vector", "DoRA"));

    private static final String[][] KOHYA_PREFIXES = {
        {"lora_unet_", "unet"},
        {"lora_te1_", "text_encoder"},
        {"lora_te2_", "text_encoder_2"},
        {"lora_te_", "text_encoder"},
    };

    private static final String[] PEFT_COMPONENTS = {"unet", "text_encoder", "text_encoder_2"};

    /** Prefixes of LoRAs for the transformer-based families (SD3, Flux, ...). */
    private static final String[] OTHER_FAMILY_PREFIXES = {
        "transformer.",
        "lora_transformer_",
        "diffusion_model.",
        "lora_unet_double_blocks",
        "lora_unet_single_blocks",
        "lora_unet_joint_blocks"
    };

    private LoraFile() {}

    /**
     * The layers of a LoRA file, from its header.
     *
     * @throws LoraException naming the file (and the key) for anything that is not a LoRA this
     *     reader applies exactly
     */
    static List<Layer> read(Path path) throws IOException {
        String name = path.getFileName().toString();
        if (StateDictWeights.PICKLE_EXTENSIONS.stream().anyMatch(name::endsWith)) {
            throw new LoraException(TextualInversion.pickleRefusal("LoRA", path));
        }
        if (!Files.isRegularFile(path)) {
            throw new LoraException("LoRA file " + path + " does not exist");
        }
        if (!name.endsWith(".safetensors")) {
            throw new LoraException("LoRA " + path + " is not a .safetensors file");
        }
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            return layers(path, f);
        }
    }

    private static List<Layer> layers(Path path, SafetensorsFile f) {
        TreeMap<String, SafetensorsFile.TensorInfo> tensors = new TreeMap<>(f.tensors());
        for (String key : tensors.keySet()) {
            for (Map.Entry<String, String> r : REFUSED.entrySet()) {
                if (key.contains(r.getKey())) {
                    throw new LoraException(
                            "LoRA "
                                    + path
                                    + " is a "
                                    + r.getValue()
                                    + " network (key '"
                                    + key
                                    + "'), not a plain LoRA: sdbatch applies only LoRA's up ×"
                                    + " down products, and refuses it rather than apply part of"
                                    + " it");
                }
            }
            for (String other : OTHER_FAMILY_PREFIXES) {
                if (key.startsWith(other)) {
                    throw new LoraException(
                            "LoRA "
                                    + path
                                    + ": key '"
                                    + key
                                    + "' is for a transformer-based model family (SD3, Flux, ...),"
                                    + " not for this UNet model");
                }
            }
        }
        List<Layer> out = new ArrayList<>();
        FileTensors file = new FileTensors(path, f, tensors, new HashSet<>());
        Peft peft = null;
        for (String key : tensors.keySet()) {
            if (key.endsWith(".lora_down.weight")) {
                out.add(kohyaLayer(file, key));
            } else if (key.endsWith(".lora_A.weight")) {
                if (peft == null) {
                    peft = Peft.of(file);
                }
                out.add(peft.layer(file, key));
            }
        }
        for (String key : tensors.keySet()) {
            if (!file.used().contains(key)) {
                throw new LoraException(
                        "LoRA "
                                + path
                                + ": key '"
                                + key
                                + "' is not part of a LoRA layer this reader knows (kohya's"
                                + " lora_unet_/lora_te_ with .lora_down/.lora_up/.alpha, or"
                                + " diffusers' unet./text_encoder. with .lora_A/.lora_B)");
            }
        }
        if (out.isEmpty()) {
            throw new LoraException("LoRA " + path + " holds no LoRA layers");
        }
        return out;
    }

    /** The file being read, its tensors, and the keys its layers used (each key must be used). */
    private record FileTensors(
            Path path,
            SafetensorsFile file,
            TreeMap<String, SafetensorsFile.TensorInfo> tensors,
            Set<String> used) {
        /** The shape of {@code key}, paired with {@code other}: a missing one is an error. */
        long[] shapeOfPair(String key, String other) {
            SafetensorsFile.TensorInfo info = tensors.get(key);
            if (info == null) {
                throw new LoraException(
                        "LoRA " + path + ": '" + other + "' has no matching '" + key + "'");
            }
            return info.shape();
        }

        /** The error for a layer key that starts with none of the {@code known} prefixes. */
        LoraException prefixUnknown(String key, String known) {
            return new LoraException(
                    "LoRA " + path + ": key '" + key + "' starts with none of " + known);
        }

        void use(String... keys) {
            Collections.addAll(used, keys);
        }
    }

    private static Layer kohyaLayer(FileTensors file, String downKey) {
        Path path = file.path();
        String base = downKey.substring(0, downKey.length() - ".lora_down.weight".length());
        String component = null;
        String module = null;
        for (String[] p : KOHYA_PREFIXES) {
            if (base.startsWith(p[0])) {
                component = p[1];
                module = base.substring(p[0].length());
                break;
            }
        }
        if (component == null) {
            throw file.prefixUnknown(downKey, "lora_unet_, lora_te_, lora_te1_, lora_te2_");
        }
        String upKey = base + ".lora_up.weight";
        long[] down = file.tensors().get(downKey).shape();
        long[] up = file.shapeOfPair(upKey, downKey);
        double rank = down[0];
        double alpha = rank;
        String alphaKey = base + ".alpha";
        SafetensorsFile.TensorInfo a = file.tensors().get(alphaKey);
        if (a != null) {
            if (a.elementCount() != 1) {
                throw new LoraException("LoRA " + path + ": '" + alphaKey + "' is not a scalar");
            }
            alpha = file.file().readFloats(alphaKey)[0];
            file.use(alphaKey);
        }
        file.use(downKey, upKey);
        checkFactors(path, downKey, down, up);
        return new Layer(component, module, true, base, downKey, down, upKey, up, alpha / rank);
    }

    /** down [r, in] or [r, in, k, k]; up [out, r] or [out, r, 1, 1]. */
    private static void checkFactors(Path path, String key, long[] down, long[] up) {
        boolean ok =
                (down.length == 2 || down.length == 4)
                        && (up.length == 2 || (up.length == 4 && up[2] == 1 && up[3] == 1))
                        && up[1] == down[0]
                        && down[0] > 0;
        if (!ok) {
            throw new LoraException(
                    "LoRA "
                            + path
                            + ": layer '"
                            + key
                            + "' has factors "
                            + java.util.Arrays.toString(down)
                            + " and "
                            + java.util.Arrays.toString(up)
                            + " that are not a LoRA pair (down [rank, in(, k, k)], up [out,"
                            + " rank(, 1, 1)])");
        }
    }

    /**
     * diffusers / PEFT scaling of one file: the per-component {@code LoraConfig} from the header's
     * {@code lora_adapter_metadata}, or diffusers' defaults without it.
     */
    private record Peft(JsonObject metadata, Map<String, Double> defaultAlpha) {
        static Peft of(FileTensors file) {
            JsonObject meta = null;
            Map<String, String> header = file.file().metadata();
            String raw = header == null ? null : header.get("lora_adapter_metadata");
            if (raw != null) {
                try {
                    meta = JsonParser.parseString(raw).getAsJsonObject();
                } catch (RuntimeException e) {
                    throw new LoraException(
                            "LoRA " + file.path() + ": lora_adapter_metadata is not a JSON object",
                            e);
                }
            }
            // diffusers' get_peft_kwargs without network alphas: lora_alpha = the first rank
            // of the component's lora_B tensors, in the file's (sorted) key order.
            Map<String, Double> first = new java.util.HashMap<>();
            for (Map.Entry<String, SafetensorsFile.TensorInfo> e : file.tensors().entrySet()) {
                if (e.getKey().endsWith(".lora_B.weight")) {
                    String component = e.getKey().substring(0, e.getKey().indexOf('.'));
                    first.putIfAbsent(component, (double) e.getValue().shape()[1]);
                }
            }
            return new Peft(meta, first);
        }

        Layer layer(FileTensors file, String downKey) {
            Path path = file.path();
            String base = downKey.substring(0, downKey.length() - ".lora_A.weight".length());
            String component = null;
            for (String c : PEFT_COMPONENTS) {
                if (base.startsWith(c + ".")) {
                    component = c;
                }
            }
            if (component == null) {
                throw file.prefixUnknown(downKey, "unet., text_encoder., text_encoder_2.");
            }
            String module = base.substring(component.length() + 1);
            String upKey = base + ".lora_B.weight";
            long[] down = file.tensors().get(downKey).shape();
            long[] up = file.shapeOfPair(upKey, downKey);
            checkFactors(path, downKey, down, up);
            file.use(downKey, upKey);
            int rank = Math.toIntExact(down[0]);
            return new Layer(
                    component,
                    module,
                    false,
                    base,
                    downKey,
                    down,
                    upKey,
                    up,
                    scale(path, component, module, rank));
        }

        /** PEFT's {@code scaling}: lora_alpha / r, or / √r with {@code use_rslora}. */
        private double scale(Path path, String component, String module, int rank) {
            if (metadata == null) {
                return defaultAlpha.get(component) / rank;
            }
            if (bool(component + ".use_dora")) {
                throw new LoraException(
                        "LoRA " + path + " is a DoRA network (use_dora), not a plain LoRA");
            }
            double r = pattern(component + ".rank_pattern", module, number(component + ".r", rank));
            double alpha =
                    pattern(
                            component + ".alpha_pattern",
                            module,
                            number(component + ".lora_alpha", r));
            if (r != rank) {
                throw new LoraException(
                        "LoRA "
                                + path
                                + ": layer '"
                                + component
                                + "."
                                + module
                                + "' has rank "
                                + rank
                                + " but its metadata says r = "
                                + r);
            }
            return bool(component + ".use_rslora") ? alpha / Math.sqrt(r) : alpha / r;
        }

        private double number(String key, double fallback) {
            JsonElement e = metadata.get(key);
            return e == null || e.isJsonNull() ? fallback : e.getAsDouble();
        }

        private boolean bool(String key) {
            JsonElement e = metadata.get(key);
            return e != null && !e.isJsonNull() && e.getAsBoolean();
        }

        /**
         * PEFT's {@code get_pattern_key}: the first pattern that matches the module's name as a
         * regex suffix ({@code (.*\.)?(pattern)$}) gives the value.
         */
        private double pattern(String key, String module, double fallback) {
            JsonElement e = metadata.get(key);
            if (e == null || !e.isJsonObject()) {
                return fallback;
            }
            for (Map.Entry<String, JsonElement> p : e.getAsJsonObject().entrySet()) {
                if (Pattern.compile("(.*\\.)?(" + p.getKey() + ")$").matcher(module).matches()) {
                    return p.getValue().getAsDouble();
                }
            }
            return fallback;
        }
    }
}
