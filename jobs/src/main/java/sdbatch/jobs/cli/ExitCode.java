package sdbatch.jobs.cli;

/** The process exit codes of {@code sdbatch} (issue 5 item 6). */
public enum ExitCode {
    /** Every row succeeded (or, for the other commands, the command did what was asked). */
    OK(0),
    /** The job could not start: bad flags, unreadable table, bad model; nothing was generated. */
    CANNOT_START(2),
    /** Some rows were invalid and every valid one succeeded. */
    INVALID_ROWS(3),
    /** Some generations failed (or the job stopped at {@code --max-failures}). */
    FAILED_ROWS(4);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    /** The numeric process exit status. */
    public int code() {
        return code;
    }

    /** The exit code of a finished run: failures outrank invalid rows. */
    public static ExitCode of(long invalid, long failed) {
        if (failed > 0) {
            return FAILED_ROWS;
        }
        return invalid > 0 ? INVALID_ROWS : OK;
    }
}
