use super::*;

const PHOTO: &[u8] = include_bytes!("../../../tests/fixtures/photo-with-gps.jpg");
const PNG: &[u8] = include_bytes!("../../../tests/fixtures/image-with-metadata.png");
const WEBP: &[u8] = include_bytes!("../../../tests/fixtures/image-with-metadata.webp");
const GIF: &[u8] = include_bytes!("../../../tests/fixtures/image-with-metadata.gif");

/// What the fixtures carry besides their pictures (`tests/fixtures/make_*.py`).
const TELLTALES: [&[u8]; 7] =
    [b"GPS", b"HuisClosPhone", b"SN-0042", b"safe house", b"Motion", b"xmpmeta", b"phone profile"];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_clean(stripped: &[u8]) {
    for telltale in TELLTALES {
        assert!(!contains(stripped, telltale), "{:?} is still there", String::from_utf8_lossy(telltale));
    }
}

fn stripped(file: &[u8]) -> Vec<u8> {
    match strip_metadata(file).unwrap() {
        Cow::Owned(bytes) => bytes,
        Cow::Borrowed(_) => panic!("an image came back unchanged"),
    }
}

#[test]
fn the_fixtures_carry_what_a_phone_puts_in_a_photo() {
    for (file, telltales) in
        [(PHOTO, &TELLTALES[..5]), (PNG, &TELLTALES[..1]), (WEBP, &TELLTALES[..1]), (GIF, &TELLTALES[3..4])]
    {
        for telltale in telltales {
            assert!(contains(file, telltale), "the fixture lacks {:?}", String::from_utf8_lossy(telltale));
        }
    }
}

#[test]
fn a_photo_loses_its_position_camera_comment_and_trailer_and_keeps_its_picture_upright() {
    let clean = stripped(PHOTO);
    assert_clean(&clean);
    assert!(!contains(&clean, b"http://ns.adobe.com"), "the XMP block went");
    // The picture's segments are there byte for byte: from the first table to the end.
    let tables = PHOTO.windows(2).position(|w| w == [0xFF, 0xDB]).unwrap();
    let end = PHOTO.windows(2).rposition(|w| w == [0xFF, EOI]).unwrap();
    assert!(clean.ends_with(&PHOTO[tables..end + 2]));
    // The orientation (6: turned right) is the only tag left.
    let exif = clean.windows(6).position(|w| w == b"Exif\0\0").unwrap();
    assert_eq!(exif_orientation(&clean[exif..exif + 26]), Some(6));
    // Exactly: the start, the orientation, the bare JFIF header, the picture.
    let jfif = PHOTO.windows(4).position(|w| w == [0xFF, APP0, 0, 16]).unwrap();
    let mut expected = vec![0xFF, SOI];
    push_segment(&mut expected, APP1, &orientation_exif(6)).unwrap();
    expected.extend_from_slice(&PHOTO[jfif..jfif + 18]);
    expected.extend_from_slice(&PHOTO[tables..end + 2]);
    assert_eq!(clean, expected);
    // Stripping again changes nothing more.
    assert_eq!(stripped(&clean), clean);
}

#[test]
fn png_webp_and_gif_lose_their_metadata_and_keep_their_picture() {
    for (file, format) in [(PNG, ImageFormat::Png), (WEBP, ImageFormat::Webp), (GIF, ImageFormat::Gif)] {
        assert_eq!(sniff(&file[..SNIFF_LEN]), Some(format));
        let clean = stripped(file);
        assert_clean(&clean);
        assert!(clean.len() < file.len(), "{format}");
        assert_eq!(stripped(&clean), clean, "{format}: stripping twice");
    }
    let png = stripped(PNG);
    for kind in [b"eXIf", b"tEXt", b"iCCP", b"tIME"] {
        assert!(!contains(&png, kind), "{}", String::from_utf8_lossy(kind));
    }
    assert!(png.ends_with(b"IEND\xaeB`\x82"), "nothing after the end");
    let webp = stripped(WEBP);
    assert_eq!(u32_le(&webp, 4), Some(webp.len() as u32 - 8), "the RIFF length");
    assert_eq!(webp[20] & VP8X_METADATA_FLAGS, 0, "no metadata flag left");
    assert!(contains(&webp, b"VP8L"));
    let gif = stripped(GIF);
    assert!(contains(&gif, b"NETSCAPE2.0"), "the looping block stays");
    assert!(!contains(&gif, b"XMP Data"));
    assert_eq!(gif.last(), Some(&0x3B));
}

