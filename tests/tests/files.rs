//! A large file through the real relay binary over QUIC: uploaded, cut off about
//! halfway, resumed without sending again what the relay holds, downloaded on another
//! member's device, byte for byte (`HUISCLOS_BIG_FILE_MIB` sets the size: 200 MiB by
//! default); and a folder renamed on one device while moved on another, converging.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use huisclos_core::chunk::{CHUNK_LEN, CHUNK_OVERHEAD, chunk_count};
use huisclos_tests::netem::{Link, LinkConfig};
use huisclos_tests::process::{Person, RelayProcess, settle, shared_space};

/// A fast, clean link: only there to count the bytes that cross it.
fn counting_link() -> LinkConfig {
    LinkConfig { one_way_delay: Duration::ZERO, jitter: Duration::ZERO, loss: 0.0, bits_per_second: 1 << 40, seed: 1 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_cut_off_halfway_resumes_and_arrives_byte_identical() {
    let mib: u64 = std::env::var("HUISCLOS_BIG_FILE_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let length = mib * 1024 * 1024 + 4321;
    let relay = RelayProcess::start();
    let link = Link::start(relay.address, relay.tcp_address, counting_link()).await;
    let mut alice = Person::join_via(&relay, "Alice", vec![link.address()]).await;
    let mut bob = Person::join(&relay, "Bob").await;
    let space = shared_space(&mut alice, &mut bob).await;

    // The file, written in pieces (never whole in memory).
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("hearing.mp4");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&source).unwrap());
        let mut block = vec![0u8; 1 << 20];
        let mut written = 0u64;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        while written < length {
            for byte in block.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *byte = state as u8;
            }
            let take = (length - written).min(block.len() as u64) as usize;
            file.write_all(&block[..take]).unwrap();
            written += take as u64;
        }
    }
    let sealed = length + (chunk_count(length) * CHUNK_OVERHEAD) as u64;

    // Upload until about half has crossed the link, then the network is gone.
    let node = alice.engine.put_file(&space, None, "hearing.mp4", None, &source).unwrap();
    let start = Instant::now();
    let before = link.bytes();
    tokio::select! {
        () = alice.sync() => panic!("the upload finished before the cut"),
        () = async {
            while link.bytes() - before < sealed / 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        } => {}
    }
    alice.drop_connection();
    let at_cut = link.bytes() - before;
    assert_eq!(alice.engine.pending_transfers().unwrap(), (1, 0));

    // Back online: it goes on from what the relay holds.
    alice.sync().await;
    let upload = start.elapsed();
    let crossed = link.bytes() - before;
    assert_eq!(alice.engine.pending_transfers().unwrap(), (0, 0));
    // Everything crossed once, plus the protocols' overhead (QUIC, acknowledgements,
    // frames padded to size classes: about 12 %): a resend of the half already there
    // would show as 1.5 times the size.
    assert!(crossed < sealed + sealed / 4, "{crossed} bytes crossed for {sealed} sealed bytes");

    bob.sync().await;
    let dest = work.path().join("downloaded.mp4");
    let start = Instant::now();
    bob.engine.get_file(&space, &node, None, &dest).unwrap();
    bob.sync().await;
    let download = start.elapsed();
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), length);
    // Compared a megabyte at a time.
    let (mut a, mut b) = (std::fs::File::open(&source).unwrap(), std::fs::File::open(&dest).unwrap());
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = std::io::Read::read(&mut a, &mut x).unwrap();
        let mut m = 0;
        while m < n {
            m += std::io::Read::read(&mut b, &mut y[m..n]).unwrap();
        }
        assert_eq!(x[..n], y[..n], "the download differs");
        if n == 0 {
            break;
        }
    }
    eprintln!(
        "{mib} MiB: cut after {at_cut} of {sealed} sealed bytes; upload {:.1} s ({crossed} bytes crossed, {:.3}x), \
         download {:.1} s; {} chunks of {CHUNK_LEN}",
        upload.as_secs_f64(),
        crossed as f64 / sealed as f64,
        download.as_secs_f64(),
        chunk_count(length)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_renamed_and_moved_at_once_converges_over_quic() {
    let relay = RelayProcess::start();
    let mut alice = Person::join(&relay, "Alice").await;
    let mut bob = Person::join(&relay, "Bob").await;
    let space = shared_space(&mut alice, &mut bob).await;
    let evidence = alice.engine.create_folder(&space, None, "Evidence").unwrap();
    let hearings = alice.engine.create_folder(&space, None, "Hearings").unwrap();
    settle(&mut [&mut alice, &mut bob]).await;

    // Both change the same folder before either has seen the other's change.
    alice.engine.rename_node(&space, &evidence, "Evidence (sealed)").unwrap();
    bob.engine.move_node(&space, &evidence, Some(hearings)).unwrap();
    settle(&mut [&mut alice, &mut bob]).await;
    let expected = ["Hearings Folder v0", "Hearings/Evidence (sealed) Folder v0"];
    assert_eq!(alice.engine.library(&space).unwrap().listing(), expected);
    assert_eq!(bob.engine.library(&space).unwrap().listing(), expected);
}

/// Every file under `dir` that holds any of `telltales`.
fn holding(dir: &std::path::Path, telltales: &[&[u8]]) -> Vec<String> {
    let mut found = Vec::new();
    let mut scanned = 0usize;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(bytes) = std::fs::read(&path) {
            scanned += bytes.len();
            for telltale in telltales {
                if bytes.windows(telltale.len()).any(|w| w == *telltale) {
                    found.push(format!("{} holds {:?}", path.display(), String::from_utf8_lossy(telltale)));
                }
            }
        }
    }
    assert!(scanned > 10_000, "the scan read only {scanned} bytes under {}", dir.display());
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_arrives_without_its_gps_position_camera_or_comment() {
    use huisclos_core::error::InvalidInput;
    use huisclos_core::media::{ImageFormat, Metadata, StripRefusal, strip_metadata};
    const PHOTO: &[u8] = include_bytes!("../fixtures/photo-with-gps.jpg");
    // What the photo carries besides its picture (fixtures/make_photo.py): the GPS
    // block's tags, the camera, its serial number, a comment, a motion-photo trailer.
    let gps_tags: &[u8] = b"\x00\x01\x00\x02\x00\x00\x00\x02N\x00";
    let telltales: [&[u8]; 6] = [gps_tags, b"HuisClosPhone", b"SN-0042", b"safe house", b"GPSLatitude", b"MotionPhoto"];
    for telltale in telltales {
        assert!(PHOTO.windows(telltale.len()).any(|w| w == telltale), "the fixture lacks {telltale:?}");
    }

    let relay = RelayProcess::start();
    let mut alice = Person::join(&relay, "Alice").await;
    let mut bob = Person::join(&relay, "Bob").await;
    let space = shared_space(&mut alice, &mut bob).await;
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("IMG_2041.jpg");
    std::fs::write(&source, PHOTO).unwrap();

    let photo = alice.engine.put_file(&space, None, "IMG_2041.jpg", None, &source).unwrap();
    // Kept knowingly: the same photo, metadata and all, so the scan below can tell.
    let kept =
        alice.engine.put_file_with(&space, None, "IMG_2041 (as taken).jpg", None, &source, Metadata::Keep).unwrap();
    // A HEIC photo cannot be cleaned: refused, nothing queued.
    let heic = work.path().join("IMG_2042.heic");
    std::fs::write(&heic, b"\0\0\0\x18ftypheic\0\0\0\0mif1heicGPS 48.8582N").unwrap();
    let refused = alice.engine.put_file(&space, None, "IMG_2042.heic", None, &heic).unwrap_err();
    assert!(
        matches!(
            refused,
            huisclos_core::CoreError::Invalid(InvalidInput::ImageMetadata {
                format: ImageFormat::Heif,
                reason: StripRefusal::Unsupported
            })
        ),
        "{refused:?}"
    );
    assert_eq!(alice.engine.pending_transfers().unwrap(), (2, 0));
    settle(&mut [&mut alice, &mut bob]).await;

    let clean = work.path().join("received.jpg");
    bob.engine.get_file(&space, &photo, None, &clean).unwrap();
    let as_taken = work.path().join("received (as taken).jpg");
    bob.engine.get_file(&space, &kept, None, &as_taken).unwrap();
    bob.sync().await;
    let clean = std::fs::read(&clean).unwrap();
    assert_eq!(clean, strip_metadata(PHOTO).unwrap().as_ref(), "the picture, and nothing else");
    for telltale in telltales {
        assert!(!clean.windows(telltale.len()).any(|w| w == telltale), "Bob's copy holds {telltale:?}");
    }
    assert_eq!(std::fs::read(&as_taken).unwrap(), PHOTO, "kept as taken when the person chose to");

    // Bob saw a preview before downloading anything: a small JPEG of the picture,
    // upright (the photo is turned by its orientation), with nothing else in it.
    let preview = bob.engine.file_preview(&space, &photo, None).unwrap().expect("a preview");
    for telltale in telltales {
        assert!(!preview.windows(telltale.len()).any(|w| w == telltale), "the preview holds {telltale:?}");
    }
    assert_eq!(preview, strip_metadata(&preview).unwrap().as_ref(), "nothing but the picture");
    let shown = image::load_from_memory_with_format(&preview, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((shown.width(), shown.height()), (32, 48), "48 x 32, turned upright");
    // Kept as taken: the file holds everything, its preview nothing but the picture.
    let kept_preview = bob.engine.file_preview(&space, &kept, None).unwrap().expect("a preview of the kept photo");
    for telltale in telltales {
        assert!(!kept_preview.windows(telltale.len()).any(|w| w == telltale), "its preview holds {telltale:?}");
    }
    assert_eq!(kept_preview, strip_metadata(&kept_preview).unwrap().as_ref(), "nothing but the picture");
    let shown = image::load_from_memory_with_format(&kept_preview, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((shown.width(), shown.height()), (32, 48), "turned upright too");

    // At rest: the relay's files and both profiles hold none of it (ciphertext only).
    let mut found = holding(relay.data_dir(), &telltales);
    found.extend(holding(alice.engine.profile_dir(), &telltales));
    found.extend(holding(bob.engine.profile_dir(), &telltales));
    assert!(found.is_empty(), "{found:#?}");
}
