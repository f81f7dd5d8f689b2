//! Operator commands: issue and revoke invitations, list accounts with what they use,
//! disable an account, give one a quota of its own.
//!
//! While the relay runs they travel over a Unix socket in the data directory (mode
//! 0600: only the operator's user can use it). One request a connection, one line; the
//! answer is zero or more lines of data, then one line `ok …` or `error REASON`. When no
//! relay listens, `huisclos-relay admin` opens the store itself and runs the same
//! [`execute`] (the relay is stopped, so nothing else holds the store).
//!
//! | request | data lines | last line |
//! |---|---|---|
//! | `invite SECONDS` | | `ok huisclos1:…` |
//! | `accounts` | `account ID USAGE QUOTA DEVICES STATE` each | `ok N` |
//! | `disable ID` / `enable ID` | | `ok ID` |
//! | `quota ID BYTES` (or `default`) | | `ok ID` |
//! | `invitations` | `invitation DIGEST EXPIRES` each | `ok N` |
//! | `revoke-invitation DIGEST` | | `ok DIGEST` |
//! | `backup PATH` | | `ok WHAT WAS COPIED` |
//!
//! `ID` is an account id in hex, or its first 8 digits or more if no other account
//! starts the same way; `DIGEST` likewise for an invitation's digest (the invitation
//! itself is never kept). `QUOTA` is `default` for the relay's quota. Numbers are bytes
//! and Unix seconds, so that scripts read them without guessing units.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use huisclos_protocol::ids::AccountId;
use huisclos_protocol::messages::RelayError;
use huisclos_transport::tls::SpkiPin;
use tokio::io::{AsyncBufReadExt, AsyncReadExt as _, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::Error;
use crate::service::Relay;
use crate::store::{AccountChange, RelayStore};

/// The socket's name in the data directory.
pub const SOCKET: &str = "admin.sock";

/// The longest request line, its newline included.
pub const MAX_REQUEST_LINE: usize = 4096;

/// The fewest hex digits that name an account or an invitation.
pub const MIN_PREFIX: usize = 8;

/// The socket's path for a data directory.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

/// One operator request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRequest {
    /// Issue a single-use invitation valid this long.
    Invite {
        /// Its lifetime.
        valid_for: Duration,
    },
    /// List every account.
    Accounts,
    /// Disable (true) or enable (false) an account.
    Disable {
        /// The account, as a hex prefix.
        account: String,
        /// Disable or enable.
        disabled: bool,
    },
    /// Set an account's quota (`None`: the relay's).
    Quota {
        /// The account, as a hex prefix.
        account: String,
        /// Bytes.
        bytes: Option<u64>,
    },
    /// List the invitations not used yet.
    Invitations,
    /// Revoke an invitation.
    RevokeInvitation {
        /// Its digest, as a hex prefix.
        digest: String,
    },
    /// Back up the data directory into a new directory (an absolute path).
    Backup {
        /// Where.
        to: PathBuf,
    },
}

/// What a request runs with besides the relay.
#[derive(Debug, Clone)]
pub struct AdminContext {
    /// The addresses invitations carry.
    pub addresses: Vec<String>,
    /// The relay's key pin, which invitations carry.
    pub pin: SpkiPin,
    /// During a rotation of the relay's key: the next key's pin, and when it takes over.
    pub next: Option<(SpkiPin, SystemTime)>,
    /// The data directory.
    pub data_dir: PathBuf,
}

impl AdminContext {
    /// The pin an invitation issued at `now` carries, and the moment it expires: during
    /// a rotation, the current key's until the switch (an invitation is good only while
    /// its key is presented: it expires at the switch at the latest), the next key's
    /// after it.
    ///
    /// The expiry is a moment, not a lifetime: a lifetime cut to the time left and then
    /// added to a clock read again, in whole seconds, could end up to a second before
    /// the switch.
    ///
    /// # Errors
    /// [`Error::Config`] for a lifetime past what the clock can count.
    pub fn invitation_terms(&self, valid_for: Duration, now: SystemTime) -> Result<(SpkiPin, SystemTime), Error> {
        let asked = now.checked_add(valid_for).ok_or_else(|| Error::Config("invitation lifetime".into()))?;
        Ok(match self.next {
            Some((_, switch_at)) if now < switch_at => (self.pin, asked.min(switch_at)),
            Some((next, _)) => (next, asked),
            None => (self.pin, asked),
        })
    }
}

