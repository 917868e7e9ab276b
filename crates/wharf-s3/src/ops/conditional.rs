//! Conditional requests: `If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since` (and their `x-amz-copy-source-` forms), with S3's precedence.
//!
//! RFC 9110 §13.2.2 order, which S3 follows: If-Match decides before If-Unmodified-Since
//! (which is ignored when If-Match is present), If-None-Match before If-Modified-Since (ignored
//! likewise). A failed If-Match/If-Unmodified-Since is 412; a failed If-None-Match/
//! If-Modified-Since is 304 for GET and HEAD, and 412 for a copy source.

use s3s::dto::{ETag, ETagCondition, Timestamp};
use s3s::{S3Error, S3ErrorCode};

use crate::convert::{ms_of, seconds_of_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Proceed,
    NotModified,
    PreconditionFailed,
}

#[derive(Default)]
pub struct Preconditions<'a> {
    pub if_match: Option<&'a ETagCondition>,
    pub if_none_match: Option<&'a ETagCondition>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

/// The four conditional fields of an input shape, with the given name prefix
/// (`if_` for GetObject and HeadObject, `copy_source_if_` for the copy operations).
#[macro_export]
macro_rules! preconditions {
    ($input:expr) => {
        $crate::ops::conditional::Preconditions {
            if_match: $input.if_match.as_ref(),
            if_none_match: $input.if_none_match.as_ref(),
            if_modified_since: $input.if_modified_since.as_ref(),
            if_unmodified_since: $input.if_unmodified_since.as_ref(),
        }
    };
    (copy_source $input:expr) => {
        $crate::ops::conditional::Preconditions {
            if_match: $input.copy_source_if_match.as_ref(),
            if_none_match: $input.copy_source_if_none_match.as_ref(),
            if_modified_since: $input.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: $input.copy_source_if_unmodified_since.as_ref(),
        }
    };
}

fn matches(cond: &ETagCondition, etag: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(ETag::Strong(v) | ETag::Weak(v)) => v == etag,
    }
}

impl Preconditions<'_> {
    /// Evaluates against the current object's ETag (unquoted) and Last-Modified.
    pub fn evaluate(&self, etag: &str, last_modified_ms: i64) -> Outcome {
        // HTTP dates have one-second resolution.
        let modified = seconds_of_ms(last_modified_ms);
        match self.if_match {
            Some(c) if !matches(c, etag) => return Outcome::PreconditionFailed,
            Some(_) => {}
            None => {
                if let Some(t) = self.if_unmodified_since
                    && modified > seconds_of_ms(ms_of(t))
                {
                    return Outcome::PreconditionFailed;
                }
            }
        }
        match self.if_none_match {
            Some(c) if matches(c, etag) => Outcome::NotModified,
            Some(_) => Outcome::Proceed,
            None => match self.if_modified_since {
                Some(t) if modified <= seconds_of_ms(ms_of(t)) => Outcome::NotModified,
                _ => Outcome::Proceed,
            },
        }
    }
}

/// The error a GET or HEAD answers for a failed condition.
pub fn read_error(outcome: Outcome, etag: &str) -> Option<S3Error> {
    match outcome {
        Outcome::Proceed => None,
        Outcome::NotModified => {
            let mut e = S3Error::with_message(S3ErrorCode::NotModified, "Not Modified");
            let mut h = http::HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_str(&format!("\"{etag}\"")) {
                h.insert(http::header::ETAG, v);
            }
            e.set_headers(h);
            Some(e)
        }
        Outcome::PreconditionFailed => Some(precondition_failed()),
    }
}

pub fn precondition_failed() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from(time::OffsetDateTime::from_unix_timestamp(secs).unwrap())
    }

    #[test]
    fn s3_precedence_table() {
        let etag = "abc";
        let lm = 1_000_000; // ms => 1,000 s
        let yes = ETagCondition::ETag(ETag::Strong("abc".into()));
        let no = ETagCondition::ETag(ETag::Strong("zzz".into()));
        let (before, after) = (ts(500), ts(2000));
        let cases: Vec<(Preconditions<'_>, Outcome)> = vec![
            (Preconditions::default(), Outcome::Proceed),
            (
                Preconditions {
                    if_match: Some(&yes),
                    ..Default::default()
                },
                Outcome::Proceed,
            ),
            (
                Preconditions {
                    if_match: Some(&no),
                    ..Default::default()
                },
                Outcome::PreconditionFailed,
            ),
            (
                Preconditions {
                    if_match: Some(&ETagCondition::Any),
                    ..Default::default()
                },
                Outcome::Proceed,
            ),
            // If-Match true and If-Unmodified-Since false: 200 (S3 documents this case).
            (
                Preconditions {
                    if_match: Some(&yes),
                    if_unmodified_since: Some(&before),
                    ..Default::default()
                },
                Outcome::Proceed,
            ),
            (
                Preconditions {
                    if_unmodified_since: Some(&before),
                    ..Default::default()
                },
                Outcome::PreconditionFailed,
            ),
            (
                Preconditions {
                    if_unmodified_since: Some(&after),
                    ..Default::default()
                },
                Outcome::Proceed,
            ),
            (
                Preconditions {
                    if_none_match: Some(&yes),
                    ..Default::default()
                },
                Outcome::NotModified,
            ),
            (
                Preconditions {
                    if_none_match: Some(&no),
                    ..Default::default()
                },
                Outcome::Proceed,
            ),
            // If-None-Match false and If-Modified-Since true: 304 (S3 documents this case).
            (
                Preconditions {
                    if_none_match: Some(&yes),
                    if_modified_since: Some(&before),
                    ..Default::default()
                },
                Outcome::NotModified,
            ),
            (
                Preconditions {
                    if_none_match: Some(&no),
                    if_modified_since: Some(&after),
                    ..Default::default()
                },
                Outcome::Proceed,
            ),
            (
                Preconditions {
                    if_modified_since: Some(&after),
                    ..Default::default()
                },
                Outcome::NotModified,
            ),
            (
                Preconditions {
                    if_modified_since: Some(&before),
                    ..Default::default()
                },
                Outcome::Proceed,
            ),
            (
                Preconditions {
                    if_match: Some(&no),
                    if_none_match: Some(&yes),
                    ..Default::default()
                },
                Outcome::PreconditionFailed,
            ),
        ];
        for (i, (p, want)) in cases.iter().enumerate() {
            assert_eq!(p.evaluate(etag, lm), *want, "case {i}");
        }
    }
}
