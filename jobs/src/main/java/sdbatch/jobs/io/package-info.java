/**
 * Reading and writing through Hadoop file systems (local, {@code hdfs://}, {@code s3a://}): the
 * prompt table reader, the image store with atomic writes, the resume index over an earlier run's
 * metadata, and the storage retries image writes and picture reads share ({@link
 * sdbatch.jobs.io.Retries}).
 */
package sdbatch.jobs.io;
