/**
 * Records parsed from the diffusers JSON files of a model folder ({@code model_index.json}, {@code
 * scheduler/scheduler_config.json}, the model {@code config.json}s). Each record holds diffusers'
 * {@code __init__} defaults and is the only place they live; unknown keys are kept, never fatal, so
 * one folder's config can build any compatible class.
 */
package sdbatch.pipeline.config;
