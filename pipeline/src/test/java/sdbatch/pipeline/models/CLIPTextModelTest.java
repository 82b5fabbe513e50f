package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.testing.FloatArrays;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.RandomWeights;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.pipeline.weights.SafetensorsWriter;

/** Loading, validation, chunking and memory behaviour of {@link CLIPTextModel} on a tiny model. */
class CLIPTextModelTest {

    private static final String TINY_CONFIG =
            "{\"vocab_size\": 100, \"hidden_size\": 16, \"intermediate_size\": 24,"
                    + " \"num_hidden_layers\": 3, \"num_attention_heads\": 2,"
                    + " \"max_position_embeddings\": 77, \"hidden_act\": \"gelu\","
                    + " \"layer_norm_eps\": 1e-05, \"bos_token_id\": 98, \"eos_token_id\": 99,"
                    + " \"pad_token_id\": 0, \"projection_dim\": 16,"
                    + " \"architectures\": [\"CLIPTextModel\"], \"torch_dtype\": \"float32\"}";

    @TempDir Path tmp;

    /** Writes a text_encoder folder with the text_model. prefix (SD 1.x/2.x layout). */
    /** The float32 model of a folder {@code name} written with no extra tensors. */
    private CLIPTextModel writeAndLoad(String name, NDManager manager) throws IOException {
        return CLIPTextModel.load(writePrefixed(name, Map.of()), manager, DataType.FLOAT32);
    }

