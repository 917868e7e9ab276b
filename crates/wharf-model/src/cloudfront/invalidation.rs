//! What an invalidation may name: a path (`/a/b.html`, `/img/*`) or a cache tag (`#product:tv`),
//! checked by the control API on CreateInvalidation and by the edge when it records one.

/// CloudFront: an invalidation path is at most 4,000 characters.
pub const MAX_INVALIDATION_PATH_LEN: usize = 4000;

/// Longest cache tag.
pub const MAX_CACHE_TAG_LEN: usize = 1024;

/// A path that starts with `/`, has `*` only at its end and no control characters; or `#`
/// and a cache tag.
pub fn valid_invalidation_path(path: &str) -> bool {
    if let Some(tag) = path.strip_prefix('#') {
        return valid_cache_tag(tag);
    }
    path.starts_with('/')
        && path.len() <= MAX_INVALIDATION_PATH_LEN
        && !path.strip_suffix('*').unwrap_or(path).contains('*')
        && !path.chars().any(char::is_control)
}

/// A cache tag as an origin's tag header lists it: printable, no `*`, `,` or spaces.
pub fn valid_cache_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= MAX_CACHE_TAG_LEN
        && tag
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'*' && b != b',')
}
