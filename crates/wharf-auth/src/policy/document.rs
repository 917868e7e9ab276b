//! A policy document, parsed and checked: the JSON grammar of IAM policies, with the errors
//! S3 (`MalformedPolicy`) gives for a document it refuses.

use serde_json::{Map, Value};

use super::condition::Condition;

/// Policies are at most this long: S3's limit for a bucket policy (20 KiB), and more than
/// IAM's 6,144 characters for a user's managed policy.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// Why a document is not a policy; the text is the message S3 gives with `MalformedPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn malformed(msg: impl Into<String>) -> PolicyError {
    PolicyError(msg.into())
}

/// What a policy is attached to decides what it must and must not say.
#[derive(Debug, Clone, Copy)]
pub enum PolicyKind<'a> {
    /// A resource policy on this bucket: every statement names a `Principal`, and every
    /// resource is the bucket or objects in it.
    Bucket(&'a str),
    /// An identity policy (attached to a user): no `Principal`.
    Identity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    /// `2008-10-17`: policy variables are plain text.
    V2008,
    /// `2012-10-17` (and a document without `Version`, which IAM reads as 2008's grammar).
    V2012,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Who a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    Everyone,
    /// The principals named.
    Named(Vec<PrincipalId>),
}

/// One principal as a policy names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalId {
    /// An account (`123456789012` or `arn:aws:iam::123456789012:root`), kept as the account id.
    Account(String),
    /// An IAM ARN other than an account's root (a user, or CloudFront's legacy OAI user).
    Arn(String),
    /// `{"Service": "cloudfront.amazonaws.com"}`.
    Service(String),
    /// `{"CanonicalUser": "…"}`: 64 hex digits.
    CanonicalUser(String),
    /// `{"Federated": "…"}`: parsed, and never the caller here (no identity federation).
    Federated(String),
}

/// A list that is negated or not (`Action`/`NotAction`, `Resource`/`NotResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub patterns: Vec<String>,
    /// The `Not…` form: matches what none of the patterns match.
    pub negated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `None` in identity policies.
    pub principal: Option<(Principals, bool)>,
    pub action: Matcher,
    pub resource: Matcher,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub version: PolicyVersion,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses and checks a policy document as S3's `PutBucketPolicy` (or IAM's
    /// `PutUserPolicy`, for [`PolicyKind::Identity`]) would.
    pub fn parse(text: &str, kind: PolicyKind<'_>) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(malformed("Policies must be less than 20 KB"));
        }
        if !text.trim_start().starts_with('{') {
            return Err(malformed(
                "Policies must be valid JSON and the first byte must be '{'",
            ));
        }
        let doc: Value =
            serde_json::from_str(text).map_err(|_| malformed("Invalid policy syntax."))?;
        let Value::Object(doc) = doc else {
            return Err(malformed("Invalid policy syntax."));
        };
        let mut version = PolicyVersion::V2008;
        let mut id = None;
        let mut statements = None;
        for (name, value) in &doc {
            match name.as_str() {
                "Version" => {
                    version = match value.as_str() {
                        Some("2012-10-17") => PolicyVersion::V2012,
                        Some("2008-10-17") => PolicyVersion::V2008,
                        _ => {
                            return Err(malformed(
                                "The policy must contain a valid version string",
                            ));
                        }
                    }
                }
                "Id" => id = Some(string(value, "Id")?),
                "Statement" => statements = Some(value),
                other => return Err(malformed(format!("Unknown field {other}"))),
            }
        }
        let statements = match statements {
            None => return Err(malformed("Missing required field Statement")),
            Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
            Some(one @ Value::Object(_)) => vec![one],
            Some(_) => return Err(malformed("Invalid policy syntax.")),
        };
        if statements.is_empty() {
            return Err(malformed("Could not parse the policy: Statement is empty!"));
        }
        let statements = statements
            .into_iter()
            .map(|s| statement(s, kind))
            .collect::<Result<Vec<_>, _>>()?;
        let mut sids: Vec<&str> = statements.iter().filter_map(|s| s.sid.as_deref()).collect();
        sids.sort_unstable();
        if sids.windows(2).any(|w| w[0] == w[1]) {
            return Err(malformed(
                "Statement IDs (SID) in a single policy must be unique.",
            ));
        }
        Ok(Policy {
            version,
            id,
            statements,
        })
    }
}

