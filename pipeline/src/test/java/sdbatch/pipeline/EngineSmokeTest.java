package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** The bundled libtorch loads offline and computes. */
class EngineSmokeTest {
    @Test
    void pytorchEngineLoadsFromTheBundledNatives() {
        Engine engine = Engine.getEngine("PyTorch");
        assertEquals("PyTorch", engine.getEngineName());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
            assertArrayEquals(new float[] {7, 10, 15, 22}, a.matMul(a).toFloatArray());
        }
    }
}
