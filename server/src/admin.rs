//! Operator commands while the relay runs, over a Unix socket in the data directory
//! (mode 0600: only the operator's user can use it). One request a connection, one line
//! each way: `invite SECONDS` answers `ok huisclos1:…` or `error REASON`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use huisclos_transport::tls::SpkiPin;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::Error;
use crate::service::Relay;
use crate::store::RelayStore;

/// The socket's name in the data directory.
pub const SOCKET: &str = "admin.sock";

/// The socket's path for a data directory.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

/// Binds the admin socket, replacing a stale one.
///
/// # Errors
/// [`Error::Io`].
pub fn bind(data_dir: &Path) -> Result<UnixListener, Error> {
    let path = socket_path(data_dir);
    if path.exists() {
        std::fs::remove_file(&path)?;
    }
    let listener = UnixListener::bind(&path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(listener)
}

/// Serves admin requests until the task is dropped.
pub async fn serve<S: RelayStore>(listener: UnixListener, relay: Arc<Relay<S>>, addresses: Vec<String>, pin: SpkiPin) {
    loop {
        let Ok((socket, _)) = listener.accept().await else { continue };
        let relay = relay.clone();
        let addresses = addresses.clone();
        tokio::spawn(async move {
            let (read, mut write) = socket.into_split();
            let mut line = String::new();
            let mut reader = BufReader::new(read.take(256));
            let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line));
            let answer = match read.await {
                Ok(Ok(_)) => answer(&relay, &addresses, pin, line.trim()).await,
                _ => "error unreadable request".to_owned(),
            };
            let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
        });
    }
}

async fn answer<S: RelayStore>(relay: &Relay<S>, addresses: &[String], pin: SpkiPin, line: &str) -> String {
    let mut words = line.split_whitespace();
    match (words.next(), words.next().map(str::parse::<u64>), words.next()) {
        (Some("invite"), Some(Ok(seconds)), None) if seconds > 0 => {
            match relay.invite(addresses, pin, Duration::from_secs(seconds)).await {
                Ok(invitation) => {
                    tracing::info!("invitation issued");
                    format!("ok {}", invitation.to_text())
                }
                Err(error) => format!("error {error}"),
            }
        }
        _ => "error expected: invite SECONDS".to_owned(),
    }
}

/// Asks a running relay for an invitation.
///
/// # Errors
/// [`Error::Io`] if no relay answers on the socket, [`Error::Config`] if it refuses.
pub async fn request_invitation(data_dir: &Path, valid_for: Duration) -> Result<String, Error> {
    let mut socket = UnixStream::connect(socket_path(data_dir)).await?;
    socket.write_all(format!("invite {}\n", valid_for.as_secs()).as_bytes()).await?;
    let mut line = String::new();
    BufReader::new(socket).read_line(&mut line).await?;
    match line.trim().split_once(' ') {
        Some(("ok", invitation)) => Ok(invitation.to_owned()),
        Some(("error", reason)) => Err(Error::Config(reason.to_owned())),
        _ => Err(Error::Config("unexpected answer from the relay".into())),
    }
}

use tokio::io::AsyncReadExt as _;