#[test]
fn other_files_pass_unchanged_and_images_not_rewritten_are_refused() {
    let text = b"%PDF-1.7 minutes of the hearing";
    assert!(matches!(strip_metadata(text).unwrap(), Cow::Borrowed(t) if t == text));
    assert!(matches!(strip_metadata(b"").unwrap(), Cow::Borrowed(_)));
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
    let tiff = b"II*\0\x08\0\0\0";
    for (file, format) in [(&heic[..], ImageFormat::Heif), (&tiff[..], ImageFormat::Tiff)] {
        let refused = strip_metadata(file).unwrap_err();
        assert!(
            matches!(refused, CoreError::Invalid(InvalidInput::ImageMetadata { format: f, reason: StripRefusal::Unsupported }) if f == format),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("keeping its metadata"));
    }
}

#[test]
fn a_damaged_image_is_refused_not_passed_on() {
    for file in [PHOTO, PNG, WEBP, GIF] {
        // Cut anywhere before its end, or with a length pointing past it.
        for cut in [SNIFF_LEN, file.len() / 3, file.len() / 2] {
            let refused = strip_metadata(&file[..cut]);
            assert!(
                matches!(
                    refused,
                    Err(CoreError::Invalid(InvalidInput::ImageMetadata { reason: StripRefusal::Malformed, .. }))
                ),
                "cut at {cut}: {refused:?}"
            );
        }
    }
    let mut bad = PHOTO.to_vec();
    bad[5] = 0xFF; // the EXIF block's length now runs past the file
    assert!(strip_metadata(&bad).is_err());
}

