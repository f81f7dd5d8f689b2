//! What an image says besides its picture, taken out before it leaves the device.
//!
//! A phone's photo carries where it was taken (EXIF GPS), when, with which phone (its
//! model and serial number), and often a thumbnail of the uncropped picture, a motion
//! clip after its end, or the editor's history (XMP). For the people this app serves,
//! a photo's GPS tags are how they are found. So every image uploaded is rewritten
//! here first, unless the person chooses to keep its metadata, and only what draws the
//! picture is kept:
//!
//! - **JPEG**: the segments a decoder reads (frames, tables, scans, restarts, the
//!   hierarchical markers); a JFIF header without its thumbnail; Adobe's 12 bytes (its
//!   colour transform flag); and, when the photo is turned by its EXIF orientation, a
//!   new EXIF block holding that one tag (so it still shows upright). Every other
//!   `APPn` segment (EXIF, XMP, ICC profiles, IPTC, maker notes, multi-picture data),
//!   every comment, every reserved marker, and anything after the end of the image
//!   (motion clips, vendor trailers) goes.
//! - **PNG**: the chunks that draw the picture (header, palette, data, transparency,
//!   gamma, chromaticities, sRGB, significant bits, background, pixel size, animation);
//!   text, EXIF, time, ICC profiles and any other chunk go, and anything after the end.
//! - **WebP**: the image, alpha and animation chunks, and inside each frame only its
//!   image and alpha; EXIF, XMP, ICC profiles and unknown chunks go, and the extended
//!   header's flags say so.
//! - **GIF**: the images, their timing and transparency, and the looping block written
//!   anew with its count alone; comments, plain text, other application blocks (XMP)
//!   and anything unknown go.
//!
//! Images of other kinds (HEIF/HEIC and AVIF, TIFF, BigTIFF and camera raw files, JPEG
//! XL, Photoshop) are not rewritten, and a damaged image of a kind above cannot be
//! trusted to be clean: both are refused with [`InvalidInput::ImageMetadata`] unless
//! the person keeps metadata. Only images are rewritten: a document's own metadata (a
//! PDF's author) and a **video's** (phones record where it was filmed) stay, as the
//! file is.
//!
//! What stays may still say something: a JPEG's quantisation and Huffman tables are
//! kept as they are (changing them means encoding the picture again), and they can
//! hint at the camera's make. Dropping a wide-gamut photo's ICC profile (an iPhone's
//! Display P3) shows its colours slightly duller, the pixels unchanged.
//!
//! Everything here is sans-IO: bytes in, bytes out, every offset checked.

use std::borrow::Cow;

use crate::error::{CoreError, InvalidInput, Result};

/// How many bytes [`sniff`] needs to tell an image's kind.
pub const SNIFF_LEN: usize = 16;

/// The largest image rewritten (it is held in memory whole): larger ones are refused
/// unless their metadata is kept.
pub const MAX_IMAGE_LEN: u64 = 64 * 1024 * 1024;

/// Whether an upload's metadata goes or stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Metadata {
    /// Take out everything but the picture (the default).
    #[default]
    Strip,
    /// Upload the file as it is, metadata and all (the person chose to).
    Keep,
}

/// An image's kind, as far as its first bytes tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (JFIF, EXIF).
    Jpeg,
    /// PNG (and APNG).
    Png,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
    /// HEIF, HEIC or AVIF (not rewritten).
    Heif,
    /// TIFF, BigTIFF, and the camera raw files built on them (not rewritten).
    Tiff,
    /// JPEG XL in its container (not rewritten).
    JpegXl,
    /// Photoshop (not rewritten).
    Psd,
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WebP",
            Self::Gif => "GIF",
            Self::Heif => "HEIF",
            Self::Tiff => "TIFF",
            Self::JpegXl => "JPEG XL",
            Self::Psd => "PSD",
        })
    }
}

/// Why an image's metadata could not be taken out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StripRefusal {
    /// Images of this kind are not rewritten.
    Unsupported,
    /// The image is damaged or cut short where its metadata would be.
    Malformed,
    /// The image is larger than [`MAX_IMAGE_LEN`].
    TooLarge,
}

impl std::fmt::Display for StripRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unsupported => "images of this kind are not rewritten",
            Self::Malformed => "the image is damaged",
            Self::TooLarge => "the image is too large",
        })
    }
}

