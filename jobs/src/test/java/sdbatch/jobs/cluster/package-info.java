/**
 * Multi-JVM tests: a real Spark standalone master and worker started from the Spark jars on
 * loopback ({@link sdbatch.jobs.cluster.StandaloneCluster}), a driver JVM running the {@code
 * sdbatch} command line against it, executors killed mid-run.
 */
package sdbatch.jobs.cluster;
