package sdbatch.pipeline.testing;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * A test class whose arrays live in one {@link NDManager}, opened before its first test and closed
 * after its last (one test instance for the class, so the manager is a plain field).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class PerClassManager {
    /** The class's manager; closed after its last test. */
    protected NDManager manager;

    /** Opens {@link #manager}. */
    @BeforeAll
    protected final void openManager() {
        manager = NDManager.newBaseManager();
    }

    /** Closes {@link #manager} and every array left in it. */
    @AfterAll
    protected final void closeManager() {
        manager.close();
    }
}
