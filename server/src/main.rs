//! `huisclos-relay`: run the relay, and the operator's commands (`admin`).
#![deny(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use huisclos_relay::admin::AdminRequest;
use huisclos_relay::config::RelayConfig;

/// mimalloc rather than the system allocator: it returns freed memory to the system
/// within moments, where glibc's arenas keep the peak of a burst (an attack, a busy
/// hour) resident for good.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` in its `mimalloc.h`, the
/// same in its versions 2 and 3), which the Rust binding does not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays with the allocator before it goes back to the system,
/// in milliseconds. mimalloc 3 waits a second, and purges only when the thread that
/// freed it allocates again: after a burst, memory freed by threads that then went
/// quiet stays resident. At 10 ms the non-reading attack (`server/tests/attacks.rs`)
/// peaked at 207 MiB instead of 221 on sled, and at 208 instead of 269 to 337 on
/// PostgreSQL. `MIMALLOC_PURGE_DELAY` in the environment still decides if set.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

#[allow(unsafe_code)]
fn return_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: `mi_option_set` stores one of mimalloc's option values, here its
    // documented `purge_delay` in milliseconds. It is called first in `main`, before
    // any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

/// The Huis Clos relay: stores and orders ciphertext for a network's devices, and is
/// trusted with none of it.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// A TOML configuration file (see server/relay.example.toml). Environment variables
    /// HUISCLOS_RELAY_DATA_DIR, _QUIC_LISTEN, _TCP_LISTEN, _METRICS_LISTEN,
    /// _PUBLIC_ADDRESSES and _STORE_KEY_FILE override it.
    #[arg(long, short, env = "HUISCLOS_RELAY_CONFIG")]
    config: Option<PathBuf>,

    /// The data directory (overrides the file and the environment).
    #[arg(long)]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the relay (the default). On first start it creates its key and prints an
    /// invitation; SIGTERM or Ctrl-C stops it after finishing requests in flight.
    Run,
    /// Operator commands.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Issue a single-use invitation and print it. Asks the running relay, or opens the
    /// store directly if the relay is stopped.
    Invite {
        /// How long the invitation stays valid, in hours (1 to 8760).
        #[arg(long, default_value_t = 168, value_parser = clap::value_parser!(u64).range(1..=8760))]
        valid_hours: u64,
    },
    /// List every account: its id, the bytes it uses, its quota (`default`: the
    /// relay's), its devices and whether it is enabled. The relay knows no names: match
    /// an account to a person with the id their app shows.
    Accounts,
    /// Disable an account: its devices are disconnected at once and cannot sign in
    /// (they are told what a revoked device is told). What it stored stays.
    Disable {
        /// The account's id in hex, or its first 8 digits or more.
        account: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The account's id in hex, or its first 8 digits or more.
        account: String,
    },
    /// Give an account a storage quota of its own (`1073741824`, `500M`, `10GiB`), or
    /// `default` for the relay's.
    Quota {
        /// The account's id in hex, or its first 8 digits or more.
        account: String,
        /// Bytes, or `default`.
        bytes: String,
    },
    /// List the invitations not used yet: their digests (the invitations themselves are
    /// never kept) and until when they are valid.
    Invitations,
    /// Revoke an invitation not used yet, named by its digest as `invitations` shows it
    /// (8 digits or more).
    RevokeInvitation {
        /// The digest in hex, or its first 8 digits or more.
        digest: String,
    },
    /// Back up the data directory into a new directory, while the relay runs or not:
    /// the store as it is at one moment (writes wait while it is copied; reads go on),
    /// the relay's key and a manifest. The backup is itself a data directory. It holds
    /// the relay's key: keep it as safe as the data directory.
    Backup {
        /// A new (or empty) directory.
        to: PathBuf,
    },
    /// Restore a backup into the data directory, with the relay stopped. The backup is
    /// checked before anything moves; what the data directory held is moved aside into
    /// `before-restore-SECONDS`, never deleted.
    Restore {
        /// A directory written by `admin backup`.
        from: PathBuf,
    },
    /// Accept the store as it is now, after the relay refused to start on it because it
    /// holds less than its manifest recorded (a store restored from an older backup, on
    /// purpose). Run with the relay stopped. Records accepted as lost stay lost.
    AcceptStore,
    /// Print a new random store key (64 hex digits) to seal the store at rest with.
    /// Keep it off the server's disk: pass it as a systemd credential
    /// (`LoadCredential=huisclos-store-key:...`) or a file on a separate medium, and
    /// keep a copy in a safe place: without it the store cannot be read.
    StoreKey,
    /// Seal an existing store (kept in clear) under the configured store key. Run with
    /// the relay stopped; the copy in clear is moved aside for you to destroy.
    SealStore,
    /// Rotate the relay's key with an overlap: make the next key, signed for by the
    /// current one, to take over after `--overlap`. Restart the relay (every process,
    /// each with a copy of the three new files) to start announcing it: every client
    /// that connects before the switch learns the next key and follows it. Clients that
    /// do not connect during the overlap need a new invitation. Runs beside a running
    /// relay: it touches only the key files (after a switch it moves them, as the
    /// relay's next start would).
    RotateKey {
        /// How long clients have to learn the next key: `30d`, `12h`, `90m`, `45s`.
        #[arg(long, default_value = "30d")]
        overlap: String,
        /// Say whether a rotation is under way, and until when.
        #[arg(long, conflicts_with = "cancel")]
        status: bool,
        /// Cancel the rotation under way (before its switch).
        #[arg(long)]
        cancel: bool,
    },
    /// Move the relay from its sled store to an empty PostgreSQL database, with the
    /// relay stopped: every record copied in one transaction, read back and compared
    /// (counts and digests), then the sled store moved aside into `store.migrated`. From
    /// then on the relay starts only with `postgres_url` set to that database.
    Migrate {
        /// The database (a libpq connection string); by default the configured
        /// `postgres_url`.
        #[arg(long)]
        to: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    return_freed_memory_promptly();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = RelayConfig::load(cli.config.as_deref()).context("loading the configuration")?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => runtime.block_on(run(config)),
        Command::Admin { command: AdminCommand::Invite { valid_hours } } => {
            let valid_for = Duration::from_secs(valid_hours.saturating_mul(3600));
            let (_, invitation) = runtime.block_on(admin(config, AdminRequest::Invite { valid_for }))?;
            println!("{invitation}");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Accounts } => {
            let (rows, count) = runtime.block_on(admin(config, AdminRequest::Accounts))?;
            println!("{:<32}  {:>14}  {:>14}  {:>7}  state", "account", "used (bytes)", "quota (bytes)", "devices");
            for row in rows {
                let fields: Vec<&str> = row.split_whitespace().skip(1).collect();
                if let [account, used, quota, devices, state] = fields.as_slice() {
                    println!("{account:<32}  {used:>14}  {quota:>14}  {devices:>7}  {state}");
                }
            }
            println!("{count} accounts");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Disable { account } } => {
            let (_, id) = runtime.block_on(admin(config, AdminRequest::Disable { account, disabled: true }))?;
            println!("disabled {id}");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Enable { account } } => {
            let (_, id) = runtime.block_on(admin(config, AdminRequest::Disable { account, disabled: false }))?;
            println!("enabled {id}");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Quota { account, bytes } } => {
            let bytes = match bytes.as_str() {
                "default" => None,
                other => Some(huisclos_relay::admin::parse_bytes(other).map_err(anyhow::Error::msg)?),
            };
            let (_, id) = runtime.block_on(admin(config, AdminRequest::Quota { account, bytes }))?;
            println!("quota set for {id}");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Invitations } => {
            let (rows, count) = runtime.block_on(admin(config, AdminRequest::Invitations))?;
            println!("{:<64}  valid until", "digest");
            for row in rows {
                let fields: Vec<&str> = row.split_whitespace().skip(1).collect();
                if let [digest, expires] = fields.as_slice() {
                    let until = expires
                        .parse::<u64>()
                        .ok()
                        .and_then(|at| huisclos_protocol::ids::UnixSeconds::new(at).ok())
                        .map_or_else(|| (*expires).to_owned(), huisclos_protocol::ids::UnixSeconds::utc_minute);
                    println!("{digest:<64}  {until}");
                }
            }
            println!("{count} invitations");
            Ok(())
        }
        Command::Admin { command: AdminCommand::RevokeInvitation { digest } } => {
            let (_, digest) = runtime.block_on(admin(config, AdminRequest::RevokeInvitation { digest }))?;
            println!("revoked {digest}");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Backup { to } } => {
            let to = std::path::absolute(&to).context("the backup's path")?;
            if to.to_str().is_none_or(|path| path.chars().any(char::is_control)) {
                anyhow::bail!("the backup's path must be UTF-8 without control characters");
            }
            let (_, report) = runtime.block_on(admin(config, AdminRequest::Backup { to }))?;
            println!("{report}");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Restore { from } } => {
            if std::os::unix::net::UnixStream::connect(huisclos_relay::admin::socket_path(&config.data_dir)).is_ok() {
                anyhow::bail!("the relay is running on {}: stop it first", config.data_dir.display());
            }
            let key = config.store_key().context("reading the store key")?;
            let report = huisclos_relay::restore(&config.data_dir, &from, key.as_ref()).context("restoring")?;
            println!("{report}");
            Ok(())
        }
        Command::Admin { command: AdminCommand::AcceptStore } => accept_store(&config),
        Command::Admin { command: AdminCommand::StoreKey } => {
            println!("{}", huisclos_relay::store::sealing::StoreKey::generate().to_hex().as_str());
            Ok(())
        }
        Command::Admin { command: AdminCommand::Migrate { to } } => {
            let url = to
                .map(huisclos_relay::config::DatabaseUrl::new)
                .or_else(|| config.postgres_url.clone())
                .ok_or_else(|| anyhow::anyhow!("no database: give --to, or set postgres_url in the configuration"))?;
            let key = config.store_key().context("reading the store key")?;
            let report = huisclos_relay::migrate_to_postgres(&config.data_dir, key.as_ref(), url.expose())
                .context("migrating the store")?;
            println!("{report}");
            Ok(())
        }
        Command::Admin { command: AdminCommand::RotateKey { overlap, status, cancel } } => {
            rotate_key(&config, &overlap, status, cancel)
        }
        Command::Admin { command: AdminCommand::SealStore } => {
            let key = config.store_key().context("reading the store key")?.ok_or_else(|| {
                anyhow::anyhow!("no store key: set store_key_file (or HUISCLOS_RELAY_STORE_KEY_FILE) first")
            })?;
            let report = huisclos_relay::seal_store(&config.data_dir, &key).context("sealing the store")?;
            println!("{report}");
            Ok(())
        }
    }
}

