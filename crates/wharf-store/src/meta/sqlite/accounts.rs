//! Users, access keys, settings and buckets inside a transaction.

use rusqlite::{Connection, OptionalExtension, Row, params};
use wharf_model::{AccessKey, User};

use super::{uploads, versions};
use crate::error::{StoreError, StoreResult};
use crate::meta::{BucketRecord, MfaDevice, Versioning};

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        name: r.get(0)?,
        canonical_id: r.get(1)?,
        display_name: r.get(2)?,
    })
}

fn bucket_from_row(r: &Row<'_>) -> rusqlite::Result<BucketRecord> {
    let versioning: String = r.get(4)?;
    Ok(BucketRecord {
        name: r.get(0)?,
        owner: r.get(1)?,
        created_ms: r.get(2)?,
        region: r.get(3)?,
        versioning: match versioning.as_str() {
            "Enabled" => Versioning::Enabled,
            "Suspended" => Versioning::Suspended,
            _ => Versioning::Unversioned,
        },
    })
}

pub fn create_user(c: &Connection, user: &User, key: &AccessKey) -> StoreResult<()> {
    if c.prepare_cached("SELECT 1 FROM users WHERE name = ?1")?
        .exists([&user.name])?
    {
        return Err(StoreError::UserAlreadyExists(user.name.clone()));
    }
    c.prepare_cached("INSERT INTO users (name, canonical_id, display_name) VALUES (?1, ?2, ?3)")?
        .execute(params![user.name, user.canonical_id, user.display_name])?;
    insert_key(c, key)
}

pub fn insert_key(c: &Connection, key: &AccessKey) -> StoreResult<()> {
    if c.prepare_cached("SELECT 1 FROM access_keys WHERE access_key_id = ?1")?
        .exists([&key.access_key_id])?
    {
        return Err(StoreError::AccessKeyAlreadyExists);
    }
    if !c
        .prepare_cached("SELECT 1 FROM users WHERE name = ?1")?
        .exists([&key.user_name])?
    {
        return Err(StoreError::NoSuchUser(key.user_name.clone()));
    }
    c.prepare_cached(
        "INSERT INTO access_keys (access_key_id, secret, user_name) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![
        key.access_key_id,
        key.secret_access_key,
        key.user_name
    ])?;
    Ok(())
}

pub fn delete_user(c: &Connection, name: &str) -> StoreResult<()> {
    c.prepare_cached("DELETE FROM access_keys WHERE user_name = ?1")?
        .execute([name])?;
    match c
        .prepare_cached("DELETE FROM users WHERE name = ?1")?
        .execute([name])?
    {
        0 => Err(StoreError::NoSuchUser(name.to_owned())),
        _ => Ok(()),
    }
}

pub fn get_user(c: &Connection, name: &str) -> StoreResult<Option<User>> {
    Ok(
        c.prepare_cached("SELECT name, canonical_id, display_name FROM users WHERE name = ?1")?
            .query_row([name], user_from_row)
            .optional()?,
    )
}

pub fn list_users(c: &Connection) -> StoreResult<Vec<(User, Vec<String>)>> {
    let users: Vec<User> = c
        .prepare_cached("SELECT name, canonical_id, display_name FROM users ORDER BY name")?
        .query_map([], user_from_row)?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        let keys: Vec<String> = c
            .prepare_cached(
                "SELECT access_key_id FROM access_keys WHERE user_name = ?1 ORDER BY access_key_id",
            )?
            .query_map([&u.name], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        out.push((u, keys));
    }
    Ok(out)
}

pub fn lookup_access_key(c: &Connection, id: &str) -> StoreResult<Option<(AccessKey, User)>> {
    Ok(c.prepare_cached(
        "SELECT k.access_key_id, k.secret, u.name, u.canonical_id, u.display_name \
             FROM access_keys k JOIN users u ON u.name = k.user_name WHERE k.access_key_id = ?1",
    )?
    .query_row([id], |r| {
        Ok((
            AccessKey {
                access_key_id: r.get(0)?,
                secret_access_key: r.get(1)?,
                user_name: r.get(2)?,
            },
            User {
                name: r.get(2)?,
                canonical_id: r.get(3)?,
                display_name: r.get(4)?,
            },
        ))
    })
    .optional()?)
}

