package sdbatch.pipeline.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.pipeline.weights.LiveParameters;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.pipeline.weights.SafetensorsWriter;

/**
 * LoRA merging on a tiny SD 1.x model's UNet and text encoder: every changed weight must be {@code
 * W + Σ weight × alpha / rank × up @ down} (computed here in double from the files), switching must
 * restore the base bit for bit, and files this reader cannot apply exactly are refused by name.
 */
class LoraWeightsTest {
    @TempDir static Path tmp;
    static Path model;
    static NDManager manager;
    static UNet2DConditionModel unet;
    static CLIPTextModel textEncoder;
    static final AtomicInteger changes = new AtomicInteger();
    static LoraWeights loras;

    // Keys of the tiny model's layers of each kind.
    static String linearKey;
    static String pointwiseKey;
    static String conv3Key;
    static String textKey;

    @BeforeAll
    static void load() throws IOException {
        model = TinyModels.write(tmp.resolve("tiny-sd1"), TinyModels.Variant.SD1, 3);
        manager = NDManager.newBaseManager(Device.cpu());
        unet = UNet2DConditionModel.load(model.resolve("unet"), manager, DataType.FLOAT32);
        textEncoder = CLIPTextModel.load(model.resolve("text_encoder"), manager, DataType.FLOAT32);
        loras =
                new LoraWeights(
                        Map.of(
                                "unet",
                                unet.liveParameters(),
                                "text_encoder",
                                textEncoder.liveParameters()),
                        changes::incrementAndGet);
        linearKey = key(unet.liveParameters(), "attn1.to_q.weight");
        pointwiseKey = key(unet.liveParameters(), "attentions.0.proj_in.weight");
        conv3Key = key(unet.liveParameters(), "resnets.0.conv1.weight");
        textKey = key(textEncoder.liveParameters(), "layers.0.self_attn.q_proj.weight");
    }

    @AfterAll
    static void close() {
        unet.close();
        textEncoder.close();
        manager.close();
    }

    private static String key(LiveParameters p, String suffix) {
        return p.keys().stream().filter(k -> k.endsWith(suffix)).findFirst().orElseThrow();
    }

    /** kohya's name of a module: its dotted path with every dot an underscore. */
    private static String kohya(String prefix, String key) {
        return prefix + key.substring(0, key.length() - ".weight".length()).replace('.', '_');
    }

