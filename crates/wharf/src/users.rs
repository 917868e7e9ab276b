//! `wharf user create|list|delete` and `wharf user policy put|get|list|delete`: manage users,
//! access keys and identity policies in a data directory. Safe to run beside a running server
//! (SQLite WAL; the server sees changes within seconds).

use std::path::Path;

use anyhow::{Context, Result};
use wharf_auth::policy::{Policy, PolicyKind};
use wharf_auth::{AccessKey, generate_access_key, new_user};
use wharf_store::Store;

pub async fn create(data_dir: &Path, name: &str, keys: Option<(String, String)>) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    let user = new_user(name)?;
    let key = match &keys {
        Some((ak, sk)) => AccessKey::given(name, ak, sk)?,
        None => generate_access_key(name)?,
    };
    meta.create_user(user.clone(), key.clone()).await?;
    println!(
        "user {} created (canonical ID {})",
        user.name, user.canonical_id
    );
    println!("AWS_ACCESS_KEY_ID={}", key.access_key_id);
    if keys.is_none() {
        // Shown once: it is not printed again.
        println!("AWS_SECRET_ACCESS_KEY={}", key.secret_access_key);
    }
    Ok(())
}

pub async fn list(data_dir: &Path) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    // The account every user belongs to (what x-amz-expected-bucket-owner names); made by the
    // server's first start.
    let account = meta.setting("account_id").await?;
    if let Some(account) = &account {
        println!("account\t{account}");
    }
    // Each user with its ARN, as policies name it (the root user is the account's root).
    for (u, keys) in meta.list_users().await? {
        let arn = match (&account, u.name.as_str()) {
            (Some(a), wharf_model::ROOT_USER) => format!("arn:aws:iam::{a}:root"),
            (Some(a), name) => format!("arn:aws:iam::{a}:user/{name}"),
            (None, _) => String::new(),
        };
        println!("{}\t{}\t{}\t{arn}", u.name, u.canonical_id, keys.join(","));
    }
    Ok(())
}

pub async fn delete(data_dir: &Path, name: &str) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    meta.delete_user(name).await?;
    println!("user {name} deleted");
    Ok(())
}

/// IAM's limit on a user's inline policy name: 1 to 128 of letters, digits and `+=,.@_-`.
fn valid_policy_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

pub async fn put_policy(data_dir: &Path, user: &str, name: &str, file: &Path) -> Result<()> {
    if !valid_policy_name(name) {
        anyhow::bail!("invalid policy name {name:?}: use 1 to 128 of letters, digits and +=,.@_-");
    }
    let text = if file == Path::new("-") {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)?;
        t
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    if let Err(e) = Policy::parse(&text, PolicyKind::Identity) {
        anyhow::bail!("MalformedPolicyDocument: {e}");
    }
    let meta = Store::open_meta(data_dir)?;
    meta.put_user_policy(user, name, text).await?;
    println!("policy {name} attached to user {user}");
    Ok(())
}

pub async fn get_policy(data_dir: &Path, user: &str, name: &str) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    match meta
        .user_policies(user)
        .await?
        .into_iter()
        .find(|(n, _)| n == name)
    {
        Some((_, doc)) => {
            println!("{doc}");
            Ok(())
        }
        None => anyhow::bail!("NoSuchEntity: user {user} has no policy {name}"),
    }
}

pub async fn list_policies(data_dir: &Path, user: &str) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    if meta.get_user(user).await?.is_none() {
        anyhow::bail!("NoSuchEntity: no user {user}");
    }
    for (name, _) in meta.user_policies(user).await? {
        println!("{name}");
    }
    Ok(())
}

pub async fn delete_policy(data_dir: &Path, user: &str, name: &str) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    if !meta.delete_user_policy(user, name).await? {
        anyhow::bail!("NoSuchEntity: user {user} has no policy {name}");
    }
    println!("policy {name} removed from user {user}");
    Ok(())
}