impl AdminRequest {
    /// The request as one line on the socket.
    pub fn to_line(&self) -> String {
        match self {
            Self::Invite { valid_for } => format!("invite {}", valid_for.as_secs()),
            Self::Accounts => "accounts".to_owned(),
            Self::Disable { account, disabled: true } => format!("disable {account}"),
            Self::Disable { account, disabled: false } => format!("enable {account}"),
            Self::Quota { account, bytes: Some(bytes) } => format!("quota {account} {bytes}"),
            Self::Quota { account, bytes: None } => format!("quota {account} default"),
            Self::Invitations => "invitations".to_owned(),
            Self::RevokeInvitation { digest } => format!("revoke-invitation {digest}"),
            Self::Backup { to } => format!("backup {}", to.display()),
        }
    }

    /// Reads a request line.
    ///
    /// # Errors
    /// What was expected, for an operator to read.
    pub fn parse(line: &str) -> Result<Self, String> {
        if let Some(path) = line.strip_prefix("backup ") {
            // The rest of the line, as it is: a path may hold spaces, even at its end.
            if path.chars().any(char::is_control) {
                return Err("a backup's path holds no control characters".into());
            }
            let to = PathBuf::from(path);
            if !to.is_absolute() {
                return Err("expected: backup ABSOLUTE-PATH".into());
            }
            return Ok(Self::Backup { to });
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let request = match words.as_slice() {
            ["invite", seconds] => match seconds.parse::<u64>() {
                Ok(seconds) if seconds > 0 => Self::Invite { valid_for: Duration::from_secs(seconds) },
                _ => return Err("expected: invite SECONDS".into()),
            },
            ["accounts"] => Self::Accounts,
            ["disable", account] => Self::Disable { account: (*account).to_owned(), disabled: true },
            ["enable", account] => Self::Disable { account: (*account).to_owned(), disabled: false },
            ["quota", account, "default"] => Self::Quota { account: (*account).to_owned(), bytes: None },
            ["quota", account, bytes] => {
                Self::Quota { account: (*account).to_owned(), bytes: Some(parse_bytes(bytes)?) }
            }
            ["invitations"] => Self::Invitations,
            ["revoke-invitation", digest] => Self::RevokeInvitation { digest: (*digest).to_owned() },
            _ => {
                return Err("expected one of: invite SECONDS, accounts, disable ID, enable ID, \
                            quota ID BYTES|default, invitations, revoke-invitation DIGEST, backup PATH"
                    .into());
            }
        };
        Ok(request)
    }
}

/// Bytes as an operator writes them: `1048576`, `500M`, `10GiB` (binary units).
///
/// # Errors
/// What was expected.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let shift = match unit {
        "" | "B" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        "T" | "TiB" => 40,
        _ => return Err(format!("{text:?}: expected bytes, such as 1048576, 500M or 10GiB")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?}: expected bytes, such as 1048576, 500M or 10GiB"))
}