    /** kohya's name of a text-encoder module: always under {@code text_model}. */
    private static String kohyaText(String key) {
        return kohya("lora_te_", key.startsWith("text_model.") ? key : "text_model." + key);
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 0.1f;
        }
        return v;
    }

    /** A one-layer LoRA factor pair for {@code shape} [out, in(, k, k)]. */
    private record Pair(long[] down, float[] downValues, long[] up, float[] upValues) {
        static Pair of(long[] target, int rank, long seed, boolean conv) {
            Random r = new Random(seed);
            long out = target[0];
            long in = target[1];
            long k = target.length == 4 ? target[2] : 1;
            long[] down = conv ? new long[] {rank, in, k, k} : new long[] {rank, in};
            long[] up = conv ? new long[] {out, rank, 1, 1} : new long[] {out, rank};
            return new Pair(
                    down, random(r, (int) (rank * in * k * k)), up, random(r, (int) (out * rank)));
        }

        /** weight × scale × up @ down added to {@code w} (in double). */
        void addTo(double[] w, double factor) {
            int rank = (int) down[0];
            int inner = downValues.length / rank;
            int out = upValues.length / rank;
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < inner; i++) {
                    double s = 0;
                    for (int j = 0; j < rank; j++) {
                        s += (double) upValues[o * rank + j] * downValues[j * inner + i];
                    }
                    w[o * inner + i] += factor * s;
                }
            }
        }
    }

    private static long[] shape(LiveParameters p, String key) {
        return p.get(key).getShape().getShape();
    }

    private static double[] base(String component, String key) throws IOException {
        Path file =
                component.equals("unet")
                        ? model.resolve("unet/diffusion_pytorch_model.safetensors")
                        : model.resolve("text_encoder/model.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            float[] v = f.readFloats(key);
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                d[i] = v[i];
            }
            return d;
        }
    }

    private static void assertWeight(double[] expected, LiveParameters p, String key) {
        float[] actual = p.get(key).toFloatArray();
        assertEquals(expected.length, actual.length);
        double max = 0;
        double scale = 0;
        for (int i = 0; i < actual.length; i++) {
            max = Math.max(max, Math.abs(actual[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        assertTrue(max <= 1e-6 * Math.max(1, scale), key + ": max difference " + max);
    }

    /** The live weight of {@code key} is its file value plus {@code factor} × up @ down. */
    private static void assertMerged(String component, String key, Pair pair, double factor)
            throws IOException {
        double[] expected = base(component, key);
        pair.addTo(expected, factor);
        assertWeight(
                expected,
                component.equals("unet") ? unet.liveParameters() : textEncoder.liveParameters(),
                key);
    }

    /**
     * A Kohya file (alpha 1) with one rank-2 pair, from {@code seed}, for the UNet's linear layer.
     */
    private static Path linearLoraFile(String name, long seed) throws IOException {
        Pair p = Pair.of(shape(unet.liveParameters(), linearKey), 2, seed, false);
        return kohyaFile(name, Map.of(kohya("lora_unet_", linearKey), p), 1.0);
    }

    private static Path kohyaFile(String name, Map<String, Pair> layers, Double alpha)
            throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("ss_network_module", "lora");
        for (Map.Entry<String, Pair> e : layers.entrySet()) {
            Pair p = e.getValue();
            w.add(e.getKey() + ".lora_down.weight", p.down, p.downValues);
            w.add(e.getKey() + ".lora_up.weight", p.up, p.upValues);
            if (alpha != null) {
                w.add(e.getKey() + ".alpha", new long[0], new float[] {alpha.floatValue()});
            }
        }
        Path f = tmp.resolve(name + ".safetensors");
        w.write(f);
        return f;
    }

    @Test
    void kohyaLinearPointwiseConv3x3AndTextEncoderLayersMergeAsWPlusScaledUpDown()
            throws IOException {
        LiveParameters u = unet.liveParameters();
        LiveParameters t = textEncoder.liveParameters();
        Pair linear = Pair.of(shape(u, linearKey), 4, 1, false);
        Pair pointwise = Pair.of(shape(u, pointwiseKey), 4, 2, true);
        Pair conv3 = Pair.of(shape(u, conv3Key), 2, 3, true);
        Pair text = Pair.of(shape(t, textKey), 4, 4, false);
        Path file =
                kohyaFile(
                        "kohya-kinds",
                        Map.of(
                                kohya("lora_unet_", linearKey), linear,
                                kohya("lora_unet_", pointwiseKey), pointwise,
                                kohya("lora_unet_", conv3Key), conv3,
                                kohyaText(textKey), text),
                        2.0);
        double w = 0.7;
        try (LoraWeights.Lease lease = loras.use(List.of(LoraSpec.of(file, w)))) {
            // alpha 2: rank 4 → 0.5, rank 2 → 1
            assertMerged("unet", linearKey, linear, w * 0.5);
            assertMerged("unet", pointwiseKey, pointwise, w * 0.5);
            assertMerged("unet", conv3Key, conv3, w * 1.0);
            assertMerged("text_encoder", textKey, text, w * 0.5);
        }
    }

    @Test
    void negativeWeightsAndThreeLorasAddUpInOrder() throws IOException {
        LiveParameters u = unet.liveParameters();
        Pair a = Pair.of(shape(u, linearKey), 4, 11, false);
        Pair b = Pair.of(shape(u, linearKey), 8, 12, false);
        Pair c = Pair.of(shape(u, linearKey), 2, 13, false);
        Path fa = kohyaFile("three-a", Map.of(kohya("lora_unet_", linearKey), a), 1.0);
        Path fb = kohyaFile("three-b", Map.of(kohya("lora_unet_", linearKey), b), null);
        Path fc = kohyaFile("three-c", Map.of(kohya("lora_unet_", linearKey), c), 4.0);
        List<LoraSpec> set =
                List.of(LoraSpec.of(fa, 1.0), LoraSpec.of(fb, -0.5), LoraSpec.of(fc, 0.25));
        try (LoraWeights.Lease lease = loras.use(set)) {
            double[] expected = base("unet", linearKey);
            a.addTo(expected, 1.0 * 1.0 / 4);
            b.addTo(expected, -0.5 * 1.0); // no alpha: alpha = rank
            c.addTo(expected, 0.25 * 4.0 / 2);
            assertWeight(expected, u, linearKey);
        }
        try (LoraWeights.Lease lease = loras.use(List.of(LoraSpec.of(fa, -1.0)))) {
            double[] expected = base("unet", linearKey);
            a.addTo(expected, -1.0 / 4);
            assertWeight(expected, u, linearKey);
        }
    }

    private static Path peftFile(String name, Pair p, String metadata) throws IOException {
        String module = "unet." + linearKey.substring(0, linearKey.length() - ".weight".length());
        SafetensorsWriter w =
                new SafetensorsWriter()
                        .add(module + ".lora_A.weight", p.down, p.downValues)
                        .add(module + ".lora_B.weight", p.up, p.upValues);
        if (metadata != null) {
            w.metadata("lora_adapter_metadata", metadata);
        }
        Path f = tmp.resolve(name + ".safetensors");
        w.write(f);
        return f;
    }

    @Test
    void peftAlphaComesFromTheMetadataElseEqualsTheRank() throws IOException {
        LiveParameters u = unet.liveParameters();
        Pair p = Pair.of(shape(u, linearKey), 4, 21, false);
        Path withAlpha = peftFile("peft-alpha", p, "{\"unet.lora_alpha\": 8, \"unet.r\": 4}");
        Path rsLora =
                peftFile(
                        "peft-rslora",
                        p,
                        "{\"unet.lora_alpha\": 8, \"unet.r\": 4, \"unet.use_rslora\": true}");
        Path plain = peftFile("peft-plain", p, null);
        for (Object[] c : new Object[][] {{withAlpha, 8.0 / 4}, {rsLora, 8.0 / 2}, {plain, 1.0}}) {
            try (LoraWeights.Lease lease = loras.use(List.of(LoraSpec.of((Path) c[0], 0.5)))) {
                double[] expected = base("unet", linearKey);
                p.addTo(expected, 0.5 * (double) c[1]);
                assertWeight(expected, u, linearKey);
            }
        }
    }

    @Test
    void switchingSetsRestoresTheBaseExactlyAndCountsMerges() throws IOException {
        LiveParameters u = unet.liveParameters();
        LiveParameters t = textEncoder.liveParameters();
        Path a =
                kohyaFile(
                        "switch-a",
                        Map.of(
                                kohya("lora_unet_", conv3Key),
                                Pair.of(shape(u, conv3Key), 2, 31, true),
                                kohyaText(textKey),
                                Pair.of(shape(t, textKey), 2, 32, false)),
                        1.0);
        Path b = linearLoraFile("switch-b", 33);
        long merges = loras.mergeCount();
        long restores = loras.restoreCount();
        int changed = changes.get();
        try (LoraWeights.Lease lease = loras.use(List.of(LoraSpec.of(a, 1.0)))) {
            assertFalse(bitsEqual(base("unet", conv3Key), u, conv3Key));
        }
        // The same set again: no merge.
        try (LoraWeights.Lease lease = loras.use(List.of(LoraSpec.of(a, 1.0)))) {
            assertEquals(merges + 1, loras.mergeCount());
        }
        try (LoraWeights.Lease lease = loras.use(List.of(LoraSpec.of(b, 1.0)))) {
            // a's layers are back to the file's bits, b's merged.
            assertTrue(bitsEqual(base("unet", conv3Key), u, conv3Key));
            assertTrue(bitsEqual(base("text_encoder", textKey), t, textKey));
            assertFalse(bitsEqual(base("unet", linearKey), u, linearKey));
        }
        try (LoraWeights.Lease lease = loras.use(List.of())) {
            for (String key : List.of(conv3Key, linearKey, pointwiseKey)) {
                assertTrue(bitsEqual(base("unet", key), u, key), key);
            }
            assertTrue(bitsEqual(base("text_encoder", textKey), t, textKey));
        }
        assertEquals(merges + 2, loras.mergeCount());
        assertEquals(restores + 1, loras.restoreCount());
        assertEquals(changed + 3, changes.get(), "the family hears of every switch");
    }

    private static boolean bitsEqual(double[] expected, LiveParameters p, String key) {
        float[] actual = p.get(key).toFloatArray();
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToIntBits(actual[i]) != Float.floatToIntBits((float) expected[i])) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aKeyThatNamesNoLayerIsRefusedNamingItAndNothingChanges() throws IOException {
        LiveParameters u = unet.liveParameters();
        Pair p = Pair.of(shape(u, linearKey), 2, 41, false);
        Path bad =
                kohyaFile(
                        "unknown-key",
                        Map.of(
                                kohya("lora_unet_", linearKey),
                                p,
                                "lora_unet_down_blocks_9_attentions_0_proj_in",
                                p),
                        1.0);
        List<LoraSpec> before = loras.current();
        LoraException e =
                assertThrows(LoraException.class, () -> loras.use(List.of(LoraSpec.of(bad, 1))));
        assertTrue(
                e.getMessage().contains("lora_unet_down_blocks_9_attentions_0_proj_in"),
                e.getMessage());
        assertTrue(e.getMessage().contains("names no layer"), e.getMessage());
        assertThrows(LoraException.class, () -> loras.check(List.of(LoraSpec.of(bad, 1))));
        assertEquals(before, loras.current());
        try (LoraWeights.Lease lease = loras.use(List.of())) {
            assertTrue(bitsEqual(base("unet", linearKey), u, linearKey));
        }
    }

    @Test
    void loraForAnotherFamilyOrShapeIsRefusedNamingTheKey() throws IOException {
        LiveParameters u = unet.liveParameters();
        Pair p = Pair.of(shape(u, linearKey), 2, 51, false);
        Path sdxl =
                kohyaFile(
                        "sdxl-te2", Map.of("lora_te2_text_model_encoder_layers_0_mlp_fc1", p), 1.0);
        LoraException e =
                assertThrows(LoraException.class, () -> loras.check(List.of(LoraSpec.of(sdxl, 1))));
        assertTrue(e.getMessage().contains("text_encoder_2"), e.getMessage());
        assertTrue(e.getMessage().contains("another model family"), e.getMessage());
        Pair wide = Pair.of(new long[] {shape(u, linearKey)[0], 999}, 2, 52, false);
        Path misfit = kohyaFile("misfit", Map.of(kohya("lora_unet_", linearKey), wide), 1.0);
        e = assertThrows(LoraException.class, () -> loras.check(List.of(LoraSpec.of(misfit, 1))));
        assertTrue(e.getMessage().contains(kohya("lora_unet_", linearKey)), e.getMessage());
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
    }

    @Test
    void lycorisNetworksAreRefusedByName() throws IOException {
        String name = kohya("lora_unet_", linearKey);
        for (String[] c :
                new String[][] {
                    {"hada_w1_a", "LoHa"}, {"lokr_w1", "LoKr"}, {"lora_mid.weight", "lora_mid"}
                }) {
            SafetensorsWriter w =
                    new SafetensorsWriter()
                            .add(name + "." + c[0], new long[] {2, 2}, new float[4])
                            .add(name + ".alpha", new long[0], new float[] {1});
            Path f = tmp.resolve("lycoris-" + c[1] + ".safetensors");
            w.write(f);
            LoraException e =
                    assertThrows(
                            LoraException.class, () -> loras.check(List.of(LoraSpec.of(f, 1))));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(e.getMessage().contains("not a plain LoRA"), e.getMessage());
        }
    }

    @Test
    void pickleFilesAreRefusedWithTheWayToConvertThem() throws IOException {
        for (String ext : List.of(".pt", ".ckpt")) {
            Path f = Files.write(tmp.resolve("style" + ext), new byte[] {(byte) 0x80, 2});
            LoraException e =
                    assertThrows(
                            LoraException.class, () -> loras.check(List.of(LoraSpec.of(f, 1))));
            assertTrue(e.getMessage().contains("pickle"), e.getMessage());
            assertTrue(e.getMessage().contains("safetensors"), e.getMessage());
        }
    }

    @Test
    void aHashThatDoesNotMatchIsRefusedBeforeAnyChange() throws IOException {
        LiveParameters u = unet.liveParameters();
        Path f = linearLoraFile("hashed", 61);
        LoraSpec wrong = new LoraSpec(f, "0".repeat(64), 1.0);
        LoraException e = assertThrows(LoraException.class, () -> loras.use(List.of(wrong)));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        String right = sdbatch.pipeline.weights.ModelHash.sha256(List.of(f));
        try (LoraWeights.Lease lease = loras.use(List.of(new LoraSpec(f, right, 1.0)))) {
            assertFalse(bitsEqual(base("unet", linearKey), u, linearKey));
        }
        try (LoraWeights.Lease lease = loras.use(List.of())) {
            assertTrue(bitsEqual(base("unet", linearKey), u, linearKey));
        }
    }
}
