/**
 * Seeded noise equal to torch's CPU generator, per request and thread-safe: the same seed gives
 * the same noise in any batch, on any executor, with any number of threads.
 */
package sdbatch.pipeline.noise;
