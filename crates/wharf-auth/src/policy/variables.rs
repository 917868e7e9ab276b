//! Policy variables (`${aws:username}`), replaced in `Resource` and in condition values of
//! policies at version 2012-10-17 (in 2008-10-17 they are plain text). `${*}`, `${?}` and `${$}`
//! stand for the literal characters; `${key, 'default'}` gives a value when the request has
//! none. A variable the request does not have, with no default, makes the text match nothing.

use std::borrow::Cow;

use super::RequestContext;
use super::document::PolicyVersion;

/// `text` with its variables replaced, or `None` if one of them has no value (borrowed when it
/// has none, the common case).
pub fn substitute<'a>(
    text: &'a str,
    version: PolicyVersion,
    ctx: &RequestContext,
) -> Option<Cow<'a, str>> {
    if version == PolicyVersion::V2008 || !text.contains("${") {
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Some(Cow::Owned(out));
        };
        let inner = &after[..end];
        match inner {
            "*" | "?" | "$" => out.push_str(inner),
            _ => {
                let (key, default) = match inner.split_once(',') {
                    Some((k, d)) => {
                        let d = d.trim();
                        let d = d.strip_prefix('\'').and_then(|d| d.strip_suffix('\''));
                        (k.trim(), d)
                    }
                    None => (inner.trim(), None),
                };
                match ctx.get(key).as_deref().and_then(<[String]>::first) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(default?),
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}