/// The kind of image `prefix` (a file's first [`SNIFF_LEN`] bytes, or all of a
/// shorter file) begins, if any.
pub fn sniff(prefix: &[u8]) -> Option<ImageFormat> {
    if prefix.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if prefix.starts_with(PNG_SIGNATURE) {
        Some(ImageFormat::Png)
    } else if prefix.len() >= 12 && &prefix[..4] == b"RIFF" && &prefix[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else if prefix.starts_with(b"GIF87a") || prefix.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if TIFF_LIKE.iter().any(|magic| prefix.starts_with(magic)) {
        Some(ImageFormat::Tiff)
    } else if prefix.starts_with(b"\0\0\0\x0cJXL ") {
        // The container: its boxes may hold EXIF and XMP. A bare codestream (FF 0A)
        // has nowhere to put them, and two bytes would mistake one file in 65 536
        // for an image.
        Some(ImageFormat::JpegXl)
    } else if prefix.starts_with(b"8BPS") {
        Some(ImageFormat::Psd)
    } else if prefix.len() >= 12 && &prefix[4..8] == b"ftyp" && is_heif_brand(&prefix[8..12]) {
        Some(ImageFormat::Heif)
    } else {
        None
    }
}

/// TIFF (both byte orders), BigTIFF, and raw files on TIFF with their own magic
/// (Olympus ORF, Panasonic RW2).
const TIFF_LIKE: [&[u8]; 7] = [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+", b"IIRO", b"IIRS", b"IIU\0"];

/// The major brands of still images in an ISO base media file (HEIF, HEIC, AVIF,
/// Canon's CR3). Other brands are videos and the like, which are not images here.
fn is_heif_brand(brand: &[u8]) -> bool {
    const BRANDS: [&[u8; 4]; 14] = [
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"mif2", b"msf1", b"MiHE", b"MiHB", b"avif",
        b"avis", b"crx ",
    ];
    BRANDS.iter().any(|b| b.as_slice() == brand)
}

/// `file` without its metadata, when it is an image; unchanged (borrowed) when it is
/// not one.
///
/// # Errors
/// [`InvalidInput::ImageMetadata`] for an image whose metadata cannot be taken out: of
/// a kind not rewritten, damaged, or larger than [`MAX_IMAGE_LEN`].
pub fn strip_metadata(file: &[u8]) -> Result<Cow<'_, [u8]>> {
    let Some(format) = sniff(&file[..file.len().min(SNIFF_LEN)]) else {
        return Ok(Cow::Borrowed(file));
    };
    let refuse = |reason| CoreError::Invalid(InvalidInput::ImageMetadata { format, reason });
    if file.len() as u64 > MAX_IMAGE_LEN {
        return Err(refuse(StripRefusal::TooLarge));
    }
    // Written into a buffer that never grows (nothing rewritten is longer than what
    // it came from) and is wiped if the image is refused halfway: no copy of the
    // picture is left behind in freed memory.
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(file.len() + 64));
    let written = match format {
        ImageFormat::Jpeg => strip_jpeg(file, &mut out),
        ImageFormat::Png => strip_png(file, &mut out),
        ImageFormat::Webp => strip_webp(file, &mut out),
        ImageFormat::Gif => strip_gif(file, &mut out),
        ImageFormat::Heif | ImageFormat::Tiff | ImageFormat::JpegXl | ImageFormat::Psd => {
            return Err(refuse(StripRefusal::Unsupported));
        }
    };
    written.map(|()| Cow::Owned(std::mem::take(&mut *out))).ok_or_else(|| refuse(StripRefusal::Malformed))
}

/// The longest side of a preview, in pixels.
pub const PREVIEW_SIDE: u32 = 160;

/// The most bytes a preview has (a small JPEG; a photo's is about 3 KiB).
pub const MAX_PREVIEW_LEN: usize = 16 * 1024;

/// The most pixels a side of an image decoded for its preview has; larger images get
/// no preview.
pub const MAX_PREVIEW_SOURCE_SIDE: u32 = 12_000;

