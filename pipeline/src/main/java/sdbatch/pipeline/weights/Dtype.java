package sdbatch.pipeline.weights;

import java.nio.ByteBuffer;

/** The element types of the safetensors format, with their sizes and conversions to float. */
public enum Dtype {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U8(1),
    BOOL(1);

    private final int byteSize;

    Dtype(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether this is a floating-point type. */
    public boolean isFloat() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** The dtype for a header string such as {@code "F16"}. */
    public static Dtype fromSafetensors(String name) {
        for (Dtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException(
                "unsupported dtype '"
                        + name
                        + "' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
    }

    /** Element {@code i} of a little-endian buffer of this type, as a float. */
    public float readAsFloat(ByteBuffer b, int i) {
        return switch (this) {
            case F64 -> (float) b.getDouble(i * 8);
            case F32 -> b.getFloat(i * 4);
            case F16 -> halfToFloat(b.getShort(i * 2));
            case BF16 -> Float.intBitsToFloat((b.getShort(i * 2) & 0xFFFF) << 16);
            default -> (float) readAsLong(b, i);
        };
    }

    /** Element {@code i} of a little-endian buffer of this type, as a long. */
    public long readAsLong(ByteBuffer b, int i) {
        return switch (this) {
            case I64 -> b.getLong(i * 8);
            case I32 -> b.getInt(i * 4);
            case I16 -> b.getShort(i * 2);
            case I8 -> b.get(i);
            case U8, BOOL -> b.get(i) & 0xFF;
            default -> (long) readAsFloat(b, i);
        };
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    public static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            // Subnormal half: value = mant * 2^-24, exactly representable as a float.
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