async fn run(config: RelayConfig) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop.send(true);
    });
    huisclos_relay::run(config, stopped, |started| {
        let pin: String = started.pin.0.iter().map(|b| format!("{b:02x}")).collect();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "huisclos-relay: quic {}", started.quic);
        let _ = writeln!(out, "huisclos-relay: tcp {}", started.tcp);
        if let Some(metrics) = started.metrics {
            let _ = writeln!(out, "huisclos-relay: metrics http://{metrics}/metrics");
        }
        let _ = writeln!(out, "huisclos-relay: addresses {}", started.addresses.join(","));
        let _ = writeln!(out, "huisclos-relay: pin {pin}");
        if let Some((next, switch_at)) = started.next {
            let next: String = next.0.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(out, "huisclos-relay: next pin {next} from {switch_at}");
        }
        if let Some(invitation) = &started.first_invitation {
            let _ = writeln!(out, "huisclos-relay: first invitation (single use; keep it secret):");
            let _ = writeln!(out, "huisclos-relay: invitation {invitation}");
        }
        let _ = writeln!(out, "huisclos-relay: ready");
        let _ = out.flush();
    })
    .await
    .context("running the relay")
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs an operator request on the running relay, or, if none listens, on the store
/// opened here once it passed the same checks as at start. Returns the data lines and
/// what followed `ok`.
async fn admin(config: RelayConfig, request: AdminRequest) -> anyhow::Result<(Vec<String>, String)> {
    match huisclos_relay::admin::request(&config.data_dir, &request).await {
        Ok(answer) => Ok(answer),
        // No relay listens (no socket, or a stale one): the store is free to open.
        Err(huisclos_relay::Error::Io(error))
            if matches!(error.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) =>
        {
            use std::sync::Arc;
            // Never a new relay by mistake (a wrong --data-dir or --config): the
            // stopped relay's data must be there.
            let key = config.data_dir.join(huisclos_relay::identity::KEY_FILE);
            let store = config.data_dir.join(huisclos_relay::integrity::STORE_DIR);
            if !key.exists() && !store.exists() {
                anyhow::bail!(
                    "no relay answers on {} and {} holds no relay's data: is --data-dir (or --config) right?",
                    huisclos_relay::admin::socket_path(&config.data_dir).display(),
                    config.data_dir.display()
                );
            }
            let key = config.store_key().context("reading the store key")?;
            match config.postgres_url.clone() {
                None => {
                    let (identity, store, _) = huisclos_relay::open_data_dir(&config.data_dir, key.as_ref())
                        .context("opening the data directory (is the relay running under another user?)")?;
                    admin_here(&config, identity, Arc::new(store), None, &request).await
                }
                Some(url) => {
                    let data_dir = config.data_dir.clone();
                    let opening = url.clone();
                    let (identity, store, _) = tokio::task::spawn_blocking(move || {
                        huisclos_relay::open_shared_store(&data_dir, opening.expose(), key.as_ref())
                    })
                    .await?
                    .context("opening the database")?;
                    admin_here(&config, identity, Arc::new(store), Some(url), &request).await
                }
            }
        }
        Err(error) => Err(error).context("asking the relay"),
    }
}

