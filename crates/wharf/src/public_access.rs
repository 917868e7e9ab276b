//! `wharf public-access-block put|get|delete`: the account's Block Public Access settings, which
//! every bucket's own are ORed with. Safe beside a running server (it sees a change within a
//! couple of seconds).

use std::path::Path;

use anyhow::Result;
use wharf_s3::public_access::{ACCOUNT_PUBLIC_ACCESS_BLOCK, PublicAccessBlock};
use wharf_store::Store;

pub async fn put(data_dir: &Path, block: Option<PublicAccessBlock>) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    meta.set_setting(
        ACCOUNT_PUBLIC_ACCESS_BLOCK,
        block.map(PublicAccessBlock::to_json),
    )
    .await?;
    match block {
        Some(b) => println!("{}", b.to_json()),
        None => println!("the account's public access block configuration was removed"),
    }
    Ok(())
}

pub async fn get(data_dir: &Path) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    match meta.setting(ACCOUNT_PUBLIC_ACCESS_BLOCK).await? {
        Some(text) => {
            println!("{}", PublicAccessBlock::from_json(&text).to_json());
            Ok(())
        }
        None => anyhow::bail!(
            "NoSuchPublicAccessBlockConfiguration: the account has no public access block configuration"
        ),
    }
}
