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