fn string(value: &Value, field: &str) -> Result<String, PolicyError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| malformed(format!("Invalid value for field {field}")))
}

/// A string or a non-empty list of strings.
fn strings(value: &Value, field: &str) -> Result<Vec<String>, PolicyError> {
    let list = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| string(v, field))
            .collect::<Result<_, _>>()?,
        _ => return Err(malformed(format!("Invalid value for field {field}"))),
    };
    Ok(list)
}

fn one_of<'a>(
    s: &'a Map<String, Value>,
    name: &str,
    not_name: &str,
) -> Result<Option<(&'a Value, bool)>, PolicyError> {
    match (s.get(name), s.get(not_name)) {
        (Some(_), Some(_)) => Err(malformed(format!(
            "Statement cannot have both {name} and {not_name}"
        ))),
        (Some(v), None) => Ok(Some((v, false))),
        (None, Some(v)) => Ok(Some((v, true))),
        (None, None) => Ok(None),
    }
}

fn statement(value: &Value, kind: PolicyKind<'_>) -> Result<Statement, PolicyError> {
    let Value::Object(s) = value else {
        return Err(malformed("Invalid policy syntax."));
    };
    for name in s.keys() {
        if !matches!(
            name.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(malformed(format!("Unknown field {name}")));
        }
    }
    let sid = s.get("Sid").map(|v| string(v, "Sid")).transpose()?;
    if let Some(sid) = &sid
        && !sid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-' || c == '_')
    {
        return Err(malformed(format!(
            "Statement IDs (SID) must be alpha-numeric: {sid}"
        )));
    }
    let effect = match s.get("Effect").map(Value::as_str) {
        None => return Err(malformed("Missing required field Effect")),
        Some(Some("Allow")) => Effect::Allow,
        Some(Some("Deny")) => Effect::Deny,
        Some(_) => return Err(malformed("Invalid effect: must be Allow or Deny")),
    };
    let principal = match (one_of(s, "Principal", "NotPrincipal")?, kind) {
        (Some(_), PolicyKind::Identity) => {
            return Err(malformed("Policy document should not specify a principal."));
        }
        (None, PolicyKind::Bucket(_)) => {
            return Err(malformed("Missing required field Principal"));
        }
        (None, PolicyKind::Identity) => None,
        (Some((v, negated)), PolicyKind::Bucket(_)) => Some((principals(v)?, negated)),
    };
    let action = match one_of(s, "Action", "NotAction")? {
        None => return Err(malformed("Missing required field Action")),
        Some((v, negated)) => Matcher {
            patterns: strings(v, "Action")?,
            negated,
        },
    };
    for a in &action.patterns {
        check_action(a, kind)?;
    }
    let resource = match one_of(s, "Resource", "NotResource")? {
        None => return Err(malformed("Missing required field Resource")),
        Some((v, negated)) => Matcher {
            patterns: strings(v, "Resource")?,
            negated,
        },
    };
    for r in &resource.patterns {
        check_resource(r, kind)?;
    }
    if !action.negated && !resource.negated {
        check_actions_apply(&action.patterns, &resource.patterns)?;
    }
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(v) => super::condition::parse_block(v)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

fn principals(value: &Value) -> Result<Principals, PolicyError> {
    let invalid = || malformed("Invalid principal in policy");
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Everyone),
        Value::Object(map) if !map.is_empty() => {
            let mut named = Vec::new();
            for (kind, ids) in map {
                let ids = strings(ids, "Principal").map_err(|_| invalid())?;
                for id in ids {
                    let p = match kind.as_str() {
                        "AWS" if id == "*" => return Ok(Principals::Everyone),
                        "AWS" => aws_principal(&id).ok_or_else(invalid)?,
                        "Service" if !id.is_empty() && !id.contains('*') => {
                            PrincipalId::Service(id)
                        }
                        "CanonicalUser"
                            if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) =>
                        {
                            PrincipalId::CanonicalUser(id.to_ascii_lowercase())
                        }
                        "Federated" if !id.is_empty() => PrincipalId::Federated(id),
                        _ => return Err(invalid()),
                    };
                    named.push(p);
                }
            }
            Ok(Principals::Named(named))
        }
        _ => Err(invalid()),
    }
}

