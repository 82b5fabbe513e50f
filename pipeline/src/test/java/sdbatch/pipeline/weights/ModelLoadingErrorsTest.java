package sdbatch.pipeline.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.UNet2DConditionModel;

/**
 * Loading a component folder that does not match its config: every problem is reported at once, by
 * key; missing folders and pickle-only or corrupt weights are refused with the reason.
 */
class ModelLoadingErrorsTest extends RandomVaeFolder {
    /** Rewrites the VAE's weights: drop a key, add one, and give one a wrong shape. */
    private void rewrite(String drop, String add, String reshape) throws Exception {
        Path file = vae.resolve("diffusion_pytorch_model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (Map.Entry<String, SafetensorsFile.TensorInfo> e : f.tensors().entrySet()) {
                String k = e.getKey();
                float[] v = f.readFloats(k);
                if (k.equals(drop)) {
                    continue;
                }
                if (k.equals(reshape)) {
                    w.add(k, new long[] {v.length + 1}, java.util.Arrays.copyOf(v, v.length + 1));
                } else {
                    w.add(k, e.getValue().shape(), v);
                }
            }
        }
        if (add != null) {
            w.add(add, new long[] {2}, new float[] {1, 2});
        }
        w.write(file);
    }

    @Test
    void intactFolderLoadsAndDecodes() throws Exception {
        try (AutoencoderKL model = AutoencoderKL.load(vae, manager, DataType.FLOAT32)) {
            NDArray out = model.decode(manager.ones(new Shape(1, 4, 3, 5)));
            assertEquals(new Shape(1, 3, 6, 10), out.getShape());
        }
    }

    @Test
    void missingUnexpectedAndMisshapenAreListedInOneError() throws Exception {
        rewrite("decoder.conv_in.bias", "decoder.extra_thing.weight", "encoder.conv_out.bias");
        ModelLoadException e =
                assertThrows(
                        ModelLoadException.class,
                        () -> AutoencoderKL.load(vae, manager, DataType.FLOAT32));
        String m = e.getMessage();
        assertTrue(m.contains(vae.toString()), m);
        assertTrue(m.contains("missing") && m.contains("decoder.conv_in.bias"), m);
        assertTrue(m.contains("unexpected") && m.contains("decoder.extra_thing.weight"), m);
        assertTrue(m.contains("shape mismatch") && m.contains("encoder.conv_out.bias"), m);
    }

    @Test
    void eachProblemAloneIsReported() throws Exception {
        rewrite("decoder.mid_block.attentions.0.to_q.weight", null, null);
        ModelLoadException missing =
                assertThrows(
                        ModelLoadException.class,
                        () -> AutoencoderKL.load(vae, manager, DataType.FLOAT32));
        assertTrue(missing.getMessage().contains("decoder.mid_block.attentions.0.to_q.weight"));
        writeRandomVae();
        rewrite(null, "quant_conv.extra", null);
        ModelLoadException unexpected =
                assertThrows(
                        ModelLoadException.class,
                        () -> AutoencoderKL.load(vae, manager, DataType.FLOAT32));
        assertTrue(unexpected.getMessage().contains("quant_conv.extra"));
    }

    @Test
    void missingComponentFolderIsNamed() {
        Path absent = dir.resolve("unet");
        ModelLoadException e =
                assertThrows(
                        ModelLoadException.class,
                        () -> UNet2DConditionModel.load(absent, manager, DataType.FLOAT32));
        assertTrue(
                e.getMessage().contains(absent.toString())
                        && e.getMessage().contains("does not exist"));
    }

    @Test
    void pickleOnlyFolderIsRefusedWithTheReason() throws Exception {
        Path unet = dir.resolve("pickled");
        Files.createDirectories(unet);
        Files.writeString(unet.resolve("config.json"), "{}");
        Files.write(unet.resolve("diffusion_pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        ModelLoadException e =
                assertThrows(
                        ModelLoadException.class,
                        () -> UNet2DConditionModel.load(unet, manager, DataType.FLOAT32));
        assertTrue(e.getMessage().contains("pickle"), e.getMessage());
        assertTrue(e.getMessage().contains("diffusion_pytorch_model.bin"), e.getMessage());
        assertTrue(e.getMessage().contains("safetensors"), e.getMessage());
    }

    @Test
    void corruptWeightsFileIsRefusedAtLoad() throws Exception {
        Path file = vae.resolve("diffusion_pytorch_model.safetensors");
        byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, all.length / 2));
        SafetensorsException e =
                assertThrows(
                        SafetensorsException.class,
                        () -> AutoencoderKL.load(vae, manager, DataType.FLOAT32));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }
}
