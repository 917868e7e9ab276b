//! Conditional requests: `If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since` (and their `x-amz-copy-source-` forms), with S3's precedence.
//!
//! RFC 9110 §13.2.2 order, which S3 follows: If-Match decides before If-Unmodified-Since
//! (which is ignored when If-Match is present), If-None-Match before If-Modified-Since (ignored
//! likewise). A failed If-Match/If-Unmodified-Since is 412; a failed If-None-Match/
//! If-Modified-Since is 304 for GET and HEAD, and 412 for a copy source.

use s3s::S3Request;
use s3s::dto::Timestamp;
use s3s::{S3Error, S3ErrorCode};
use wharf_store::{EtagCondition, WriteCondition};

use crate::convert::{ms_of, seconds_of_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Proceed,
    NotModified,
    PreconditionFailed,
}

/// The entity-tag conditions of a request, as RFC 9110 lists. s3s parses these headers as one
/// tag each, so a request with a list reaches the operations through [`crate::normalize`],
/// which puts this in the request's extensions; otherwise it is read from the headers.
#[derive(Debug, Clone, Default)]
pub struct EtagHeaders {
    pub if_match: Option<EtagCondition>,
    pub if_none_match: Option<EtagCondition>,
    pub copy_source_if_match: Option<EtagCondition>,
    pub copy_source_if_none_match: Option<EtagCondition>,
}

/// The headers [`EtagHeaders`] reads (names made once: every request looks for them).
pub const ETAG_HEADERS: [http::HeaderName; 4] = [
    http::header::IF_MATCH,
    http::header::IF_NONE_MATCH,
    http::HeaderName::from_static("x-amz-copy-source-if-match"),
    http::HeaderName::from_static("x-amz-copy-source-if-none-match"),
];

impl EtagHeaders {
    pub fn parse(headers: &http::HeaderMap) -> Self {
        let get = |name: &http::HeaderName| {
            let values: Vec<&str> = headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            // Several header lines are one list (RFC 9110 §5.3).
            (!values.is_empty()).then(|| EtagCondition::parse(&values.join(",")))
        };
        Self {
            if_match: get(&ETAG_HEADERS[0]),
            if_none_match: get(&ETAG_HEADERS[1]),
            copy_source_if_match: get(&ETAG_HEADERS[2]),
            copy_source_if_none_match: get(&ETAG_HEADERS[3]),
        }
    }

    pub fn of<T>(req: &S3Request<T>) -> Self {
        req.extensions
            .get::<Self>()
            .cloned()
            .unwrap_or_else(|| Self::parse(&req.headers))
    }

    /// The client's conditions on a write (PutObject, CompleteMultipartUpload, DeleteObject,
    /// CopyObject's destination), checked atomically with it.
    pub fn write_condition(&self) -> WriteCondition {
        WriteCondition {
            if_match: self.if_match.clone(),
            if_none_match: self.if_none_match.clone(),
            ..Default::default()
        }
    }

    /// The conditions on the object a GET or HEAD reads, with its date conditions.
    pub fn read<'a>(
        &'a self,
        if_modified_since: Option<&'a Timestamp>,
        if_unmodified_since: Option<&'a Timestamp>,
    ) -> Preconditions<'a> {
        Preconditions::new(
            &self.if_match,
            &self.if_none_match,
            if_modified_since,
            if_unmodified_since,
        )
    }

    /// The conditions on a copy source, with its date conditions.
    pub fn copy_source<'a>(
        &'a self,
        if_modified_since: Option<&'a Timestamp>,
        if_unmodified_since: Option<&'a Timestamp>,
    ) -> Preconditions<'a> {
        Preconditions::new(
            &self.copy_source_if_match,
            &self.copy_source_if_none_match,
            if_modified_since,
            if_unmodified_since,
        )
    }
}

#[derive(Default)]
pub struct Preconditions<'a> {
    pub if_match: Option<&'a EtagCondition>,
    pub if_none_match: Option<&'a EtagCondition>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

impl<'a> Preconditions<'a> {
    fn new(
        if_match: &'a Option<EtagCondition>,
        if_none_match: &'a Option<EtagCondition>,
        if_modified_since: Option<&'a Timestamp>,
        if_unmodified_since: Option<&'a Timestamp>,
    ) -> Self {
        Self {
            if_match: if_match.as_ref(),
            if_none_match: if_none_match.as_ref(),
            if_modified_since,
            if_unmodified_since,
        }
    }

    /// Evaluates against the current object's ETag (unquoted) and Last-Modified.
    pub fn evaluate(&self, etag: &str, last_modified_ms: i64) -> Outcome {
        // HTTP dates have one-second resolution.
        let modified = seconds_of_ms(last_modified_ms);
        match self.if_match {
            // RFC 9110 §13.1.1: strong comparison.
            Some(c) if !c.matches_strongly(Some(etag)) => return Outcome::PreconditionFailed,
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
            // RFC 9110 §13.1.2: weak comparison.
            Some(c) if c.matches_weakly(Some(etag)) => Outcome::NotModified,
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
        let yes = EtagCondition::parse("\"abc\"");
        let no = EtagCondition::parse("\"zzz\", \"yyy\"");
        let listed = EtagCondition::parse("\"zzz\", \"abc\"");
        let (before, after) = (ts(500), ts(2000));
        let mut cases: Vec<(Preconditions<'_>, Outcome)> = vec![
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
                    if_match: Some(&EtagCondition::Any),
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
        cases.push((
            Preconditions {
                if_match: Some(&listed),
                ..Default::default()
            },
            Outcome::Proceed,
        ));
        cases.push((
            Preconditions {
                if_none_match: Some(&listed),
                ..Default::default()
            },
            Outcome::NotModified,
        ));
        for (i, (p, want)) in cases.iter().enumerate() {
            assert_eq!(p.evaluate(etag, lm), *want, "case {i}");
        }
    }
}
