//! `huisclos-relay`: run the relay, or issue an invitation.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use huisclos_relay::config::RelayConfig;

/// mimalloc rather than the system allocator: it returns freed memory to the system
/// within moments, where glibc's arenas keep the peak of a burst (an attack, a busy
/// hour) resident for good.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
}

fn main() -> anyhow::Result<()> {
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
            runtime.block_on(invite(config, Duration::from_secs(valid_hours.saturating_mul(3600))))
        }
        Command::Admin { command: AdminCommand::AcceptStore } => accept_store(&config),
        Command::Admin { command: AdminCommand::StoreKey } => {
            println!("{}", huisclos_relay::store::sealing::StoreKey::generate().to_hex().as_str());
            Ok(())
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

async fn invite(config: RelayConfig, valid_for: Duration) -> anyhow::Result<()> {
    match huisclos_relay::admin::request_invitation(&config.data_dir, valid_for).await {
        Ok(invitation) => {
            println!("{invitation}");
            Ok(())
        }
        Err(huisclos_relay::Error::Io(_)) => {
            // No relay is listening: issue it from the store directly, once it passed the
            // same checks as at start.
            use std::sync::Arc;
            let key = config.store_key().context("reading the store key")?;
            let (identity, store, _) = huisclos_relay::open_data_dir(&config.data_dir, key.as_ref())
                .context("opening the data directory (is the relay running under another user?)")?;
            let store = Arc::new(store);
            let relay = huisclos_relay::service::Relay::new(store.clone(), config.limits.clone());
            let addresses = if config.public_addresses.is_empty() {
                vec![format!("127.0.0.1:{}", config.quic_listen.port())]
            } else {
                config.public_addresses.clone()
            };
            let invitation = relay.invite(&addresses, identity.pin, valid_for).await?;
            huisclos_relay::close_store(&*store, &config.data_dir).context("closing the store")?;
            println!("{}", invitation.to_text());
            Ok(())
        }
        Err(error) => Err(error).context("asking the relay for an invitation"),
    }
}

fn accept_store(config: &RelayConfig) -> anyhow::Result<()> {
    let key = config.store_key().context("reading the store key")?;
    let report = huisclos_relay::accept_store(&config.data_dir, key.as_ref()).context("accepting the store")?;
    println!("{report}");
    Ok(())
}
