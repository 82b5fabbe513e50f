/**
 * The generate job against a real S3 API: s3proxy on loopback ({@code
 * sdbatch.jobs.storage.S3TestServer}), the job run through the real command line ({@code Cli} →
 * {@code GenerateCommand}: {@code --master}, {@code --conf spark.hadoop.fs.s3a.*}) with prompt
 * table, model and output all {@code s3a://} URIs, and the results read back through s3a with
 * Spark, Hadoop and ImageIO. {@code S3FaultTest} takes the server away during a run.
 */
package sdbatch.jobs.s3;
