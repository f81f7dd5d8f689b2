//! A space's library: folders, files and notes, uploads and downloads.

use super::*;

pub(super) async fn library(dir: &std::path::Path, offline: bool, command: Command) -> Result<(), CliError> {
    use huisclos_core::library::NodeKind;
    let mut engine = profile::open(dir)?;
    match command {
        Command::Ls { .. } | Command::Trash { .. } => {
            online::sync(&mut engine, offline).await?;
        }
        Command::Cat { .. } | Command::EditNote { .. } | Command::NoteLog { .. } | Command::NoteRestore { .. } => {
            online::sync_quietly(&mut engine, offline).await?;
        }
        _ => {}
    }
    let show = |view: &huisclos_core::library::NodeView| {
        let kind = match view.kind {
            NodeKind::Folder => word::folder(),
            NodeKind::File => word::file(),
            NodeKind::Note => word::note(),
        };
        let size = view.length.map(|l| format!("  {}", word::file_size(l, view.versions))).unwrap_or_default();
        println!("{}  {kind:6}  {}{size}", text::short(view.id.as_bytes()), view.name);
    };
    match command {
        Command::Ls { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let folder = resolve::node(&library, &path, false)?;
            let children = library.children(folder);
            if children.is_empty() {
                println!("{}", Say::NothingHere);
            }
            children.iter().for_each(show);
            Ok(())
        }
        Command::Trash { space } => {
            let space = resolve::space_id(&engine, &space)?;
            let trash = engine.library(&space)?.trash();
            if trash.is_empty() {
                println!("{}", Say::NothingHere);
            }
            trash.iter().for_each(show);
            Ok(())
        }
        Command::Cat { space, path } => {
            let (space, node) = note_at(&engine, &space, &path)?;
            let text = engine.note_text(&space, &node)?;
            println!("{text}");
            Ok(())
        }
        Command::EditNote { space, path } => {
            let (space, node) = note_at(&engine, &space, &path)?;
            let before = engine.note_text(&space, &node)?;
            let after = edit_in_editor(&before)?;
            // Edits others made while the editor ran arrive with the next sync and
            // merge with these: only the characters changed here are sent.
            engine.write_note(&space, &node, &after)?;
            finish(&mut engine, offline).await
        }
        Command::NoteVersion { space, path, name } => {
            let (space, node) = note_at(&engine, &space, &path)?;
            let id = engine.name_note_version(&space, &node, &name)?;
            println!("{}", text::short(id.as_bytes()));
            finish(&mut engine, offline).await
        }
        Command::NoteLog { space, path } => {
            let (space, node) = note_at(&engine, &space, &path)?;
            let versions = engine.note_versions(&space, &node)?;
            if versions.is_empty() {
                println!("{}", Say::NothingHere);
            }
            for version in versions {
                println!(
                    "{}  {}  {}  {}",
                    text::short(version.id.as_bytes()),
                    text::utc_minute(version.created_at),
                    version.author_name,
                    version.name
                );
            }
            Ok(())
        }
        Command::NoteRestore { space, path, version } => {
            let (space, node) = note_at(&engine, &space, &path)?;
            let typed = version.to_lowercase();
            let matching: Vec<_> = engine
                .note_versions(&space, &node)?
                .into_iter()
                .filter(|v| !typed.is_empty() && v.id.to_string().starts_with(&typed))
                .collect();
            let [found] = matching.as_slice() else {
                return Err(Problem::NoSuchVersion { typed: &version, count: matching.len() }.into());
            };
            engine.restore_note_version(&space, &node, &found.id)?;
            finish(&mut engine, offline).await
        }
        Command::Mkdir { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let (parent, name) = resolve::parent_and_name(&library, &path)?;
            engine.create_folder(&space, parent, name)?;
            finish(&mut engine, offline).await
        }
        Command::Note { space, path, text } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            match resolve::node(&library, &path, false) {
                Ok(Some(node)) => engine.write_note(&space, &node, &text)?,
                _ => {
                    let (parent, name) = resolve::parent_and_name(&library, &path)?;
                    engine.create_note(&space, parent, name, &text)?;
                }
            }
            finish(&mut engine, offline).await
        }
        Command::Mv { space, from, to } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let node = resolve::node(&library, &from, false)?.ok_or(Problem::TopDoesNotMove)?;
            let current = library.node(&node).ok_or(Problem::NoItemAt { path: &from })?;
            let into_folder = resolve::node(&library, &to, false)
                .ok()
                .flatten()
                .filter(|n| library.node(n).is_some_and(|v| v.kind == NodeKind::Folder));
            let (parent, name) = match into_folder {
                Some(folder) => (Some(folder), current.name.as_str()),
                None => resolve::parent_and_name(&library, &to)?,
            };
            if parent != current.parent {
                engine.move_node(&space, &node, parent)?;
            }
            if name != current.name {
                engine.rename_node(&space, &node, name)?;
            }
            finish(&mut engine, offline).await
        }
        Command::Rm { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let node = resolve::node(&library, &path, false)?.ok_or(Problem::TopNotTrashed)?;
            engine.trash_node(&space, &node)?;
            finish(&mut engine, offline).await
        }
        Command::Restore { space, path } => {
            let space = resolve::space_id(&engine, &space)?;
            let library = engine.library(&space)?;
            let node = resolve::node(&library, &path, true)?.ok_or(Problem::TrashedPath)?;
            engine.restore_node(&space, &node)?;
            finish(&mut engine, offline).await
        }
        _ => Ok(()),
    }
}

