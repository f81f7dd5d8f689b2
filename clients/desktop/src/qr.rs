//! Cards as QR codes, drawn here (the web view fetches nothing): an SVG image as a
//! `data:` URL, which the CSP's `img-src 'self' data:` allows. And the other way: the
//! text of a QR code in an image the person opens (an invitation, a contact card, a
//! space's card), decoded here with the image's size bounded before it is decoded.

use qrcode::QrCode;
use qrcode::render::svg;

/// The QR code of `text` as a `data:image/svg+xml` URL; `None` when the text is too
/// long for a QR code.
pub(crate) fn svg_data_url(text: &str) -> Option<String> {
    svg_data_url_of_bytes(text.as_bytes())
}

/// The QR code of raw bytes (a verification code) as a `data:image/svg+xml` URL.
pub(crate) fn svg_data_url_of_bytes(bytes: &[u8]) -> Option<String> {
    let code = QrCode::with_error_correction_level(bytes, qrcode::EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    Some(format!("data:image/svg+xml;base64,{}", base64(image.as_bytes())))
}

/// The largest image file read for a QR code.
pub(crate) const MAX_QR_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// The largest image, in pixels a side, decoded for a QR code (a phone photo fits).
const MAX_QR_IMAGE_SIDE: u32 = 8_000;
/// The most memory the decoder may take for one image.
const MAX_QR_DECODE_ALLOC: u64 = 256 * 1024 * 1024;

/// Why no text came out of an image.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QrReadError {
    /// Not a PNG, JPEG or GIF this app reads, or one too large to decode.
    #[error("not an image this app reads")]
    NotAnImage,
    /// An image without a readable QR code, or one whose content is not text.
    #[error("no QR code found")]
    NoCode,
}

/// The text of the first QR code found in `bytes` (a PNG, JPEG or GIF file).
pub(crate) fn read_text(bytes: &[u8]) -> Result<String, QrReadError> {
    let raw = read_bytes(bytes)?;
    String::from_utf8(raw).ok().filter(|text| !text.is_empty()).ok_or(QrReadError::NoCode)
}

/// The raw content of the first QR code found in `bytes` (a verification code is
/// bytes, not text).
pub(crate) fn read_bytes(bytes: &[u8]) -> Result<Vec<u8>, QrReadError> {
    if bytes.len() > MAX_QR_IMAGE_BYTES {
        return Err(QrReadError::NotAnImage);
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| QrReadError::NotAnImage)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_QR_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_QR_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_QR_DECODE_ALLOC);
    reader.limits(limits);
    let image = reader.decode().map_err(|_| QrReadError::NotAnImage)?;
    // A code read from a photo needs no more than this; the detector's time grows with
    // the pixels, so a large picture is made smaller first.
    let image = if image.width() > MAX_SCAN_SIDE || image.height() > MAX_SCAN_SIDE {
        image.thumbnail(MAX_SCAN_SIDE, MAX_SCAN_SIDE)
    } else {
        image
    };
    let grey = image.to_luma8();
    // The detector has panicked on some images in the wild: a picture someone sent is
    // then "no code", not a failed command.
    std::panic::catch_unwind(move || {
        let mut prepared = rqrr::PreparedImage::prepare(grey);
        prepared.detect_grids().into_iter().find_map(|grid| {
            let mut content = Vec::new();
            grid.decode_to(&mut content).ok().map(|_| content)
        })
    })
    .ok()
    .flatten()
    .filter(|content| !content.is_empty())
    .ok_or(QrReadError::NoCode)
}

/// The longest side, in pixels, an image is scanned at.
const MAX_SCAN_SIDE: u32 = 2_000;

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{QrReadError, read_text};

    /// A PNG of the QR code of `text`, drawn by the same library that draws the cards.
    fn png_of(text: &str, module_px: u32) -> Vec<u8> {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let image = code.render::<image::Luma<u8>>().module_dimensions(module_px, module_px).build();
        let mut png = Vec::new();
        image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap_or_else(|e| panic!("{e}"));
        png
    }

    #[test]
    fn the_text_of_a_qr_code_comes_back_from_its_image() {
        let invitation = "huisclos-invite:v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1";
        assert_eq!(read_text(&png_of(invitation, 6)), Ok(invitation.to_owned()));
    }

    #[test]
    fn binary_content_comes_back_byte_for_byte() {
        let code: Vec<u8> = (0..65u8).map(|b| b.wrapping_mul(37)).collect();
        let qr = qrcode::QrCode::new(&code).unwrap_or_else(|e| panic!("{e}"));
        let image = qr.render::<image::Luma<u8>>().module_dimensions(6, 6).build();
        let mut png = Vec::new();
        image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(super::read_bytes(&png), Ok(code));
    }

    #[test]
    fn an_image_without_a_code_and_bytes_that_are_no_image_are_told_apart() {
        let blank = image::GrayImage::from_pixel(200, 200, image::Luma([255]));
        let mut png = Vec::new();
        blank.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_text(&png), Err(QrReadError::NoCode));
        assert_eq!(read_text(b"%PDF-1.7 not an image"), Err(QrReadError::NotAnImage));
        assert_eq!(read_text(&[]), Err(QrReadError::NotAnImage));
    }

    #[test]
    fn an_image_too_large_is_refused_before_it_is_decoded() {
        // A PNG header that claims 100,000 pixels a side: refused by the limits, not
        // decoded into 10 GB.
        let mut huge = png_of("x", 2);
        huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        // The header's checksum made right again, so that only the size is wrong.
        let crc = crc32(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(read_text(&huge), Err(QrReadError::NotAnImage));
    }

    /// PNG's CRC-32 (ISO-HDLC), bit by bit.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn a_card_becomes_an_svg_image() {
        let url = super::svg_data_url("huisclos:card:0123456789abcdef").unwrap_or_default();
        assert!(url.starts_with("data:image/svg+xml;base64,"), "{url}");
    }
}
