package sdbatch.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.testing.LoadRefusals;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.SafetensorsWriter;

/**
 * Absurd model configs are refused when parsed, naming the file and the key, before any model code
 * runs; every real SD 1.x/2.x/SDXL/SD3 value lies well inside the bounds.
 */
class ConfigBoundsTest {
    @TempDir Path dir;

    private static String refused(Runnable parse, String key) {
        ModelLoadException e = assertThrows(ModelLoadException.class, parse::run);
        String m = e.getMessage();
        assertTrue(m.contains("\"" + key + "\""), "names the key: " + m);
        assertTrue(m.contains("outside the supported range"), m);
        return m;
    }

    @Test
    void unetWithAMillionChannelsFailsFastNamingTheFileAndKey() throws Exception {
        Path unet = dir.resolve("unet");
        Files.createDirectories(unet);
        Path config = unet.resolve("config.json");
        Files.writeString(config, "{\"block_out_channels\": [1000000, 640, 1280, 1280]}");
        // A weights file is present, so only the config can stop the load.
        new SafetensorsWriter()
                .add("conv_in.weight", new long[] {320, 4, 3, 3}, new float[320 * 4 * 9])
                .write(unet.resolve("diffusion_pytorch_model.safetensors"));
        String m = refused(() -> UNetConfig.load(unet), "block_out_channels");
        assertTrue(m.contains(config.toString()), "names the file: " + m);
        assertTrue(m.contains("1000000") && m.contains("1..16384"), m);
        try (NDManager manager = NDManager.newBaseManager()) {
            ModelLoadException e =
                    LoadRefusals.refusedWithinAMinute(
                            () -> UNet2DConditionModel.load(unet, manager, DataType.FLOAT32));
            assertTrue(e.getMessage().contains(config.toString()), e.getMessage());
            assertEquals(0, manager.getManagedArrays().size(), "no tensor was allocated");
        }
    }

    @Test
    void everySizeKeyIsBounded() {
        refused(() -> UNetConfig.parse("u", "{\"layers_per_block\": 100000}"), "layers_per_block");
        refused(
                () -> UNetConfig.parse("u", "{\"transformer_layers_per_block\": [1, 1, 1, 5000]}"),
                "transformer_layers_per_block");
        refused(
                () -> UNetConfig.parse("u", "{\"cross_attention_dim\": 2000000000}"),
                "cross_attention_dim");
        refused(() -> UNetConfig.parse("u", "{\"sample_size\": 1000000}"), "sample_size");
        refused(() -> UNetConfig.parse("u", "{\"in_channels\": 100000}"), "in_channels");
        refused(
                () ->
                        UNetConfig.parse(
                                "u",
                                "{\"block_out_channels\": [32, 32, 32, 32, 32, 32, 32, 32, 32],"
                                        + " \"down_block_types\": "
                                        + Collections.nCopies(9, "\"DownBlock2D\"")
                                        + ", \"up_block_types\": "
                                        + Collections.nCopies(9, "\"UpBlock2D\"")
                                        + "}"),
                "block_out_channels (length)");
        refused(() -> VaeConfig.parse("v", "{\"latent_channels\": 100000}"), "latent_channels");
        refused(
                () -> VaeConfig.parse("v", "{\"block_out_channels\": [1048576]}"),
                "block_out_channels");
        refused(() -> VaeConfig.parse("v", "{\"layers_per_block\": 1000}"), "layers_per_block");
        refused(() -> CLIPTextConfig.parse("{\"vocab_size\": 2147483647}", "t"), "vocab_size");
        refused(
                () ->
                        CLIPTextConfig.parse(
                                "{\"hidden_size\": 1048576, \"num_attention_heads\": 1}", "t"),
                "hidden_size");
        refused(
                () -> CLIPTextConfig.parse("{\"max_position_embeddings\": 1000000}", "t"),
                "max_position_embeddings");
        refused(
                () -> CLIPTextConfig.parse("{\"num_hidden_layers\": 100000}", "t"),
                "num_hidden_layers");
        refused(
                () -> SD3TransformerConfig.parse("t", "{\"pos_embed_max_size\": 100000}"),
                "pos_embed_max_size");
        refused(() -> SD3TransformerConfig.parse("t", "{\"patch_size\": 0}"), "patch_size");
        refused(() -> T5Config.parse("t5", "{\"d_ff\": 1000000000}"), "d_ff");
        refused(
                () -> T5Config.parse("t5", "{\"relative_attention_num_buckets\": 1}"),
                "relative_attention_num_buckets");
        ModelLoadException eps =
                assertThrows(
                        ModelLoadException.class,
                        () -> VaeConfig.parse("v", "{\"scaling_factor\": 1e999}"));
        assertTrue(eps.getMessage().contains("scaling_factor"), eps.getMessage());
    }