/// The most memory the decoded picture may take (a 48-megapixel photo takes 144 MiB;
/// larger pictures get no preview).
const MAX_PREVIEW_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// A preview of `image` (a JPEG, PNG, WebP or GIF, already without its metadata):
/// turned upright by its orientation, shrunk (never enlarged) to at most [`PREVIEW_SIDE`] pixels a side,
/// and encoded as a baseline JPEG without any metadata, at most [`MAX_PREVIEW_LEN`]
/// bytes. `None` for anything else, an image that does not decode within bounds, or
/// one whose preview would be too large.
pub fn make_preview(image: &[u8]) -> Option<Vec<u8>> {
    use image::ImageDecoder as _;
    let format = match sniff(&image[..image.len().min(SNIFF_LEN)])? {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Gif => image::ImageFormat::Gif,
        _ => return None,
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_PREVIEW_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_PREVIEW_SOURCE_SIDE);
    limits.max_alloc = Some(MAX_PREVIEW_DECODE_BYTES);
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(image), format);
    reader.limits(limits);
    // A decoder that panics on a strange image costs the preview, not the upload.
    let small = std::panic::catch_unwind(move || {
        let mut decoder = reader.into_decoder().ok()?;
        // `from_decoder` does not check the total against `max_alloc`: checked here.
        if decoder.total_bytes() > MAX_PREVIEW_DECODE_BYTES {
            return None;
        }
        let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
        let picture = image::DynamicImage::from_decoder(decoder).ok()?;
        // Shrunk (never enlarged), then turned: the turn copies only the small one.
        let mut small = if picture.width().max(picture.height()) > PREVIEW_SIDE {
            picture.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE)
        } else {
            picture
        };
        small.apply_orientation(orientation);
        Some(small.to_rgb8())
    })
    .ok()??;
    // Smaller and smaller until it fits (a noisy picture compresses badly).
    for quality in [60u8, 40, 25] {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&small).ok()?;
        if out.len() <= MAX_PREVIEW_LEN {
            return Some(out);
        }
    }
    None
}

