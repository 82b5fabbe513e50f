package sdbatch.pipeline.testing;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.UnaryOperator;
import sdbatch.pipeline.compute.ComputeOptions;

/**
 * Tests that call blocks directly (no pipeline) change this thread's {@link ComputeOptions} step by
 * step; {@link #reset()} (in {@code @AfterEach}) puts the defaults back. Threads other than the
 * test's keep the defaults unless they enter options themselves.
 */
public final class TestCompute {
    private static final ThreadLocal<Deque<ComputeOptions.Scope>> SCOPES =
            ThreadLocal.withInitial(ArrayDeque::new);

    private TestCompute() {}

    /** Makes {@code change} of the current options this thread's options until {@link #reset}. */
    public static void set(UnaryOperator<ComputeOptions> change) {
        SCOPES.get().push(change.apply(ComputeOptions.current()).enter());
    }

    /** Back to the defaults on this thread. */
    public static void reset() {
        Deque<ComputeOptions.Scope> scopes = SCOPES.get();
        while (!scopes.isEmpty()) {
            scopes.pop().close();
        }
    }
}