#[test]
fn data_hidden_where_decoders_do_not_look_goes_too() {
    // JPEG: a reserved marker's segment, and an Adobe segment longer than its 12 bytes.
    let mut jpeg = PHOTO[..2].to_vec();
    push_segment(&mut jpeg, 0xF3, b"GPS 48.8582N").unwrap();
    push_segment(&mut jpeg, APP14, b"Adobe\0\x64\0\0\0\0\x01GPS 48.8582N").unwrap();
    jpeg.extend_from_slice(&PHOTO[2..]);
    let clean = stripped(&jpeg);
    assert_clean(&clean);
    assert!(contains(&clean, b"Adobe\0\x64\0\0\0\0\x01\xff"), "Adobe's 12 bytes stay");

    // WebP: a frame holding an EXIF chunk among its own.
    let image = &WEBP[WEBP.windows(4).position(|w| w == b"VP8L").unwrap()..];
    let length = u32_le(image, 4).unwrap() as usize;
    let image = &image[..8 + length + (length & 1)];
    let mut frame = vec![0u8; 16];
    frame.extend_from_slice(image);
    frame.extend_from_slice(b"EXIF\x0c\0\0\0GPS 48.8582N");
    let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x02\0\0\0\x07\0\0\x07\0\0ANIM\x06\0\0\0\0\0\0\0\0\0ANMF".to_vec();
    webp.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    webp.extend_from_slice(&frame);
    let riff = (webp.len() - 8) as u32;
    webp[4..8].copy_from_slice(&riff.to_le_bytes());
    let clean = stripped(&webp);
    assert_clean(&clean);
    let frame_at = clean.windows(4).position(|w| w == b"ANMF").unwrap();
    assert_eq!(u32_le(&clean, frame_at + 4), Some(16 + image.len() as u32), "the frame's new length");
    assert_eq!(stripped(&clean), clean);

    // GIF: plain text, and a looping block with more after its count.
    let head = 13 + colour_table_len(GIF[10]);
    let mut gif = GIF[..head].to_vec();
    gif.extend_from_slice(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x05\x00\x0cGPS 48.8582N\x00");
    gif.extend_from_slice(b"\x21\x01\x0c\0\0\0\0\0\0\0\0\0\0\0\0\x0cGPS 48.8582N\x00");
    gif.extend_from_slice(&GIF[head..]);
    let clean = stripped(&gif);
    assert_clean(&clean);
    assert!(contains(&clean, b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x05\x00\x00"), "the loop count stays");
}

#[test]
fn images_of_kinds_not_rewritten_are_told_apart() {
    for (prefix, format) in [
        (&b"\0\0\0\x18ftypmif2"[..], ImageFormat::Heif),
        (b"\0\0\0\x18ftypcrx ", ImageFormat::Heif),
        (b"IIRO\x08\0\0\0", ImageFormat::Tiff),
        (b"IIU\0\x08\0\0\0", ImageFormat::Tiff),
        (b"II+\0\x08\0\0\0", ImageFormat::Tiff),
        (b"\0\0\0\x0cJXL \r\n\x87\n", ImageFormat::JpegXl),
        (b"8BPS\0\x01", ImageFormat::Psd),
    ] {
        assert_eq!(sniff(prefix), Some(format), "{prefix:?}");
    }
    // A phone's video is not an image here: it goes as it is (documented).
    assert_eq!(sniff(b"\0\0\0\x20ftypqt  "), None);
    assert_eq!(sniff(b"\0\0\0\x20ftypisom"), None);
    assert_eq!(sniff(b"\xff\x0a\xfa"), None, "a bare JPEG XL codestream holds no metadata");
}

#[test]
fn a_preview_is_small_upright_and_plain_and_receivers_take_nothing_else() {
    let preview = make_preview(&stripped(PHOTO)).unwrap();
    assert!(is_plain_preview(&preview));
    assert_clean(&preview);
    let shown = image::load_from_memory_with_format(&preview, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((shown.width(), shown.height()), (32, 48), "turned by its orientation, never enlarged");
    for other in [PNG, WEBP, GIF] {
        assert!(is_plain_preview(&make_preview(&stripped(other)).unwrap()));
    }
    // Anything else is refused: an orientation block, a frame too large or not
    // baseline, a cut, not a JPEG at all.
    assert!(!is_plain_preview(&stripped(PHOTO)), "an EXIF block");
    let frame = preview.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    let mut wide = preview.clone();
    wide[frame + 7..frame + 9].copy_from_slice(&161u16.to_be_bytes());
    assert!(!is_plain_preview(&wide));
    let mut progressive = preview.clone();
    progressive[frame + 1] = 0xC2;
    assert!(!is_plain_preview(&progressive));
    assert!(!is_plain_preview(&preview[..preview.len() - 2]));
    assert!(!is_plain_preview(PNG));
    assert_eq!(make_preview(b"%PDF-1.7"), None);
}

proptest::proptest! {
    #[test]
    fn no_input_makes_it_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), which in 0usize..4) {
        let mut file = [PHOTO, PNG, WEBP, GIF][which][..SNIFF_LEN].to_vec();
        file.extend_from_slice(&bytes);
        let _ = strip_metadata(&file);
        let _ = strip_metadata(&bytes);
    }

    /// The fixtures, damaged here and there: never a panic, and whatever comes out
    /// has nothing left to take out.
    #[test]
    fn a_damaged_image_comes_out_clean_or_is_refused(
        which in 0usize..4,
        edits in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY, 0u8..3), 1..6),
    ) {
        let mut file = [PHOTO, PNG, WEBP, GIF][which].to_vec();
        for (at, byte, how) in edits {
            let at = at % file.len();
            match how {
                0 => file[at] = byte,
                1 => file.insert(at, byte),
                _ => { file.remove(at); }
            }
        }
        if let Ok(Cow::Owned(clean)) = strip_metadata(&file) {
            let again = strip_metadata(&clean).unwrap();
            proptest::prop_assert_eq!(again.as_ref(), clean.as_slice());
        }
    }
}