/// Runs one request against the relay; returns the data lines and the `ok` line.
///
/// # Errors
/// The refusal or failure, whose text is the `error` line.
pub async fn execute<S: RelayStore>(
    relay: &Relay<S>,
    context: &AdminContext,
    request: &AdminRequest,
) -> Result<Vec<String>, Error> {
    match request {
        AdminRequest::Invite { valid_for } => {
            let (pin, expires) = context.invitation_terms(*valid_for, SystemTime::now())?;
            let invitation = relay.invite(&context.addresses, pin, expires).await?;
            tracing::info!("invitation issued");
            Ok(vec![format!("ok {}", invitation.to_text())])
        }
        AdminRequest::Accounts => {
            let accounts = relay.accounts().await?;
            let mut lines: Vec<String> = accounts
                .iter()
                .map(|summary| {
                    let quota = summary.settings.quota.map_or_else(|| "default".to_owned(), |q| q.to_string());
                    let state = if summary.settings.disabled { "disabled" } else { "enabled" };
                    format!(
                        "account {} {} {quota} {} {state}",
                        hex::encode(summary.account.as_bytes()),
                        summary.usage,
                        summary.devices
                    )
                })
                .collect();
            lines.push(format!("ok {}", accounts.len()));
            Ok(lines)
        }
        AdminRequest::Disable { account, disabled } => {
            let id = find_account(relay, account).await?;
            let change = if *disabled { AccountChange::Disable } else { AccountChange::Enable };
            relay.change_account(id, change).await?;
            tracing::info!(disabled, "account settings changed by the operator");
            Ok(vec![format!("ok {}", hex::encode(id.as_bytes()))])
        }
        AdminRequest::Quota { account, bytes } => {
            let id = find_account(relay, account).await?;
            relay.change_account(id, AccountChange::Quota(*bytes)).await?;
            tracing::info!("account quota changed by the operator");
            Ok(vec![format!("ok {}", hex::encode(id.as_bytes()))])
        }
        AdminRequest::Invitations => {
            let invitations = relay.invitations().await?;
            let mut lines: Vec<String> = invitations
                .iter()
                .map(|invitation| {
                    format!("invitation {} {}", hex::encode(invitation.digest), invitation.expires_at.get())
                })
                .collect();
            lines.push(format!("ok {}", invitations.len()));
            Ok(lines)
        }
        AdminRequest::RevokeInvitation { digest } => {
            let digest = relay.revoke_invitation(digest).await?;
            tracing::info!("invitation revoked by the operator");
            Ok(vec![format!("ok {}", hex::encode(digest))])
        }
        AdminRequest::Backup { to } => {
            let report = relay.backup(&context.data_dir, to).await?;
            tracing::info!("backup written");
            Ok(vec![format!("ok {report}")])
        }
    }
}

/// The one account whose hex id starts with `prefix`.
async fn find_account<S: RelayStore>(relay: &Relay<S>, prefix: &str) -> Result<AccountId, Error> {
    let prefix = prefix.to_ascii_lowercase();
    if prefix.len() < MIN_PREFIX || prefix.len() > 32 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Config(format!("an account is named by {MIN_PREFIX} to 32 hex digits of its id")));
    }
    let accounts = relay.accounts().await?;
    let mut matching = accounts.iter().filter(|summary| hex::encode(summary.account.as_bytes()).starts_with(&prefix));
    match (matching.next(), matching.next()) {
        (Some(found), None) => Ok(found.account),
        (Some(_), Some(_)) => Err(Error::Config(format!("several accounts start with {prefix}: give more digits"))),
        (None, _) => Err(Error::Refused(RelayError::NotFound)),
    }
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
pub async fn serve<S: RelayStore>(listener: UnixListener, relay: Arc<Relay<S>>, context: AdminContext) {
    let context = Arc::new(context);
    loop {
        let Ok((socket, _)) = listener.accept().await else { continue };
        let relay = relay.clone();
        let context = context.clone();
        tokio::spawn(async move {
            let (read, mut write) = socket.into_split();
            let mut line = String::new();
            let mut reader = BufReader::new(read.take(MAX_REQUEST_LINE as u64));
            let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line));
            let lines = match read.await {
                // A line cut short (too long, or the sender gone) is not a request: a
                // path cut short would still be a path, elsewhere.
                Ok(Ok(_)) if !line.ends_with('\n') => {
                    vec!["error the request line is too long or unfinished".to_owned()]
                }
                Ok(Ok(_)) => match AdminRequest::parse(line.strip_suffix('\n').unwrap_or(&line)) {
                    Ok(request) => match execute(&relay, &context, &request).await {
                        Ok(lines) => lines,
                        Err(error) => vec![format!("error {error}")],
                    },
                    Err(expected) => vec![format!("error {expected}")],
                },
                _ => vec!["error unreadable request".to_owned()],
            };
            let mut answer = lines.join("\n");
            answer.push('\n');
            let _ = write.write_all(answer.as_bytes()).await;
        });
    }
}