/// Runs an operator request here, on a store opened by this process. On a database
/// that other relay processes serve, what they must act on (a disabled account's
/// devices to disconnect) is announced to them before this returns.
async fn admin_here<S: huisclos_relay::store::RelayStore>(
    config: &RelayConfig,
    identity: huisclos_relay::identity::RelayIdentity,
    store: std::sync::Arc<S>,
    peers: Option<huisclos_relay::config::DatabaseUrl>,
    request: &AdminRequest,
) -> anyhow::Result<(Vec<String>, String)> {
    let relay = huisclos_relay::service::Relay::new(store.clone(), config.limits.clone());
    let (announce, mut announced) = tokio::sync::mpsc::channel(huisclos_relay::fanout::QUEUED_EVENTS);
    if peers.is_some() {
        let _ = relay.hub.connect_peers(announce);
    }
    let addresses = if config.public_addresses.is_empty() {
        vec![format!("127.0.0.1:{}", config.quic_listen.port())]
    } else {
        config.public_addresses.clone()
    };
    let context = huisclos_relay::admin::AdminContext {
        addresses,
        pin: identity.pin,
        next: identity.next.as_ref().map(|next| (next.pin, next.switch_at())),
        data_dir: config.data_dir.clone(),
    };
    let outcome = huisclos_relay::admin::execute(&relay, &context, request).await;
    let identified = store.clone();
    let store_identity = tokio::task::spawn_blocking(move || identified.identity()).await??;
    let data_dir = config.data_dir.clone();
    let closing = store.clone();
    tokio::task::spawn_blocking(move || huisclos_relay::close_store(&*closing, &data_dir))
        .await?
        .context("closing the store")?;
    if let Some(url) = peers {
        let mut events = Vec::new();
        while let Ok(event) = announced.try_recv() {
            events.push(event);
        }
        let key = huisclos_relay::fanout::FanoutKey::for_identity(&identity);
        let store_id = store_identity.context("the store records no identity")?.store_id;
        let channel = huisclos_relay::fanout::channel(&store_id);
        huisclos_relay::fanout::announce(url.expose(), &channel, &key, &events)
            .await
            .context("telling the running relay processes")?;
    }
    let mut lines = outcome?;
    let last = lines.pop().unwrap_or_default();
    let rest = last.strip_prefix("ok").unwrap_or(&last).trim_start().to_owned();
    Ok((lines, rest))
}

