package sdbatch.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.ModelLoadException;

/** UNet/VAE configs: diffusers' defaults, int-or-list keys, refusals, and the model index. */
class UNetVaeConfigTest {

    @Test
    void emptyUnetConfigHasDiffusersDefaults() {
        UNetConfig c = UNetConfig.parse("test", "{}");
        // SD 1.x UNet shape: diffusers' UNet2DConditionModel.__init__ defaults.
        assertEquals(List.of(320, 640, 1280, 1280), c.blockOutChannels());
        assertEquals(List.of(8, 8, 8, 8), c.attentionHeadDim());
        assertEquals(8, c.numHeads(0));
        assertEquals(1280, c.crossAttentionDim());
        assertEquals(32, c.normNumGroups());
        assertEquals(1e-5, c.normEps());
        assertTrue(c.flipSinToCos());
        assertEquals(0, c.freqShift());
        assertEquals(List.of(2, 2, 2, 2), c.layersPerBlock());
        assertEquals(1280, c.timeEmbedDim());
        assertNull(c.sampleSize());
    }

    @Test
    void attentionHeadDimAsListAndNumAttentionHeads() {
        UNetConfig sd2 =
                UNetConfig.parse(
                        "sd2",
                        "{\"attention_head_dim\": [5, 10, 20, 20], \"use_linear_projection\":"
                                + " true, \"cross_attention_dim\": 1024, \"some_new_key\": 3}");
        assertEquals(List.of(5, 10, 20, 20), sd2.attentionHeadDim());
        assertEquals(20, sd2.numHeads(3));
        assertTrue(sd2.useLinearProjection());
        assertTrue(sd2.extra().containsKey("some_new_key"));
        UNetConfig heads = UNetConfig.parse("h", "{\"num_attention_heads\": 4}");
        assertEquals(4, heads.numHeads(2));
    }

    @Test
    void unsupportedFeaturesAndBadValuesAreRefusedByName() {
        ModelLoadException sdxl =
                assertThrows(
                        ModelLoadException.class,
                        () -> UNetConfig.parse("xl", "{\"addition_embed_type\": \"text_time\"}"));
        assertTrue(sdxl.getMessage().contains("addition_embed_type"), sdxl.getMessage());
        ModelLoadException type =
                assertThrows(
                        ModelLoadException.class,
                        () ->
                                UNetConfig.parse(
                                        "t",
                                        "{\"down_block_types\": [\"SimpleCrossAttnDownBlock2D\","
                                                + " \"DownBlock2D\", \"DownBlock2D\","
                                                + " \"DownBlock2D\"]}"));
        assertTrue(type.getMessage().contains("SimpleCrossAttnDownBlock2D"), type.getMessage());
        ModelLoadException len =
                assertThrows(
                        ModelLoadException.class,
                        () -> UNetConfig.parse("l", "{\"attention_head_dim\": [8, 8]}"));
        assertTrue(len.getMessage().contains("attention_head_dim"), len.getMessage());
        ModelLoadException wrongType =
                assertThrows(
                        ModelLoadException.class,
                        () -> UNetConfig.parse("w", "{\"norm_num_groups\": \"32\"}"));
        assertTrue(wrongType.getMessage().contains("norm_num_groups"), wrongType.getMessage());
    }

    @Test
    void vaeDefaultsAndScaleFactorDerivedFromLevels() {
        VaeConfig dflt = VaeConfig.parse("vae", "{}");
        assertEquals(1, dflt.vaeScaleFactor());
        assertEquals(0.18215, dflt.scalingFactor());
        VaeConfig sd =
                VaeConfig.parse(
                        "sd-vae",
                        "{\"block_out_channels\": [128, 256, 512, 512], \"down_block_types\":"
                                + " [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\","
                                + " \"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
                                + " \"up_block_types\": [\"UpDecoderBlock2D\","
                                + " \"UpDecoderBlock2D\", \"UpDecoderBlock2D\","
                                + " \"UpDecoderBlock2D\"], \"layers_per_block\": 2,"
                                + " \"sample_size\": 512}");
        assertEquals(8, sd.vaeScaleFactor());
        assertEquals(512, sd.sampleSize());
    }

    @Test
    void goldenConfigsParse() {
        Path golden = SharedData.golden();
        UNetConfig sd2v = UNetConfig.load(golden.resolve("tiny-sd2v/unet"));
        assertEquals(List.of(2, 4, 4), sd2v.attentionHeadDim());
        assertTrue(sd2v.upcastAttention());
        assertEquals(48, sd2v.crossAttentionDim());
        assertEquals(32, sd2v.sampleSize());
        VaeConfig vae = VaeConfig.load(golden.resolve("tiny-sd1/vae"));
        assertEquals(2, vae.vaeScaleFactor());
        assertTrue(vae.forceUpcast());
    }

    @Test
    void modelIndexListsComponents() {
        Path golden = SharedData.golden();
        ModelIndex index = ModelIndex.load(golden.resolve("tiny-sd1"));
        assertEquals("StableDiffusionPipeline", index.className());
        assertEquals("UNet2DConditionModel", index.component("unet").className());
        assertEquals("diffusers", index.component("vae").library());
        assertTrue(!index.components().containsKey("safety_checker"));
        assertTrue(index.extra().containsKey("requires_safety_checker"));
        ModelLoadException e =
                assertThrows(ModelLoadException.class, () -> index.component("controlnet"));
        assertTrue(e.getMessage().contains("controlnet"));
    }

    @Test
    void modelIndexNamesMissingFolderAndConfig(@TempDir Path dir) throws Exception {
        Files.writeString(
                dir.resolve("model_index.json"),
                "{\"_class_name\": \"StableDiffusionPipeline\", \"unet\": [\"diffusers\","
                        + " \"UNet2DConditionModel\"], \"vae\": [\"diffusers\","
                        + " \"AutoencoderKL\"], \"scheduler\": [\"diffusers\","
                        + " \"PNDMScheduler\"]}");
        Files.createDirectories(dir.resolve("vae"));
        Files.createDirectories(dir.resolve("scheduler"));
        Files.writeString(dir.resolve("scheduler/scheduler_config.json"), "{}");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelIndex.load(dir));
        assertTrue(
                e.getMessage().contains("'unet'") && e.getMessage().contains("no folder"),
                e.getMessage());
        assertTrue(
                e.getMessage().contains("'vae'") && e.getMessage().contains("config.json"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("'scheduler'"), e.getMessage());

        Path empty = dir.resolve("empty");
        Files.createDirectories(empty);
        ModelLoadException noIndex =
                assertThrows(ModelLoadException.class, () -> ModelIndex.load(empty));
        assertTrue(noIndex.getMessage().contains("model_index.json"), noIndex.getMessage());
    }
}
