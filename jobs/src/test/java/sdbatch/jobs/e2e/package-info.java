/**
 * End-to-end tests of {@code sdbatch generate} through the command line, in-process, on Spark local
 * mode and the real pipeline: golden parity against diffusers' images, the bad-input table,
 * determinism across partitionings and batch sizes.
 */
package sdbatch.jobs.e2e;
