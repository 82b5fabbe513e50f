/**
 * Object storage helpers shared by the driver and the executors: the per-host model cache that
 * copies a model folder from any Hadoop file system ({@code s3a://}, {@code hdfs://}, {@code
 * file:}) once per host ({@code ModelCache}: layout, locks, checking a copy; {@code ModelSource}:
 * listing and copying the source), its manifest format, and URI handling that never lets
 * credentials reach a log line.
 *
 * <p>Everything here goes through Hadoop's {@code FileSystem} API and standard Hadoop
 * configuration, so it works against any S3-compatible server; nothing S3-specific is hard-coded.
 */
package sdbatch.jobs.storage;
