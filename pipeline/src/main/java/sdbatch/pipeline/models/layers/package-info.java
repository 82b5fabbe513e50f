/**
 * The basic layers, one class per {@code torch.nn} module or function the models use ({@link
 * sdbatch.pipeline.models.layers.Conv2d}, {@link sdbatch.pipeline.models.layers.Linear}, {@link
 * sdbatch.pipeline.models.layers.GroupNorm}, {@link sdbatch.pipeline.models.layers.LayerNorm},
 * {@link sdbatch.pipeline.models.layers.Activations}), plus {@link
 * sdbatch.pipeline.models.layers.InnerScope}, which every forward uses to free its temporaries.
 *
 * <p>A layer reads its parameters from a {@link sdbatch.pipeline.weights.Weights} view under its
 * own prefix and knows nothing of diffusers. A new {@code torch.nn} equivalent goes here; a
 * diffusers class built from layers goes in {@link sdbatch.pipeline.models.blocks}, and a way of
 * computing a layer through libtorch that DJL does not offer goes in {@link
 * sdbatch.pipeline.models.kernels}.
 */
package sdbatch.pipeline.models.layers;
