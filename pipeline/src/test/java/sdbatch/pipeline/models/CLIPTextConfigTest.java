package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.ModelLoadException;

/** {@link CLIPTextConfig}: transformers' defaults, both dtype keys, kept extras, clear errors. */
class CLIPTextConfigTest {

    @Test
    void defaultsAreTransformersDefaults() {
        // transformers models/clip/configuration_clip.py CLIPTextConfig.__init__ signature.
        CLIPTextConfig c = CLIPTextConfig.defaults();
        assertEquals(49408, c.vocabSize());
        assertEquals(512, c.hiddenSize());
        assertEquals(2048, c.intermediateSize());
        assertEquals(512, c.projectionDim());
        assertEquals(12, c.numHiddenLayers());
        assertEquals(8, c.numAttentionHeads());
        assertEquals(77, c.maxPositionEmbeddings());
        assertEquals("quick_gelu", c.hiddenAct());
        assertEquals(1e-5, c.layerNormEps());
        assertEquals(1, c.padTokenId());
        assertEquals(49406, c.bosTokenId());
        assertEquals(49407, c.eosTokenId());
        assertNull(c.dtype());
        assertTrue(c.extra().isEmpty());
        assertEquals(64, c.headDim());
    }

    @Test
    void readsTheReferenceTextEncoderConfig() throws Exception {
        Path dir = SharedData.golden().resolve("tiny-sd2v").resolve("text_encoder");
        CLIPTextConfig c = CLIPTextConfig.load(dir);
        assertEquals(48, c.hiddenSize());
        assertEquals(96, c.intermediateSize());
        assertEquals(4, c.numHiddenLayers());
        assertEquals(4, c.numAttentionHeads());
        assertEquals("gelu", c.hiddenAct());
        assertEquals(0, c.padTokenId());
        assertEquals("float32", c.dtype());
        assertEquals("clip_text_model", c.extra().get("model_type").getAsString());
        assertTrue(c.extra().containsKey("initializer_range"));
        assertTrue(!c.extra().containsKey("hidden_size"));
    }

    @Test
    void olderTorchDtypeKeyAndUnknownKeysAreKept() {
        CLIPTextConfig c =
                CLIPTextConfig.parse(
                        "{\"torch_dtype\": \"float16\", \"my_custom\": {\"a\": 1}, \"eos_token_id\": 2}",
                        "x.json");
        assertEquals("float16", c.dtype());
        assertEquals(1, c.extra().get("my_custom").getAsJsonObject().get("a").getAsInt());
        assertEquals(2, c.eosTokenId());
        assertThrows(UnsupportedOperationException.class, () -> c.extra().clear());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"hidden_size\": \"wide\"}|hidden_size must be a positive integer, got \"wide\"",
                "{\"num_hidden_layers\": 0}|num_hidden_layers must be a positive integer, got 0",
                "{\"intermediate_size\": 3.5}|intermediate_size must be a positive integer, got 3.5",
                "{\"layer_norm_eps\": -1}|layer_norm_eps must be a positive number, got -1",
                "{\"hidden_act\": \"relu\"}|hidden_act \"relu\" is not supported",
                "{\"hidden_act\": 3}|hidden_act must be a string, got 3",
                "{\"hidden_size\": 30, \"num_attention_heads\": 4}|hidden_size 30 is not a"
                        + " multiple of num_attention_heads 4",
                "[1, 2]|must hold a JSON object",
                "{\"hidden_size\": |is not valid JSON"
            })
    void badValuesNameTheFileKeyAndValue(String json, String expected) {
        ModelLoadException e =
                assertThrows(
                        ModelLoadException.class,
                        () -> CLIPTextConfig.parse(json, "/m/text_encoder/config.json"));
        assertTrue(e.getMessage().startsWith("/m/text_encoder/config.json"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void missingFileIsAClearError(@TempDir Path tmp) {
        ModelLoadException e =
                assertThrows(ModelLoadException.class, () -> CLIPTextConfig.load(tmp));
        assertTrue(e.getMessage().contains(tmp.resolve("config.json").toString()));
        assertTrue(Files.isDirectory(tmp));
    }
}
