/**
 * What identifies and describes an output image: the stable {@link
 * sdbatch.schemas.metadata.ImageId} (hash of model and every parameter, and the image's path) and
 * AUTOMATIC1111's infotext ({@link sdbatch.schemas.metadata.A1111Parameters}) written into the PNG.
 * Pure Java, so the driver, the executors and tests compute the same values.
 */
package sdbatch.schemas.metadata;
