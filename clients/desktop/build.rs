//! Tauri's build step: embeds the configuration, the capability files and the icon.
//! The web view (`ui/dist`) is built before, from the lockfile, by `scripts/setup.sh`
//! (`npm ci && npm run build` in `ui/`); a build without it says so.

fn main() {
    println!("cargo:rerun-if-changed=ui/dist");
    if !std::path::Path::new("ui/dist/index.html").exists() {
        println!(
            "cargo:warning=clients/desktop/ui/dist is missing: build the web view first \
             (npm ci --prefix clients/desktop/ui && npm run --prefix clients/desktop/ui build, \
             or bash scripts/test.sh, which does it)"
        );
    }
    tauri_build::build();
}
