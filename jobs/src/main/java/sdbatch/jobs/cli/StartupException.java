package sdbatch.jobs.cli;

/**
 * The job cannot start (exit code 2): a bad flag, an unreadable prompt table, a bad model. Thrown
 * before any generation; the message names the argument or path and the value.
 */
public class StartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StartupException(String message) {
        super(message);
    }

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