fn rotate_key(config: &RelayConfig, overlap: &str, status: bool, cancel: bool) -> anyhow::Result<()> {
    use huisclos_relay::identity;
    let hex = |pin: &[u8; 32]| pin.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let key = config.store_key().context("reading the store key")?;
    if !config.data_dir.join(identity::KEY_FILE).exists() {
        anyhow::bail!("{} holds no relay key: is --data-dir (or --config) right?", config.data_dir.display());
    }
    if cancel {
        if identity::cancel_rotation(&config.data_dir, key.as_ref()).context("cancelling the rotation")? {
            println!(
                "the rotation is cancelled: restart the relay (every process) now, before its switch. A relay \
                 running since it was announced still switches to the next key at that moment, and clients that \
                 see the next key from then on pin it alone."
            );
        } else {
            println!("no rotation is under way");
        }
        return Ok(());
    }
    if status {
        let current = identity::RelayIdentity::load_or_create(&config.data_dir, key.as_ref())
            .context("reading the relay's key")?;
        println!("the relay's key: {}", hex(&current.pin.0));
        match &current.next {
            Some(next) => println!(
                "rotation under way: the key {} takes over at {}",
                hex(&next.pin.0),
                next.rotation.switch_at.utc_minute()
            ),
            None => match current.previous_pins.last() {
                Some(previous) => println!("no rotation under way; the last one replaced {}", hex(&previous.0)),
                None => println!("no rotation under way"),
            },
        }
        return Ok(());
    }
    let overlap = parse_overlap(overlap)?;
    let rotation = identity::begin_rotation(&config.data_dir, key.as_ref(), overlap).context("rotating the key")?;
    println!("next key: {}", hex(&rotation.next));
    println!("it takes over at {} (the relay's clock)", rotation.switch_at.utc_minute());
    println!(
        "restart the relay now to announce it (several processes: copy {}, {} and {} into each data directory, then \
         restart each). Clients that do not connect before the switch need a new invitation.",
        identity::NEXT_KEY_FILE,
        identity::NEXT_CERT_FILE,
        identity::ROTATION_FILE
    );
    Ok(())
}

/// `30d`, `12h`, `90m`, `45s`: between one second and two years.
fn parse_overlap(text: &str) -> anyhow::Result<std::time::Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let number: u64 =
        number.parse().map_err(|_| anyhow::anyhow!("--overlap {text:?}: a number and a unit (s, m, h, d)"))?;
    let seconds = match unit {
        "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        "d" => number.checked_mul(86_400),
        _ => None,
    }
    .filter(|seconds| (1..=2 * 366 * 86_400).contains(seconds))
    .ok_or_else(|| anyhow::anyhow!("--overlap {text:?}: a number and a unit (s, m, h, d), from 1s to 732d"))?;
    Ok(std::time::Duration::from_secs(seconds))
}

fn accept_store(config: &RelayConfig) -> anyhow::Result<()> {
    let key = config.store_key().context("reading the store key")?;
    let report = huisclos_relay::accept_store(&config.data_dir, key.as_ref()).context("accepting the store")?;
    println!("{report}");
    Ok(())
}
