package sdbatch.pipeline.family;

import ai.djl.ndarray.types.DataType;

/**
 * What the pipeline tells every model family when it builds one from a folder's components.
 *
 * @param dtype the dtype the family's networks compute in (and its prompt embeddings are handed
 *     over in)
 * @param latentChannels the VAE's {@code latent_channels}: the UNet families' latent channels (SD3
 *     takes its transformer's {@code in_channels}, as diffusers does)
 * @param promptCacheSize prompt embeddings kept on the heap
 */
public record FamilySettings(DataType dtype, int latentChannels, int promptCacheSize) {}