    private Path writePrefixed(String name, Map<String, float[]> extra) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("config.json"), TINY_CONFIG);
        try (NDManager m = NDManager.newBaseManager()) {
            RandomWeights rw = new RandomWeights(7, m);
            // RandomWeights holds every key, so the model asks for the text_model. layout.
            new CLIPTextModel(CLIPTextConfig.parse(TINY_CONFIG, "test"), rw).close();
            Path file = dir.resolve("model.safetensors");
            rw.save(file);
            if (!extra.isEmpty()) {
                rewrite(file, file, k -> k, extra);
            }
        }
        return dir;
    }

    /** Copies a safetensors file renaming keys (null drops one) and adding {@code extra}. */
    private static void rewrite(
            Path from,
            Path to,
            java.util.function.UnaryOperator<String> rename,
            Map<String, float[]> extra)
            throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile f = SafetensorsFile.open(from)) {
            for (SafetensorsFile.TensorInfo info : f.tensors().values()) {
                String k = rename.apply(info.name());
                if (k != null) {
                    w.add(k, info.shape(), f.readFloats(info.name()));
                }
            }
        }
        extra.forEach((k, v) -> w.add(k, new long[] {v.length}, v));
        w.write(to);
    }

    /** Token ids of equal-length rows as an int64 [rows, length] array. */
    static NDArray ids(NDManager m, long[][] rows) {
        int len = rows[0].length;
        long[] flat = new long[rows.length * len];
        for (int b = 0; b < rows.length; b++) {
            System.arraycopy(rows[b], 0, flat, b * len, len);
        }
        return m.create(flat, new Shape(rows.length, len));
    }

    /** Two prompts of 77 ids: bos, some tokens, eos, then eos padding (as SD 1.x pads). */
    private static NDArray promptIds(NDManager m) {
        long[][] rows = new long[2][77];
        for (int b = 0; b < 2; b++) {
            int words = 4 + 3 * b;
            rows[b][0] = 98;
            for (int i = 1; i < 77; i++) {
                rows[b][i] = i <= words ? (i * 37L + b * 11L) % 97 : 99;
            }
        }
        return ids(m, rows);
    }

    private static double maxAbsDiff(NDArray a, NDArray b) {
        return FloatArrays.maxAbsDiff(a.toFloatArray(), b.toFloatArray());
    }

    @Test
    void loadsCheckpointsWithAndWithoutTheTextModelPrefix() throws IOException {
        float[] positionIds = new float[77];
        for (int i = 0; i < 77; i++) {
            positionIds[i] = i;
        }
        // Old transformers saved the position_ids buffer; it must be ignored, not "unexpected".
        Path prefixed =
                writePrefixed(
                        "prefixed", Map.of("text_model.embeddings.position_ids", positionIds));
        Path bare = Files.createDirectories(tmp.resolve("bare"));
        Files.writeString(bare.resolve("config.json"), TINY_CONFIG);
        rewrite(
                prefixed.resolve("model.safetensors"),
                bare.resolve("model.safetensors"),
                k -> k.substring("text_model.".length()),
                Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(bare.resolve("model.safetensors"))) {
            assertTrue(f.tensors().containsKey("embeddings.token_embedding.weight"));
            assertTrue(f.tensors().containsKey("embeddings.position_ids"));
        }

        try (NDManager m = NDManager.newBaseManager();
                CLIPTextModel a = CLIPTextModel.load(prefixed, m, DataType.FLOAT32);
                CLIPTextModel b = CLIPTextModel.load(bare, m, DataType.FLOAT32)) {
            NDArray ids = promptIds(m);
            for (int skip = 0; skip < 3; skip++) {
                NDArray ha = a.encode(ids, skip);
                NDArray hb = b.encode(ids, skip);
                assertEquals(new Shape(2, 77, 16), ha.getShape());
                assertEquals(0.0, maxAbsDiff(ha, hb), "clip_skip " + skip);
            }
            // clip_skip changes the result: the layers after the chosen one are really skipped.
            assertTrue(maxAbsDiff(a.encode(ids, 0), a.encode(ids, 1)) > 1e-3);
        }
    }

    @Test
    void missingUnexpectedAndMisshapenTensorsAreOneErrorListingThem() throws IOException {
        Path good = writePrefixed("good", Map.of());
        Path bad = Files.createDirectories(tmp.resolve("bad"));
        Files.writeString(bad.resolve("config.json"), TINY_CONFIG);
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(good.resolve("model.safetensors"))) {
            for (SafetensorsFile.TensorInfo info : f.tensors().values()) {
                String k = info.name();
                if (k.equals("text_model.encoder.layers.1.mlp.fc2.bias")) {
                    continue; // missing
                }
                if (k.equals("text_model.final_layer_norm.weight")) {
                    w.add(k, new long[] {8}, new float[8]); // misshapen
                    continue;
                }
                w.add(k, info.shape(), f.readFloats(k));
            }
        }
        w.add("text_model.encoder.layers.3.mlp.fc1.bias", new long[] {24}, new float[24]);
        w.write(bad.resolve("model.safetensors"));

        try (NDManager m = NDManager.newBaseManager()) {
            ModelLoadException e =
                    assertThrows(
                            ModelLoadException.class,
                            () -> CLIPTextModel.load(bad, m, DataType.FLOAT32));
            String msg = e.getMessage();
            assertTrue(msg.contains(bad.toString()), msg);
            assertTrue(msg.contains("1 missing:"), msg);
            assertTrue(msg.contains("text_model.encoder.layers.1.mlp.fc2.bias (16)"), msg);
            assertTrue(msg.contains("1 unexpected:"), msg);
            assertTrue(msg.contains("text_model.encoder.layers.3.mlp.fc1.bias"), msg);
            assertTrue(msg.contains("1 shape mismatch:"), msg);
            assertTrue(msg.contains("text_model.final_layer_norm.weight: checkpoint (8)"), msg);
            // The failed load released what it had created.
            assertEquals(0, m.getManagedArrays().size());
        }
    }

    @Test
    void badConfigIsAnErrorNamingTheFile() throws IOException {
        Path dir = writePrefixed("badcfg", Map.of());
        Files.writeString(dir.resolve("config.json"), TINY_CONFIG.replace("\"gelu\"", "\"relu6\""));
        try (NDManager m = NDManager.newBaseManager()) {
            ModelLoadException e =
                    assertThrows(
                            ModelLoadException.class,
                            () -> CLIPTextModel.load(dir, m, DataType.FLOAT32));
            assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()));
            assertTrue(e.getMessage().contains("relu6"), e.getMessage());
        }
    }

    @Test
    void bfloat16IsRefusedBeforeAnythingIsLoaded() throws IOException {
        Path dir = writePrefixed("bf16", Map.of());
        try (NDManager m = NDManager.newBaseManager()) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> CLIPTextModel.load(dir, m, DataType.BFLOAT16));
            assertTrue(e.getMessage().contains("bfloat16"), e.getMessage());
        }
    }

    @Test
    void float16EncodesCloseToFloat32() throws IOException {
        Path dir = writePrefixed("fp16", Map.of());
        try (NDManager m = NDManager.newBaseManager();
                CLIPTextModel full = CLIPTextModel.load(dir, m, DataType.FLOAT32);
                CLIPTextModel half = CLIPTextModel.load(dir, m, DataType.FLOAT16)) {
            NDArray ids = promptIds(m);
            NDArray h = half.encode(ids);
            assertEquals(DataType.FLOAT16, h.getDataType());
            double d = maxAbsDiff(full.encode(ids), h.toType(DataType.FLOAT32, false));
            // Outputs are layer-normed (order 1): half precision keeps about 3 decimal digits.
            assertTrue(d < 3e-2, "float16 vs float32: " + d);
        }
    }

    @Test
    void chunkedAttentionEqualsUnchunked() throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                CLIPTextModel clip = writeAndLoad("chunk", m)) {
            NDArray ids = promptIds(m);
            NDArray whole = clip.encode(ids, 0);
            // 2 prompts x 2 heads x 77 keys per query row: 1540 elements = 5 query rows a chunk
            // (the last chunk 2 rows); 1 element = one query row a chunk.
            for (long limit : new long[] {2 * 2 * 77 * 5, 1}) {
                clip.setAttentionChunkElements(limit);
                NDArray chunked = clip.encode(ids, 0);
                double d = maxAbsDiff(whole, chunked);
                assertTrue(d <= 1e-6, "chunk limit " + limit + ": max abs diff " + d);
            }
            assertThrows(IllegalArgumentException.class, () -> clip.setAttentionChunkElements(0));
        }
    }

    @Test
    void nativeArraysStayFlatAcross50Calls() throws IOException {
        try (NDManager root = NDManager.newBaseManager();
                CLIPTextModel clip = writeAndLoad("memory", root)) {
            clip.setAttentionChunkElements(2 * 2 * 77 * 10); // the chunked path too
            NDArray ids = promptIds(root);
            int weights = root.getManagedArrays().size();
            // The count reaches into sub-managers (the model's weights live in one).
            assertTrue(weights > 3 * 16, "managed arrays: " + weights);
            int afterWarmup = -1;
            for (int i = 0; i < 50; i++) {
                NDArray out = clip.encode(ids, i % 3);
                out.toFloatArray();
                out.close();
                if (i == 2) {
                    afterWarmup = root.getManagedArrays().size();
                }
            }
            assertEquals(afterWarmup, root.getManagedArrays().size());
            assertEquals(weights, afterWarmup, "a call left arrays behind");

            // Inside a caller's scope the result belongs to that scope.
            try (NDScope scope = new NDScope()) {
                clip.encode(ids, 0);
                clip.pooledOutput(clip.encode(ids, 0), ids);
            }
            assertEquals(weights, root.getManagedArrays().size());
        }
    }

    @Test
    void clipSkipMustBeBelowNumHiddenLayers() throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                CLIPTextModel clip = writeAndLoad("skip", m)) {
            assertEquals(3, clip.numHiddenLayers());
            NDArray ids = promptIds(m);
            assertEquals(new Shape(2, 77, 16), clip.encode(ids, 2).getShape());
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> clip.encode(ids, 3));
            assertTrue(e.getMessage().contains("clip_skip 3"), e.getMessage());
            assertTrue(e.getMessage().contains("num_hidden_layers (3)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> clip.encode(ids, -1));
        }
    }

    @Test
    void badInputIdsAreClearErrors() throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                CLIPTextModel clip = writeAndLoad("ids", m)) {
            IllegalArgumentException tooLong =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> clip.encode(m.zeros(new Shape(1, 78), DataType.INT64)));
            assertTrue(tooLong.getMessage().contains("78"), tooLong.getMessage());
            IllegalArgumentException outOfVocab =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> clip.encode(ids(m, new long[][] {{98, 100, 99}})));
            assertTrue(outOfVocab.getMessage().contains("inputIds[0, 1] = 100"));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> clip.encode(m.zeros(new Shape(1, 5), DataType.FLOAT32)));
            // Shorter sequences use the first position embeddings, and int32 ids are accepted.
            NDArray shortIds = ids(m, new long[][] {{98, 5, 6, 99}});
            NDArray a = clip.encode(shortIds);
            NDArray b = clip.encode(shortIds.toType(DataType.INT32, false));
            assertEquals(new Shape(1, 4, 16), a.getShape());
            assertEquals(0.0, maxAbsDiff(a, b));
        }
    }

    @Test
    void pooledOutputIsTheHiddenStateAtTheEndOfTextToken() throws IOException {
        Path dir = writePrefixed("pooled", Map.of());
        try (NDManager m = NDManager.newBaseManager();
                CLIPTextModel clip = CLIPTextModel.load(dir, m, DataType.FLOAT32)) {
            // eos (99) first at 3 and 6; pad 0 afterwards, so the largest id is elsewhere.
            NDArray ids =
                    ids(m, new long[][] {{98, 5, 6, 99, 0, 0, 0, 0}, {98, 1, 2, 3, 4, 5, 99, 99}});
            NDArray last = clip.encode(ids);
            NDArray pooled = clip.pooledOutput(last, ids);
            assertEquals(new Shape(2, 16), pooled.getShape());
            assertArrayEquals(last.get(0, 3).toFloatArray(), pooled.get(0).toFloatArray());
            assertArrayEquals(last.get(1, 6).toFloatArray(), pooled.get(1).toFloatArray());
        }
        // Legacy configs (eos_token_id 2): transformers takes the argmax of the ids instead.
        Files.writeString(
                dir.resolve("config.json"),
                TINY_CONFIG.replace("\"eos_token_id\": 99", "\"eos_token_id\": 2"));
        try (NDManager m = NDManager.newBaseManager();
                CLIPTextModel clip = CLIPTextModel.load(dir, m, DataType.FLOAT32)) {
            NDArray ids = ids(m, new long[][] {{98, 5, 6, 99, 0}, {3, 2, 1, 0, 0}});
            NDArray last = clip.encode(ids);
            NDArray pooled = clip.pooledOutput(last, ids);
            assertArrayEquals(last.get(0, 3).toFloatArray(), pooled.get(0).toFloatArray());
            assertArrayEquals(last.get(1, 0).toFloatArray(), pooled.get(1).toFloatArray());
        }
    }

    @Test
    void geluIsTheExactErfFormAndGeluNewTheTanhApproximation() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.linspace(-6f, 6f, 1201);
            NDArray exact =
                    x.mul(0.5f).mul(x.div((float) Math.sqrt(2)).erf().add(1f)); // erf definition
            double dExact = maxAbsDiff(CLIPTextBlocks.activation("gelu", x), exact);
            assertTrue(dExact < 1e-6, "gelu vs erf gelu: " + dExact);
            NDArray tanhForm = CLIPTextBlocks.activation("gelu_new", x);
            double dTanh = maxAbsDiff(tanhForm, exact);
            // The tanh approximation differs from erf gelu by a few 1e-4 (Hendrycks & Gimpel).
            assertTrue(dTanh > 1e-5 && dTanh < 1e-3, "gelu_new vs erf gelu: " + dTanh);
            assertEquals(
                    0.0, maxAbsDiff(tanhForm, CLIPTextBlocks.activation("gelu_pytorch_tanh", x)));
            NDArray quick = CLIPTextBlocks.activation("quick_gelu", x);
            NDArray quickRef = x.div(x.mul(-1.702f).exp().add(1f)); // x * sigmoid(1.702 x)
            assertTrue(maxAbsDiff(quick, quickRef) < 1e-6);
        }
    }
}
