//! Where downloads go: the person's downloads folder (`HUISCLOS_DOWNLOADS` if set, for
//! tests and several people on one machine), under the file's own name made safe
//! (no path, no control characters, not hidden) and unique there.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager};

/// The folder downloads are written to.
pub(crate) fn folder(app: &AppHandle) -> PathBuf {
    if let Some(dir) = std::env::var_os("HUISCLOS_DOWNLOADS") {
        return PathBuf::from(dir);
    }
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir().map(|home| home.join("Downloads")))
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// The most characters of a file's name kept.
const MAX_NAME_CHARS: usize = 120;

/// A file name that names nothing but a file in one folder, from a name a member chose.
pub(crate) fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' || c.is_control() || c == ':' { '_' } else { c })
        .take(MAX_NAME_CHARS)
        .collect();
    // Windows also refuses these characters, and a name ending in a dot or a space.
    let cleaned: String =
        cleaned.chars().map(|c| if matches!(c, '<' | '>' | '"' | '|' | '?' | '*') { '_' } else { c }).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim_end_matches(['.', ' ']).to_owned();
    if cleaned.is_empty() {
        return "file".to_owned();
    }
    // A device name on Windows (CON, NUL, COM1, …), with or without an extension,
    // opens the device instead of a file.
    let stem = cleaned.split('.').next().unwrap_or_default().trim_end().to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if device { format!("_{cleaned}") } else { cleaned }
}

/// `name` in `folder`, or `name (2)`, `name (3)`, … when taken (a partial download of
/// that name counts as taken).
pub(crate) fn unique_path(folder: &Path, name: &str) -> PathBuf {
    let name = safe_name(name);
    let (stem, extension) = match name.rfind('.') {
        Some(dot) if dot > 0 => (&name[..dot], &name[dot..]),
        _ => (name.as_str(), ""),
    };
    let taken = |path: &Path| {
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        path.exists() || Path::new(&part).exists()
    };
    let mut candidate = folder.join(&name);
    let mut n = 2u32;
    while taken(&candidate) && n < 10_000 {
        candidate = folder.join(format!("{stem} ({n}){extension}"));
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::{safe_name, unique_path};

    #[test]
    fn a_name_cannot_leave_the_folder() {
        assert_eq!(safe_name("../../.bashrc"), "_.._.bashrc");
        assert_eq!(safe_name("/etc/passwd"), "_etc_passwd");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name("a\nb"), "a_b");
        assert_eq!(safe_name("   "), "file");
        assert_eq!(safe_name("تقرير.pdf"), "تقرير.pdf");
    }

    #[test]
    fn windows_device_names_and_forbidden_characters_are_made_harmless() {
        assert_eq!(safe_name("CON"), "_CON");
        assert_eq!(safe_name("nul.txt"), "_nul.txt");
        assert_eq!(safe_name("com1.pdf"), "_com1.pdf");
        assert_eq!(safe_name("LPT9"), "_LPT9");
        assert_eq!(safe_name("CONTRACT.pdf"), "CONTRACT.pdf");
        assert_eq!(safe_name("COM.pdf"), "COM.pdf");
        assert_eq!(safe_name("what?<now>|\"*.txt"), "what__now____.txt");
        assert_eq!(safe_name("report. . "), "report");
    }

    #[test]
    fn a_taken_name_gets_a_number() {
        let dir = std::env::temp_dir().join(format!("huisclos-downloads-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let first = unique_path(&dir, "report.pdf");
        assert_eq!(first, dir.join("report.pdf"));
        std::fs::write(&first, b"x").unwrap_or_default();
        assert_eq!(unique_path(&dir, "report.pdf"), dir.join("report (2).pdf"));
        std::fs::write(dir.join("report (2).pdf.part"), b"x").unwrap_or_default();
        assert_eq!(unique_path(&dir, "report.pdf"), dir.join("report (3).pdf"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
