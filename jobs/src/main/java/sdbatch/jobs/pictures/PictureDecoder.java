package sdbatch.jobs.pictures;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import sdbatch.pipeline.image.RgbImage;

/**
 * A picture file's bytes to the 8-bit RGB picture diffusers works on: what {@code
 * PIL.Image.open(f).convert("RGB")} gives (diffusers' {@code load_image} ends with that
 * conversion). PNG and JPEG, decoded by the JDK's ImageIO and converted by Pillow's rules, not by
 * ImageIO's colour management:
 *
 * <ul>
 *   <li>8-bit RGB and grayscale as stored (gray replicated into R, G and B); an embedded ICC
 *       profile or gamma is ignored, as Pillow's {@code convert} ignores it;
 *   <li>alpha dropped, not composited (RGBA, gray + alpha, a palette with transparency);
 *   <li>palette pictures through their palette; 1-, 2- and 4-bit gray scaled to 0..255;
 *   <li>16-bit RGB(A) and gray + alpha: the high byte of each sample (Pillow unpacks them so);
 *       16-bit gray without alpha: clipped at 255 (Pillow opens it as mode {@code I;16}, whose
 *       conversion to RGB clips, so most 16-bit gray pictures come out white, as in diffusers).
 * </ul>
 *
 * An EXIF orientation (JPEG {@code APP1}, PNG {@code eXIf}) is applied first, as {@code
 * load_image}'s {@code exif_transpose} does ({@link ExifOrientation}).
 *
 * <p>A file that is not PNG or JPEG (WebP included: no ImageIO plugin for it is available to this
 * build), a truncated or corrupt one (the JPEG decoder's "premature end" warnings count: Pillow
 * refuses such files too), one over the pixel limit (checked from the header, before any pixel is
 * decoded) or in another colour space (CMYK JPEG) is a {@link PictureProblem} naming the reason.
 * The JDK's JPEG decoder is libjpeg 6b's integer IDCT with fancy upsampling, Pillow's default too;
 * a libjpeg-turbo build may still differ from it by a level in places.
 */
public final class PictureDecoder {
    private PictureDecoder() {}

    /**
     * The picture in {@code bytes}.
     *
     * @param bytes the file's bytes
     * @param maxPixels the largest width × height accepted
     * @throws PictureProblem with the reason (without the file's name: the caller adds it)
     */
    public static RgbImage decode(byte[] bytes, long maxPixels) throws PictureProblem {
        try (ImageInputStream in =
                ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            ImageReader reader = reader(in, bytes);
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if ((long) w * h > maxPixels) {
                    throw new PictureProblem(
                            "is "
                                    + w
                                    + "x"
                                    + h
                                    + " = "
                                    + (long) w * h
                                    + " pixels, more than the limit of "
                                    + maxPixels
                                    + " (--max-input-pixels)");
                }
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new PictureProblem(
                            "is truncated or corrupt: " + String.join("; ", warnings));
                }
                return ExifOrientation.apply(toRgb(image), ExifOrientation.of(bytes));
            } finally {
                reader.dispose();
            }
        } catch (PictureProblem e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // ImageIO reports a cut-off or damaged stream as IIOException (EOF, bad CRC, bad
            // Huffman code) and some damage as runtime exceptions from inside the decoder.
            throw new PictureProblem(
                    "cannot be decoded (truncated or corrupt): "
                            + e.getClass().getSimpleName()
                            + (e.getMessage() == null ? "" : ": " + e.getMessage()),
                    e);
        }
    }

    /** The ImageIO reader for a PNG or JPEG stream; anything else is a problem. */
    private static ImageReader reader(ImageInputStream in, byte[] bytes) throws PictureProblem {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        while (readers.hasNext()) {
            ImageReader r = readers.next();
            String format;
            try {
                format = r.getFormatName().toLowerCase(Locale.ROOT);
            } catch (IOException e) {
                continue;
            }
            if (format.equals("png") || format.equals("jpeg")) {
                return r;
            }
        }
        if (bytes.length >= 12
                && new String(bytes, 0, 4, StandardCharsets.ISO_8859_1).equals("RIFF")
                && new String(bytes, 8, 4, StandardCharsets.ISO_8859_1).equals("WEBP")) {
            throw new PictureProblem(
                    "is a WebP picture, which sdbatch does not read (PNG and JPEG only)");
        }
        throw new PictureProblem(
                bytes.length == 0
                        ? "is empty"
                        : "is not a PNG or JPEG picture (sdbatch reads PNG and JPEG)");
    }

    /** Pillow's {@code convert("RGB")} of the decoded picture (see the class comment). */
    static RgbImage toRgb(BufferedImage image) throws PictureProblem {
        int w = image.getWidth();
        int h = image.getHeight();
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        byte[] rgb = new byte[w * h * 3];
        int bands = raster.getNumBands();
        int[] row = new int[w * bands];
        if (cm instanceof IndexColorModel icm) {
            for (int y = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int i = row[x * bands];
                    int o = (y * w + x) * 3;
                    rgb[o] = (byte) icm.getRed(i);
                    rgb[o + 1] = (byte) icm.getGreen(i);
                    rgb[o + 2] = (byte) icm.getBlue(i);
                }
            }
            return new RgbImage(w, h, rgb);
        }
        int colorType = cm.getColorSpace().getType();
        int components = cm.getNumColorComponents();
        boolean gray = colorType == ColorSpace.TYPE_GRAY && components == 1;
        if (!gray && !(colorType == ColorSpace.TYPE_RGB && components == 3)) {
            throw new PictureProblem(
                    "has a colour space sdbatch does not convert (type "
                            + colorType
                            + ", "
                            + components
                            + " components; RGB and grayscale only)");
        }
        int bits = cm.getComponentSize(0);
        // Pillow: 16-bit gray alone is mode I;16 (clipped); with alpha it is LA (high byte).
        boolean clip16 = gray && bits == 16 && !cm.hasAlpha();
        int max = (1 << bits) - 1;
        for (int y = 0; y < h; y++) {
            raster.getPixels(0, y, w, 1, row);
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) {
                    int v = row[x * bands + (gray ? 0 : c)];
                    int level;
                    if (bits == 8) {
                        level = v;
                    } else if (clip16) {
                        level = Math.min(v, 255);
                    } else if (bits == 16) {
                        level = v >> 8;
                    } else {
                        level = v * 255 / max;
                    }
                    rgb[o + c] = (byte) level;
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /**
     * Whether {@code mask} has nothing to repaint: no pixel whose gray level (Pillow's {@code
     * convert("L")}: ITU-R 601-2 luma, rounded as Pillow rounds it) reaches 128, the level
     * diffusers' mask processor binarizes to 1 ({@code >= 0.5} after dividing by 255).
     */
    public static boolean isAllBlack(RgbImage mask) {
        byte[] p = mask.rgb();
        for (int i = 0; i < p.length; i += 3) {
            int r = p[i] & 0xFF;
            int g = p[i + 1] & 0xFF;
            int b = p[i + 2] & 0xFF;
            if ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16 >= 128) {
                return false;
            }
        }
        return true;
    }
}