/// Sends a request to a running relay; returns its data lines and what follows `ok`.
///
/// # Errors
/// [`Error::Io`] if no relay answers on the socket, [`Error::Config`] with the relay's
/// reason if it refuses.
pub async fn request(data_dir: &Path, request: &AdminRequest) -> Result<(Vec<String>, String), Error> {
    let mut socket = UnixStream::connect(socket_path(data_dir)).await?;
    socket.write_all(format!("{}\n", request.to_line()).as_bytes()).await?;
    let mut lines = BufReader::new(socket).lines();
    let mut data = Vec::new();
    while let Some(line) = lines.next_line().await? {
        if line == "ok" {
            return Ok((data, String::new()));
        }
        if let Some(rest) = line.strip_prefix("ok ") {
            return Ok((data, rest.to_owned()));
        }
        if let Some(reason) = line.strip_prefix("error ") {
            return Err(Error::Config(reason.to_owned()));
        }
        data.push(line);
    }
    Err(Error::Config("the relay closed the admin socket without an answer".into()))
}

/// Asks a running relay for an invitation.
///
/// # Errors
/// [`Error::Io`] if no relay answers on the socket, [`Error::Config`] if it refuses.
pub async fn request_invitation(data_dir: &Path, valid_for: Duration) -> Result<String, Error> {
    request(data_dir, &AdminRequest::Invite { valid_for }).await.map(|(_, invitation)| invitation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_issued_during_a_rotation_expires_exactly_at_the_switch() {
        let (current, next) = (SpkiPin([1; 32]), SpkiPin([2; 32]));
        // A switch on a whole second, and a clock read between two seconds: cutting the
        // lifetime to whole seconds left made the invitation expire a second early.
        let switch_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_015);
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_800_000_000_300);
        let context = AdminContext {
            addresses: Vec::new(),
            pin: current,
            next: Some((next, switch_at)),
            data_dir: PathBuf::new(),
        };
        let day = Duration::from_secs(86_400);
        assert_eq!(context.invitation_terms(day, now).ok(), Some((current, switch_at)));
        let short = Duration::from_secs(5);
        assert_eq!(context.invitation_terms(short, now).ok(), Some((current, now + short)));
        assert_eq!(context.invitation_terms(day, switch_at).ok(), Some((next, switch_at + day)));
        assert!(context.invitation_terms(Duration::MAX, now).is_err(), "a lifetime past the clock's end");
        let settled = AdminContext { next: None, ..context };
        assert_eq!(settled.invitation_terms(day, now).ok(), Some((current, now + day)));
    }

    #[test]
    fn requests_read_back_as_written() {
        let requests = [
            AdminRequest::Invite { valid_for: Duration::from_secs(3600) },
            AdminRequest::Accounts,
            AdminRequest::Disable { account: "0123abcd".into(), disabled: true },
            AdminRequest::Disable { account: "0123abcd".into(), disabled: false },
            AdminRequest::Quota { account: "0123abcd".into(), bytes: Some(5 << 20) },
            AdminRequest::Quota { account: "0123abcd".into(), bytes: None },
            AdminRequest::Invitations,
            AdminRequest::RevokeInvitation { digest: "deadbeef".into() },
            AdminRequest::Backup { to: PathBuf::from("/var/backups/huis clos/2026-11-29") },
        ];
        for request in requests {
            assert_eq!(AdminRequest::parse(&request.to_line()), Ok(request));
        }
        assert!(AdminRequest::parse("invite 0").is_err());
        assert!(AdminRequest::parse("quota 0123abcd lots").is_err());
        assert!(AdminRequest::parse("drop table").is_err());
        assert!(AdminRequest::parse("backup relative/path").is_err());
    }

    #[test]
    fn bytes_are_read_in_binary_units() {
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("500M"), Ok(500 << 20));
        assert_eq!(parse_bytes("10GiB"), Ok(10 << 30));
        assert_eq!(parse_bytes("2K"), Ok(2048));
        assert!(parse_bytes("10GB").is_err());
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("99999999999T").is_err());
        assert!(parse_bytes("").is_err());
    }
}
