/**
 * Input pictures of img2img and inpainting rows: {@link sdbatch.jobs.pictures.PictureFiles}
 * resolves a row's locations against the prompt table's folder and reads them through Hadoop file
 * systems on the executors, with the job's storage retries; {@link
 * sdbatch.jobs.pictures.PictureDecoder} turns PNG and JPEG bytes into the RGB picture Pillow's
 * {@code convert("RGB")} gives; {@link sdbatch.jobs.pictures.PictureProblem} is why a picture
 * cannot be used, naming the file and the reason.
 */
package sdbatch.jobs.pictures;
