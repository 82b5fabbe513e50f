package sdbatch.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdbatch.pipeline.controlnet.ControlNet;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.pipeline.family.StableDiffusion3Family;
import sdbatch.pipeline.lora.LoraSpec;

/**
 * How one {@code generate} call's checked requests are cut into UNet batches: by LoRA set first (so
 * each set is merged once per call), then by what must agree within a batch ({@link BatchKey}),
 * then into runs of at most the pipeline's batch size, each in the call's order.
 */
final class RequestBatches {
    private RequestBatches() {}

    /** The batches, as indices into {@code requests}. */
    static List<List<Integer>> of(List<ImageRequest> requests, int maxBatchSize) {
        Map<List<LoraSpec>, Map<BatchKey, List<Integer>>> bySet = new LinkedHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            bySet.computeIfAbsent(requests.get(i).loras(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(BatchKey.of(requests.get(i)), k -> new ArrayList<>())
                    .add(i);
        }
        List<List<Integer>> batches = new ArrayList<>();
        for (Map<BatchKey, List<Integer>> set : bySet.values()) {
            for (List<Integer> group : set.values()) {
                for (int from = 0; from < group.size(); from += maxBatchSize) {
                    batches.add(
                            List.copyOf(
                                    group.subList(
                                            from, Math.min(group.size(), from + maxBatchSize))));
                }
            }
        }
        return batches;
    }

    /** What must agree for requests to share a UNet batch. */
    record BatchKey(
            int width,
            int height,
            int steps,
            String scheduler,
            String overrides,
            double eta,
            boolean guidance,
            String mode,
            double strength,
            List<ControlNet> controlNets,
            int maxSequenceLength) {
        static BatchKey of(ImageRequest r) {
            return new BatchKey(
                    r.width(),
                    r.height(),
                    r.steps(),
                    r.scheduler() == null ? "" : r.scheduler().toLowerCase(Locale.ROOT),
                    r.schedulerConfig() == null ? "" : r.schedulerConfig(),
                    r.eta(),
                    DenoisingLoop.doClassifierFreeGuidance(r),
                    r.isInpainting() ? "inpaint" : r.isImageToImage() ? "img2img" : "txt2img",
                    // the strength decides where an img2img or inpainting schedule starts (and
                    // whether inpainting starts from pure noise)
                    r.strength() == null ? 0 : r.strength(),
                    // one ControlNet call per step serves the batch: the same ones, in order
                    r.hasControlNets()
                            ? r.controlNets().stream().map(ControlNetUnit::controlNet).toList()
                            : List.of(),
                    // SD3's prompt embeddings are 77 + max_sequence_length tokens long: one length
                    // per batch (other families ignore it)
                    StableDiffusion3Family.maxSequenceLength(r));
        }
    }
}
