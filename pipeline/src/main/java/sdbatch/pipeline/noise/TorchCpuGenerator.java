package sdbatch.pipeline.noise;

/**
 * A pure-Java copy of torch's CPU generator ({@code torch.Generator("cpu")}): the same mt19937
 * stream, the same uniform conversions and the same {@code normal_} algorithms, so that {@code new
 * TorchCpuGenerator(seed).randn(n)} equals {@code torch.randn(n,
 * generator=torch.Generator("cpu").manual_seed(seed))} in float32, and later draws continue the
 * stream exactly as torch's would.
 *
 * <p><b>Seeds.</b> The {@code long} is the bit pattern of torch's {@code uint64_t} seed (so a
 * negative Java value stands for the unsigned seed with the same bits, which is also what torch
 * does with a negative Python seed). torch seeds mt19937 with only the <em>low 32 bits</em> ({@code
 * at::mt19937::init_with_uint32}): seeds that differ only above bit 31 give identical streams. We
 * keep that rule on purpose, since parity with torch is the point.
 *
 * <p><b>Agreement.</b> The stream (which uniform feeds which output) is identical to torch's; the
 * float results agree to a few units in the last place. torch's own bits already vary between CPUs
 * (its AVX2 kernel uses {@code avx_mathfun} log/sincos and a fused multiply-add, its scalar kernel
 * libm), so exact bit equality is neither possible nor the goal. We use {@link StrictMath} so this
 * class gives the same bits on every JVM and executor.
 *
 * <p><b>Threads.</b> An instance is mutable and not thread-safe (torch guards its generator with a
 * mutex; here each request owns its generator). There is no shared or static mutable state:
 * separate instances are independent and may be used from different threads at once.
 */
public final class TorchCpuGenerator {

    // mt19937 parameters (Matsumoto & Nishimura 1998; C++ [rand.predef] std::mt19937), as in
    // ATen's at::mt19937 (aten/src/ATen/core/MT19937RNGEngine.h).
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    /** torch.randn takes its vectorised/chunked {@code normal_fill} path from this size on. */
    static final int NORMAL_FILL_MIN = 16;

    private static final int FLOAT_DIGITS = 24; // std::numeric_limits<float>::digits
    private static final int DOUBLE_DIGITS = 53; // std::numeric_limits<double>::digits
    private static final float FLOAT_DIVISOR = 1.0f / (1 << FLOAT_DIGITS);
    private static final double DOUBLE_DIVISOR = 1.0 / (1L << DOUBLE_DIGITS);

    private final int[] state = new int[N];
    private int left;
    private int next;
    private long seed;

    // CPUGeneratorImpl::next_double_normal_sample_: the second Box-Muller value of the
    // per-element (numel < 16) path, kept for the next call, even across randn calls.
    private boolean hasNextDoubleNormal;
    private double nextDoubleNormal;

    /** A generator seeded like {@code torch.Generator("cpu").manual_seed(seed)}. */
    public TorchCpuGenerator(long seed) {
        manualSeed(seed);
    }

    /**
     * Re-seeds like {@code Generator.manual_seed(seed)} ({@code
     * CPUGeneratorImpl::set_current_seed}): a fresh mt19937 from the low 32 bits of {@code seed},
     * and the cached normal sample dropped.
     *
     * @return this generator
     */
    public TorchCpuGenerator manualSeed(long seed) {
        this.seed = seed;
        hasNextDoubleNormal = false;
        nextDoubleNormal = 0;
        // at::mt19937::init_with_uint32: state_[0] = seed & 0xffffffff (the high half is dropped).
        state[0] = (int) seed;
        for (int j = 1; j < N; j++) {
            int prev = state[j - 1];
            state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
        }
        left = 1;
        next = 0;
        return this;
    }

    /**
     * The seed as given (all 64 bits, like torch's {@code initial_seed()}), although only the low
     * 32 bits shaped the stream.
     */
    public long initialSeed() {
        return seed;
    }

    /**
     * The next raw 32-bit mt19937 output ({@code CPUGeneratorImpl::random()}), as an unsigned value
     * in {@code [0, 2^32)}.
     */
    public long random() {
        return Integer.toUnsignedLong(nextInt32());
    }

    /**
     * The next 64 random bits ({@code CPUGeneratorImpl::random64()}): two 32-bit outputs, the first
     * in the high half.
     */
    public long random64() {
        long hi = Integer.toUnsignedLong(nextInt32());
        long lo = Integer.toUnsignedLong(nextInt32());
        return (hi << 32) | lo;
    }

