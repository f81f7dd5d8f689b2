//! Tauri's build step: embeds the configuration, the capability files and the icon.

fn main() {
    tauri_build::build();
}
