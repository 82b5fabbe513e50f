package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.pipeline.weights.SafetensorsWriter;

/**
 * VAE folders saved before diffusers 0.14 name the mid-block attention's projections {@code query},
 * {@code key}, {@code value} and {@code proj_attn} (2-D {@code nn.Linear} weights, as the new
 * {@code to_q}, {@code to_k}, {@code to_v}, {@code to_out.0}). diffusers renames them on load
 * (ModelMixin._fix_state_dict_keys_on_load); so must sdbatch, with the same numbers as a folder
 * saved under the new names.
 */
class DeprecatedAttentionKeysTest {
    /** New name → the name diffusers used before 0.14, for the mid-block attention only. */
    private static final Map<String, String> OLD_NAMES =
            Map.of(
                    "to_q.", "query.",
                    "to_k.", "key.",
                    "to_v.", "value.",
                    "to_out.0.", "proj_attn.");

    @TempDir Path dir;
    private NDManager manager;
    private Path vae;

    @BeforeEach
    void writeTinyModel() throws Exception {
        manager = NDManager.newBaseManager();
        vae = TinyModels.write(dir.resolve("tiny"), TinyModels.Variant.SD1, 11).resolve("vae");
    }

    @AfterEach
    void close() {
        manager.close();
    }

    /** The key under its pre-0.14 name when it is a mid-block attention projection, else itself. */
    private static String oldName(String key) {
        int at = key.indexOf("mid_block.attentions.");
        if (at < 0) {
            return key;
        }
        int start = key.indexOf('.', at + "mid_block.attentions.".length()) + 1;
        String rest = key.substring(start);
        for (Map.Entry<String, String> e : OLD_NAMES.entrySet()) {
            if (rest.startsWith(e.getKey())) {
                return key.substring(0, start) + e.getValue() + rest.substring(e.getKey().length());
            }
        }
        return key;
    }

    /**
     * Copies the tiny VAE to {@code target} with every key renamed by {@link #oldName}, and the
     * tensor of {@code reshaped} (an old name) stored with a trailing 1×1 (the conv shape of
     * CompVis checkpoints) when not null.
     *
     * @return how many keys were renamed
     */
    private int writeOldVae(Path target, String reshaped) throws Exception {
        Files.createDirectories(target);
        Files.copy(vae.resolve("config.json"), target.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        int renamed = 0;
        try (SafetensorsFile f =
                SafetensorsFile.open(vae.resolve("diffusion_pytorch_model.safetensors"))) {
            for (Map.Entry<String, SafetensorsFile.TensorInfo> e : f.tensors().entrySet()) {
                String name = oldName(e.getKey());
                if (!name.equals(e.getKey())) {
                    renamed++;
                }
                long[] shape = e.getValue().shape();
                if (name.equals(reshaped)) {
                    shape = new long[] {shape[0], shape[1], 1, 1};
                }
                w.add(name, shape, f.readFloats(e.getKey()));
            }
        }
        w.write(target.resolve("diffusion_pytorch_model.safetensors"));
        return renamed;
    }

    private NDArray randomArray(long seed, Shape shape, UnaryOperator<Float> map) {
        Random r = new Random(seed);
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = map.apply((float) r.nextGaussian());
        }
        return manager.create(v, shape);
    }

    @Test
    void vaeWithPre014AttentionNamesLoadsAndComputesLikeTheOriginal() throws Exception {
        Path old = dir.resolve("old-vae");
        int renamed = writeOldVae(old, null);
        // encoder and decoder mid blocks, one attention each, weight and bias of four projections
        assertEquals(2 * 4 * 2, renamed, "mid-block attention keys renamed");
        try (SafetensorsFile f =
                SafetensorsFile.open(old.resolve("diffusion_pytorch_model.safetensors"))) {
            assertTrue(
                    f.tensors().containsKey("decoder.mid_block.attentions.0.proj_attn.weight"),
                    "the old folder uses the old names");
            assertTrue(
                    f.tensors().keySet().stream().noneMatch(k -> k.contains(".to_q.")),
                    "the old folder has no new attention names");
        }
        try (AutoencoderKL current = AutoencoderKL.load(vae, manager, DataType.FLOAT32);
                AutoencoderKL legacy = AutoencoderKL.load(old, manager, DataType.FLOAT32)) {
            int f = current.config().vaeScaleFactor();
            NDArray latents = randomArray(3, new Shape(2, 4, 8, 6), x -> x);
            assertArrayEquals(
                    current.decode(latents).toFloatArray(),
                    legacy.decode(latents).toFloatArray(),
                    "decode");
            NDArray image =
                    randomArray(4, new Shape(1, 3, 8 * f, 6 * f), x -> (float) Math.tanh(x));
            try (AutoencoderKL.LatentDist a = current.encode(image);
                    AutoencoderKL.LatentDist b = legacy.encode(image)) {
                assertArrayEquals(a.mean().toFloatArray(), b.mean().toFloatArray(), "mean");
                assertArrayEquals(a.std().toFloatArray(), b.std().toFloatArray(), "std");
            }
        }
    }

    @Test
    void convShapedOldProjectionIsAShapeErrorNamingTheKey() throws Exception {
        // diffusers' folder loader only renames; a [C, C, 1, 1] proj_attn (CompVis layout) fails
        // its shape check too. The error names the key as the file spells it.
        Path old = dir.resolve("old-vae-conv");
        String key = "decoder.mid_block.attentions.0.proj_attn.weight";
        writeOldVae(old, key);
        ModelLoadException e =
                assertThrows(
                        ModelLoadException.class,
                        () -> AutoencoderKL.load(old, manager, DataType.FLOAT32).close());
        assertTrue(
                e.getMessage().contains("shape mismatch") && e.getMessage().contains(key),
                e.getMessage());
        assertTrue(!e.getMessage().contains("missing"), e.getMessage());
    }
}
