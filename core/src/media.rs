//! What an image says besides its picture, taken out before it leaves the device.
//!
//! A phone's photo carries where it was taken (EXIF GPS), when, with which phone (its
//! model and serial number), and often a thumbnail of the uncropped picture, a motion
//! clip after its end, or the editor's history (XMP). For the people this app serves,
//! a photo's GPS tags are how they are found. So every image uploaded is rewritten
//! here first, unless the person chooses to keep its metadata, and only what draws the
//! picture is kept:
//!
//! - **JPEG**: the segments a decoder needs (tables, frames, scans, restart markers);
//!   a JFIF header without its thumbnail; Adobe's colour transform flag; and, when the
//!   photo is turned by its EXIF orientation, a new EXIF block holding that one tag (so
//!   it still shows upright). Every other `APPn` segment (EXIF, XMP, ICC profiles,
//!   IPTC, maker notes, multi-picture data), every comment, and anything after the end
//!   of the image (motion clips, vendor trailers) goes.
//! - **PNG**: the chunks that draw the picture (header, palette, data, transparency,
//!   gamma, chromaticities, sRGB, significant bits, background, pixel size, animation);
//!   text, EXIF, time, ICC profiles and any other chunk go, and anything after the end.
//! - **WebP**: the image, alpha and animation chunks; EXIF, XMP, ICC profiles and
//!   unknown chunks go, and the extended header's flags say so.
//! - **GIF**: every block that draws the picture and the looping extension; comments
//!   and other application blocks (XMP) go.
//!
//! Images of other kinds (HEIF/HEIC and AVIF, TIFF and camera raw files) are not
//! rewritten, and a damaged image of a kind above cannot be trusted to be clean: both
//! are refused with [`InvalidInput::ImageMetadata`] unless the person keeps metadata.
//! Only images are rewritten: a document's own metadata (a PDF's author, say) stays.
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
    /// TIFF, and the camera raw files built on it (not rewritten).
    Tiff,
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
    } else if prefix.starts_with(b"II*\0") || prefix.starts_with(b"MM\0*") {
        Some(ImageFormat::Tiff)
    } else if prefix.len() >= 12 && &prefix[4..8] == b"ftyp" && is_heif_brand(&prefix[8..12]) {
        Some(ImageFormat::Heif)
    } else {
        None
    }
}

fn is_heif_brand(brand: &[u8]) -> bool {
    const BRANDS: [&[u8; 4]; 10] =
        [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"];
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
    let stripped = match format {
        ImageFormat::Jpeg => strip_jpeg(file),
        ImageFormat::Png => strip_png(file),
        ImageFormat::Webp => strip_webp(file),
        ImageFormat::Gif => strip_gif(file),
        ImageFormat::Heif | ImageFormat::Tiff => return Err(refuse(StripRefusal::Unsupported)),
    };
    stripped.map(Cow::Owned).ok_or_else(|| refuse(StripRefusal::Malformed))
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
const APP15: u8 = 0xEF;
const COM: u8 = 0xFE;

fn strip_jpeg(jpeg: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(jpeg.len());
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
                return Some(out);
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
                    APP0 if is_bare_jfif(body) => push_segment(&mut out, marker, body)?,
                    APP14 if body.starts_with(b"Adobe") => push_segment(&mut out, marker, body)?,
                    APP1 if !orientation_written => {
                        if let Some(orientation) = exif_orientation(body) {
                            push_segment(&mut out, APP1, &orientation_exif(orientation))?;
                            orientation_written = true;
                        }
                    }
                    APP0..=APP15 | COM => {}
                    _ => out.extend_from_slice(&jpeg[at - 2..at + length]),
                }
                at += length;
                if marker == SOS {
                    // The entropy-coded scan runs to the next marker that is neither a
                    // stuffed zero nor a restart.
                    let start = at;
                    loop {
                        let byte = *jpeg.get(at)?;
                        let next = *jpeg.get(at + 1)?;
                        if byte == 0xFF && next != 0x00 && !(0xD0..=0xD7).contains(&next) && next != 0xFF {
                            break;
                        }
                        at += if byte == 0xFF && next != 0xFF { 2 } else { 1 };
                    }
                    out.extend_from_slice(&jpeg[start..at]);
                }
            }
        }
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

fn strip_png(png: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(png.len());
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
            return Some(out);
        }
    }
}

// ---------------------------------------------------------------------------------
// WebP

const WEBP_KEPT: [&[u8; 4]; 6] = [b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"];
/// VP8X flags: ICC profile, EXIF, XMP.
const VP8X_METADATA_FLAGS: u8 = 0x20 | 0x08 | 0x04;

fn strip_webp(webp: &[u8]) -> Option<Vec<u8>> {
    let riff_len = usize::try_from(u32_le(webp, 4)?).ok()?;
    let end = riff_len.checked_add(8)?;
    let body = webp.get(12..end)?;
    let mut out = b"RIFF\0\0\0\0WEBP".to_vec();
    let mut at = 0;
    while at < body.len() {
        let kind = take(body, at, 4)?;
        let length = usize::try_from(u32_le(body, at + 4)?).ok()?;
        let padded = length.checked_add(length & 1)?;
        let chunk = take(body, at, padded.checked_add(8)?)?;
        if WEBP_KEPT.iter().any(|k| k.as_slice() == kind) {
            let start = out.len();
            out.extend_from_slice(chunk);
            if kind == b"VP8X" {
                *out.get_mut(start + 8)? &= !VP8X_METADATA_FLAGS;
            }
        }
        at += chunk.len();
    }
    let riff = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Some(out)
}

// ---------------------------------------------------------------------------------
// GIF

fn strip_gif(gif: &[u8]) -> Option<Vec<u8>> {
    // Header (6) and logical screen descriptor (7), then the global colour table.
    let flags = *gif.get(10)?;
    let mut at = 13 + colour_table_len(flags);
    let mut out = take(gif, 0, at)?.to_vec();
    loop {
        match *gif.get(at)? {
            0x3B => {
                out.push(0x3B);
                return Some(out);
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
                let keep = match label {
                    // Graphic control (timing, transparency) and plain text draw.
                    0xF9 | 0x01 => true,
                    // Application blocks: only the looping one.
                    0xFF => {
                        let id = take(gif, at + 3, 11)?;
                        gif.get(at + 2) == Some(&11) && (id == b"NETSCAPE2.0" || id == b"ANIMEXTS1.0")
                    }
                    // Comments, and anything unknown.
                    _ => false,
                };
                if keep {
                    out.extend_from_slice(&gif[start..end]);
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
