//! CloudFront cache-behavior path patterns: `*` matches zero or more characters, `?` exactly
//! one, everything else itself, case-sensitively. A pattern without a leading `/` matches as if
//! it had one (`images/*.jpg` is `/images/*.jpg`).

/// A compiled `PathPattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(String);

/// CloudFront: a path pattern is at most 255 characters.
pub const MAX_PATH_PATTERN_LEN: usize = 255;

impl PathPattern {
    pub fn new(pattern: &str) -> Option<Self> {
        if pattern.is_empty() || pattern.len() > MAX_PATH_PATTERN_LEN {
            return None;
        }
        let mut p = String::with_capacity(pattern.len() + 1);
        if !pattern.starts_with('/') && !pattern.starts_with('*') {
            p.push('/');
        }
        p.push_str(pattern);
        Some(Self(p))
    }

    pub fn matches(&self, path: &str) -> bool {
        wharf_model::cloudfront::wildcard_matches(&self.0, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudfront_examples() {
        let table: &[(&str, &str, bool)] = &[
            ("/images/*.jpg", "/images/a.jpg", true),
            ("/images/*.jpg", "/images/sub/a.jpg", true),
            ("/images/*.jpg", "/images/a.png", false),
            ("images/*.jpg", "/images/a.jpg", true),
            ("/images/*.jpg", "/Images/a.jpg", false),
            ("*.gif", "/a/b.gif", true),
            ("/a?c", "/abc", true),
            ("/a?c", "/ac", false),
            ("/a?c", "/abbc", false),
            ("*", "/anything/at/all", true),
            ("/api/*", "/api/", true),
            ("/api/*", "/api", false),
            ("/exact.html", "/exact.html", true),
            ("/exact.html", "/exact.htm", false),
            // A `*` in the path is text; the pattern's `*` still matches any run.
            ("/a*b", "/a*xb", true),
            ("/*a*b*c*", "/xxaxxbxxcxx", true),
            ("/*a*b*c*", "/xxaxxcxxbxx", false),
        ];
        for (pat, path, want) in table {
            assert_eq!(
                PathPattern::new(pat).unwrap().matches(path),
                *want,
                "{pat} vs {path}"
            );
        }
        assert!(PathPattern::new("").is_none());
        assert!(PathPattern::new(&"a".repeat(256)).is_none());
    }
}
