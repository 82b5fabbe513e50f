package sdbatch.pipeline.lora;

import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import sdbatch.pipeline.weights.LiveParameters;

/**
 * Which parameter of the model a LoRA layer changes: its component's weight named by the layer's
 * module, checked for shape.
 *
 * <p>kohya names a module by its path with every {@code .} replaced by {@code _} ({@code
 * down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0}); module names hold underscores
 * themselves, so the name is looked up among the model's own module paths put through the same
 * replacement, which inverts it exactly instead of guessing where the dots were. Text-encoder
 * modules are named under {@code text_model.} (as transformers' {@code CLIPTextModel} has them),
 * whether or not the checkpoint's keys carry that prefix.
 */
final class LoraTargets {
    private static final String TEXT_MODEL = "text_model.";
    private static final String AMBIGUOUS = "";

    private final Map<String, LiveParameters> components;
    private final Map<String, Map<String, String>> kohyaNames = new HashMap<>();

    LoraTargets(Map<String, LiveParameters> components) {
        this.components = components;
        for (Map.Entry<String, LiveParameters> c : components.entrySet()) {
            Map<String, String> names = new HashMap<>();
            for (String key : c.getValue().keys()) {
                if (!key.endsWith(".weight")) {
                    continue;
                }
                String module = key.substring(0, key.length() - ".weight".length());
                if (c.getKey().startsWith("text_encoder") && !module.startsWith(TEXT_MODEL)) {
                    module = TEXT_MODEL + module;
                }
                // Two modules with one kohya name could not be told apart: refuse both.
                names.merge(module.replace('.', '_'), key, (a, b) -> AMBIGUOUS);
            }
            kohyaNames.put(c.getKey(), names);
        }
    }

    /**
     * The parameter key {@code layer} changes in its component.
     *
     * @throws LoraException naming the file and key: a component the model lacks (a LoRA for
     *     another family), a module it lacks, or a shape that does not fit
     */
    String resolve(Path file, LoraFile.Layer layer) {
        LiveParameters params = components.get(layer.component());
        if (params == null) {
            throw new LoraException(
                    "LoRA "
                            + file
                            + ": key '"
                            + layer.downKey()
                            + "' is for "
                            + layer.component()
                            + ", which this model does not have (it has "
                            + String.join(", ", components.keySet())
                            + "): a LoRA for another model family");
        }
        String key = layer.kohya() ? kohyaKey(layer) : dottedKey(params, layer.module());
        if (key == null || key.equals(AMBIGUOUS)) {
            throw new LoraException(
                    "LoRA "
                            + file
                            + ": key '"
                            + layer.downKey()
                            + "' names no layer of the model's "
                            + layer.component()
                            + (key == null ? "" : " (it matches several)")
                            + ": a LoRA for another model or model family");
        }
        checkShape(file, layer, key, params.get(key).getShape());
        return key;
    }

    private String kohyaKey(LoraFile.Layer layer) {
        return kohyaNames.get(layer.component()).get(layer.module());
    }

    private static String dottedKey(LiveParameters params, String module) {
        for (String candidate :
                new String[] {
                    module,
                    module.startsWith(TEXT_MODEL) ? module.substring(TEXT_MODEL.length()) : null,
                    TEXT_MODEL + module
                }) {
            if (candidate != null && params.get(candidate + ".weight") != null) {
                return candidate + ".weight";
            }
        }
        return null;
    }

    /**
     * up @ down is [out, in·k·k]; it must be the parameter's [out, in] or [out, in, k, k] (a 1×1
     * convolution's factors fit a linear layer and back, as diffusers lets them).
     */
    private static void checkShape(Path file, LoraFile.Layer layer, String key, Shape target) {
        long[] down = layer.downShape();
        long inner = 1;
        for (int i = 1; i < down.length; i++) {
            inner *= down[i];
        }
        boolean fits =
                (target.dimension() == 2 || target.dimension() == 4)
                        && target.get(0) == layer.upShape()[0]
                        && target.size() == layer.upShape()[0] * inner
                        && (down.length == 2
                                ? target.dimension() == 2
                                        || (target.get(2) == 1 && target.get(3) == 1)
                                : target.dimension() == 4
                                                && target.get(1) == down[1]
                                                && target.get(2) == down[2]
                                                && target.get(3) == down[3]
                                        || target.dimension() == 2 && down[2] == 1 && down[3] == 1);
        if (!fits) {
            throw new LoraException(
                    "LoRA "
                            + file
                            + ": layer '"
                            + layer.sourceKey()
                            + "' (down "
                            + Arrays.toString(down)
                            + ", up "
                            + Arrays.toString(layer.upShape())
                            + ") does not fit "
                            + layer.component()
                            + " '"
                            + key
                            + "' "
                            + target
                            + ": a LoRA for another model or model family");
        }
    }
}
