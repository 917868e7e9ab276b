//! `wharf user create|list|delete`: manage users and access keys in a data directory. Safe to
//! run beside a running server (SQLite WAL; the server sees changes within seconds).

use std::path::Path;

use anyhow::Result;
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
