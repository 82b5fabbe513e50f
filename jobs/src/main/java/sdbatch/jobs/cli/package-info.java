/**
 * The {@code sdbatch} command line: {@link sdbatch.jobs.cli.Cli} (the main class of {@code
 * bin/sdbatch}, of the shaded jar and of {@code deploy/}'s spark-submit), the subcommands ({@link
 * sdbatch.jobs.cli.Commands}, one {@code *Command} each), the parsed flags ({@link
 * sdbatch.jobs.cli.JobOptions}, {@link sdbatch.jobs.cli.Flags}; parsed by {@code JobOptionsParser}
 * and {@code FlagValues}), the exit-status contract ({@link sdbatch.jobs.cli.ExitCode}; {@link
 * sdbatch.jobs.cli.StartupException} is exit 2, thrown by the layers below when a flag, table or
 * model is bad) and the default log level of a command ({@link sdbatch.jobs.cli.Logs}).
 *
 * <p>A command resolves its options and hands the work to the layers below; the Spark work of
 * {@code generate} and {@code validate} is in {@code sdbatch.jobs.spark} ({@code GenerateJob},
 * {@code ValidateJob}). Not here because they are not the command line: {@code Version} and {@code
 * Redaction} ({@code sdbatch.jobs}: the job writes them into metadata and {@code run.json} as much
 * as the command line uses them), {@code DtypeSupport} ({@code sdbatch.jobs.spark}, beside {@code
 * GpuAssignment}: which {@code --dtype} runs on a task's device, checked again on the executors)
 * and {@code TorchLogging} ({@code sdbatch.jobs.spark}: libtorch's logging inside the executors).
 */
package sdbatch.jobs.cli;
