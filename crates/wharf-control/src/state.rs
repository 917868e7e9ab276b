//! The control plane's state: every resource the API creates (distributions, policies, origin
//! access controls, keys, functions, key value stores) and every invalidation, kept in memory
//! and in `DATA_DIR/control.db` (SQLite, WAL, `synchronous=FULL`: a change is acknowledged only
//! once it is on disk). Each committed change advances a sequence number, the change feed that
//! the edge follows ([`crate::Control::subscribe`]).
//!
//! A change is made in two steps: a closure reads the state and answers the writes it wants
//! (or an error, leaving everything as it was); the writes go to disk in one transaction and
//! only then into memory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ControlError, ControlResult};

/// The kinds of resources, as their ARNs name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Distribution,
    CachePolicy,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    OriginAccessControl,
    PublicKey,
    KeyGroup,
    Function,
    KeyValueStore,
}

impl Kind {
    /// The resource type in an ARN (`arn:aws:cloudfront::ACCOUNT:distribution/ID`).
    pub fn arn_type(self) -> &'static str {
        match self {
            Kind::Distribution => "distribution",
            Kind::CachePolicy => "cache-policy",
            Kind::OriginRequestPolicy => "origin-request-policy",
            Kind::ResponseHeadersPolicy => "response-headers-policy",
            Kind::OriginAccessControl => "origin-access-control",
            Kind::PublicKey => "public-key",
            Kind::KeyGroup => "key-group",
            Kind::Function => "function",
            Kind::KeyValueStore => "key-value-store",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }
}

/// One resource: its configuration in the JSON form of the API's `…Config` shape, and what the
/// service keeps about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub kind: Kind,
    pub id: String,
    pub etag: String,
    pub config: Value,
    /// Unix seconds.
    pub created: i64,
    pub modified: i64,
    /// `InProgress` until the edge has the change, then `Deployed` (distributions).
    #[serde(default)]
    pub status: String,
    /// The change-feed sequence number of its last change.
    #[serde(default)]
    pub seq: u64,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// What a kind keeps besides its config (a function's live stage, …).
    #[serde(default)]
    pub extra: Value,
}

/// An invalidation of paths (or cache tags) in one distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invalidation {
    pub distribution_id: String,
    pub id: String,
    /// The `InvalidationBatch` as given.
    pub batch: Value,
    pub created: i64,
    /// `InProgress` until the edge has applied it, then `Completed`.
    pub status: String,
    pub seq: u64,
}

/// The keys and values of one KeyValueStore.
pub type KeyValues = std::sync::Arc<BTreeMap<String, String>>;

/// A write a change asks for.
#[derive(Debug, Clone)]
pub enum Write {
    Put(Resource),
    /// Deletes a resource (a distribution's invalidations and a key value store's keys too).
    Delete(Kind, String),
    PutInvalidation(Invalidation),
    /// Puts and deletes keys of the key value store named `store`.
    KeyValues {
        store: String,
        puts: Vec<(String, String)>,
        deletes: Vec<String>,
    },
}

#[derive(Debug, Default)]
pub struct State {
    pub resources: BTreeMap<(Kind, String), Resource>,
    pub invalidations: BTreeMap<(String, String), Invalidation>,
    /// The last committed change.
    pub seq: u64,
    /// The last change the edge has applied.
    pub applied: u64,
    /// Each key value store's keys, by the store's name.
    pub key_values: BTreeMap<String, KeyValues>,
    /// The last change to anything distributions refer to (policies, keys, origin access
    /// controls, functions, key value stores): what the edge rebuilds distributions on.
    pub references_seq: u64,
}

impl State {
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Resource> {
        self.resources.get(&(kind, id.to_owned()))
    }

    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Resource> {
        self.resources
            .range((kind, String::new())..)
            .take_while(move |((k, _), _)| *k == kind)
            .map(|(_, r)| r)
    }
}

