//! Conditions of a write, checked inside the write's transaction.
//!
//! Two kinds: what the client asked (`If-Match`, `If-None-Match` on PutObject,
//! CompleteMultipartUpload and DeleteObject, evaluated as RFC 9110 §13.1 says), and what the
//! engine needs for its own consistency (the version whose blobs a new row shares still exists).
//! The engine's conditions compare version ids, never ETags: two different writes may well have
//! the same ETag, and a row that merely looks like the one read may name other blobs.

use wharf_model::VersionId;

/// An entity tag as a client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    pub weak: bool,
    /// Without quotes.
    pub value: String,
}

/// The value of an `If-Match` or `If-None-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagCondition {
    /// `*`
    Any,
    /// One or more entity tags.
    Tags(Vec<EntityTag>),
}

impl EtagCondition {
    /// Parses a header value: `*`, or a comma-separated list of entity tags (`"x"`, `W/"x"`,
    /// and, as S3 accepts from some clients, unquoted values). Elements that are none of these
    /// are kept as tags that match nothing, so a malformed `If-Match` fails rather than passes.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        if value == "*" {
            return Self::Any;
        }
        let mut tags = Vec::new();
        for item in split_list(value) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (weak, rest) = match item.strip_prefix("W/") {
                Some(r) => (true, r),
                None => (false, item),
            };
            let value = match rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                Some(v) if !v.contains('"') => v.to_owned(),
                _ if !rest.contains(['"', ' ']) => rest.to_owned(),
                // Unparseable: a tag no ETag equals (ETags have no quote in them).
                _ => "\"".to_owned(),
            };
            tags.push(EntityTag { weak, value });
        }
        Self::Tags(tags)
    }

    /// RFC 9110 §13.1.1: `*` matches any current representation; a list matches if one of its
    /// tags strongly matches (a weak tag never does).
    pub fn matches_strongly(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (_, None) => false,
            (Self::Any, Some(_)) => true,
            (Self::Tags(tags), Some(etag)) => tags.iter().any(|t| !t.weak && t.value == etag),
        }
    }

    /// RFC 9110 §13.1.2: weak comparison.
    pub fn matches_weakly(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (_, None) => false,
            (Self::Any, Some(_)) => true,
            (Self::Tags(tags), Some(etag)) => tags.iter().any(|t| t.value == etag),
        }
    }
}

/// Splits a list at the commas that are not inside a quoted entity tag.
fn split_list(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

/// The version whose blobs a new row shares (a copy that copies no bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceVersion {
    pub bucket: String,
    pub key: String,
    pub version_id: VersionId,
}

/// Everything that must hold for a write to commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteCondition {
    /// `If-Match`: the key's current version must match.
    pub if_match: Option<EtagCondition>,
    /// `If-None-Match`: the key's current version must not match (`*`: must not exist).
    pub if_none_match: Option<EtagCondition>,
    /// This version must still exist (its blobs are shared by the new row).
    pub source: Option<SourceVersion>,
    /// Removing a version under GOVERNANCE retention is allowed
    /// (`x-amz-bypass-governance-retention: true` from a caller allowed to).
    pub bypass_governance: bool,
}

impl WriteCondition {
    /// The client's conditions against the key's current version (`None`: no current version).
    pub fn client_conditions_hold(&self, current_etag: Option<&str>) -> bool {
        if let Some(c) = &self.if_match
            && !c.matches_strongly(current_etag)
        {
            return false;
        }
        if let Some(c) = &self.if_none_match
            && c.matches_weakly(current_etag)
        {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[(&str, bool)]) -> EtagCondition {
        EtagCondition::Tags(
            list.iter()
                .map(|(v, weak)| EntityTag {
                    weak: *weak,
                    value: (*v).to_owned(),
                })
                .collect(),
        )
    }

    #[test]
    fn header_values_parse_as_lists() {
        let t = |v: &str, weak: bool| EntityTag {
            weak,
            value: v.into(),
        };
        assert_eq!(EtagCondition::parse(" * "), EtagCondition::Any);
        assert_eq!(
            EtagCondition::parse(r#""a", W/"b",c"#),
            EtagCondition::Tags(vec![t("a", false), t("b", true), t("c", false)])
        );
        assert_eq!(
            EtagCondition::parse(r#""x,y""#),
            EtagCondition::Tags(vec![t("x,y", false)])
        );
        // Garbage matches nothing.
        let bad = EtagCondition::parse(r#""a"b"#);
        assert!(!bad.matches_weakly(Some("a")));
        assert!(!bad.matches_weakly(Some("a\"b")));
    }

    #[test]
    fn rfc_9110_evaluation() {
        let im = |c: EtagCondition| WriteCondition {
            if_match: Some(c),
            ..Default::default()
        };
        let inm = |c: EtagCondition| WriteCondition {
            if_none_match: Some(c),
            ..Default::default()
        };
        let cases = [
            (im(EtagCondition::Any), Some("a"), true),
            (im(EtagCondition::Any), None, false),
            (im(tags(&[("x", false), ("a", false)])), Some("a"), true),
            (im(tags(&[("x", false)])), Some("a"), false),
            // A weak tag never matches strongly.
            (im(tags(&[("a", true)])), Some("a"), false),
            (inm(EtagCondition::Any), None, true),
            (inm(EtagCondition::Any), Some("a"), false),
            (inm(tags(&[("x", false), ("a", true)])), Some("a"), false),
            (inm(tags(&[("x", false)])), Some("a"), true),
            (inm(tags(&[("x", false)])), None, true),
        ];
        for (i, (c, current, want)) in cases.iter().enumerate() {
            assert_eq!(c.client_conditions_hold(*current), *want, "case {i}");
        }
    }
}
