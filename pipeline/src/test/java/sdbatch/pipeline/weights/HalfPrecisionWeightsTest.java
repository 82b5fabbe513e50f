package sdbatch.pipeline.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * F16 and BF16 checkpoints (what most published SD weights are) load converted to the compute
 * dtype. The bit patterns are written by hand here so the expected floats are exact by
 * construction: 1.0, -2.0, 0.5 and 65504 (the largest half) in F16; 1.0, -2.0, 0.5 and 3.0e38 in
 * BF16 (the top 16 bits of the float32 pattern).
 */
class HalfPrecisionWeightsTest {
    @TempDir Path dir;

    @Test
    void f16AndBf16TensorsLoadAsFloat32() throws Exception {
        short[] f16 = {0x3C00, (short) 0xC000, 0x3800, 0x7BFF};
        float[] f16Expected = {1.0f, -2.0f, 0.5f, 65504f};
        float[] bf16Source = {1.0f, -2.0f, 0.5f, Float.intBitsToFloat(0x7F61_0000)};
        short[] bf16 = new short[4];
        for (int i = 0; i < 4; i++) {
            bf16[i] = (short) (Float.floatToIntBits(bf16Source[i]) >>> 16);
        }
        writeFile(dir.resolve("w.safetensors"), f16, bf16);
        try (NDManager m = NDManager.newBaseManager();
                StateDictWeights w = StateDictWeights.open(dir, m, DataType.FLOAT32)) {
            NDArray a = w.get("half", new Shape(2, 2));
            NDArray b = w.get("brain", new Shape(4));
            w.finish();
            assertEquals(DataType.FLOAT32, a.getDataType());
            assertArrayEquals(f16Expected, a.toFloatArray());
            assertEquals(DataType.FLOAT32, b.getDataType());
            assertArrayEquals(bf16Source, b.toFloatArray());
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("w.safetensors"))) {
            assertArrayEquals(f16Expected, f.readFloats("half"));
            assertArrayEquals(bf16Source, f.readFloats("brain"));
        }
    }

    @Test
    void f32LoadsAsFloat16WhenAsked() throws Exception {
        new SafetensorsWriter()
                .add("x", new long[] {3}, new float[] {1.5f, -0.25f, 1024f})
                .write(dir.resolve("x.safetensors"));
        try (NDManager m = NDManager.newBaseManager();
                StateDictWeights w = StateDictWeights.open(dir, m, DataType.FLOAT16)) {
            NDArray x = w.get("x", new Shape(3));
            w.finish();
            assertEquals(DataType.FLOAT16, x.getDataType());
            assertArrayEquals(
                    new float[] {1.5f, -0.25f, 1024f},
                    x.toType(DataType.FLOAT32, false).toFloatArray());
        }
    }

    private static void writeFile(Path path, short[] f16, short[] bf16) throws Exception {
        String header =
                "{\"half\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                        + "\"brain\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[8,16]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (short s : f16) {
            buf.putShort(s);
        }
        for (short s : bf16) {
            buf.putShort(s);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(buf.array());
        Files.write(path, out.toByteArray());
    }
}