pub struct Db {
    conn: Mutex<Connection>,
    state: Mutex<State>,
    /// Signalled when the edge has applied more changes.
    applied_moved: Condvar,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS invalidations (distribution_id TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (distribution_id, id));
CREATE TABLE IF NOT EXISTS key_values (store TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (store, key));
CREATE TABLE IF NOT EXISTS feed (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, applied INTEGER NOT NULL);
INSERT OR IGNORE INTO feed (one, seq, applied) VALUES (1, 0, 0);
";

fn db_error(e: impl std::fmt::Display) -> ControlError {
    ControlError::internal(format!("control database: {e}"))
}

impl Db {
    /// Opens (creating) the database at `path` and reads it into memory.
    pub fn open(path: &Path) -> ControlResult<Self> {
        let conn = Connection::open(path).map_err(db_error)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;",
        )
        .map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        let (seq, applied) = conn
            .query_row("SELECT seq, applied FROM feed", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(db_error)?;
        let mut state = State {
            seq: seq as u64,
            applied: applied as u64,
            // Everything counts as changed at start.
            references_seq: seq as u64,
            ..State::default()
        };
        {
            let mut stmt = conn
                .prepare("SELECT kind, id, body FROM resources")
                .map_err(db_error)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(db_error)?;
            for row in rows {
                let (kind, id, body) = row.map_err(db_error)?;
                let Some(kind) = Kind::from_db(&kind) else {
                    return Err(db_error(format!("unknown resource kind {kind}")));
                };
                let r: Resource = serde_json::from_str(&body).map_err(db_error)?;
                state.resources.insert((kind, id), r);
            }
            let mut stmt = conn
                .prepare("SELECT store, key, value FROM key_values ORDER BY store, key")
                .map_err(db_error)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(db_error)?;
            let mut key_values: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            for row in rows {
                let (store, key, value) = row.map_err(db_error)?;
                key_values.entry(store).or_default().insert(key, value);
            }
            state.key_values = key_values
                .into_iter()
                .map(|(k, v)| (k, std::sync::Arc::new(v)))
                .collect();
            let mut stmt = conn
                .prepare("SELECT body FROM invalidations")
                .map_err(db_error)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db_error)?;
            for body in rows {
                let inv: Invalidation =
                    serde_json::from_str(&body.map_err(db_error)?).map_err(db_error)?;
                state
                    .invalidations
                    .insert((inv.distribution_id.clone(), inv.id.clone()), inv);
            }
        }
        Ok(Self {
            conn: Mutex::new(conn),
            state: Mutex::new(state),
            applied_moved: Condvar::new(),
        })
    }