    /**
     * Draws {@code n} standard normal float32 values exactly as one {@code torch.randn(n,
     * generator=g)} call (any shape with {@code n} elements: torch fills contiguous memory in
     * order). Note that drawing {@code n} then {@code m} is not the same as drawing {@code n + m}
     * in torch either (the 16-element chunking restarts per call); it is the same as torch making
     * the same two calls.
     */
    public float[] randn(int n) {
        requireCount(n);
        float[] out = new float[n];
        randn(out, 0, n);
        return out;
    }

    /**
     * Like {@link #randn(int)}, writing into {@code out[offset, offset + n)}.
     *
     * @throws IllegalArgumentException if {@code n} is negative or the range does not fit {@code
     *     out}
     */
    public void randn(float[] out, int offset, int n) {
        requireCount(n);
        if (offset < 0 || offset > out.length - n) {
            throw new IllegalArgumentException(
                    "randn: range [offset "
                            + offset
                            + ", offset + n "
                            + ((long) offset + n)
                            + ") does not fit an array of length "
                            + out.length);
        }
        // aten/src/ATen/native/cpu/DistributionKernels.cpp normal_kernel: contiguous float
        // tensors of >= 16 elements take normal_fill (AVX2 or scalar, same stream); smaller ones
        // the per-element normal_distribution<double>.
        if (n >= NORMAL_FILL_MIN) {
            normalFill(out, offset, n);
        } else {
            for (int i = 0; i < n; i++) {
                out[offset + i] = (float) normalDouble();
            }
        }
    }

    private static void requireCount(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("randn: n must be >= 0, got " + n);
        }
    }

    // Port of torch aten/src/ATen/native/cpu/DistributionTemplates.h normal_fill (mean 0, std 1).
    private void normalFill(float[] data, int offset, int size) {
        // 1. Fill with float uniforms in [0, 1): one 32-bit draw each.
        for (int i = 0; i < size; i++) {
            data[offset + i] = uniformFloat();
        }
        // 2. Box-Muller on each whole chunk of 16, pairing element j with j + 8.
        for (int i = 0; i < size - 15; i += 16) {
            normalFill16(data, offset + i);
        }
        // 3. A partial last chunk: torch draws 16 fresh uniforms over the last 16 elements
        //    (overwriting some already transformed values) and transforms them.
        if (size % 16 != 0) {
            int last = offset + size - 16;
            for (int i = 0; i < 16; i++) {
                data[last + i] = uniformFloat();
            }
            normalFill16(data, last);
        }
    }

    // Port of torch DistributionTemplates.h normal_fill_16 (scalar float arithmetic; the AVX2
    // version differs only in the last bits of log/sincos and an fma).
    private static void normalFill16(float[] data, int at) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1 - data[at + j]; // [0, 1) -> (0, 1] for log; exact in float
            float u2 = data[at + j + 8];
            float radius = (float) StrictMath.sqrt(-2 * (float) StrictMath.log(u1));
            // torch: 2.0f * c10::pi<double> * u2 is a double product, rounded to float theta.
            float theta = (float) (2.0 * Math.PI * u2);
            data[at + j] = radius * (float) StrictMath.cos(theta);
            data[at + j + 8] = radius * (float) StrictMath.sin(theta);
        }
    }

    // Port of torch aten/src/ATen/core/DistributionsHelper.h normal_distribution<double> with
    // CPUGeneratorImpl's cache: Box-Muller on two 53-bit double uniforms, cos returned now and
    // sin kept for the next call.
    private double normalDouble() {
        if (hasNextDoubleNormal) {
            hasNextDoubleNormal = false;
            return nextDoubleNormal;
        }
        double u1 = uniformDouble();
        double u2 = uniformDouble();
        double r = StrictMath.sqrt(-2.0 * StrictMath.log1p(-u2));
        double theta = 2.0 * Math.PI * u1;
        nextDoubleNormal = r * StrictMath.sin(theta);
        hasNextDoubleNormal = true;
        return r * StrictMath.cos(theta);
    }

    // torch TransformationHelper.h uniform_real<float>: the low 24 bits of one random() / 2^24.
    private float uniformFloat() {
        return (nextInt32() & ((1 << FLOAT_DIGITS) - 1)) * FLOAT_DIVISOR;
    }

    // uniform_real<double>: the low 53 bits of one random64() / 2^53.
    private double uniformDouble() {
        return (random64() & ((1L << DOUBLE_DIGITS) - 1)) * DOUBLE_DIVISOR;
    }

    // at::mt19937::operator(): regenerate the 624-word block when used up, then temper.
    private int nextInt32() {
        if (--left == 0) {
            nextState();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private void nextState() {
        left = N;
        next = 0;
        for (int k = 0; k < N; k++) {
            int y = (state[k] & UPPER_MASK) | (state[(k + 1) % N] & LOWER_MASK);
            state[k] = state[(k + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
    }
}
