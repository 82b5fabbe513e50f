package sdbatch.jobs.generate;

import java.io.Serializable;

/**
 * Where a partition ran, recorded on each of its result rows.
 *
 * @param executor the Spark executor id ({@code driver} in local mode)
 * @param device the device generation ran on ({@code cpu}, {@code gpu:0})
 * @param gpuAddress the GPU address Spark assigned to the task, null when none (recorded even when
 *     {@code --device cpu} ignores it)
 * @param attempt the task attempt number (0 for the first attempt)
 */
public record TaskInfo(String executor, String device, String gpuAddress, int attempt)
        implements Serializable {}
