package sdbatch.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * {@link SD3TransformerConfig} and {@link T5Config}: diffusers' and transformers' {@code __init__}
 * defaults for absent keys, and a clear error naming the key for configs the models cannot run.
 */
class SD3TransformerConfigTest {
    @Test
    void emptyConfigHasDiffusersDefaults() {
        SD3TransformerConfig c = SD3TransformerConfig.parse("t", "{}");
        assertEquals(128, c.sampleSize());
        assertEquals(2, c.patchSize());
        assertEquals(16, c.inChannels());
        assertEquals(18, c.numLayers());
        assertEquals(64, c.attentionHeadDim());
        assertEquals(18, c.numAttentionHeads());
        assertEquals(4096, c.jointAttentionDim());
        assertEquals(1152, c.captionProjectionDim());
        assertEquals(2048, c.pooledProjectionDim());
        assertEquals(16, c.outChannels());
        assertEquals(96, c.posEmbedMaxSize());
        assertEquals(List.of(), c.dualAttentionLayers());
        assertNull(c.qkNorm());
        assertEquals(1152, c.innerDim());
    }

    @Test
    void nullOutChannelsMeansInChannels() {
        SD3TransformerConfig c =
                SD3TransformerConfig.parse("t", "{\"in_channels\": 8, \"out_channels\": null}");
        assertEquals(8, c.outChannels());
    }

    @Test
    void refusesWhatTheTransformerCannotRun() {
        ModelLoadException e =
                assertThrows(
                        ModelLoadException.class,
                        () -> SD3TransformerConfig.parse("t", "{\"qk_norm\": \"layer_norm\"}"));
        assertTrue(e.getMessage().contains("qk_norm"), e.getMessage());
        e =
                assertThrows(
                        ModelLoadException.class,
                        () ->
                                SD3TransformerConfig.parse(
                                        "t",
                                        "{\"num_layers\": 4, \"dual_attention_layers\": [4]}"));
        assertTrue(e.getMessage().contains("dual_attention_layers"), e.getMessage());
        e =
                assertThrows(
                        ModelLoadException.class,
                        () -> SD3TransformerConfig.parse("t", "{\"caption_projection_dim\": 100}"));
        assertTrue(e.getMessage().contains("caption_projection_dim"), e.getMessage());
        e =
                assertThrows(
                        ModelLoadException.class,
                        () -> SD3TransformerConfig.parse("t", "{\"num_layers\": 100000}"));
        assertTrue(e.getMessage().contains("num_layers"), e.getMessage());
    }

    @Test
    void t5ConfigDefaultsAndGatedGelu() {
        T5Config c = T5Config.parse("t5", "{}");
        assertEquals(32128, c.vocabSize());
        assertEquals(512, c.dModel());
        assertEquals(64, c.dKv());
        assertEquals(2048, c.dFf());
        assertEquals(6, c.numLayers());
        assertEquals(8, c.numHeads());
        assertEquals(32, c.relativeAttentionNumBuckets());
        assertEquals(128, c.relativeAttentionMaxDistance());
        assertEquals("relu", c.denseActFn());
        T5Config v11 = T5Config.parse("t5", "{\"feed_forward_proj\": \"gated-gelu\"}");
        assertTrue(v11.isGatedAct());
        assertEquals("gelu_new", v11.denseActFn());
        assertEquals(
                "silu",
                T5Config.parse("t5", "{\"feed_forward_proj\": \"gated-silu\"}").denseActFn());
    }
}
