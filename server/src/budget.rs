//! The memory the relay holds for its peers, bounded three times over: per connection,
//! per account, and for the whole relay.
//!
//! What is counted is what a peer decides the size of: the body of every frame read
//! (from its header until the request has been answered) and every answer that may be
//! large (a page of a log, of content records, of Welcomes, a piece of a chunk), from
//! before it is read from the store until it has been written. A peer that stops reading
//! its answers, or sends frames it never finishes, runs out of its connection's share
//! and then its account's; the relay stops reading from it (the bytes wait in the peer's
//! own buffers and the transport's flow-control window), and nobody else notices.
//!
//! Shares are taken connection first, then account, then relay, always in that order,
//! so that two holders never wait for each other. Nothing held here waits for anything
//! but the peer: a held share is returned once the request is answered and the answer
//! written, or the connection closes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use huisclos_protocol::ids::AccountId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The limits of the budget.
#[derive(Debug, Clone, Copy)]
pub struct BudgetLimits {
    /// Bytes one connection may have held at once.
    pub per_connection: usize,
    /// Bytes all connections of one account may have held at once.
    pub per_account: usize,
    /// Bytes the relay holds for all peers at once.
    pub total: usize,
    /// Authenticated connections one account may have open at once.
    pub connections_per_account: u32,
}

#[derive(Debug)]
struct AccountShare {
    connections: u32,
    memory: Arc<Semaphore>,
}

/// The relay's memory budget and the accounts' shares of it.
#[derive(Debug)]
pub struct MemoryBudget {
    limits: BudgetLimits,
    total: Arc<Semaphore>,
    accounts: Mutex<HashMap<AccountId, AccountShare>>,
}

/// Bytes held for one purpose, returned when dropped.
#[derive(Debug, Default)]
pub struct Held {
    permits: Vec<OwnedSemaphorePermit>,
    bytes: usize,
}

impl Held {
    /// Nothing held.
    pub fn none() -> Self {
        Self::default()
    }

    /// How many bytes are held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Keeps only `bytes` of what is held (an answer smaller than was feared) and
    /// returns the rest.
    pub fn shrink_to(&mut self, bytes: usize) {
        if bytes >= self.bytes {
            return;
        }
        for permit in &mut self.permits {
            let excess = permit.num_permits().saturating_sub(bytes);
            if excess > 0 {
                drop(permit.split(excess));
            }
        }
        self.bytes = bytes;
    }
}

/// Why a connection's authentication is refused by the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyConnections;

impl MemoryBudget {
    /// A budget with these limits.
    pub fn new(limits: BudgetLimits) -> Self {
        Self { total: Arc::new(Semaphore::new(limits.total)), limits, accounts: Mutex::default() }
    }

    /// The limits.
    pub fn limits(&self) -> BudgetLimits {
        self.limits
    }

    /// A new connection's own share.
    pub fn connection_share(&self) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(self.limits.per_connection))
    }

    /// Counts a newly authenticated connection of `account` and returns the account's
    /// share, unless the account already has as many connections as it may.
    ///
    /// # Errors
    /// [`TooManyConnections`].
    pub fn admit(&self, account: AccountId) -> Result<Arc<Semaphore>, TooManyConnections> {
        let mut accounts = self.accounts.lock().map_err(|_| TooManyConnections)?;
        let share = accounts.entry(account).or_insert_with(|| AccountShare {
            connections: 0,
            memory: Arc::new(Semaphore::new(self.limits.per_account)),
        });
        if share.connections >= self.limits.connections_per_account {
            return Err(TooManyConnections);
        }
        share.connections += 1;
        Ok(share.memory.clone())
    }

    /// Forgets an authenticated connection of `account` that has ended.
    pub fn leave(&self, account: AccountId) {
        if let Ok(mut accounts) = self.accounts.lock()
            && let Some(share) = accounts.get_mut(&account)
        {
            share.connections = share.connections.saturating_sub(1);
            if share.connections == 0 {
                accounts.remove(&account);
            }
        }
    }

    /// Authenticated connections open now, over all accounts.
    pub fn authenticated_connections(&self) -> u64 {
        self.accounts.lock().map_or(0, |a| a.values().map(|s| u64::from(s.connections)).sum())
    }

    /// Bytes held now for all peers.
    pub fn held(&self) -> usize {
        self.limits.total.saturating_sub(self.total.available_permits())
    }

    /// Holds `bytes` against the connection's share, its account's (once it has one)
    /// and the relay's, waiting until each has room. `bytes` is clamped to the
    /// connection's share, which the configuration keeps at two frames or more.
    pub async fn hold(&self, connection: &Arc<Semaphore>, account: Option<&Arc<Semaphore>>, bytes: usize) -> Held {
        let bytes = bytes.min(self.limits.per_connection).min(self.limits.per_account).min(self.limits.total);
        let Ok(count) = u32::try_from(bytes) else { return Held::none() };
        if count == 0 {
            return Held::none();
        }
        let mut permits = Vec::with_capacity(3);
        for share in [Some(connection), account, Some(&self.total)].into_iter().flatten() {
            // The semaphores are never closed, so acquiring fails only if they were.
            if let Ok(permit) = share.clone().acquire_many_owned(count).await {
                permits.push(permit);
            }
        }
        Held { permits, bytes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> MemoryBudget {
        MemoryBudget::new(BudgetLimits {
            per_connection: 4 << 20,
            per_account: 8 << 20,
            total: 12 << 20,
            connections_per_account: 2,
        })
    }

    #[tokio::test]
    async fn shares_are_bounded_and_returned() {
        let budget = budget();
        let account = AccountId::from_bytes([1; 16]);
        let first = budget.admit(account).expect("first connection");
        let _second = budget.admit(account).expect("second connection");
        assert!(matches!(budget.admit(account), Err(TooManyConnections)), "a third is refused");
        let connection = budget.connection_share();
        let mut held = budget.hold(&connection, Some(&first), 3 << 20).await;
        assert_eq!(budget.held(), 3 << 20);
        // The connection's share has 1 MiB left: a second hold of 2 MiB waits.
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), budget.hold(&connection, Some(&first), 2 << 20))
                .await;
        assert!(waiting.is_err(), "the connection's share is spent");
        held.shrink_to(1 << 20);
        assert_eq!(budget.held(), 1 << 20, "an answer smaller than feared returns the rest");
        let more = budget.hold(&connection, Some(&first), 2 << 20).await;
        assert_eq!(budget.held(), 3 << 20);
        drop((held, more));
        assert_eq!(budget.held(), 0);
        budget.leave(account);
        budget.leave(account);
        assert_eq!(budget.authenticated_connections(), 0);
        assert!(budget.admit(account).is_ok(), "admitted again once the others left");
    }
}