    /// Reads the state.
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&state)
    }

    /// Records that the edge has applied every change up to `seq`.
    pub fn set_applied(&self, seq: u64) -> ControlResult<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if seq <= state.applied {
            return Ok(());
        }
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute("UPDATE feed SET applied = ?1", params![seq as i64])
            .map_err(db_error)?;
        state.applied = seq.min(state.seq);
        self.applied_moved.notify_all();
        Ok(())
    }

    /// Waits (blocking, at most `timeout`) until the edge has applied change `seq`; answers
    /// whether it has.
    pub fn wait_applied(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.applied < seq {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .applied_moved
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Makes a change: `f` sees the state and the sequence number the change will have, and
    /// answers its writes and its result. The writes are durable before this returns `Ok`.
    pub fn change<T>(
        &self,
        f: impl FnOnce(&State, u64) -> ControlResult<(Vec<Write>, T)>,
    ) -> ControlResult<T> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let seq = state.seq + 1;
        let (writes, answer) = f(&state, seq)?;
        if writes.is_empty() {
            return Ok(answer);
        }
        {
            let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
            let tx = conn.transaction().map_err(db_error)?;
            for w in &writes {
                match w {
                    Write::Put(r) => {
                        tx.execute(
                            "INSERT OR REPLACE INTO resources (kind, id, body) VALUES (?1, ?2, ?3)",
                            params![
                                r.kind.arn_type(),
                                r.id,
                                serde_json::to_string(r).map_err(db_error)?
                            ],
                        )
                        .map_err(db_error)?;
                    }
                    Write::Delete(kind, id) => {
                        tx.execute(
                            "DELETE FROM resources WHERE kind = ?1 AND id = ?2",
                            params![kind.arn_type(), id],
                        )
                        .map_err(db_error)?;
                        if *kind == Kind::Distribution {
                            tx.execute(
                                "DELETE FROM invalidations WHERE distribution_id = ?1",
                                params![id],
                            )
                            .map_err(db_error)?;
                        }
                        if *kind == Kind::KeyValueStore {
                            tx.execute("DELETE FROM key_values WHERE store = ?1", params![id])
                                .map_err(db_error)?;
                        }
                    }
                    Write::KeyValues {
                        store,
                        puts,
                        deletes,
                    } => {
                        for key in deletes {
                            tx.execute(
                                "DELETE FROM key_values WHERE store = ?1 AND key = ?2",
                                params![store, key],
                            )
                            .map_err(db_error)?;
                        }
                        for (key, value) in puts {
                            tx.execute(
                                "INSERT OR REPLACE INTO key_values (store, key, value) VALUES (?1, ?2, ?3)",
                                params![store, key, value],
                            )
                            .map_err(db_error)?;
                        }
                    }
                    Write::PutInvalidation(inv) => {
                        tx.execute(
                            "INSERT OR REPLACE INTO invalidations (distribution_id, id, body) VALUES (?1, ?2, ?3)",
                            params![
                                inv.distribution_id,
                                inv.id,
                                serde_json::to_string(inv).map_err(db_error)?
                            ],
                        )
                        .map_err(db_error)?;
                    }
                }
            }
            tx.execute("UPDATE feed SET seq = ?1", params![seq as i64])
                .map_err(db_error)?;
            tx.commit().map_err(db_error)?;
        }
        let references = writes.iter().any(|w| match w {
            Write::Put(r) => r.kind != Kind::Distribution,
            Write::Delete(kind, _) => *kind != Kind::Distribution,
            Write::PutInvalidation(_) => false,
            Write::KeyValues { .. } => true,
        });
        if references {
            state.references_seq = seq;
        }
        for w in writes {
            match w {
                Write::Put(r) => {
                    state.resources.insert((r.kind, r.id.clone()), r);
                }
                Write::Delete(kind, id) => {
                    state.resources.remove(&(kind, id.clone()));
                    if kind == Kind::Distribution {
                        state.invalidations.retain(|(d, _), _| *d != id);
                    }
                    if kind == Kind::KeyValueStore {
                        state.key_values.remove(&id);
                    }
                }
                Write::KeyValues {
                    store,
                    puts,
                    deletes,
                } => {
                    let map = std::sync::Arc::make_mut(state.key_values.entry(store).or_default());
                    for key in deletes {
                        map.remove(&key);
                    }
                    map.extend(puts);
                }
                Write::PutInvalidation(inv) => {
                    state
                        .invalidations
                        .insert((inv.distribution_id.clone(), inv.id.clone()), inv);
                }
            }
        }
        state.seq = seq;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str) -> Resource {
        Resource {
            kind: Kind::Distribution,
            id: id.to_owned(),
            etag: "E1".into(),
            config: serde_json::json!({"Comment": "c"}),
            created: 1,
            modified: 2,
            status: "InProgress".into(),
            seq: 1,
            tags: vec![("k".into(), "v".into())],
            extra: Value::Null,
        }
    }

    #[test]
    fn changes_are_durable_and_a_failed_change_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.db");
        {
            let db = Db::open(&path).unwrap();
            db.change(|_, seq| {
                let mut r = resource("EA");
                r.seq = seq;
                Ok((vec![Write::Put(r), Write::Put(resource("EB"))], ()))
            })
            .unwrap();
            let e = db
                .change(|_, _| -> ControlResult<(Vec<Write>, ())> {
                    Err(ControlError::invalid_argument("no"))
                })
                .unwrap_err();
            assert_eq!(e.code, "InvalidArgument");
            db.change(|_, _| Ok((vec![Write::Delete(Kind::Distribution, "EB".into())], ())))
                .unwrap();
        }
        let db = Db::open(&path).unwrap();
        db.read(|s| {
            assert_eq!(s.seq, 2);
            let ids: Vec<&str> = s
                .of_kind(Kind::Distribution)
                .map(|r| r.id.as_str())
                .collect();
            assert_eq!(ids, vec!["EA"]);
            assert_eq!(s.get(Kind::Distribution, "EA").unwrap().tags[0].1, "v");
            assert_eq!(s.of_kind(Kind::CachePolicy).count(), 0);
        });
    }
}
