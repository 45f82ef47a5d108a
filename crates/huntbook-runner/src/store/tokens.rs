//! API tokens: issued once, then kept only as their SHA-256 hash.
//!
//! A token is `hb_` followed by 32 random bytes in URL-safe base64. The store keeps
//! its hash, a name and a [`Scope`]; the token itself is shown once, when it is
//! created, and cannot be read back. Checking a request's token is one lookup by
//! hash; a revoked token stays listed (who had access, and until when) but no
//! longer authenticates.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

use super::tx::{Param, Row, Tx};
use super::JobStore;
use crate::error::StoreError;

/// What a token may do; each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read runs, logs, notebooks and metrics.
    Read,
    /// Also start and cancel runs.
    Run,
    /// Everything.
    Admin,
}

impl Scope {
    /// Every scope, from the least to the most allowed.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Run, Scope::Admin];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Run => "run",
            Scope::Admin => "admin",
        }
    }

    /// True when a token of this scope may do what `needed` allows.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Scope, String> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope '{s}' (one of: read, run, admin)"))
    }
}

/// A stored token, without the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Its id, which `token revoke` takes.
    pub id: Uuid,
    /// What its holder called it.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just issued: the only time its secret text exists outside its holder.
pub struct IssuedToken {
    /// What the store keeps.
    pub info: TokenInfo,
    /// `hb_...`, for the holder's `Authorization: Bearer` header.
    pub token: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("info", &self.info)
            .field("token", &"hb_...")
            .finish()
    }
}

/// The prefix of every token, so that a leaked one is recognisable (and scannable).
pub const TOKEN_PREFIX: &str = "hb_";

/// How stale `last_used_at` may get before a request writes it again: checking a
/// token stays a read for the many requests in between.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::minutes(1);

const TOKEN_COLUMNS: &str = "id, name, scope, created_at, last_used_at, revoked_at";

fn new_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StoreError::Background("the system's random source failed".into()))?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The stored form of a token: its SHA-256 in hex.
fn hash(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn token_from_row(row: &Row) -> Result<TokenInfo, StoreError> {
    Ok(TokenInfo {
        id: row.parsed(0)?,
        name: row.text(1)?.to_owned(),
        scope: row.parsed(2)?,
        created_at: row.time(3)?,
        last_used_at: row.opt_time(4)?,
        revoked_at: row.opt_time(5)?,
    })
}

async fn insert(
    tx: &mut Tx<'_>,
    info: TokenInfo,
    token_hash: String,
) -> Result<TokenInfo, StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO tokens ({TOKEN_COLUMNS}, hash) VALUES ($1, $2, $3, $4, NULL, NULL, $5)"
        ),
        &[
            Param::text(info.id.to_string()),
            Param::text(&info.name),
            Param::text(info.scope.as_str()),
            Param::time(info.created_at),
            Param::text(token_hash),
        ],
    )
    .await?;
    Ok(info)
}

async fn by_hash(tx: &mut Tx<'_>, token_hash: String) -> Result<Option<TokenInfo>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1");
    tx.query(&sql, &[Param::text(token_hash)])
        .await?
        .first()
        .map(token_from_row)
        .transpose()
}

async fn touch(tx: &mut Tx<'_>, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE tokens SET last_used_at = $2 WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < $3)",
        &[
            Param::text(id.to_string()),
            Param::time(now),
            Param::time(now - LAST_USED_RESOLUTION),
        ],
    )
    .await?;
    Ok(())
}

async fn list(tx: &mut Tx<'_>) -> Result<Vec<TokenInfo>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, seq");
    tx.query(&sql, &[])
        .await?
        .iter()
        .map(token_from_row)
        .collect()
}

async fn revoke(tx: &mut Tx<'_>, id: Uuid, now: DateTime<Utc>) -> Result<TokenInfo, StoreError> {
    tx.execute(
        "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[Param::text(id.to_string()), Param::time(now)],
    )
    .await?;
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1");
    tx.query(&sql, &[Param::text(id.to_string())])
        .await?
        .first()
        .map(token_from_row)
        .unwrap_or(Err(StoreError::TokenNotFound(id)))
}

