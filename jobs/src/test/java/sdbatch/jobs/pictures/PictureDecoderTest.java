package sdbatch.jobs.pictures;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.image.RgbImage;

/**
 * {@link PictureDecoder}: PNG modes converted as Pillow's {@code convert("RGB")} converts them,
 * JPEG decoded, and every bad file a problem naming the reason.
 */
class PictureDecoderTest {
    private static final long LIMIT = 4096L * 4096L;

    @Test
    void rgbPngIsReadAsStored() throws Exception {
        BufferedImage image = TestPictures.rgbPicture(10, 6, 1);
        RgbImage rgb = PictureDecoder.decode(TestPictures.encode(image, "png"), LIMIT);
        assertEquals(10, rgb.width());
        assertEquals(6, rgb.height());
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 10; x++) {
                int p = image.getRGB(x, y);
                assertEquals((p >> 16) & 0xFF, rgb.level(x, y, 0));
                assertEquals((p >> 8) & 0xFF, rgb.level(x, y, 1));
                assertEquals(p & 0xFF, rgb.level(x, y, 2));
            }
        }
    }

    @Test
    void alphaIsDroppedNotComposited() throws Exception {
        BufferedImage image = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        image.setRGB(0, 0, 0x00_C8_64_32); // fully transparent, colour kept
        image.setRGB(1, 0, 0x80_0A_14_1E);
        RgbImage rgb = PictureDecoder.decode(TestPictures.encode(image, "png"), LIMIT);
        assertArrayEquals(
                new byte[] {(byte) 200, 100, 50, 10, 20, 30}, rgb.rgb(), "PIL drops alpha");
    }

    @Test
    void grayAndPaletteAndSixteenBitFollowPillow() throws Exception {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 17);
        gray.getRaster().setSample(1, 0, 0, 240);
        assertArrayEquals(
                new byte[] {17, 17, 17, (byte) 240, (byte) 240, (byte) 240},
                PictureDecoder.decode(TestPictures.encode(gray, "png"), LIMIT).rgb());

        byte[] r = {10, (byte) 200};
        byte[] g = {20, (byte) 150};
        byte[] b = {30, (byte) 100};
        BufferedImage palette =
                new BufferedImage(
                        2, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 2, r, g, b));
        palette.getRaster().setSample(0, 0, 0, 1);
        palette.getRaster().setSample(1, 0, 0, 0);
        assertArrayEquals(
                new byte[] {(byte) 200, (byte) 150, 100, 10, 20, 30},
                PictureDecoder.decode(TestPictures.encode(palette, "png"), LIMIT).rgb());

        // 16-bit gray is Pillow's mode I;16, whose RGB conversion clips at 255.
        BufferedImage gray16 = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        gray16.getRaster().setSample(0, 0, 0, 100);
        gray16.getRaster().setSample(1, 0, 0, 255);
        gray16.getRaster().setSample(2, 0, 0, 1000);
        assertArrayEquals(
                new byte[] {100, 100, 100, (byte) 255, (byte) 255, (byte) 255, -1, -1, -1},
                PictureDecoder.decode(TestPictures.encode(gray16, "png"), LIMIT).rgb());

        // 16-bit RGB: the high byte of each sample.
        ComponentColorModel cm16 =
                new ComponentColorModel(
                        ColorSpace.getInstance(ColorSpace.CS_sRGB),
                        false,
                        false,
                        Transparency.OPAQUE,
                        DataBuffer.TYPE_USHORT);
        WritableRaster raster = cm16.createCompatibleWritableRaster(1, 1);
        raster.setPixel(0, 0, new int[] {0x12FF, 0xAB00, 0x00FF});
        BufferedImage rgb16 = new BufferedImage(cm16, raster, false, null);
        assertArrayEquals(
                new byte[] {0x12, (byte) 0xAB, 0x00},
                PictureDecoder.decode(TestPictures.encode(rgb16, "png"), LIMIT).rgb());
    }

    @Test
    void jpegDecodes() throws Exception {
        BufferedImage flat = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                flat.setRGB(x, y, 0x40_80_C0);
            }
        }
        RgbImage rgb = PictureDecoder.decode(TestPictures.encode(flat, "jpeg"), LIMIT);
        assertEquals(16, rgb.width());
        for (int c = 0; c < 3; c++) {
            assertEquals(0x40 + 0x40 * c, rgb.level(7, 7, c), 2.0, "channel " + c);
        }
    }

    @Test
    void badFilesAreProblemsNamingTheReason() throws Exception {
        byte[] png = TestPictures.encode(TestPictures.rgbPicture(64, 64, 3), "png");
        byte[] jpeg = TestPictures.encode(TestPictures.rgbPicture(64, 64, 3), "jpeg");
        assertProblem(Arrays.copyOf(png, png.length / 2), "truncated or corrupt");
        assertProblem(Arrays.copyOf(jpeg, jpeg.length / 2), "truncated or corrupt");
        assertProblem("just text".getBytes(StandardCharsets.UTF_8), "not a PNG or JPEG");
        assertProblem(new byte[0], "is empty");
        byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);
        assertProblem(webp, "WebP");
        PictureProblem big =
                assertThrows(PictureProblem.class, () -> PictureDecoder.decode(png, 64 * 63));
        assertTrue(big.getMessage().contains("64x64 = 4096 pixels"), big.getMessage());
        assertTrue(big.getMessage().contains("limit of 4032"), big.getMessage());
    }

    private static void assertProblem(byte[] bytes, String reason) {
        PictureProblem e =
                assertThrows(PictureProblem.class, () -> PictureDecoder.decode(bytes, LIMIT));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void aMaskIsAllBlackWhenNoPixelBinarizesToOne() {
        byte[] dark = new byte[4 * 3];
        Arrays.fill(dark, (byte) 127);
        assertTrue(PictureDecoder.isAllBlack(new RgbImage(2, 2, dark)));
        assertTrue(PictureDecoder.isAllBlack(new RgbImage(2, 2, new byte[12])));
        dark[9] = (byte) 128;
        dark[10] = (byte) 128;
        dark[11] = (byte) 128;
        assertFalse(PictureDecoder.isAllBlack(new RgbImage(2, 2, dark)), "one half-gray pixel");
        // Luma, not any channel: pure blue 255 is gray level 29.
        assertTrue(PictureDecoder.isAllBlack(new RgbImage(1, 1, new byte[] {0, 0, -1})));
    }

    /** A TIFF block (big-endian) whose IFD0 holds only an orientation tag. */
    private static byte[] tiffWithOrientation(int orientation) {
        return new byte[] {
            'M',
            'M',
            0,
            42,
            0,
            0,
            0,
            8, // header, IFD0 at 8
            0,
            1, // one entry
            0x01,
            0x12,
            0,
            3,
            0,
            0,
            0,
            1,
            0,
            (byte) orientation,
            0,
            0, // Orientation SHORT
            0,
            0,
            0,
            0 // no next IFD
        };
    }

    /** {@code png} with an {@code eXIf} chunk right after {@code IHDR}. */
    private static byte[] withExifChunk(byte[] png, byte[] tiff) {
        int afterIhdr = 8 + 12 + 13;
        java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(12 + tiff.length);
        chunk.putInt(tiff.length).put("eXIf".getBytes(StandardCharsets.ISO_8859_1)).put(tiff);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(chunk.array(), 4, 4 + tiff.length);
        chunk.putInt((int) crc.getValue());
        byte[] out = new byte[png.length + chunk.capacity()];
        System.arraycopy(png, 0, out, 0, afterIhdr);
        System.arraycopy(chunk.array(), 0, out, afterIhdr, chunk.capacity());
        System.arraycopy(png, afterIhdr, out, afterIhdr + chunk.capacity(), png.length - afterIhdr);
        return out;
    }

    @Test
    void exifOrientationIsAppliedAsPillowsExifTranspose() throws Exception {
        BufferedImage image = TestPictures.rgbPicture(3, 2, 4);
        byte[] png = TestPictures.encode(image, "png");
        RgbImage stored = PictureDecoder.decode(png, LIMIT);
        // 6: Pillow's ROTATE_270, a clockwise quarter turn: out(x, y) = in(y, h - 1 - x).
        RgbImage turned = PictureDecoder.decode(withExifChunk(png, tiffWithOrientation(6)), LIMIT);
        assertEquals(2, turned.width());
        assertEquals(3, turned.height());
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 2; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(stored.level(y, 1 - x, c), turned.level(x, y, c));
                }
            }
        }
        // 8: ROTATE_90, counter-clockwise: out(x, y) = in(w - 1 - y, x).
        RgbImage back = PictureDecoder.decode(withExifChunk(png, tiffWithOrientation(8)), LIMIT);
        assertEquals(stored.level(2, 0, 0), back.level(0, 0, 0));
        assertEquals(stored.level(0, 1, 2), back.level(1, 2, 2));
        // 1 is upright; a JPEG's APP1 Exif block is read too.
        assertEquals(
                stored, PictureDecoder.decode(withExifChunk(png, tiffWithOrientation(1)), LIMIT));
        byte[] jpeg = TestPictures.encode(TestPictures.rgbPicture(16, 8, 2), "jpeg");
        byte[] exif = tiffWithOrientation(3);
        java.nio.ByteBuffer app1 = java.nio.ByteBuffer.allocate(4 + 6 + exif.length);
        app1.put((byte) 0xFF).put((byte) 0xE1).putShort((short) (2 + 6 + exif.length));
        app1.put("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1)).put(exif);
        byte[] marked = new byte[jpeg.length + app1.capacity()];
        System.arraycopy(jpeg, 0, marked, 0, 2);
        System.arraycopy(app1.array(), 0, marked, 2, app1.capacity());
        System.arraycopy(jpeg, 2, marked, 2 + app1.capacity(), jpeg.length - 2);
        RgbImage upright = PictureDecoder.decode(jpeg, LIMIT);
        RgbImage rotated = PictureDecoder.decode(marked, LIMIT);
        assertEquals(upright.level(0, 0, 1), rotated.level(15, 7, 1), "ROTATE_180");
        assertEquals(upright.level(3, 5, 0), rotated.level(12, 2, 0), "ROTATE_180");
    }
}
