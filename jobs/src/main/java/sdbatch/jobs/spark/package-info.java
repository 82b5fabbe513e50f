/**
 * The Spark layer of the jobs: only wiring around the pure code of {@code sdbatch.jobs.generate}.
 * {@link sdbatch.jobs.spark.GenerateJob} wires the generate run: the driver's plan ({@link
 * sdbatch.jobs.spark.GenerationPlan}, from the {@link sdbatch.jobs.spark.InputTable}), the executor
 * task ({@link sdbatch.jobs.spark.PartitionTask}), the metadata commit ({@link
 * sdbatch.jobs.spark.MetadataCommit}), {@code run.json} ({@link sdbatch.jobs.spark.RunReport}) and
 * the progress lines ({@link sdbatch.jobs.spark.ProgressReporter}, over the run's {@link
 * sdbatch.jobs.spark.ImageCounters}); {@link sdbatch.jobs.spark.ValidateJob} counts the same plan
 * without generating. Also here: the schemas of the prompt table and of the metadata, the model set
 * up on the driver, the executor-wide pipeline cache, GPU assignment and the dtypes each device
 * runs.
 */
package sdbatch.jobs.spark;
