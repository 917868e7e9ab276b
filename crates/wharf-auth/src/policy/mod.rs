//! The IAM policy language: documents parsed and checked ([`Policy::parse`]), and evaluated
//! against one request ([`Policy::evaluate`]), with no HTTP in sight. The caller (wharf-s3)
//! builds the [`RequestContext`] (who asks, the action, the resource's ARN, the condition keys)
//! and combines the answers of the policies that apply with [`decide`], as AWS documents: an
//! explicit `Deny` anywhere wins, then an `Allow` from any of them, else the implicit deny.

mod actions;
mod condition;
mod document;
mod pattern;
mod public;
mod variables;

use std::borrow::Cow;
use std::sync::Arc;

pub use actions::{ActionScope, is_known_s3_action, s3_action_scope};
pub use condition::{Condition, Operator, SetQualifier, normalize_key, parse_date};
pub use document::{
    Effect, MAX_POLICY_BYTES, Matcher, Policy, PolicyError, PolicyKind, PolicyVersion, PrincipalId,
    Principals, Statement,
};
pub use pattern::{arn_match, wildcard_match};

/// Who makes a request, as policies see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An unsigned request.
    Anonymous,
    /// The account's root user.
    Root {
        account: String,
        canonical_id: String,
    },
    /// An IAM user: `arn:aws:iam::ACCOUNT:user/NAME`.
    User {
        account: String,
        name: String,
        canonical_id: String,
    },
    /// An AWS service acting for a resource of the account (CloudFront's Origin Access
    /// Control: `cloudfront.amazonaws.com`).
    Service(String),
    /// A principal known only by its ARN and canonical user (CloudFront's legacy Origin Access
    /// Identity: `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ID`).
    Other { arn: String, canonical_id: String },
}

impl Caller {
    /// The caller's ARN (`aws:PrincipalArn`), if it has one.
    pub fn arn(&self) -> Option<String> {
        match self {
            Caller::Anonymous | Caller::Service(_) => None,
            Caller::Root { account, .. } => Some(format!("arn:aws:iam::{account}:root")),
            Caller::User { account, name, .. } => {
                Some(format!("arn:aws:iam::{account}:user/{name}"))
            }
            Caller::Other { arn, .. } => Some(arn.clone()),
        }
    }

    fn account(&self) -> Option<&str> {
        match self {
            Caller::Root { account, .. } | Caller::User { account, .. } => Some(account),
            _ => None,
        }
    }

    /// Whether a statement's principal names this caller. An account named as principal stands
    /// for its root user in an `Allow` (its IAM users still need their own permission, as on
    /// AWS) and for everyone in the account in a `Deny`.
    fn is(&self, id: &PrincipalId, effect: Effect) -> bool {
        match (id, self) {
            (PrincipalId::Account(a), Caller::Root { account, .. }) => a == account,
            (PrincipalId::Account(a), Caller::User { account, .. }) => {
                effect == Effect::Deny && a == account
            }
            // By ARN: see `RequestContext::is`, which has the caller's ARN made once.
            (PrincipalId::Arn(_), _) => false,
            (PrincipalId::Service(s), Caller::Service(svc)) => s.eq_ignore_ascii_case(svc),
            (
                PrincipalId::CanonicalUser(id),
                Caller::Root { canonical_id, .. }
                | Caller::User { canonical_id, .. }
                | Caller::Other { canonical_id, .. },
            ) => id.eq_ignore_ascii_case(canonical_id),
            _ => false,
        }
    }
}

/// Where a request's condition keys come from when a policy asks for one: the S3 API reads
/// them from the request only then, so a request no condition looks at costs nothing.
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// The values of a condition key named as [`normalize_key`] writes it, if the request has it.
    fn values(&self, key: &str) -> Option<Vec<String>>;
}

/// One request as policies see it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub caller: Caller,
    /// `s3:GetObject`.
    pub action: String,
    /// `arn:aws:s3:::BUCKET/KEY`, `arn:aws:s3:::BUCKET`, or `*`.
    pub resource: String,
    /// The caller's ARN, made once.
    caller_arn: Option<String>,
    /// Keys set on this context (named as [`normalize_key`] writes them), before the source's.
    keys: Vec<(String, Vec<String>)>,
    source: Option<Arc<dyn KeySource>>,
}

impl RequestContext {
    /// A context with the keys every request has, from the caller: `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:username` and `aws:userid`.
    pub fn new(caller: Caller, action: &str, resource: String) -> Self {
        RequestContext {
            caller_arn: caller.arn(),
            caller,
            action: action.to_owned(),
            resource,
            keys: Vec::new(),
            source: None,
        }
    }

    /// The same, with the request's other keys read from `source` when asked for.
    pub fn with_source(mut self, source: Arc<dyn KeySource>) -> Self {
        self.source = Some(source);
        self
    }

    /// Sets a condition key to one value.
    pub fn set(&mut self, key: &str, value: String) {
        self.set_all(key, vec![value]);
    }

