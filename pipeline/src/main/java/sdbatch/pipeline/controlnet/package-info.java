/**
 * ControlNet, as diffusers' {@code StableDiffusionControlNetPipeline} runs it: an adapter beside
 * the family and mode seams ({@link sdbatch.pipeline.ResidualAdapter}) that, at every denoising
 * step, calls each ControlNet of the batch on the step's model input and hands the UNet the
 * residuals for its skip connections and mid block.
 *
 * <ul>
 *   <li>{@link sdbatch.pipeline.controlnet.ControlNet}: a loaded ControlNet (the handle a request
 *       names), from {@link sdbatch.pipeline.StableDiffusionPipeline#controlNet}; {@link
 *       sdbatch.pipeline.controlnet.ControlNets} loads each folder once per pipeline and checks
 *       that it fits the UNet and VAE ({@link sdbatch.pipeline.controlnet.ControlNetFit}: the
 *       residuals match the UNet's skip connections, the latent channels and the VAE's scale).
 *   <li>{@link sdbatch.pipeline.controlnet.ControlNetUnit}: one ControlNet on one request (control
 *       picture, {@code controlnet_conditioning_scale}, {@code control_guidance_start}/{@code end})
 *       and diffusers' {@code controlnet_keep}.
 *   <li>{@link sdbatch.pipeline.controlnet.ControlNetAdapter}: a batch's ControlNets: pictures
 *       prepared once, per-row factors per step, several ControlNets summed ({@code
 *       MultiControlNetModel}).
 * </ul>
 *
 * <p>The network is {@link sdbatch.pipeline.models.ControlNetModel}. Not implemented: guess mode
 * (ControlNets whose config asks for it are refused), SDXL ControlNets (their {@code text_time}
 * added conditioning; the adapter would pass the family's added conditioning to the model), and
 * ControlNet with img2img or inpainting (diffusers' separate pipelines).
 */
package sdbatch.pipeline.controlnet;
