package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

class PipelineOptionsTest {
    @Test
    void float16IsRefusedOnTheCpuAndAcceptedOnAGpu() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PipelineOptions.defaults().withDtype(DataType.FLOAT16));
        assertTrue(e.getMessage().contains("float16 needs a GPU"), e.getMessage());
        PipelineOptions gpu =
                PipelineOptions.defaults().withDevice(Device.gpu(0)).withDtype(DataType.FLOAT16);
        assertEquals(DataType.FLOAT16, gpu.dtype());
        assertThrows(IllegalArgumentException.class, () -> gpu.withDevice(Device.cpu()));
    }

    @Test
    void bfloat16ArraysAreRefused() {
        assertThrows(
                IllegalArgumentException.class,
                () -> PipelineOptions.defaults().withDtype(DataType.BFLOAT16));
    }

    @Test
    void theVaeFolderAndWithoutT5SurviveTheOtherWithers() {
        java.nio.file.Path vae = java.nio.file.Path.of("/models/sdxl-vae-fp16-fix");
        PipelineOptions o =
                PipelineOptions.defaults()
                        .withVae(vae)
                        .withoutT5(true)
                        .withMaxBatchSize(3)
                        .withMaxPixels(4096)
                        .withEmbeddings(null)
                        .withDtype(ai.djl.ndarray.types.DataType.FLOAT32)
                        .withDevice(ai.djl.Device.cpu())
                        .withCompute(sdbatch.pipeline.compute.ComputeOptions.defaults());
        org.junit.jupiter.api.Assertions.assertEquals(vae, o.vaeDir());
        org.junit.jupiter.api.Assertions.assertTrue(o.withoutT5());
        org.junit.jupiter.api.Assertions.assertEquals(null, PipelineOptions.defaults().vaeDir());
        org.junit.jupiter.api.Assertions.assertFalse(PipelineOptions.defaults().withoutT5());
    }
}
