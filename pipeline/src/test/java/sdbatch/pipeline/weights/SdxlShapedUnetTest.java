package sdbatch.pipeline.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Set;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * The bench's SDXL-shaped UNet ({@link TinyModels#sdxlShapedUnetConfigJson}) has exactly the
 * parameters of SDXL 1.0 base's UNet: 2,567,463,684, as diffusers counts {@code sum(p.numel() for p
 * in unet.parameters())}. Counted from the shapes the model asks for, with data-less arrays, so no
 * 10 GB are allocated.
 */
class SdxlShapedUnetTest {

    @Test
    void hasSdxlBasesParameterCount() {
        UNetConfig config =
                UNetConfig.parse("SDXL-shaped UNet", TinyModels.sdxlShapedUnetConfigJson());
        long[] count = {0};
        try (NDManager manager = NDManager.newBaseManager()) {
            Weights shapes =
                    new Weights() {
                        @Override
                        public NDArray get(String key, Shape expected) {
                            count[0] += expected.size();
                            return new ShapeOnlyArray(manager, expected, DataType.FLOAT32);
                        }

                        @Override
                        public boolean contains(String key) {
                            return true;
                        }

                        @Override
                        public Set<String> keys() {
                            return Set.of();
                        }
                    };
            new UNet2DConditionModel(config, shapes);
        }
        assertEquals(2_567_463_684L, count[0]);
    }
}
