/**
 * The pure, Spark-free core of the generate job: cost-balanced partitioning ({@link
 * sdbatch.jobs.generate.CostPartitioner}), batching of compatible requests ({@link
 * sdbatch.jobs.generate.BatchGrouper}) and the per-partition loop ({@link
 * sdbatch.jobs.generate.PartitionRunner}) that turns every request into exactly one result. The
 * Spark layer ({@code sdbatch.jobs.spark}) only wires these into {@code mapPartitions}.
 */
package sdbatch.jobs.generate;