    /// Sets a multivalued condition key (`s3:RequestObjectTagKeys`).
    pub fn set_all(&mut self, key: &str, values: Vec<String>) {
        let key = normalize_key(key).into_owned();
        match self.keys.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = values,
            None => self.keys.push((key, values)),
        }
    }

    /// The values of a condition key, named in any case.
    pub fn get(&self, key: &str) -> Option<Cow<'_, [String]>> {
        self.get_normalized(normalize_key(key).as_ref())
    }

    /// Whether a statement's principal names the caller.
    fn is(&self, id: &PrincipalId, effect: Effect) -> bool {
        match id {
            PrincipalId::Arn(arn) => self.caller_arn.as_deref() == Some(arn.as_str()),
            _ => self.caller.is(id, effect),
        }
    }

    fn get_normalized(&self, key: &str) -> Option<Cow<'_, [String]>> {
        if let Some((_, v)) = self.keys.iter().find(|(k, _)| k == key) {
            return Some(Cow::Borrowed(v.as_slice()));
        }
        let one = |v: String| Some(Cow::Owned(vec![v]));
        match key {
            "aws:principalarn" => return self.caller_arn.clone().and_then(one),
            "aws:principalaccount" => {
                return self.caller.account().map(str::to_owned).and_then(one);
            }
            "aws:principaltype" => {
                let kind = match &self.caller {
                    Caller::Anonymous => "Anonymous",
                    Caller::Root { .. } => "Account",
                    Caller::User { .. } | Caller::Other { .. } => "User",
                    Caller::Service(_) => "AWSService",
                };
                return one(kind.to_owned());
            }
            "aws:username" => {
                return match &self.caller {
                    Caller::User { name, .. } => one(name.clone()),
                    _ => None,
                };
            }
            "aws:userid" => {
                return match &self.caller {
                    Caller::User { name, .. } => one(name.clone()),
                    Caller::Root { account, .. } => one(account.clone()),
                    _ => None,
                };
            }
            _ => {}
        }
        self.source.as_ref()?.values(key).map(Cow::Owned)
    }
}

impl Statement {
    /// Whether the statement applies to the request (its effect is then the answer).
    pub fn applies(&self, version: PolicyVersion, ctx: &RequestContext) -> bool {
        if let Some((principals, negated)) = &self.principal {
            let named = match principals {
                Principals::Everyone => true,
                Principals::Named(ids) => ids.iter().any(|id| ctx.is(id, self.effect)),
            };
            if named == *negated {
                return false;
            }
        }
        let action = self
            .action
            .patterns
            .iter()
            .any(|p| wildcard_match(p, &ctx.action, true));
        if action == self.action.negated {
            return false;
        }
        let resource = self.resource.patterns.iter().any(|p| {
            match variables::substitute(p, version, ctx) {
                Some(p) => wildcard_match(&p, &ctx.resource, false),
                // A variable the request does not have: the pattern matches nothing.
                None => false,
            }
        });
        if resource == self.resource.negated {
            return false;
        }
        self.conditions.iter().all(|c| {
            let request = ctx.get_normalized(&c.key);
            let request = request.as_deref();
            if !(c.operator.takes_variables() && c.values.iter().any(|v| v.contains("${"))) {
                return c.holds(&c.values, request);
            }
            let values: Vec<String> = c
                .values
                .iter()
                .filter_map(|v| variables::substitute(v, version, ctx).map(|v| v.into_owned()))
                .collect();
            c.holds(&values, request)
        })
    }
}

impl Policy {
    /// Whether a condition (or a policy variable in one) names a key starting with `prefix`
    /// (lowercase, as [`normalize_key`] writes names): the caller then knows to give the
    /// context those keys, which may cost a lookup (`s3:existingobjecttag/`).
    pub fn mentions_key(&self, prefix: &str) -> bool {
        let variable = format!("${{{prefix}");
        self.statements.iter().any(|s| {
            s.conditions.iter().any(|c| {
                c.key.starts_with(prefix)
                    || c.values
                        .iter()
                        .any(|v| v.to_ascii_lowercase().contains(&variable))
            }) || s
                .resource
                .patterns
                .iter()
                .any(|r| r.to_ascii_lowercase().contains(&variable))
        })
    }

    /// The effect of the statements that apply to the request: `Some(Deny)` if any denies,
    /// else `Some(Allow)` if any allows, else `None`.
    pub fn evaluate(&self, ctx: &RequestContext) -> Option<Effect> {
        let mut allowed = false;
        for s in &self.statements {
            if s.applies(self.version, ctx) {
                match s.effect {
                    Effect::Deny => return Some(Effect::Deny),
                    Effect::Allow => allowed = true,
                }
            }
        }
        allowed.then_some(Effect::Allow)
    }
}

/// Combines what each policy (and each other grant: ownership, ACLs) said about one request:
/// an explicit `Deny` wins, then any `Allow`, else the implicit deny (`false`).
pub fn decide(answers: impl IntoIterator<Item = Option<Effect>>) -> bool {
    let mut allowed = false;
    for a in answers {
        match a {
            Some(Effect::Deny) => return false,
            Some(Effect::Allow) => allowed = true,
            None => {}
        }
    }
    allowed
}

#[cfg(test)]
mod tests;
