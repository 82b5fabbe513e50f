/**
 * The diffusers noise schedulers, one class per file under diffusers' own class names, behind the
 * diffusers-shaped {@link sdbatch.pipeline.schedulers.Scheduler} interface, and the {@link
 * sdbatch.pipeline.schedulers.Schedulers} registry of names and aliases.
 *
 * <p>Each scheduler is a port of {@code diffusers/src/diffusers/schedulers/scheduling_*.py}
 * (diffusers 0.40): schedule arrays are computed once in {@code setTimesteps} into Java arrays with
 * diffusers' dtype choices (torch float32 where diffusers uses torch, float64 where it uses numpy),
 * and the tensor math keeps float32 and diffusers' operation order, because the pipeline is checked
 * against diffusers' final latents. What several of these files share is said once: {@code
 * ScheduleMath} holds the schedule math diffusers marks {@code # Copied from} or writes again in
 * several files (each method names its diffusers origin and users), {@code BaseScheduler} the step
 * discipline and step-index rules, {@code SigmaSpaceScheduler} what the k-diffusion-style
 * schedulers (Euler, Euler a, LMS, Heun) do alike, and {@code MultistepSolverScheduler} what the
 * multistep solvers (DPM-Solver++, UniPC) do alike.
 *
 * <p>Schedulers are stateful (step index, multistep history) and not thread-safe: make a new one
 * per generation run and close it after.
 */
package sdbatch.pipeline.schedulers;
