package sdbatch.jobs.pictures;

import java.nio.charset.StandardCharsets;
import sdbatch.pipeline.image.RgbImage;

/**
 * The EXIF orientation of a JPEG ({@code APP1 Exif}) or PNG ({@code eXIf} chunk) file, applied as
 * Pillow's {@code ImageOps.exif_transpose} applies it: diffusers' {@code load_image} transposes
 * every picture it loads that way before converting it to RGB, so a camera JPEG marked "rotate 90°"
 * is used upright. Orientation 1 or none leaves the picture as stored; a malformed EXIF block is
 * ignored, as Pillow ignores what it cannot parse.
 */
final class ExifOrientation {
    private ExifOrientation() {}

    private static final int ORIENTATION_TAG = 0x0112;

    /** The orientation (1..8) the file's EXIF names, or 1 when it names none. */
    static int of(byte[] file) {
        int tiff = tiffStart(file);
        return tiff < 0 ? 1 : orientation(file, tiff);
    }

    /** {@code image} turned upright for {@code orientation} (Pillow's transpose per value). */
    static RgbImage apply(RgbImage image, int orientation) {
        if (orientation < 2 || orientation > 8) {
            return image;
        }
        int w = image.width();
        int h = image.height();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        byte[] in = image.rgb();
        byte[] out = new byte[in.length];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { // FLIP_LEFT_RIGHT
                        sx = w - 1 - x;
                        sy = y;
                    }
                    case 3 -> { // ROTATE_180
                        sx = w - 1 - x;
                        sy = h - 1 - y;
                    }
                    case 4 -> { // FLIP_TOP_BOTTOM
                        sx = x;
                        sy = h - 1 - y;
                    }
                    case 5 -> { // TRANSPOSE
                        sx = y;
                        sy = x;
                    }
                    case 6 -> { // ROTATE_270 (clockwise quarter turn)
                        sx = y;
                        sy = h - 1 - x;
                    }
                    case 7 -> { // TRANSVERSE
                        sx = w - 1 - y;
                        sy = h - 1 - x;
                    }
                    default -> { // 8: ROTATE_90 (counter-clockwise quarter turn)
                        sx = w - 1 - y;
                        sy = x;
                    }
                }
                System.arraycopy(in, (sy * w + sx) * 3, out, (y * ow + x) * 3, 3);
            }
        }
        return new RgbImage(ow, oh, out);
    }

    /** Where the TIFF header of the file's EXIF block starts, or -1. */
    private static int tiffStart(byte[] f) {
        if (f.length > 4 && (f[0] & 0xFF) == 0xFF && (f[1] & 0xFF) == 0xD8) {
            int p = 2;
            while (p + 4 <= f.length && (f[p] & 0xFF) == 0xFF) {
                int marker = f[p + 1] & 0xFF;
                if (marker == 0xDA || marker == 0xD9) {
                    return -1; // image data starts: no EXIF before it
                }
                int len = u16(f, p + 2, true);
                if (marker == 0xE1 && len >= 8 && p + 2 + len <= f.length && isExif(f, p + 4)) {
                    return p + 10;
                }
                p += 2 + len;
            }
            return -1;
        }
        if (f.length > 8 && (f[0] & 0xFF) == 0x89 && f[1] == 'P' && f[2] == 'N' && f[3] == 'G') {
            int p = 8;
            while (p + 12 <= f.length) {
                long len = u32(f, p, true);
                String type = new String(f, p + 4, 4, StandardCharsets.ISO_8859_1);
                if (len < 0 || p + 12 + len > f.length) {
                    return -1;
                }
                if (type.equals("eXIf")) {
                    int data = p + 8;
                    // Some writers keep the JPEG-style "Exif\0\0" prefix; Pillow accepts both.
                    return isExif(f, data) ? data + 6 : data;
                }
                if (type.equals("IEND")) {
                    return -1;
                }
                p += 12 + (int) len;
            }
        }
        return -1;
    }

    private static boolean isExif(byte[] f, int p) {
        return p + 6 <= f.length
                && new String(f, p, 4, StandardCharsets.ISO_8859_1).equals("Exif")
                && f[p + 4] == 0
                && f[p + 5] == 0;
    }

    /** The orientation tag of IFD0 of the TIFF block at {@code t}, or 1. */
    private static int orientation(byte[] f, int t) {
        if (t + 8 > f.length) {
            return 1;
        }
        boolean big;
        if (f[t] == 'M' && f[t + 1] == 'M') {
            big = true;
        } else if (f[t] == 'I' && f[t + 1] == 'I') {
            big = false;
        } else {
            return 1;
        }
        long ifd = u32(f, t + 4, big);
        if (ifd < 8 || t + ifd + 2 > f.length) {
            return 1;
        }
        int p = (int) (t + ifd);
        int entries = u16(f, p, big);
        for (int i = 0; i < entries; i++) {
            int e = p + 2 + 12 * i;
            if (e + 12 > f.length) {
                return 1;
            }
            if (u16(f, e, big) == ORIENTATION_TAG && u16(f, e + 2, big) == 3) {
                int v = u16(f, e + 8, big);
                return v >= 1 && v <= 8 ? v : 1;
            }
        }
        return 1;
    }

    private static int u16(byte[] f, int p, boolean big) {
        int a = f[p] & 0xFF;
        int b = f[p + 1] & 0xFF;
        return big ? (a << 8) | b : (b << 8) | a;
    }

    private static long u32(byte[] f, int p, boolean big) {
        long v = 0;
        for (int i = 0; i < 4; i++) {
            int b = f[big ? p + i : p + 3 - i] & 0xFF;
            v = (v << 8) | b;
        }
        return v;
    }
}