pub fn init_setting(c: &Connection, name: &str, value: &str) -> StoreResult<String> {
    c.prepare_cached("INSERT OR IGNORE INTO settings (name, value) VALUES (?1, ?2)")?
        .execute(params![name, value])?;
    Ok(
        c.prepare_cached("SELECT value FROM settings WHERE name = ?1")?
            .query_row([name], |r| r.get(0))?,
    )
}

pub fn setting(c: &Connection, name: &str) -> StoreResult<Option<String>> {
    Ok(
        c.prepare_cached("SELECT value FROM settings WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?,
    )
}

pub fn set_setting(c: &Connection, name: &str, value: Option<&str>) -> StoreResult<()> {
    match value {
        Some(v) => c
            .prepare_cached("INSERT OR REPLACE INTO settings (name, value) VALUES (?1, ?2)")?
            .execute([name, v])?,
        None => c
            .prepare_cached("DELETE FROM settings WHERE name = ?1")?
            .execute([name])?,
    };
    Ok(())
}

pub fn create_bucket(
    c: &Connection,
    b: &BucketRecord,
    configs: &[(String, String)],
) -> StoreResult<()> {
    match get_bucket(c, &b.name)? {
        Some(existing) if existing.owner == b.owner => Err(StoreError::BucketAlreadyOwnedByYou),
        Some(_) => Err(StoreError::BucketAlreadyExists),
        None => {
            c.prepare_cached(
                "INSERT INTO buckets (name, owner, created_ms, region, versioning) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                b.name,
                b.owner,
                b.created_ms,
                b.region,
                b.versioning.as_status().unwrap_or("")
            ])?;
            for (kind, value) in configs {
                set_bucket_config(c, &b.name, kind, Some(value))?;
            }
            Ok(())
        }
    }
}

pub fn get_bucket(c: &Connection, name: &str) -> StoreResult<Option<BucketRecord>> {
    Ok(c.prepare_cached(
        "SELECT name, owner, created_ms, region, versioning FROM buckets WHERE name = ?1",
    )?
    .query_row([name], bucket_from_row)
    .optional()?)
}

pub fn list_buckets(c: &Connection, owner: &str) -> StoreResult<Vec<BucketRecord>> {
    Ok(c.prepare_cached(
        "SELECT name, owner, created_ms, region, versioning FROM buckets WHERE owner = ?1 \
         ORDER BY name",
    )?
    .query_map([owner], bucket_from_row)?
    .collect::<Result<_, _>>()?)
}

/// Sets a bucket's versioning state; a bucket once versioned is never unversioned again.
pub fn set_versioning(c: &Connection, name: &str, state: Versioning) -> StoreResult<()> {
    let Some(bucket) = get_bucket(c, name)? else {
        return Err(StoreError::NoSuchBucket);
    };
    let Some(status) = state.as_status() else {
        if bucket.versioning == Versioning::Unversioned {
            return Ok(());
        }
        return Err(StoreError::InvalidRequest(
            "a bucket once versioned cannot be made unversioned".into(),
        ));
    };
    c.prepare_cached("UPDATE buckets SET versioning = ?2 WHERE name = ?1")?
        .execute(params![name, status])?;
    if bucket.versioning == Versioning::Unversioned {
        // From now on keys keep their current and null versions in `keys`: until now each had
        // one version, its null version.
        c.prepare_cached(
            "INSERT OR REPLACE INTO keys (bucket, key, current, current_is_marker, null_version) \
             SELECT bucket, key, version_id, delete_marker, version_id FROM versions \
             WHERE bucket = ?1",
        )?
        .execute([name])?;
    }
    Ok(())
}

/// Refuses while any version remains; aborts the bucket's uploads.
pub fn delete_bucket(c: &Connection, name: &str) -> StoreResult<()> {
    if !versions::bucket_exists(c, name)? {
        return Err(StoreError::NoSuchBucket);
    }
    if c.prepare_cached("SELECT 1 FROM versions WHERE bucket = ?1 LIMIT 1")?
        .exists([name])?
    {
        return Err(StoreError::BucketNotEmpty);
    }
    let ids: Vec<String> = c
        .prepare_cached("SELECT upload_id FROM uploads WHERE bucket = ?1")?
        .query_map([name], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        uploads::delete(c, &id)?;
    }
    c.prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1")?
        .execute([name])?;
    c.prepare_cached("DELETE FROM buckets WHERE name = ?1")?
        .execute([name])?;
    Ok(())
}

