/**
 * Reading and writing through Hadoop file systems (local, {@code hdfs://}, {@code s3a://}): the
 * prompt table reader, the image store with atomic writes, and the resume index over an earlier
 * run's metadata.
 */
package sdbatch.jobs.io;
