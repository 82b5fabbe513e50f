package sdbatch.pipeline.models.kernels;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtSymbolBlock;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.compute.CpuFeatures;

/** The known-answer checks that keep a wrong bfloat16 kernel from computing images. */
class Bf16SelfCheckTest {

    @Test
    void roundsToTheNearestBfloat16TiesToEven() {
        assertEquals(1f, Bf16SelfCheck.roundToBfloat16(1f));
        float ulp = (float) Math.pow(2, -7); // bfloat16 keeps 7 stored mantissa bits
        assertEquals(1f, Bf16SelfCheck.roundToBfloat16(1f + ulp / 2)); // tie: to even (1)
        assertEquals(1f + 2 * ulp, Bf16SelfCheck.roundToBfloat16(1f + 1.5f * ulp)); // tie: even
        assertEquals(1f + ulp, Bf16SelfCheck.roundToBfloat16(1f + 0.75f * ulp));
        assertEquals(-3f, Bf16SelfCheck.roundToBfloat16(-3.0078125f)); // -3 - 2^-7: below half
    }

    @Test
    void checkRejectsAResultOffByMoreThanTheBoundAndNamesTheCpu() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray want = m.randomNormal(new Shape(2, 4, 5, 5));
            NDArray close = want.mul(1 + 1.0 / 256); // a bfloat16 rounding step
            assertDoesNotThrow(() -> Bf16SelfCheck.check("x", want, close));
            NDArray wrongChannel = want.duplicate();
            wrongChannel.set(new ai.djl.ndarray.index.NDIndex(":, 3"), 0f);
            IllegalStateException e =
                    assertThrows(
                            IllegalStateException.class,
                            () -> Bf16SelfCheck.check("convolution 8→4", want, wrongChannel));
            assertTrue(e.getMessage().contains("convolution 8→4"), e.getMessage());
            assertTrue(e.getMessage().contains(CpuFeatures.current().vendor()), e.getMessage());
            NDArray nan = want.duplicate();
            nan.set(new ai.djl.ndarray.index.NDIndex("0, 0, 0, 0"), Float.NaN);
            assertThrows(IllegalStateException.class, () -> Bf16SelfCheck.check("x", want, nan));
        }
    }

    /**
     * The plain-layout (NCHW) bfloat16 convolution that was wrong on AMD Zen 5: wherever it is
     * wrong on the CPU running this test, the per-call check must reject a module built on it, and
     * wherever it is right, accept it. Either way the channels-last module in use passes.
     */
    @Test
    void perCallCheckRejectsThePlainLayoutKernelExactlyWhereItIsWrong() {
        PtSymbolBlock plain =
                TorchScriptOps.load(
                        "SdbatchBf16Plain",
                        String.join(
                                "\n",
                                "  def forward(self: __torch__.SdbatchBf16Plain,",
                                "    op: int, x: Tensor, w: Tensor, b: Tensor,",
                                "    stride: int, padding: int) -> Tensor:",
                                "    xb = torch.to(x, 15)",
                                "    wb = torch.to(w, 15)",
                                "    if op == 0:",
                                "      y = torch.linear(xb, wb, torch.to(b, 15))",
                                "    else:",
                                "      y = torch.conv2d(xb, wb, torch.to(b, 15), [stride, stride],"
                                        + " [padding, padding])",
                                "    return torch.to(y, 6)"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(2, 16, 9, 9));
            NDArray w = m.randomNormal(new Shape(4, 16, 3, 3));
            NDArray b = m.randomNormal(new Shape(4));
            NDArray want =
                    ai.djl.nn.convolutional.Conv2d.conv2d(
                                    x, w, b, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1)
                            .singletonOrThrow();
            double plainError =
                    Bf16SelfCheck.relativeError(
                            want, TorchScriptOps.call(plain, 1L, x, w, b, 1L, 1L));
            String cpu = CpuFeatures.current().describe();
            System.out.printf(
                    "plain-layout bf16 conv 16→4 on %s: relative error %.3g%n", cpu, plainError);
            if (plainError > 0.05) {
                assertThrows(
                        IllegalStateException.class,
                        () -> Bf16SelfCheck.perCall(plain, m),
                        "wrong kernel accepted on " + cpu);
            } else {
                assertDoesNotThrow(() -> Bf16SelfCheck.perCall(plain, m), cpu);
            }
            assertTrue(Bf16Compute.unavailableReason() == null || !Bf16Compute.enabled());
            try (ComputeOptions.Scope bf16 = ComputeOptions.defaults().withBf16(true).enter()) {
                assertTrue(
                        Bf16Compute.usable(x),
                        "channels-last module failed its check on "
                                + cpu
                                + ": "
                                + Bf16Compute.unavailableReason());
            }
        }
    }
}
