/**
 * Spark jobs and the {@code sdbatch} command line: the only module that sees Spark. This package
 * holds only what every layer below shares: {@link sdbatch.jobs.Version} (recorded in each metadata
 * row and in {@code run.json}) and {@link sdbatch.jobs.Redaction} (keeps credentials out of logs,
 * {@code run.json} and metadata). The layers: {@code cli} (commands and flags), {@code spark}
 * (Spark wiring of the jobs), {@code generate} (their pure row logic), {@code io} (tables, images,
 * resume) and {@code storage} (model copies).
 */
package sdbatch.jobs;