/// Whether `jpeg` is a preview as [`make_preview`] makes them: a baseline JPEG (one
/// 8-bit frame of 1 or 3 components, one scan), at most [`PREVIEW_SIDE`] pixels a side,
/// holding nothing but a bare JFIF header besides its picture. What receivers take: a
/// member's device hands a preview to an image decoder without anyone asking, so it
/// must be small and plain.
pub fn is_plain_preview(jpeg: &[u8]) -> bool {
    let Ok(Cow::Owned(clean)) = strip_metadata(jpeg) else { return false };
    if clean != jpeg {
        return false;
    }
    let side = 1..=u16::try_from(PREVIEW_SIDE).unwrap_or(u16::MAX);
    let (mut frames, mut scans, mut at) = (0, 0, 2);
    while let (Some(&0xFF), Some(&marker)) = (jpeg.get(at), jpeg.get(at + 1)) {
        at += 2;
        match marker {
            EOI => return frames == 1 && scans == 1,
            0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(length) = u16_be(jpeg, at).map(usize::from) else { return false };
        let Some(body) = take(jpeg, at + 2, length.saturating_sub(2)) else { return false };
        match marker {
            0xC0 => {
                // precision, height, width, components
                let plain = body.len() >= 6
                    && body[0] == 8
                    && side.contains(&u16::from_be_bytes([body[1], body[2]]))
                    && side.contains(&u16::from_be_bytes([body[3], body[4]]))
                    && matches!(body[5], 1 | 3);
                if !plain {
                    return false;
                }
                frames += 1;
            }
            // Any other frame kind (progressive, lossless, arithmetic), or an EXIF block.
            0xC1..=0xC3 | 0xC5..=0xCB | 0xCD..=0xCF | APP1..=0xEF => return false,
            _ => {}
        }
        at += length;
        if marker == SOS {
            scans += 1;
            let Some(end) = scan_end(jpeg, at) else { return false };
            at = end;
        }
    }
    false
}

/// Reads `n` bytes at `at`, or `None` past the end.
fn take(bytes: &[u8], at: usize, n: usize) -> Option<&[u8]> {
    bytes.get(at..at.checked_add(n)?)
}

fn u16_be(bytes: &[u8], at: usize) -> Option<u16> {
    take(bytes, at, 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    take(bytes, at, 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    take(bytes, at, 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

// ---------------------------------------------------------------------------------
// JPEG

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP14: u8 = 0xEE;

fn strip_jpeg(jpeg: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.extend_from_slice(&[0xFF, SOI]);
    let mut at = 2;
    let mut orientation_written = false;
    loop {
        // A marker: 0xFF, any fill bytes 0xFF, then its code.
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        while *jpeg.get(at)? == 0xFF {
            at += 1;
        }
        let marker = jpeg[at];
        at += 1;
        match marker {
            EOI => {
                // Whatever follows the image (a motion clip, a vendor's trailer) goes.
                out.extend_from_slice(&[0xFF, EOI]);
                return Some(());
            }
            0x01 | 0xD0..=0xD7 => out.extend_from_slice(&[0xFF, marker]),
            SOI | 0x00 => return None,
            _ => {
                let length = usize::from(u16_be(jpeg, at)?);
                let segment = take(jpeg, at, length)?;
                if length < 2 {
                    return None;
                }
                let body = &segment[2..];
                match marker {
                    APP0 if is_bare_jfif(body) => push_segment(out, marker, body)?,
                    // Adobe's 12 bytes (version, flags, colour transform), and no more.
                    APP14 if body.len() >= 12 && body.starts_with(b"Adobe") => push_segment(out, marker, &body[..12])?,
                    APP1 if !orientation_written => {
                        if let Some(orientation) = exif_orientation(body) {
                            push_segment(out, APP1, &orientation_exif(orientation))?;
                            orientation_written = true;
                        }
                    }
                    // What a decoder reads: frames, tables, scans, restarts,
                    // hierarchical markers. Anything else (application data,
                    // comments, reserved markers) is skipped by decoders, so it could
                    // carry anything: it goes.
                    0xC0..=0xCF | SOS | 0xDB..=0xDF => out.extend_from_slice(&jpeg[at - 2..at + length]),
                    _ => {}
                }
                at += length;
                if marker == SOS {
                    let start = at;
                    at = scan_end(jpeg, at)?;
                    out.extend_from_slice(&jpeg[start..at]);
                }
            }
        }
    }
}

/// Where the entropy-coded scan starting at `at` ends: at the next marker that is
/// neither a stuffed zero, a restart nor a fill byte (`None`: the file ends first).
fn scan_end(jpeg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let byte = *jpeg.get(at)?;
        let next = *jpeg.get(at + 1)?;
        if byte == 0xFF && next != 0x00 && !(0xD0..=0xD7).contains(&next) && next != 0xFF {
            return Some(at);
        }
        at += if byte == 0xFF && next != 0xFF { 2 } else { 1 };
    }
}

fn push_segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) -> Option<()> {
    let length = u16::try_from(body.len() + 2).ok()?;
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(body);
    Some(())
}

/// A JFIF header that carries no thumbnail (its thumbnail's size is 0 × 0).
fn is_bare_jfif(body: &[u8]) -> bool {
    body.len() == 14 && body.starts_with(b"JFIF\0") && body[12] == 0 && body[13] == 0
}

/// The EXIF orientation (2 to 8) of an `APP1` EXIF body, when it turns the picture.
fn exif_orientation(body: &[u8]) -> Option<u16> {
    let tiff = body.strip_prefix(b"Exif\0\0")?;
    let big_endian = match take(tiff, 0, 4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        take(tiff, at, 2)
            .map(|b| if big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) })
    };
    let ifd = usize::try_from(if big_endian { u32_be(tiff, 4)? } else { u32_le(tiff, 4)? }).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|i| {
        let entry = ifd.checked_add(2 + 12 * i)?;
        // Tag 0x0112, type SHORT, count 1: the value sits in the entry's first bytes.
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|o| (2..=8).contains(o))
    })
}

/// An EXIF body holding only `orientation`.
fn orientation_exif(orientation: u16) -> Vec<u8> {
    let mut body = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    body.extend_from_slice(&1u16.to_be_bytes());
    body.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    body.extend_from_slice(&orientation.to_be_bytes());
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    body
}

// ---------------------------------------------------------------------------------
// PNG

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The chunks kept: they draw the picture. Anything else (text, EXIF, time, ICC
/// profiles, private chunks) goes.
const PNG_KEPT: [&[u8; 4]; 13] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL",
];

fn strip_png(png: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.extend_from_slice(PNG_SIGNATURE);
    let mut at = PNG_SIGNATURE.len();
    loop {
        let length = usize::try_from(u32_be(png, at)?).ok()?;
        let kind = take(png, at + 4, 4)?;
        // length, type, data, CRC
        let chunk = take(png, at, length.checked_add(12)?)?;
        if PNG_KEPT.iter().any(|k| k.as_slice() == kind) || kind == b"fdAT" {
            out.extend_from_slice(chunk);
        }
        at += chunk.len();
        if kind == b"IEND" {
            return Some(());
        }
    }
}

// ---------------------------------------------------------------------------------
// WebP

