/**
 * The pure, Spark-free core of the generate job: planning a row into requests or an invalid row
 * ({@link sdbatch.jobs.generate.RowPlanner}, which also reads a row's input pictures once, and
 * {@link sdbatch.jobs.generate.RequestOrInvalid}), cost-balanced partitioning ({@link
 * sdbatch.jobs.generate.CostPartitioner}), batching of compatible requests ({@link
 * sdbatch.jobs.generate.BatchGrouper}), the per-partition loop ({@link
 * sdbatch.jobs.generate.PartitionRunner}, with its generating and storing halves {@code
 * BatchGeneration} and {@code BatchStores}) that turns every request into exactly one result, the
 * metadata rows of a result ({@link sdbatch.jobs.generate.ResultRows}) and the driver's image count
 * ({@link sdbatch.jobs.generate.ProgressCount}). The Spark layer ({@code sdbatch.jobs.spark}) only
 * wires these into Spark.
 */
package sdbatch.jobs.generate;
