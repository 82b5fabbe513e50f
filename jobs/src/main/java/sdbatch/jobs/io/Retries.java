package sdbatch.jobs.io;

import java.io.IOException;
import java.util.function.Predicate;

/**
 * Retries of one file-system call against flaky storage (an object store's dropped connection, a
 * throttled request), shared by image writes ({@link ImageStore}) and picture reads ({@link
 * sdbatch.jobs.pictures.PictureFiles}): up to {@code attempts} tries in all, sleeping {@code
 * backoffMillis × 2^(try-2)} before each try after the first.
 *
 * @param attempts tries in all, at least 1
 * @param backoffMillis the first wait between tries
 * @param sleeper how to wait ({@code Thread::sleep}; tests record the waits)
 */
public record Retries(int attempts, long backoffMillis, Sleeper sleeper) {

    /** The job's policy for storage calls: 4 tries, 200 ms first wait. */
    public static final Retries STORAGE = new Retries(4, 200L, Thread::sleep);

    /** How to wait between retries (a seam for tests). */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    /** One storage call. */
    @FunctionalInterface
    public interface IoCall<T> {
        T call() throws IOException;
    }

    /** Checks the number of attempts. */
    public Retries {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
        }
    }

    /**
     * Runs {@code call} until it succeeds, the tries are used up, or it fails with an error that
     * {@code retryable} says another try cannot fix (a missing file).
     *
     * @return the call's result
     * @throws IOException the last failure
     * @throws InterruptedException when interrupted while waiting (the interrupt flag is set again)
     */
    public <T> T run(Predicate<IOException> retryable, IoCall<T> call)
            throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            if (attempt > 1) {
                try {
                    sleeper.sleep(backoffMillis << (attempt - 2));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
            try {
                return call.call();
            } catch (IOException e) {
                if (attempt >= attempts || !retryable.test(e)) {
                    throw e;
                }
            }
        }
    }
}
