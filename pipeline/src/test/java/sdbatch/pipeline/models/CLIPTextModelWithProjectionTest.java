package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdbatch.pipeline.testing.FloatArrays.maxAbsDiff;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.RandomWeights;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.pipeline.weights.SafetensorsWriter;

/**
 * {@link CLIPTextModelWithProjection} and {@link CLIPTextModel#forward}'s hidden states. The
 * references are computed here from the checkpoint's own numbers (plain Java layer norm and matrix
 * products over the file's tensors) or taken from transformers' outputs in {@code ../shared}; the
 * SDXL golden cases check the whole encoder again through the pipeline. CPU only, any x86-64.
 */
class CLIPTextModelWithProjectionTest {

    // eos 99, pad 0: the second SDXL tokenizer's layout (pad "!" after the end-of-text token).
    private static final String CONFIG =
            "{\"vocab_size\": 100, \"hidden_size\": 16, \"intermediate_size\": 24,"
                    + " \"num_hidden_layers\": 3, \"num_attention_heads\": 2,"
                    + " \"max_position_embeddings\": 77, \"hidden_act\": \"gelu\","
                    + " \"layer_norm_eps\": 1e-05, \"bos_token_id\": 98, \"eos_token_id\": 99,"
                    + " \"pad_token_id\": 0, \"projection_dim\": 12,"
                    + " \"architectures\": [\"CLIPTextModelWithProjection\"]}";

    @TempDir Path tmp;

