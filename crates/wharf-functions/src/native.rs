//! The native helpers behind the prelude's modules: digests and HMACs (MD5, SHA-1, SHA-256),
//! and byte encodings (hex, base64, base64url, UTF-8, latin1). Bytes cross into JavaScript as
//! "byte strings" (one character per byte, 0 to 255), as cloudfront-js-1.0 handles them.

use md5::Md5;
use rquickjs::{Ctx, Exception, Function, Object, Result};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::origin::OriginChange;
use crate::{JsRuntime, KeyValues};

thread_local! {
    /// When the invocation running on this thread started (ms since the epoch): what `Date`
    /// answers all along it.
    static STARTED_AT: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    /// The `console.log` lines of the function running on this thread now.
    static LOGS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The KeyValueStore of the function running on this thread now.
    static KEY_VALUES: std::cell::RefCell<Option<(String, KeyValues)>> =
        const { std::cell::RefCell::new(None) };
    /// Whether the function running now may change its request's origin (a viewer-request
    /// function), and what it asked so far (`Err`: the first invalid call).
    static ORIGIN: std::cell::RefCell<(bool, Option<std::result::Result<OriginChange, String>>)> =
        const { std::cell::RefCell::new((false, None)) };
}

/// Lets the origin helpers work (`allowed`) or throw until the next call; forgets earlier
/// changes.
pub(crate) fn origin_helpers(allowed: bool) {
    ORIGIN.with(|o| *o.borrow_mut() = (allowed, None));
}

/// What the origin helpers were asked since [`origin_helpers`] (and forgets it).
pub(crate) fn take_origin() -> Option<std::result::Result<OriginChange, String>> {
    ORIGIN.with(|o| o.borrow_mut().1.take())
}

fn change_origin(helper: &str, params: &str) -> std::result::Result<(), &'static str> {
    ORIGIN.with(|o| {
        let (allowed, change) = &mut *o.borrow_mut();
        if !*allowed {
            return Err("can only be used in a viewer-request function");
        }
        let params: serde_json::Value =
            serde_json::from_str(params).unwrap_or(serde_json::Value::Null);
        // The first invalid call is the one reported.
        let failed = match change.get_or_insert_with(|| Ok(OriginChange::default())) {
            Ok(c) => c.apply(helper, &params).err(),
            Err(_) => None,
        };
        if let Some(e) = failed {
            *change = Some(Err(format!("cf.{helper}: {e}")));
        }
        Ok(())
    })
}

/// Makes `store` what `cloudfront.kvs()` reads until the guard is dropped.
pub(crate) fn reading(store: Option<(String, KeyValues)>) -> impl Drop {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            KEY_VALUES.with(|k| *k.borrow_mut() = None);
        }
    }
    KEY_VALUES.with(|k| *k.borrow_mut() = store);
    Reset
}

/// Marks the start of an invocation: `Date` answers this time until the next.
pub(crate) fn invocation_starts() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64);
    STARTED_AT.with(|t| t.set(now));
}

/// The lines logged since the last call (and forgets them).
pub(crate) fn take_logs() -> Vec<String> {
    LOGS.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Lines one invocation may log (CloudFront keeps a function's logs short too).
const MAX_LOG_LINES: usize = 100;

fn with_key_values<T>(f: impl FnOnce(Option<&(String, KeyValues)>) -> T) -> T {
    KEY_VALUES.with(|k| f(k.borrow().as_ref()))
}

fn to_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| u32::from(c).min(255) as u8).collect()
}

fn from_bytes(b: &[u8]) -> String {
    b.iter().map(|&x| char::from(x)).collect()
}

fn digest<D: Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

fn hash(alg: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match alg {
        "md5" => digest::<Md5>(data),
        "sha1" => digest::<Sha1>(data),
        "sha256" => digest::<Sha256>(data),
        _ => return None,
    })
}

/// HMAC (RFC 2104) over any of the digests, whose block is 64 bytes.
pub(crate) fn hmac(alg: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    const BLOCK: usize = 64;
    let mut k = if key.len() > BLOCK {
        hash(alg, key)?
    } else {
        key.to_vec()
    };
    k.resize(BLOCK, 0);
    let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(data);
    let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&hash(alg, &inner)?);
    hash(alg, &outer)
}

fn encode(bytes: &[u8], enc: &str) -> Option<String> {
    Some(match enc {
        "hex" => hex::encode(bytes),
        "base64" => base64_simd::STANDARD.encode_to_string(bytes),
        "base64url" => base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes),
        "utf8" | "utf-8" => String::from_utf8_lossy(bytes).into_owned(),
        "latin1" | "binary" | "ascii" => from_bytes(bytes),
        _ => return None,
    })
}

