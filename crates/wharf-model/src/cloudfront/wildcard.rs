//! CloudFront's wildcards, shared by cache behaviors' `PathPattern` and signed policies'
//! `Resource`: `*` matches any run of characters (none too), `?` exactly one, everything else
//! itself, case-sensitively.

/// Whether `text` matches `pattern`.
pub fn wildcard_matches(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        glob(pattern.as_bytes(), text.as_bytes(), b'*', b'?')
    } else {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        glob(&p, &t, '*', '?')
    }
}

/// Glob match that backtracks to the last `*` only: linear in practice, and at most
/// O(pattern × text) for hostile patterns.
fn glob<T: Copy + PartialEq>(p: &[T], t: &[T], any: T, one: T) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || (p[pi] != any && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == any)
}

#[cfg(test)]
mod tests {
    use super::wildcard_matches as m;

    #[test]
    fn wildcards() {
        assert!(m("http://d1/*", "http://d1/a/b?c=d"));
        assert!(m(
            "http*://d1/*game_download.zip*",
            "https://d1/example_game_download.zip?license=yes"
        ));
        assert!(m("http://d1/a?c", "http://d1/abc"));
        assert!(!m("http://d1/a?c", "http://d1/ac"));
        assert!(m("*", ""));
        assert!(!m("/a", "/A"));
        assert!(!m("/a", "/ab"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxaxxcxxbxx"));
        // A literal `*` in the text is matched by the pattern's `*`, not as itself.
        assert!(!m("/a*", "/b*"));
        // `?` is one character, not one byte.
        assert!(m("/caf?", "/café"));
        let long = "a".repeat(5000);
        assert!(!m(&format!("{}b", "*a".repeat(50)), &long));
    }
}
