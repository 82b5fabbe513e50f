/**
 * The tiny model factory: random-weight Stable Diffusion models written in the real diffusers
 * folder layout, for the demo and every self-contained test ({@code TinyModels}), and ControlNets
 * that fit them ({@code TinyControlNet}). Main code, not test code, because the {@code sdbatch
 * make-tiny-model} command and the embedded default model use it.
 */
package sdbatch.pipeline.tiny;