    private Path writeFolder(String name, String config) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("config.json"), config);
        try (NDManager m = NDManager.newBaseManager()) {
            RandomWeights rw = new RandomWeights(11, m);
            new CLIPTextModelWithProjection(CLIPTextConfig.parse(config, "test"), rw).close();
            rw.save(dir.resolve("model.safetensors"));
        }
        return dir;
    }

    /** A {@link #CONFIG} folder's model, loaded as {@code text_encoder_2}, and its weights file. */
    private record WrittenModel(CLIPTextModelWithProjection model, SafetensorsFile weights)
            implements AutoCloseable {
        @Override
        public void close() {
            model.close();
            weights.close();
        }
    }

    /** Writes the folder {@code name} with {@link #CONFIG} and loads it into {@code manager}. */
    private WrittenModel writeAndLoad(String name, NDManager manager) throws IOException {
        Path dir = writeFolder(name, CONFIG);
        SafetensorsFile weights = SafetensorsFile.open(dir.resolve("model.safetensors"));
        try {
            return new WrittenModel(
                    CLIPTextModelWithProjection.load(
                            dir, manager, DataType.FLOAT32, "text_encoder_2"),
                    weights);
        } catch (IOException | RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** torch's LayerNorm over the last axis, in double. */
    private static float[] layerNorm(float[] x, int width, float[] gamma, float[] beta) {
        float[] out = new float[x.length];
        for (int r = 0; r < x.length / width; r++) {
            double mean = 0;
            for (int i = 0; i < width; i++) {
                mean += x[r * width + i];
            }
            mean /= width;
            double var = 0;
            for (int i = 0; i < width; i++) {
                double d = x[r * width + i] - mean;
                var += d * d;
            }
            var /= width;
            double inv = 1 / Math.sqrt(var + 1e-5);
            for (int i = 0; i < width; i++) {
                out[r * width + i] = (float) ((x[r * width + i] - mean) * inv * gamma[i] + beta[i]);
            }
        }
        return out;
    }

    @Test
    void textEmbedsAreTheProjectedHiddenStateAtTheFirstEndOfTextToken() throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                WrittenModel written = writeAndLoad("te2", m)) {
            // Row 0 ends with pad 0 (eos at 3); row 1 pads with eos (first eos at 6).
            long[][] rows = {{98, 5, 6, 99, 0, 0, 0, 0}, {98, 1, 2, 3, 4, 5, 99, 99}};
            int[] eos = {3, 6};
            CLIPTextModelWithProjection.Output out =
                    written.model().forward(CLIPTextModelTest.ids(m, rows));
            assertEquals(new Shape(2, 12), out.textEmbeds().getShape());
            assertEquals(12, written.model().projectionDim());
            float[] last = out.text().lastHiddenState().toFloatArray();
            float[] w = written.weights().readFloats("text_projection.weight"); // [12, 16]
            float[] expected = new float[2 * 12];
            for (int b = 0; b < 2; b++) {
                int base = (b * 8 + eos[b]) * 16;
                for (int o = 0; o < 12; o++) {
                    double s = 0;
                    for (int i = 0; i < 16; i++) {
                        s += (double) w[o * 16 + i] * last[base + i];
                    }
                    expected[b * 12 + o] = (float) s;
                }
            }
            double d = maxAbsDiff(expected, out.textEmbeds().toFloatArray());
            assertTrue(d < 1e-5, "text_embeds vs projection of the eos hidden state: " + d);
            assertTrue(written.model().liveParameters().keys().contains("text_projection.weight"));
            assertEquals("text_encoder_2", written.model().liveParameters().component());
        }
    }

    @Test
    void legacyEosIdTwoPoolsAtTheLargestId() throws IOException {
        Path dir =
                writeFolder(
                        "legacy", CONFIG.replace("\"eos_token_id\": 99", "\"eos_token_id\": 2"));
        try (NDManager m = NDManager.newBaseManager();
                CLIPTextModelWithProjection model =
                        CLIPTextModelWithProjection.load(
                                dir, m, DataType.FLOAT32, "text_encoder")) {
            CLIPTextModelWithProjection.Output out =
                    model.forward(CLIPTextModelTest.ids(m, new long[][] {{98, 5, 99, 0, 97}}));
            NDArray pooled = out.text().pooledOutput();
            assertEquals(
                    0.0,
                    maxAbsDiff(
                            out.text().lastHiddenState().get(0, 2).toFloatArray(),
                            pooled.get(0).toFloatArray()));
        }
    }

    @Test
    void hiddenStatesAreTheEmbeddingsAndEachLayerWithoutTheFinalNorm() throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                WrittenModel written = writeAndLoad("hidden", m)) {
            NDArray ids = CLIPTextModelTest.ids(m, new long[][] {{98, 7, 8, 9, 99, 0}});
            CLIPTextModelOutput out = written.model().forward(ids).text();
            assertEquals(4, out.hiddenStates().size());
            float[] gamma = written.weights().readFloats("text_model.final_layer_norm.weight");
            float[] beta = written.weights().readFloats("text_model.final_layer_norm.bias");
            // final_layer_norm(hidden_states[-1]) is the last hidden state...
            float[] lastNormed =
                    layerNorm(out.hiddenStateFromEnd(1).toFloatArray(), 16, gamma, beta);
            assertTrue(maxAbsDiff(lastNormed, out.lastHiddenState().toFloatArray()) < 1e-5);
            // ... and final_layer_norm(hidden_states[-2]) is SD 1.x's clip_skip 1.
            float[] skipNormed =
                    layerNorm(out.hiddenStateFromEnd(2).toFloatArray(), 16, gamma, beta);
            float[] clipSkip1 = written.model().textModel().encode(ids, 1).toFloatArray();
            assertTrue(maxAbsDiff(skipNormed, clipSkip1) < 1e-5);
            // hidden_states[0] is the token plus position embedding.
            float[] tok =
                    written.weights().readFloats("text_model.embeddings.token_embedding.weight");
            float[] pos =
                    written.weights().readFloats("text_model.embeddings.position_embedding.weight");
            float[] emb = out.hiddenStates().get(0).toFloatArray();
            assertEquals(tok[7 * 16 + 3] + pos[16 + 3], emb[16 + 3], 1e-6);
            assertThrows(IllegalArgumentException.class, () -> out.hiddenStateFromEnd(5));
        }
    }

    @Test
    void hiddenStatesMatchTransformersOnTheReferenceModel() throws Exception {
        Path golden = SharedData.golden();
        Path te = golden.resolve("tiny-sd1").resolve("text_encoder");
        try (NDManager m = NDManager.newBaseManager();
                SafetensorsFile ref =
                        SafetensorsFile.open(golden.resolve("components-tiny-sd1.safetensors"));
                SafetensorsFile weights = SafetensorsFile.open(te.resolve("model.safetensors"));
                CLIPTextModel clip = CLIPTextModel.load(te, m, DataType.FLOAT32)) {
            NDArray ids =
                    m.create(
                            ref.readLongs("text/input_ids"),
                            new Shape(ref.info("text/input_ids").shape()));
            CLIPTextModelOutput out = clip.forward(ids);
            int width = clip.hiddenSize();
            float[] gamma = weights.readFloats("text_model.final_layer_norm.weight");
            float[] beta = weights.readFloats("text_model.final_layer_norm.bias");
            double dLast =
                    maxAbsDiff(
                            ref.readFloats("text/last_hidden_state"),
                            out.lastHiddenState().toFloatArray());
            // transformers' clip_skip1 output is final_layer_norm(hidden_states[-2]).
            double dSkip =
                    maxAbsDiff(
                            ref.readFloats("text/clip_skip1"),
                            layerNorm(
                                    out.hiddenStateFromEnd(2).toFloatArray(), width, gamma, beta));
            System.out.printf(
                    "tiny-sd1 forward: last %.3g, hidden_states[-2] %.3g%n", dLast, dSkip);
            assertTrue(dLast < 1e-4 && dSkip < 1e-4, dLast + " " + dSkip);
        }
    }

    @Test
    void aMissingProjectionIsOneLoadErrorNamingIt() throws IOException {
        Path dir = writeFolder("noproj", CONFIG);
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (SafetensorsFile.TensorInfo info : f.tensors().values()) {
                if (!info.name().equals("text_projection.weight")) {
                    w.add(info.name(), info.shape(), f.readFloats(info.name()));
                }
            }
        }
        w.write(file);
        try (NDManager m = NDManager.newBaseManager()) {
            ModelLoadException e =
                    assertThrows(
                            ModelLoadException.class,
                            () ->
                                    CLIPTextModelWithProjection.load(
                                            dir, m, DataType.FLOAT32, "text_encoder_2"));
            assertTrue(e.getMessage().contains("text_projection.weight"), e.getMessage());
        }
    }
}
