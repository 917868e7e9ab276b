//! `wharf mfa create USER`: registers a virtual MFA device for a user (what MFA delete asks
//! for) and shows its secret as an `otpauth://` URI and a QR code for an authenticator app.

use std::path::Path;

use anyhow::{Context, Result, bail};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use wharf_auth::totp;
use wharf_store::{MfaDevice, Store};

/// Percent-encodes a URI component.
fn uri_component(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn create(data_dir: &Path, user: &str) -> Result<()> {
    let meta = Store::open_meta(data_dir)?;
    if meta.get_user(user).await?.is_none() {
        bail!("no user {user:?} (see `wharf user list`)");
    }
    let Some(account) = meta.setting("account_id").await? else {
        bail!("this data directory has no account yet: start `wharf serve` on it once first");
    };
    let mut secret = [0u8; 20];
    getrandom::fill(&mut secret)
        .map_err(|e| anyhow::anyhow!("random bytes for the secret: {e}"))?;
    let device = MfaDevice {
        serial: format!("arn:aws:iam::{account}:mfa/{user}"),
        user: user.to_owned(),
        secret: totp::base32(&secret),
        last_step: 0,
    };
    meta.create_mfa_device(device.clone()).await?;
    let uri = format!(
        "otpauth://totp/Wharf:{}?secret={}&issuer=Wharf&algorithm=SHA1&digits=6&period={}",
        uri_component(user),
        device.secret,
        totp::STEP_SECS
    );
    println!("MFA device for {user} created");
    println!("serial {}", device.serial);
    println!("secret {}", device.secret);
    println!("{uri}");
    let qr = QrCode::new(uri.as_bytes()).context("making the QR code")?;
    println!(
        "{}",
        qr.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .build()
    );
    println!(
        "Requests that need it carry `x-amz-mfa: {} CODE` (aws s3api ... --mfa \"{} CODE\").",
        device.serial, device.serial
    );
    Ok(())
}