pub(super) async fn put(
    dir: &std::path::Path,
    offline: bool,
    space: &str,
    local: &std::path::Path,
    path: &str,
    metadata: huisclos_core::media::Metadata,
) -> Result<(), CliError> {
    use huisclos_core::library::NodeKind;
    let mut engine = profile::open(dir)?;
    online::sync_quietly(&mut engine, offline).await?;
    let space = resolve::space_id(&engine, space)?;
    let library = engine.library(&space)?;
    let local_name = local
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::from(Problem::NoUsableFileName { path: &local.display().to_string() }))?;
    let existing = resolve::node(&library, path, false).ok().flatten().and_then(|n| library.node(&n));
    let (parent, name, version_of) = match existing {
        Some(view) if view.kind == NodeKind::File => (view.parent, view.name.clone(), Some(view.id)),
        Some(view) if view.kind == NodeKind::Folder => (Some(view.id), local_name.to_owned(), None),
        Some(_) => return Err(Problem::IsANote { path }.into()),
        None if path.trim_matches('/').is_empty() => (None, local_name.to_owned(), None),
        None => {
            let (parent, name) = resolve::parent_and_name(&library, path)?;
            (parent, name.to_owned(), None)
        }
    };
    let node = engine.put_file_with(&space, parent, &name, version_of, local, metadata)?;
    transfer(&mut engine, offline, node).await
}

pub(super) async fn get(
    dir: &std::path::Path,
    offline: bool,
    space: &str,
    path: &str,
    local: &std::path::Path,
) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    online::sync_quietly(&mut engine, offline).await?;
    let space = resolve::space_id(&engine, space)?;
    let library = engine.library(&space)?;
    let node = resolve::node(&library, path, false)?.ok_or(Problem::FilePath)?;
    engine.get_file(&space, &node, None, local)?;
    transfer(&mut engine, offline, node).await
}

/// Drives a transfer with a progress bar until it finishes, or says it waits.
async fn transfer(engine: &mut Engine, offline: bool, node: huisclos_core::library::NodeId) -> Result<(), CliError> {
    use huisclos_core::engine::ClientEvent;
    let Some(connection) = online::connect(engine, offline).await? else {
        println!("{}", Say::Queued);
        return Ok(());
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut finished = false;
    let outcome = async {
        connection.drive(engine).await?;
        loop {
            while let Some(event) = engine.poll_event() {
                match event {
                    ClientEvent::Transfer { node: n, done, total, finished: done_now, .. } if n == node => {
                        bar.set_length(total);
                        bar.set_position(done);
                        finished |= done_now;
                    }
                    ClientEvent::SecurityWarning { warning, .. } => {
                        eprintln!("{} {}", word::security(), text::describe(&warning))
                    }
                    ClientEvent::Rejected { reason, .. } => {
                        eprintln!("{} {}", word::refused(), text::describe(&reason))
                    }
                    _ => {}
                }
            }
            if finished || engine.pending_transfers()? == (0, 0) {
                return Ok::<(), CliError>(());
            }
            if !connection.wait_and_drive(engine, Duration::from_millis(500)).await? && engine.poll_timeout().is_some()
            {
                // The relay refused something for now: the transfer stays queued.
                return Ok(());
            }
        }
    }
    .await;
    bar.finish_and_clear();
    // Publishing the file after its last chunk is itself sent.
    connection.drive(engine).await?;
    connection.close(engine);
    outcome?;
    if finished {
        println!("{}", Say::Done);
    } else {
        println!("{}", Say::Queued);
    }
    Ok(())
}

/// The space named `space` and the note at `path` in its library.
fn note_at(
    engine: &Engine,
    space: &str,
    path: &str,
) -> Result<(huisclos_protocol::ids::GroupId, huisclos_core::library::NodeId), CliError> {
    let space = resolve::space_id(engine, space)?;
    let library = engine.library(&space)?;
    let node = resolve::node(&library, path, false)?.ok_or(Problem::NotePath)?;
    if library.note(&node).is_none() {
        return Err(Problem::NotANote { path }.into());
    }
    Ok((space, node))
}

/// Opens `text` in the person's editor and returns what they saved. The file lives in
/// a directory only this user can read, in `$XDG_RUNTIME_DIR` when there is one (a
/// memory file system on most Linux systems), and is overwritten with zeros and
/// removed afterwards, whatever the editor did.
fn edit_in_editor(text: &str) -> Result<String, CliError> {
    use std::io::Write as _;
    let parent = std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from).filter(|dir| dir.is_dir());
    let dir = match parent {
        Some(parent) => tempfile::Builder::new().prefix("huisclos-note-").tempdir_in(parent),
        None => tempfile::Builder::new().prefix("huisclos-note-").tempdir(),
    }
    .map_err(|_| Problem::EditorFailed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|_| Problem::EditorFailed)?;
    }
    let path = dir.path().join("note.md");
    let outcome = (|| -> Result<String, CliError> {
        let mut file = std::fs::File::create(&path).map_err(|_| Problem::EditorFailed)?;
        file.write_all(text.as_bytes()).map_err(|_| Problem::EditorFailed)?;
        drop(file);
        let editor = std::env::var("VISUAL")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| std::env::var("EDITOR").ok().filter(|e| !e.trim().is_empty()))
            .unwrap_or_else(|| "vi".to_owned());
        // As git runs it: through the shell, so that "code --wait" or "sed -i ..." work.
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&path)
            .status()
            .map_err(|_| Problem::EditorFailed)?;
        if !status.success() {
            return Err(Problem::EditorFailed.into());
        }
        std::fs::read_to_string(&path).map_err(|_| Problem::EditorFailed.into())
    })();
    // Whatever happened, the plaintext does not stay behind.
    if let Ok(metadata) = std::fs::metadata(&path) {
        let _ = std::fs::write(&path, vec![0u8; metadata.len() as usize]);
    }
    let _ = std::fs::remove_file(&path);
    outcome
}
