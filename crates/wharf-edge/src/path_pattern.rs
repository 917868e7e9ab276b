//! CloudFront cache-behavior path patterns: `*` matches zero or more characters, `?` exactly
//! one, everything else itself, case-sensitively. A pattern without a leading `/` matches as if
//! it had one (`images/*.jpg` is `/images/*.jpg`).

/// A compiled `PathPattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(Vec<u8>);

/// CloudFront: a path pattern is at most 255 characters.
pub const MAX_PATH_PATTERN_LEN: usize = 255;

impl PathPattern {
    pub fn new(pattern: &str) -> Option<Self> {
        if pattern.is_empty() || pattern.len() > MAX_PATH_PATTERN_LEN {
            return None;
        }
        let mut p = Vec::with_capacity(pattern.len() + 1);
        if !pattern.starts_with('/') && !pattern.starts_with('*') {
            p.push(b'/');
        }
        p.extend_from_slice(pattern.as_bytes());
        Some(Self(p))
    }

    /// Glob match with backtracking to the last `*` only: linear in practice, and at most
    /// O(pattern × path) for hostile patterns.
    pub fn matches(&self, path: &str) -> bool {
        let (p, s) = (&self.0, path.as_bytes());
        let (mut pi, mut si) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while si < s.len() {
            if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
                pi += 1;
                si += 1;
            } else if pi < p.len() && p[pi] == b'*' {
                star = Some((pi, si));
                pi += 1;
            } else if let Some((sp, ss)) = star {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == b'*')
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
