//! Root credentials: taken from config/env, or generated on first start, stored in the data
//! directory (`root-credentials`, mode 0600) and printed once. There is no built-in secret.

use std::path::Path;

use anyhow::{Context, Result};
use wharf_auth::{AccessKey, generate_access_key, new_user};
use wharf_store::{MetaStore, StoreError};

pub use wharf_model::ROOT_USER;
const CREDENTIALS_FILE: &str = "root-credentials";

/// Makes sure the root user exists with the configured keys; returns the key pair in use when
/// it was just made (so the caller prints it once), else `None`.
pub async fn ensure_root(
    meta: &dyn MetaStore,
    data_dir: &Path,
    given: Option<&(String, String)>,
) -> Result<Option<AccessKey>> {
    let exists = meta.get_user(ROOT_USER).await?.is_some();
    match given {
        Some((ak, sk)) => {
            let key = AccessKey::given(ROOT_USER, ak, sk)?;
            if !exists {
                meta.create_user(new_user(ROOT_USER)?, key).await?;
                return Ok(None);
            }
            match meta.lookup_access_key(ak).await? {
                Some((k, _))
                    if k.user_name == ROOT_USER && k.secret_access_key == key.secret_access_key =>
                {
                    Ok(None)
                }
                Some(_) => anyhow::bail!(
                    "access key {ak} already belongs to another user or has another secret"
                ),
                None => match meta.add_access_key(key).await {
                    Ok(()) | Err(StoreError::AccessKeyAlreadyExists) => Ok(None),
                    Err(e) => Err(e.into()),
                },
            }
        }
        None if exists => Ok(None),
        None => {
            let key = generate_access_key(ROOT_USER)?;
            meta.create_user(new_user(ROOT_USER)?, key.clone()).await?;
            write_credentials(data_dir, &key)?;
            Ok(Some(key))
        }
    }
}

fn write_credentials(data_dir: &Path, key: &AccessKey) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join(CREDENTIALS_FILE);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(
        f,
        "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}",
        key.access_key_id, key.secret_access_key
    )?;
    f.sync_all()?;
    Ok(())
}