/// A bucket's configuration of `kind`, if it has one.
pub fn bucket_config(c: &Connection, bucket: &str, kind: &str) -> StoreResult<Option<String>> {
    if !versions::bucket_exists(c, bucket)? {
        return Err(StoreError::NoSuchBucket);
    }
    Ok(
        c.prepare_cached("SELECT value FROM bucket_configs WHERE bucket = ?1 AND kind = ?2")?
            .query_row([bucket, kind], |r| r.get(0))
            .optional()?,
    )
}

/// Sets (or, with `None`, removes) a bucket's configuration of `kind`.
pub fn set_bucket_config(
    c: &Connection,
    bucket: &str,
    kind: &str,
    value: Option<&str>,
) -> StoreResult<()> {
    if !versions::bucket_exists(c, bucket)? {
        return Err(StoreError::NoSuchBucket);
    }
    match value {
        Some(v) => c
            .prepare_cached(
                "INSERT OR REPLACE INTO bucket_configs (bucket, kind, value) VALUES (?1, ?2, ?3)",
            )?
            .execute([bucket, kind, v])?,
        None => c
            .prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1 AND kind = ?2")?
            .execute([bucket, kind])?,
    };
    Ok(())
}

pub fn create_mfa_device(c: &Connection, d: &MfaDevice) -> StoreResult<()> {
    if get_user(c, &d.user)?.is_none() {
        return Err(StoreError::NoSuchUser(d.user.clone()));
    }
    if c.prepare_cached("SELECT 1 FROM mfa_devices WHERE serial = ?1")?
        .exists([&d.serial])?
    {
        return Err(StoreError::InvalidRequest(format!(
            "an MFA device {} already exists",
            d.serial
        )));
    }
    c.prepare_cached(
        "INSERT INTO mfa_devices (serial, user_name, secret, last_step) VALUES (?1, ?2, ?3, 0)",
    )?
    .execute([&d.serial, &d.user, &d.secret])?;
    Ok(())
}

pub fn mfa_device(c: &Connection, serial: &str) -> StoreResult<Option<MfaDevice>> {
    Ok(c.prepare_cached(
        "SELECT serial, user_name, secret, last_step FROM mfa_devices WHERE serial = ?1",
    )?
    .query_row([serial], |r| {
        Ok(MfaDevice {
            serial: r.get(0)?,
            user: r.get(1)?,
            secret: r.get(2)?,
            last_step: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        })
    })
    .optional()?)
}

pub fn use_mfa_step(c: &Connection, serial: &str, step: u64) -> StoreResult<bool> {
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    Ok(c.prepare_cached(
        "UPDATE mfa_devices SET last_step = ?2 WHERE serial = ?1 AND last_step < ?2",
    )?
    .execute(params![serial, step])?
        == 1)
}

pub fn put_user_policy(c: &Connection, user: &str, name: &str, document: &str) -> StoreResult<()> {
    if get_user(c, user)?.is_none() {
        return Err(StoreError::NoSuchUser(user.to_owned()));
    }
    c.prepare_cached(
        "INSERT INTO user_policies (user_name, name, document) VALUES (?1, ?2, ?3) \
         ON CONFLICT (user_name, name) DO UPDATE SET document = excluded.document",
    )?
    .execute([user, name, document])?;
    Ok(())
}

pub fn delete_user_policy(c: &Connection, user: &str, name: &str) -> StoreResult<bool> {
    Ok(
        c.prepare_cached("DELETE FROM user_policies WHERE user_name = ?1 AND name = ?2")?
            .execute([user, name])?
            > 0,
    )
}

pub fn user_policies(c: &Connection, user: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(c.prepare_cached(
        "SELECT name, document FROM user_policies WHERE user_name = ?1 ORDER BY name",
    )?
    .query_map([user], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect::<Result<_, _>>()?)
}
