/**
 * Pictures in and out. In: an init picture as diffusers' image processor prepares it for the VAE
 * encoder (PIL's Lanczos resize, [-1, 1]; {@link sdbatch.pipeline.image.VaeImageProcessor}) and an
 * inpainting mask as diffusers' mask processor makes it (Lanczos resize, grayscale, binarized;
 * {@link sdbatch.pipeline.image.InpaintMask}). Out, the last step of a generation: decoded VAE
 * output to 8-bit RGB exactly as diffusers makes it ({@link
 * sdbatch.pipeline.image.ImagePostprocessor}), inpainting's optional paste-back over the init
 * picture (diffusers' {@code apply_overlay}; {@link sdbatch.pipeline.image.ImageOverlay}), and
 * deterministic PNG bytes carrying AUTOMATIC1111's {@code parameters} text and the full request as
 * JSON ({@link sdbatch.pipeline.image.PngWriter}, read back by {@link
 * sdbatch.pipeline.image.PngText}).
 */
package sdbatch.pipeline.image;
