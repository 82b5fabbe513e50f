package sdbatch.jobs.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * {@code sdbatch make-tiny-model --output DIR [--variant
 * sd1|sd2v|sd15-shaped|sdxl|sdxl-shaped|sd3|sd3-medium-shaped] [--seed N]}: writes a complete
 * diffusers-layout model folder with random weights ({@link TinyModels}). Its images are noise; it
 * exists to test the plumbing (and the {@code -shaped} variants, several GB each, to measure the
 * real SD 1.5, SDXL and SD3-medium shapes).
 */
public final class MakeTinyModelCommand implements Cli.Command {
    @Override
    public ExitCode run(JobOptions options, PrintStream out, PrintStream err) {
        TinyModels.Variant variant =
                TinyModels.Variant.valueOf(
                        options.variant().replace('-', '_').toUpperCase(Locale.ROOT));
        Path dir = Path.of(options.output());
        try {
            TinyModels.write(dir, variant, options.seed());
        } catch (IOException | RuntimeException e) {
            throw new StartupException(
                    "cannot write a tiny model to " + dir + ": " + e.getMessage(), e);
        }
        out.printf(
                "wrote a %s tiny model (seed %d, random weights: it draws noise) to %s%n",
                options.variant(), options.seed(), dir.toAbsolutePath());
        return ExitCode.OK;
    }
}