const WEBP_KEPT: [&[u8; 4]; 6] = [b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"];
/// What a frame (`ANMF`) keeps inside.
const WEBP_FRAME_KEPT: [&[u8; 4]; 3] = [b"VP8 ", b"VP8L", b"ALPH"];
/// VP8X flags: ICC profile, EXIF, XMP.
const VP8X_METADATA_FLAGS: u8 = 0x20 | 0x08 | 0x04;

fn strip_webp(webp: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let riff_len = usize::try_from(u32_le(webp, 4)?).ok()?;
    let end = riff_len.checked_add(8)?;
    let body = webp.get(12..end)?;
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    webp_chunks(body, out, &WEBP_KEPT)?;
    let riff = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Some(())
}

/// Copies the chunks of `body` whose kind is in `kept`: a frame (`ANMF`) with only
/// the frame's own chunks inside (a frame may hold unknown chunks, which could carry
/// anything).
fn webp_chunks(body: &[u8], out: &mut Vec<u8>, kept: &[&[u8; 4]]) -> Option<()> {
    const FRAME_HEADER: usize = 16;
    let mut at = 0;
    while at < body.len() {
        let kind = take(body, at, 4)?;
        let length = usize::try_from(u32_le(body, at + 4)?).ok()?;
        let padded = length.checked_add(length & 1)?;
        let chunk = take(body, at, padded.checked_add(8)?)?;
        if kept.iter().any(|k| k.as_slice() == kind) {
            let start = out.len();
            if kind == b"ANMF" {
                out.extend_from_slice(take(chunk, 0, 8 + FRAME_HEADER)?);
                webp_chunks(chunk.get(8 + FRAME_HEADER..8 + length)?, out, &WEBP_FRAME_KEPT)?;
                let frame = u32::try_from(out.len() - start - 8).ok()?;
                out[start + 4..start + 8].copy_from_slice(&frame.to_le_bytes());
            } else {
                out.extend_from_slice(chunk);
            }
            if kind == b"VP8X" {
                *out.get_mut(start + 8)? &= !VP8X_METADATA_FLAGS;
            }
        }
        at += chunk.len();
    }
    Some(())
}

// ---------------------------------------------------------------------------------
// GIF

fn strip_gif(gif: &[u8], out: &mut Vec<u8>) -> Option<()> {
    // Header (6) and logical screen descriptor (7), then the global colour table.
    let flags = *gif.get(10)?;
    let mut at = 13 + colour_table_len(flags);
    out.extend_from_slice(take(gif, 0, at)?);
    loop {
        match *gif.get(at)? {
            0x3B => {
                out.push(0x3B);
                return Some(());
            }
            0x2C => {
                // Image descriptor (10), local colour table, LZW code size, data.
                let flags = *gif.get(at + 9)?;
                let start = at;
                at = sub_blocks_end(gif, at + 10 + colour_table_len(flags) + 1)?;
                out.extend_from_slice(&gif[start..at]);
            }
            0x21 => {
                let label = *gif.get(at + 1)?;
                let start = at;
                let end = sub_blocks_end(gif, at + 2)?;
                match label {
                    // Graphic control: timing and transparency, one block of 4 bytes.
                    0xF9 if gif.get(at + 2) == Some(&4) && end == at + 8 => out.extend_from_slice(&gif[start..end]),
                    // The looping block, written anew with its count alone (anything
                    // after it in the block could carry anything).
                    0xFF if take(gif, at + 2, 16).is_some_and(|b| {
                        b[0] == 11
                            && (&b[1..12] == b"NETSCAPE2.0" || &b[1..12] == b"ANIMEXTS1.0")
                            && b[12] == 3
                            && b[13] == 1
                    }) =>
                    {
                        // 0x21 0xFF 11 "NETSCAPE2.0" 3 1, the count (2 bytes), 0.
                        out.extend_from_slice(take(gif, start, 18)?);
                        out.push(0);
                    }
                    // Comments, plain text (which viewers do not draw), other
                    // application blocks (XMP), anything unknown.
                    _ => {}
                }
                at = end;
            }
            _ => return None,
        }
    }
}

fn colour_table_len(flags: u8) -> usize {
    if flags & 0x80 == 0 { 0 } else { 3 << ((flags & 0x07) + 1) }
}

/// Where a chain of sub-blocks starting at `at` ends (after its empty block).
fn sub_blocks_end(gif: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let size = usize::from(*gif.get(at)?);
        at += 1 + size;
        if size == 0 {
            return Some(at);
        }
        gif.get(at)?;
    }
}

#[cfg(test)]
mod tests;
