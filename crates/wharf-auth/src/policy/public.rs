//! Whether a bucket policy is public, as S3 decides for `GetBucketPolicyStatus` and Block Public
//! Access: a policy is non-public when every `Allow` grants only to fixed principals, or is
//! narrowed by a condition that fixes a value of one of the keys S3 lists (`aws:SourceArn`,
//! `aws:SourceAccount`, `aws:SourceIp` to a range no wider than a /8 (IPv4) or /32 (IPv6),
//! `aws:PrincipalArn`, …): "fixed" meaning no wildcard and no policy variable.

use super::condition::Operator;
use super::document::{Effect, Policy, Principals, Statement};

/// The condition keys whose fixed values make a grant non-public (lowercased).
const FIXING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

impl Policy {
    /// Whether the policy grants anything to the public.
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(Statement::is_public)
    }

    /// [`Policy::evaluate`] with the public statements' grants left out: what Block Public
    /// Access's `RestrictPublicBuckets` leaves to callers outside the account. Denials all
    /// still apply.
    pub fn evaluate_without_public_grants(&self, ctx: &super::RequestContext) -> Option<Effect> {
        let mut allowed = false;
        for s in &self.statements {
            if s.is_public() || !s.applies(self.version, ctx) {
                continue;
            }
            match s.effect {
                Effect::Deny => return Some(Effect::Deny),
                Effect::Allow => allowed = true,
            }
        }
        allowed.then_some(Effect::Allow)
    }
}

impl Statement {
    fn is_public(&self) -> bool {
        if self.effect != Effect::Allow {
            return false;
        }
        let to_everyone = match &self.principal {
            None => false,
            Some((_, true)) => true,
            Some((Principals::Everyone, false)) => true,
            Some((Principals::Named(_), false)) => false,
        };
        to_everyone && !self.conditions.iter().any(fixes_a_value)
    }
}

fn fixes_a_value(c: &super::Condition) -> bool {
    use Operator::*;
    if c.if_exists || c.qualifier.is_some() || !FIXING_KEYS.contains(&c.key.as_str()) {
        return false;
    }
    let fixed = |v: &String| !v.contains(['*', '?']) && !v.contains("${");
    match c.operator {
        StringEquals | StringEqualsIgnoreCase | ArnEquals | ArnLike => c.values.iter().all(fixed),
        IpAddress => c.values.iter().all(|v| narrow_range(v)),
        _ => false,
    }
}

fn narrow_range(cidr: &str) -> bool {
    let (addr, bits) = match cidr.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits.is_none_or(|b| b >= 8),
        Ok(std::net::IpAddr::V6(_)) => bits.is_none_or(|b| b >= 32),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Policy, PolicyKind};

    fn public(statement: &str) -> bool {
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        Policy::parse(&doc, PolicyKind::Bucket("b"))
            .unwrap()
            .is_public()
    }

    #[test]
    fn what_s3_calls_public() {
        let read = r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#;
        assert!(public(&format!(
            r#"{{"Effect":"Allow","Principal":"*",{read}}}"#
        )));
        assert!(public(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"*"}},{read}}}"#
        )));
        assert!(!public(&format!(
            r#"{{"Effect":"Deny","Principal":"*",{read}}}"#
        )));
        assert!(!public(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:user/a"}},{read}}}"#
        )));
        assert!(!public(&format!(
            r#"{{"Effect":"Allow","Principal":{{"Service":"cloudfront.amazonaws.com"}},{read},
            "Condition":{{"StringEquals":{{"AWS:SourceArn":"arn:aws:cloudfront::111122223333:distribution/E1"}}}}}}"#
        )));
        assert!(!public(&format!(
            r#"{{"Effect":"Allow","Principal":"*",{read},"Condition":{{"IpAddress":{{"aws:SourceIp":"192.0.2.0/24"}}}}}}"#
        )));
        assert!(public(&format!(
            r#"{{"Effect":"Allow","Principal":"*",{read},"Condition":{{"IpAddress":{{"aws:SourceIp":"0.0.0.0/1"}}}}}}"#
        )));
        assert!(public(&format!(
            r#"{{"Effect":"Allow","Principal":"*",{read},"Condition":{{"StringLike":{{"aws:SourceArn":"arn:*"}}}}}}"#
        )));
        assert!(public(&format!(
            r#"{{"Effect":"Allow","Principal":"*",{read},"Condition":{{"StringEquals":{{"aws:Referer":"https://example.com/"}}}}}}"#
        )));
    }
}