    @Test
    void realCheckpointsLieInsideTheBounds() {
        // SD 1.x and 2.x UNets (SDXL's differs only by refused added conditioning).
        UNetConfig.parse("sd15", "{\"sample_size\": 64, \"cross_attention_dim\": 768}");
        UNetConfig.parse(
                "sd21",
                "{\"sample_size\": 96, \"cross_attention_dim\": 1024,"
                        + " \"attention_head_dim\": [5, 10, 20, 20], \"use_linear_projection\": true}");
        UNetConfig.parse(
                "sdxl-like",
                "{\"sample_size\": 128, \"cross_attention_dim\": 2048,"
                        + " \"block_out_channels\": [320, 640, 1280],"
                        + " \"down_block_types\": [\"DownBlock2D\", \"CrossAttnDownBlock2D\","
                        + " \"CrossAttnDownBlock2D\"],"
                        + " \"up_block_types\": [\"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\","
                        + " \"UpBlock2D\"],"
                        + " \"transformer_layers_per_block\": [1, 2, 10],"
                        + " \"attention_head_dim\": [5, 10, 20]}");
        // SD 1.x/SDXL and SD3 VAEs.
        VaeConfig.parse(
                "sdxl-vae",
                "{\"block_out_channels\": [128, 256, 512, 512], \"layers_per_block\": 2,"
                        + " \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\","
                        + " \"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
                        + " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\","
                        + " \"UpDecoderBlock2D\", \"UpDecoderBlock2D\"], \"sample_size\": 1024}");
        VaeConfig.parse(
                "sd3-vae",
                "{\"block_out_channels\": [128, 256, 512, 512], \"latent_channels\": 16,"
                        + " \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\","
                        + " \"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
                        + " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\","
                        + " \"UpDecoderBlock2D\", \"UpDecoderBlock2D\"], \"layers_per_block\": 2,"
                        + " \"use_quant_conv\": false, \"use_post_quant_conv\": false,"
                        + " \"scaling_factor\": 1.5305, \"shift_factor\": 0.0609}");
        // SD3.5 large's and SD3.5 medium's transformers, T5 v1.1 XXL (SD3's text_encoder_3).
        SD3TransformerConfig.parse(
                "sd35-large",
                "{\"num_layers\": 38, \"num_attention_heads\": 38, \"caption_projection_dim\": 2432,"
                        + " \"pos_embed_max_size\": 192, \"qk_norm\": \"rms_norm\"}");
        SD3TransformerConfig.parse(
                "sd35-medium",
                "{\"num_layers\": 24, \"num_attention_heads\": 24, \"caption_projection_dim\": 1536,"
                        + " \"pos_embed_max_size\": 384, \"qk_norm\": \"rms_norm\","
                        + " \"dual_attention_layers\": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}");
        T5Config.parse(
                "t5-xxl",
                "{\"vocab_size\": 32128, \"d_model\": 4096, \"d_kv\": 64, \"d_ff\": 10240,"
                        + " \"num_layers\": 24, \"num_heads\": 64,"
                        + " \"feed_forward_proj\": \"gated-gelu\"}");
        // CLIP ViT-L (SD 1.x), OpenCLIP ViT-H (SD 2.x) and bigG (SDXL, SD3).
        CLIPTextConfig.parse(
                "{\"hidden_size\": 768, \"intermediate_size\": 3072, \"num_attention_heads\": 12,"
                        + " \"num_hidden_layers\": 12, \"projection_dim\": 768}",
                "vit-l");
        CLIPTextConfig.parse(
                "{\"hidden_size\": 1024, \"intermediate_size\": 4096, \"num_attention_heads\": 16,"
                        + " \"num_hidden_layers\": 23, \"projection_dim\": 512,"
                        + " \"hidden_act\": \"gelu\"}",
                "vit-h");
        CLIPTextConfig.parse(
                "{\"hidden_size\": 1280, \"intermediate_size\": 5120, \"num_attention_heads\": 20,"
                        + " \"num_hidden_layers\": 32, \"projection_dim\": 1280,"
                        + " \"hidden_act\": \"gelu\"}",
                "bigG");
    }
}
