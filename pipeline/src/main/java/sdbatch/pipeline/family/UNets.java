package sdbatch.pipeline.family;

import sdbatch.pipeline.models.UNet2DConditionModel;

/** What the UNet families (SD 1.x/2.x, SDXL) tell the pipeline about their UNet alike. */
final class UNets {
    private UNets() {}

    /** The UNet's {@code sample_size}: the default latent size. */
    static int sampleSize(UNet2DConditionModel unet) {
        Integer s = unet.config().sampleSize();
        if (s == null) {
            throw new IllegalStateException(
                    "the UNet config has no sample_size: the default image size is unknown");
        }
        return s;
    }

    /** 2^(levels − 1): latent sizes the up blocks can bring back to every skip connection. */
    static int latentSizeMultiple(UNet2DConditionModel unet) {
        return 1 << (unet.config().blockOutChannels().size() - 1);
    }
}
