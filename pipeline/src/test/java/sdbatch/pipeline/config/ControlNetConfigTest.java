package sdbatch.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.ModelLoadException;

/** ControlNet configs: diffusers' ControlNetModel defaults, the golden folder's, refusals. */
class ControlNetConfigTest {
    @Test
    void emptyConfigHasDiffusersDefaults() {
        ControlNetConfig c = ControlNetConfig.parse("test", "{}");
        // SD 1.5 ControlNet shape: diffusers' ControlNetModel.__init__ defaults.
        assertEquals(List.of(320, 640, 1280, 1280), c.blockOutChannels());
        assertEquals(List.of(16, 32, 96, 256), c.conditioningEmbeddingOutChannels());
        assertEquals(3, c.conditioningChannels());
        assertEquals(4, c.inChannels());
        assertEquals(1280, c.crossAttentionDim());
        assertEquals(8, c.numHeads(3));
        assertEquals(1280, c.timeEmbedDim());
        assertEquals(UNetConfig.MID_BLOCK_CROSS_ATTN, c.midBlockType());
        assertFalse(c.bgrConditioning());
        assertEquals(3, c.convInKernel());
        assertEquals(1.0, c.resnetOutScaleFactor());
    }

    @Test
    void goldenControlNetFolder() {
        ControlNetConfig c =
                ControlNetConfig.load(SharedData.golden().resolve("controlnet-tiny-sd1"));
        assertEquals(List.of(32, 64, 64), c.blockOutChannels());
        assertEquals(List.of(16, 32), c.conditioningEmbeddingOutChannels());
        assertEquals(
                List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                c.downBlockTypes());
        assertEquals(32, c.crossAttentionDim());
        assertEquals(16, c.normNumGroups());
        assertTrue(c.extra().isEmpty(), "unread keys: " + c.extra());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "global_pool_conditions | {\"global_pool_conditions\": true}",
                "addition_embed_type | {\"addition_embed_type\": \"text_time\"}",
                "mid_block_type | {\"mid_block_type\": \"UNetMidBlock2D\"}",
                "controlnet_conditioning_channel_order | "
                        + "{\"controlnet_conditioning_channel_order\": \"grb\"}",
                "conditioning_channels | {\"conditioning_channels\": 1000}",
                "down_block_types | {\"down_block_types\": [\"CrossAttnDownBlock2D\"]}",
                "attention heads of block 0 | {\"attention_head_dim\": 7}"
            })
    void unsupportedOrBadKeysAreRefusedByName(String key, String json) {
        ModelLoadException e =
                assertThrows(ModelLoadException.class, () -> ControlNetConfig.parse("cn", json));
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }
}