/// `123456789012`, `arn:aws:iam::123456789012:root`, or another IAM ARN (no wildcards).
fn aws_principal(id: &str) -> Option<PrincipalId> {
    let is_account = |a: &str| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
    if is_account(id) {
        return Some(PrincipalId::Account(id.to_owned()));
    }
    let rest = id.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if id.contains('*') || id.contains('?') || resource.is_empty() {
        return None;
    }
    if resource == "root" && is_account(account) {
        return Some(PrincipalId::Account(account.to_owned()));
    }
    // Accounts are 12 digits, except CloudFront's OAI users (`arn:aws:iam::cloudfront:user/…`).
    if !(is_account(account) || account == "cloudfront") {
        return None;
    }
    Some(PrincipalId::Arn(id.to_owned()))
}

fn check_action(action: &str, kind: PolicyKind<'_>) -> Result<(), PolicyError> {
    if action == "*" {
        return Ok(());
    }
    let Some((service, name)) = action.split_once(':') else {
        return Err(malformed("Policy has invalid action"));
    };
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?' || c == '-');
    let known = match kind {
        // A bucket policy speaks of S3 only, and S3 checks the names.
        PolicyKind::Bucket(_) => {
            service.eq_ignore_ascii_case("s3") && super::actions::is_known_s3_action(name)
        }
        PolicyKind::Identity => {
            !service.is_empty()
                && service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && (!service.eq_ignore_ascii_case("s3") || super::actions::is_known_s3_action(name))
        }
    };
    if valid_name && known {
        Ok(())
    } else {
        Err(malformed("Policy has invalid action"))
    }
}

fn check_resource(resource: &str, kind: PolicyKind<'_>) -> Result<(), PolicyError> {
    let invalid = || malformed("Policy has invalid resource");
    match kind {
        PolicyKind::Identity => {
            if resource == "*" || resource.starts_with("arn:") {
                Ok(())
            } else {
                Err(invalid())
            }
        }
        PolicyKind::Bucket(bucket) => {
            let Some(rest) = resource.strip_prefix("arn:aws:s3:::") else {
                return Err(invalid());
            };
            // The bucket, or objects in it; a wildcard may stand for either.
            let bucket_part = rest.split('/').next().unwrap_or_default();
            if super::pattern::wildcard_match(bucket_part, bucket, false) {
                Ok(())
            } else {
                Err(invalid())
            }
        }
    }
}

/// `Action does not apply to any resource(s) in statement`: every action is one on objects
/// (or every one on buckets) and no resource could name such a thing.
fn check_actions_apply(actions: &[String], resources: &[String]) -> Result<(), PolicyError> {
    use super::actions::{ActionScope, s3_action_scope};
    let scopes: Vec<Option<ActionScope>> = actions
        .iter()
        .map(|a| match a.split_once(':') {
            Some((svc, name)) if svc.eq_ignore_ascii_case("s3") && !name.contains(['*', '?']) => {
                s3_action_scope(name)
            }
            _ => None,
        })
        .collect();
    if scopes.iter().any(Option::is_none) {
        return Ok(());
    }
    let names_objects = |r: &str| r == "*" || r.contains('/') || r.ends_with('*');
    let names_buckets = |r: &str| r == "*" || !r.contains('/');
    let applies = scopes.iter().flatten().any(|scope| match scope {
        ActionScope::Object => resources.iter().any(|r| names_objects(r)),
        ActionScope::Bucket => resources.iter().any(|r| names_buckets(r)),
        ActionScope::Account => true,
    });
    if applies {
        Ok(())
    } else {
        Err(malformed(
            "Action does not apply to any resource(s) in statement",
        ))
    }
}
