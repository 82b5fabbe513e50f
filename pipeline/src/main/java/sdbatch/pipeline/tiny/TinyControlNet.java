package sdbatch.pipeline.tiny;

import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import sdbatch.pipeline.config.ControlNetConfig;
import sdbatch.pipeline.models.ControlNetModel;

/**
 * Writes a random-weight ControlNet that fits a {@link TinyModels} model, in the folder layout
 * diffusers' {@code ControlNetModel.save_pretrained} writes ({@code config.json}, {@code
 * diffusion_pytorch_model.safetensors}): the UNet's input half of that variant, and a conditioning
 * embedding that halves the control picture as often as the variant's VAE does.
 *
 * <p>Unlike a freshly initialised diffusers ControlNet, the zero convolutions are random too, so
 * the ControlNet changes the image and a test can see whether its residuals arrive. Deterministic:
 * the same variant and seed give byte-identical files.
 */
public final class TinyControlNet {
    private TinyControlNet() {}

    /** UNet config keys a {@code ControlNetModel} does not take. */
    private static final List<String> UNET_ONLY_KEYS =
            List.of("out_channels", "up_block_types", "center_input_sample", "sample_size");

    /**
     * Writes the ControlNet folder for {@code variant} into {@code dir} (created if needed).
     *
     * @return {@code dir}
     */
    public static Path write(Path dir, TinyModels.Variant variant, long seed) throws IOException {
        Files.createDirectories(dir);
        JsonObject config = config(variant);
        TinyComponents.writeJson(dir.resolve(ControlNetConfig.FILE_NAME), config);
        ControlNetConfig parsed = ControlNetConfig.parse("tiny controlnet", config.toString());
        TinyComponents.writeRandom(
                dir.resolve("diffusion_pytorch_model.safetensors"),
                seed * 3 + 4,
                DataType.FLOAT32,
                w -> new ControlNetModel(parsed, w));
        return dir;
    }

    /** The {@code config.json} of the ControlNet for {@code variant}. */
    static JsonObject config(TinyModels.Variant variant) {
        JsonObject unet = TinyModels.unetConfig(variant);
        JsonObject c = new JsonObject();
        c.addProperty("_class_name", "ControlNetModel");
        for (var e : unet.entrySet()) {
            if (!e.getKey().equals("_class_name") && !UNET_ONLY_KEYS.contains(e.getKey())) {
                c.add(e.getKey(), e.getValue());
            }
        }
        c.addProperty("conditioning_channels", 3);
        // One strided convolution per VAE halving: the control picture comes down to the latents.
        JsonArray embedding = new JsonArray();
        int levels = TinyModels.vaeConfig(variant).getAsJsonArray("block_out_channels").size();
        int[] widths = {16, 32, 96, 256};
        for (int i = 0; i < levels; i++) {
            embedding.add(widths[i]);
        }
        c.add("conditioning_embedding_out_channels", embedding);
        c.addProperty("controlnet_conditioning_channel_order", "rgb");
        c.addProperty("global_pool_conditions", false);
        return c;
    }
}
