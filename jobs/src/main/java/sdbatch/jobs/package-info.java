/** Spark jobs and the {@code sdbatch} command line: the only module that sees Spark. */
package sdbatch.jobs;
