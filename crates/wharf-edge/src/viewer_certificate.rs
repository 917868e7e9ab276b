//! Distributions' own viewer certificates: `DIR/certificates/ID.pem`, the chain (leaf first)
//! and its private key in one PEM file, named by the ID a `ViewerCertificate` gives (the ACM
//! ARN's last part, or the IAM certificate ID). The HTTPS listener picks one by the name the
//! viewer asks for (SNI).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::CertifiedKey;

/// The directory under the distributions directory.
pub const DIR: &str = "certificates";

/// Reads a certificate chain (PEM, leaf first) and its private key (PEM; the same file may
/// hold both), checking that they go together.
pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<CertifiedKey>, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .and_then(Iterator::collect)
        .map_err(|e| format!("reading the certificate chain {}: {e}", cert_file.display()))?;
    if chain.is_empty() {
        return Err(format!("no certificate in {}", cert_file.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("reading the private key {}: {e}", key_file.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let key = CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| format!("the certificate and the private key do not go together: {e}"))?;
    Ok(Arc::new(key))
}

/// Every `DIR/certificates/*.pem` by ID; a file that fails is reported and skipped.
pub fn load_dir(dir: &Path, errors: &mut Vec<String>) -> HashMap<String, Arc<CertifiedKey>> {
    let mut found = HashMap::new();
    for (id, path) in files(dir) {
        match load(&path, &path) {
            Ok(k) => {
                found.insert(id, k);
            }
            Err(e) => errors.push(e),
        }
    }
    found
}

/// `(ID, path)` of each `.pem` file in `DIR/certificates`.
pub fn files(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    crate::registry::files_with_ext(&dir.join(DIR), "pem")
}

/// Whether the certificate's names cover `alias` (CloudFront refuses a distribution whose
/// certificate does not cover each of its alternate domain names). A wildcard alias
/// `*.example.com` needs a certificate for `*.example.com`.
pub fn covers(key: &CertifiedKey, alias: &str) -> bool {
    let Ok(leaf) = key.end_entity_cert() else {
        return false;
    };
    let Ok(parsed) = rustls::server::ParsedCertificate::try_from(leaf) else {
        return false;
    };
    // Any one label stands for the wildcard's: only a wildcard certificate covers it for
    // every label.
    let name = match alias.strip_prefix("*.") {
        Some(rest) => format!("wharf-wildcard-check.{rest}"),
        None => alias.to_owned(),
    };
    ServerName::try_from(name)
        .is_ok_and(|n| rustls::client::verify_server_name(&parsed, &n).is_ok())
}
