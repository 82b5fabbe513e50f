/**
 * The Spark layer of the generate job: schemas of the prompt table and of the metadata, the
 * executor-wide pipeline cache, GPU assignment, and {@link sdbatch.jobs.spark.GenerateJob}, which
 * only wires Dataset → {@code mapPartitions} → write around the pure code of {@code
 * sdbatch.jobs.generate}.
 */
package sdbatch.jobs.spark;
