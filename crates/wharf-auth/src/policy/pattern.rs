//! IAM's wildcard matching: `*` matches any run of characters (none included) and `?` exactly
//! one, everywhere else characters match themselves, case-sensitively unless asked otherwise.
//! Used for `Action`, `Resource`, `StringLike` and `ArnLike`.

/// Whether `text` matches `pattern` (`*` and `?` wildcards). Linear in the worst case for
/// each `*` (the classic greedy matcher with one backtrack point), so a hostile pattern costs
/// O(pattern × text), never exponential.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // Every request evaluates many patterns: ASCII (nearly all of them) is matched on bytes,
    // with no allocation.
    if pattern.is_ascii() && text.is_ascii() {
        let same = |a: &u8, b: &u8| a == b || (ignore_case && a.eq_ignore_ascii_case(b));
        return greedy(pattern.as_bytes(), text.as_bytes(), b'*', b'?', same);
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let same =
        |a: &char, b: &char| a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()));
    greedy(&p, &t, '*', '?', same)
}

/// The matcher over any symbols: `star` matches a run, `one` exactly one symbol.
fn greedy<T: Copy + PartialEq>(
    p: &[T],
    t: &[T],
    star: T,
    one: T,
    same: impl Fn(&T, &T) -> bool,
) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || (p[pi] != star && same(&p[pi], &t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = backtrack {
            pi = sp + 1;
            ti = st + 1;
            backtrack = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == star)
}

/// `ArnLike`/`ArnEquals`: the ARN's six colon-separated parts are matched one by one (so a
/// `*` never spans a colon in the first five), the last part taking the rest.
pub fn arn_match(pattern: &str, arn: &str) -> bool {
    let mut ps = pattern.splitn(6, ':');
    let mut parts = arn.splitn(6, ':');
    loop {
        match (ps.next(), parts.next()) {
            (None, None) => return true,
            (Some(p), Some(a)) => {
                if !wildcard_match(p, a, false) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("s3:Get*", "s3:GetObject", false));
        assert!(!wildcard_match("s3:Get*", "s3:PutObject", false));
        assert!(wildcard_match("*", "", false));
        assert!(wildcard_match("a?c", "abc", false));
        assert!(!wildcard_match("a?c", "ac", false));
        assert!(wildcard_match(
            "arn:aws:s3:::b/*/x",
            "arn:aws:s3:::b/1/2/x",
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:s3:::b/*/x",
            "arn:aws:s3:::b/1/2/y",
            false
        ));
        assert!(wildcard_match("S3:getobject", "s3:GetObject", true));
        assert!(!wildcard_match("S3:getobject", "s3:GetObject", false));
        assert!(wildcard_match(
            "*a*a*a*a*b",
            &"a".repeat(40).replace("aa", "ab"),
            false
        ));
        assert!(!wildcard_match(&"*a".repeat(50), &"a".repeat(49), false));
    }

    #[test]
    fn arns_match_part_by_part() {
        assert!(arn_match(
            "arn:aws:cloudfront::111122223333:distribution/*",
            "arn:aws:cloudfront::111122223333:distribution/E1"
        ));
        assert!(!arn_match(
            "arn:aws:cloudfront::*",
            "arn:aws:cloudfront::111122223333:distribution/E1"
        ));
        assert!(arn_match("arn:aws:s3:::b/a:b:c", "arn:aws:s3:::b/a:b:c"));
        assert!(arn_match("arn:*:*:*:*:*", "arn:aws:s3:::b"));
    }
}