fn decode(text: &str, enc: &str) -> Option<Vec<u8>> {
    Some(match enc {
        "hex" => hex::decode(text).ok()?,
        "base64" | "base64url" => {
            let cleaned: String = text
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '=')
                .map(|c| match c {
                    '-' => '+',
                    '_' => '/',
                    c => c,
                })
                .collect();
            base64_simd::STANDARD_NO_PAD
                .decode_to_vec(cleaned.as_bytes())
                .ok()?
        }
        "utf8" | "utf-8" => text.as_bytes().to_vec(),
        "latin1" | "binary" | "ascii" => to_bytes(text),
        _ => return None,
    })
}

/// The object the prelude receives as `__wharf`.
pub fn install<'js>(ctx: &Ctx<'js>, runtime: JsRuntime) -> Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set(
        "version",
        match runtime {
            JsRuntime::V1 => 1,
            JsRuntime::V2 => 2,
        },
    )?;
    o.set(
        "checkAlg",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, alg: String| -> Result<()> {
            if hash(&alg, b"").is_none() {
                return Err(Exception::throw_type(
                    &ctx,
                    &format!("unsupported digest algorithm {alg}: md5, sha1 or sha256"),
                ));
            }
            Ok(())
        })?,
    )?;
    o.set(
        "hash",
        Function::new(ctx.clone(), |alg: String, data: String| -> String {
            from_bytes(&hash(&alg, &to_bytes(&data)).unwrap_or_default())
        })?,
    )?;
    o.set(
        "hmac",
        Function::new(
            ctx.clone(),
            |alg: String, key: String, data: String| -> String {
                from_bytes(&hmac(&alg, &to_bytes(&key), &to_bytes(&data)).unwrap_or_default())
            },
        )?,
    )?;
    o.set(
        "encode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, bytes: String, enc: String| -> Result<String> {
                encode(&to_bytes(&bytes), &enc)
                    .ok_or_else(|| Exception::throw_type(&ctx, &format!("unknown encoding {enc}")))
            },
        )?,
    )?;
    o.set(
        "decode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, text: String, enc: String| -> Result<String> {
                decode(&text, &enc)
                    .map(|b| from_bytes(&b))
                    .ok_or_else(|| Exception::throw_type(&ctx, &format!("cannot decode {enc}")))
            },
        )?,
    )?;
    o.set(
        "log",
        Function::new(ctx.clone(), |line: String| {
            LOGS.with(|l| {
                let mut l = l.borrow_mut();
                if l.len() < MAX_LOG_LINES {
                    l.push(line);
                }
            });
        })?,
    )?;
    o.set(
        "origin",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, helper: String, params: String| -> Result<()> {
                change_origin(&helper, &params)
                    .map_err(|e| Exception::throw_message(&ctx, &format!("cf.{helper} {e}")))
            },
        )?,
    )?;
    o.set(
        "startedAt",
        Function::new(ctx.clone(), || STARTED_AT.with(std::cell::Cell::get))?,
    )?;
    o.set(
        "kvsId",
        Function::new(ctx.clone(), || -> Option<String> {
            with_key_values(|kv| kv.map(|(id, _)| id.clone()))
        })?,
    )?;
    o.set(
        "kvsGet",
        Function::new(ctx.clone(), |key: String| -> Option<String> {
            with_key_values(|kv| kv.and_then(|(_, values)| values.get(&key).cloned()))
        })?,
    )?;
    o.set(
        "kvsCount",
        Function::new(ctx.clone(), || -> u32 {
            with_key_values(|kv| kv.map_or(0, |(_, v)| u32::try_from(v.len()).unwrap_or(u32::MAX)))
        })?,
    )?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_and_2202() {
        // RFC 4231 test case 2 (SHA-256) and RFC 2202 test case 2 (MD5, SHA-1).
        let key = b"Jefe";
        let data = b"what do ya want for nothing?";
        assert_eq!(
            hex::encode(hmac("sha256", key, data).unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac("md5", key, data).unwrap()),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert_eq!(
            hex::encode(hmac("sha1", key, data).unwrap()),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert!(hmac("sha512", key, data).is_none());
    }

    #[test]
    fn encodings_round_trip() {
        let bytes = [0u8, 1, 250, 255, b'a'];
        for enc in ["hex", "base64", "base64url", "latin1"] {
            let text = encode(&bytes, enc).unwrap();
            assert_eq!(decode(&text, enc).unwrap(), bytes, "{enc}");
        }
        assert_eq!(encode(b"\xfb\xff", "base64url").unwrap(), "-_8");
    }
}