impl JobStore {
    /// Issue a token named `name` with `scope`; its text is in the answer and
    /// nowhere else.
    pub async fn create_token(&self, name: &str, scope: Scope) -> Result<IssuedToken, StoreError> {
        let token = new_token()?;
        let info = TokenInfo {
            id: Uuid::new_v4(),
            name: name.to_owned(),
            scope,
            created_at: self.options.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let token_hash = hash(&token);
        let info = self
            .transact(true, move |tx| Box::pin(insert(tx, info, token_hash)))
            .await?;
        Ok(IssuedToken { info, token })
    }

    /// The token a request presents, when it is known and not revoked; `None`
    /// otherwise (the caller answers 401 either way).
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenInfo>, StoreError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let token_hash = hash(token);
        let found = self
            .transact(false, move |tx| Box::pin(by_hash(tx, token_hash)))
            .await?;
        let Some(info) = found.filter(|info| info.revoked_at.is_none()) else {
            return Ok(None);
        };
        let now = self.options.clock.now();
        if info
            .last_used_at
            .is_none_or(|used| used < now - LAST_USED_RESOLUTION)
        {
            let id = info.id;
            self.transact(true, move |tx| Box::pin(touch(tx, id, now)))
                .await?;
        }
        Ok(Some(info))
    }

    /// Every token issued, oldest first, revoked ones included.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        self.transact(false, |tx| Box::pin(list(tx))).await
    }

    /// Revoke a token (again is a no-op); it is refused from then on.
    pub async fn revoke_token(&self, id: Uuid) -> Result<TokenInfo, StoreError> {
        let now = self.options.clock.now();
        self.transact(true, move |tx| Box::pin(revoke(tx, id, now)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::tests::{Fixture, Kind};
    use super::*;

    crate::store::tests::on_both_stores!(
        tokens_authenticate_by_hash_until_revoked,
        last_use_is_recorded_once_a_minute,
    );

    async fn tokens_authenticate_by_hash_until_revoked(f: Fixture) {
        let store = f.open(|_| {}).await;
        let issued = store.create_token("ci", Scope::Run).await.unwrap();
        assert!(issued.token.starts_with("hb_") && issued.token.len() == 3 + 43);
        assert!(!format!("{issued:?}").contains(&issued.token[3..]));
        let other = store.create_token("reader", Scope::Read).await.unwrap();
        assert_ne!(issued.token, other.token);

        let found = store.authenticate(&issued.token).await.unwrap().unwrap();
        assert_eq!((found.id, found.scope), (issued.info.id, Scope::Run));
        for wrong in ["", "hb_", "Bearer", &issued.token[..20], &issued.token[3..]] {
            assert_eq!(store.authenticate(wrong).await.unwrap(), None, "{wrong}");
        }

        let revoked = store.revoke_token(issued.info.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(store.authenticate(&issued.token).await.unwrap(), None);
        assert!(store.authenticate(&other.token).await.unwrap().is_some());
        let listed = store.tokens().await.unwrap();
        assert_eq!(
            listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["ci", "reader"]
        );
        let missing = Uuid::new_v4();
        assert!(matches!(
            store.revoke_token(missing).await,
            Err(StoreError::TokenNotFound(id)) if id == missing
        ));
    }

    async fn last_use_is_recorded_once_a_minute(f: Fixture) {
        let store = f.open(|_| {}).await;
        let issued = store.create_token("ci", Scope::Admin).await.unwrap();
        assert_eq!(store.tokens().await.unwrap()[0].last_used_at, None);
        store.authenticate(&issued.token).await.unwrap();
        let first = store.tokens().await.unwrap()[0].last_used_at.unwrap();
        f.clock.advance(Duration::from_secs(30));
        store.authenticate(&issued.token).await.unwrap();
        assert_eq!(store.tokens().await.unwrap()[0].last_used_at, Some(first));
        f.clock.advance(Duration::from_secs(40));
        store.authenticate(&issued.token).await.unwrap();
        let later = store.tokens().await.unwrap()[0].last_used_at.unwrap();
        assert_eq!(later - first, chrono::Duration::seconds(70));
    }

    #[test]
    fn scopes_include_the_ones_before() {
        assert!(Scope::Admin.allows(Scope::Run) && Scope::Run.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Run) && !Scope::Run.allows(Scope::Admin));
        assert_eq!("run".parse::<Scope>(), Ok(Scope::Run));
        assert!("root"
            .parse::<Scope>()
            .unwrap_err()
            .contains("read, run, admin"));
    }

    #[test]
    fn the_stored_hash_is_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
