//! The `Condition` element: operators, their `…IfExists` and `ForAnyValue:`/`ForAllValues:`
//! forms, and how each compares a request's values with the policy's, as IAM documents it:
//! blocks, operators and keys are ANDed, a key's policy values ORed (NORed for the negated
//! operators); a key absent from the request fails a positive operator and passes a negated
//! one, except under `…IfExists` (passes) and `Null` (which tests exactly that).

use std::net::IpAddr;

use serde_json::Value;

use super::document::PolicyError;
use super::pattern::{arn_match, wildcard_match};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPERATORS: &[(&str, Operator)] = {
    use Operator::*;
    &[
        ("StringEquals", StringEquals),
        ("StringNotEquals", StringNotEquals),
        ("StringEqualsIgnoreCase", StringEqualsIgnoreCase),
        ("StringNotEqualsIgnoreCase", StringNotEqualsIgnoreCase),
        ("StringLike", StringLike),
        ("StringNotLike", StringNotLike),
        ("NumericEquals", NumericEquals),
        ("NumericNotEquals", NumericNotEquals),
        ("NumericLessThan", NumericLessThan),
        ("NumericLessThanEquals", NumericLessThanEquals),
        ("NumericGreaterThan", NumericGreaterThan),
        ("NumericGreaterThanEquals", NumericGreaterThanEquals),
        ("DateEquals", DateEquals),
        ("DateNotEquals", DateNotEquals),
        ("DateLessThan", DateLessThan),
        ("DateLessThanEquals", DateLessThanEquals),
        ("DateGreaterThan", DateGreaterThan),
        ("DateGreaterThanEquals", DateGreaterThanEquals),
        ("Bool", Bool),
        ("BinaryEquals", BinaryEquals),
        ("IpAddress", IpAddress),
        ("NotIpAddress", NotIpAddress),
        ("ArnEquals", ArnEquals),
        ("ArnLike", ArnLike),
        ("ArnNotEquals", ArnNotEquals),
        ("ArnNotLike", ArnNotLike),
        ("Null", Null),
    ]
};

impl Operator {
    /// The operators whose policy values must *not* match.
    fn negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether policy variables are substituted in this operator's values.
    pub(super) fn takes_variables(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringEquals
                | StringNotEquals
                | StringEqualsIgnoreCase
                | StringNotEqualsIgnoreCase
                | StringLike
                | StringNotLike
                | ArnEquals
                | ArnLike
                | ArnNotEquals
                | ArnNotLike
                | Bool
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// One operator applied to one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    pub qualifier: Option<SetQualifier>,
    pub if_exists: bool,
    /// The key as [`normalize_key`] writes it.
    pub key: String,
    pub values: Vec<String>,
}

/// Condition keys are case-insensitive, except what follows the `/` of a tag key
/// (`s3:ExistingObjectTag/Project`). Borrowed when already in that form.
pub fn normalize_key(key: &str) -> std::borrow::Cow<'_, str> {
    let name = key.split_once('/').map_or(key, |(n, _)| n);
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return std::borrow::Cow::Borrowed(key);
    }
    std::borrow::Cow::Owned(match key.split_once('/') {
        Some((name, tag)) => format!("{}/{tag}", name.to_ascii_lowercase()),
        None => key.to_ascii_lowercase(),
    })
}

fn invalid_operator(name: &str) -> PolicyError {
    PolicyError(format!("Invalid Condition type : {name}"))
}

/// Parses a statement's `Condition` element.
pub fn parse_block(value: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(block) = value else {
        return Err(PolicyError("Invalid Condition block".into()));
    };
    let mut out = Vec::new();
    for (name, keys) in block {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, name.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let operator = OPERATORS
            .iter()
            .find(|(n, _)| *n == base)
            .map(|(_, o)| *o)
            .ok_or_else(|| invalid_operator(name))?;
        if operator == Operator::Null && (if_exists || qualifier.is_some()) {
            return Err(invalid_operator(name));
        }
        let Value::Object(keys) = keys else {
            return Err(PolicyError(format!("Invalid Condition block for {name}")));
        };
        if keys.is_empty() {
            return Err(PolicyError(format!("Invalid Condition block for {name}")));
        }
        for (key, values) in keys {
            if key.is_empty() {
                return Err(PolicyError("Invalid Condition key".into()));
            }
            let values = condition_values(values)
                .ok_or_else(|| PolicyError(format!("Invalid Condition value for {key}")))?;
            for v in &values {
                check_value(operator, v).map_err(|()| {
                    PolicyError(format!("Invalid Condition value: {v} for {name}"))
                })?;
            }
            out.push(Condition {
                operator,
                qualifier,
                if_exists,
                key: normalize_key(key).into_owned(),
                values,
            });
        }
    }
    Ok(out)
}

/// A value, or a non-empty list of them: strings, numbers and booleans, all kept as text.
fn condition_values(value: &Value) -> Option<Vec<String>> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        Value::Array(_) => None,
        v => one(v).map(|s| vec![s]),
    }
}

/// Values that can never compare (a date that is not one, a bad CIDR) are refused up front.
fn check_value(op: Operator, v: &str) -> Result<(), ()> {
    use Operator::*;
    let ok = match op {
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => v.parse::<f64>().is_ok(),
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => parse_date(v).is_some(),
        IpAddress | NotIpAddress => Cidr::parse(v).is_some(),
        Bool | Null => v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"),
        _ => true,
    };
    if ok { Ok(()) } else { Err(()) }
}

/// Milliseconds since the epoch from ISO 8601 (`2026-12-03T10:00:00Z`, with or without
/// fractions or an offset, or a bare date) or epoch seconds, the forms IAM accepts.
pub fn parse_date(v: &str) -> Option<i128> {
    use time::format_description::well_known::Rfc3339;
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<i128>().ok().map(|s| s * 1000);
    }
    let at = if v.len() == 10 {
        time::OffsetDateTime::parse(&format!("{v}T00:00:00Z"), &Rfc3339).ok()?
    } else {
        time::OffsetDateTime::parse(v, &Rfc3339).ok()?
    };
    Some(at.unix_timestamp_nanos() / 1_000_000)
}

/// An address range (`192.0.2.0/24`, `2001:db8::/32`) or one address.
#[derive(Debug, Clone, Copy)]
struct Cidr {
    net: IpAddr,
    bits: u32,
}

impl Cidr {
    fn parse(s: &str) -> Option<Cidr> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a.parse::<IpAddr>().ok()?, Some(b.parse::<u32>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Cidr { net: addr, bits })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.net, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            _ => ip,
        };
        let (a, b, width) = match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                (u128::from(u32::from(n)), u128::from(u32::from(i)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
            _ => return false,
        };
        if self.bits == 0 {
            return true;
        }
        let shift = width - self.bits;
        (a >> shift) == (b >> shift)
    }
}

/// Whether one request value matches one policy value under the operator's positive form.
fn matches(op: Operator, policy: &str, request: &str) -> bool {
    use Operator::*;
    let num = |s: &str| s.parse::<f64>().ok();
    let cmp_num = |f: fn(f64, f64) -> bool| match (num(request), num(policy)) {
        (Some(r), Some(p)) => f(r, p),
        _ => false,
    };
    let cmp_date = |f: fn(i128, i128) -> bool| match (parse_date(request), parse_date(policy)) {
        (Some(r), Some(p)) => f(r, p),
        _ => false,
    };
    match op {
        StringEquals | StringNotEquals => request == policy,
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            request.to_lowercase() == policy.to_lowercase()
        }
        StringLike | StringNotLike => wildcard_match(policy, request, false),
        NumericEquals | NumericNotEquals => cmp_num(|r, p| r == p),
        NumericLessThan => cmp_num(|r, p| r < p),
        NumericLessThanEquals => cmp_num(|r, p| r <= p),
        NumericGreaterThan => cmp_num(|r, p| r > p),
        NumericGreaterThanEquals => cmp_num(|r, p| r >= p),
        DateEquals | DateNotEquals => cmp_date(|r, p| r == p),
        DateLessThan => cmp_date(|r, p| r < p),
        DateLessThanEquals => cmp_date(|r, p| r <= p),
        DateGreaterThan => cmp_date(|r, p| r > p),
        DateGreaterThanEquals => cmp_date(|r, p| r >= p),
        Bool => request.eq_ignore_ascii_case(policy),
        BinaryEquals => request == policy,
        IpAddress | NotIpAddress => match (Cidr::parse(policy), request.parse::<IpAddr>()) {
            (Some(c), Ok(ip)) => c.contains(ip),
            _ => false,
        },
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => arn_match(policy, request),
        Null => false,
    }
}

impl Condition {
    /// Whether the condition holds for the request's values of its key (`None`: the key is
    /// not in the request). `values` are the policy's values after variable substitution.
    pub fn holds(&self, values: &[String], request: Option<&[String]>) -> bool {
        let request = request.filter(|r| !r.is_empty());
        if self.operator == Operator::Null {
            let absent = request.is_none();
            return values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("true") == absent);
        }
        let Some(request) = request else {
            return self.if_exists
                || match self.qualifier {
                    Some(SetQualifier::ForAllValues) => true,
                    Some(SetQualifier::ForAnyValue) => false,
                    None => self.operator.negated(),
                };
        };
        let negated = self.operator.negated();
        let value_ok = |r: &String| {
            let any = values.iter().any(|p| matches(self.operator, p, r));
            any != negated
        };
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => request.iter().all(value_ok),
            Some(SetQualifier::ForAnyValue) => request.iter().any(value_ok),
            None if negated => request.iter().all(value_ok),
            None => request.iter().any(value_ok),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(json: &str) -> Condition {
        let v: Value = serde_json::from_str(json).unwrap();
        parse_block(&v).unwrap().remove(0)
    }

    fn holds(c: &Condition, request: Option<&[&str]>) -> bool {
        let r: Option<Vec<String>> = request.map(|r| r.iter().map(|s| s.to_string()).collect());
        c.holds(&c.values, r.as_deref())
    }

    #[test]
    fn missing_keys_fail_positive_and_pass_negated_operators() {
        let eq = cond(r#"{"StringEquals": {"aws:Referer": "a"}}"#);
        let ne = cond(r#"{"StringNotEquals": {"aws:Referer": ["a", "b"]}}"#);
        let if_exists = cond(r#"{"StringEqualsIfExists": {"aws:Referer": "a"}}"#);
        assert!(!holds(&eq, None));
        assert!(holds(&ne, None));
        assert!(holds(&if_exists, None));
        assert!(!holds(&if_exists, Some(&["b"])));
        // Negated operators: the value must match none of the policy's values.
        assert!(!holds(&ne, Some(&["a"])));
        assert!(!holds(&ne, Some(&["b"])));
        assert!(holds(&ne, Some(&["c"])));
    }

    #[test]
    fn null_tests_presence() {
        let null = cond(r#"{"Null": {"s3:x-amz-server-side-encryption": "true"}}"#);
        assert!(holds(&null, None));
        assert!(!holds(&null, Some(&["AES256"])));
        let present = cond(r#"{"Null": {"s3:x-amz-server-side-encryption": false}}"#);
        assert!(holds(&present, Some(&["AES256"])));
    }

    #[test]
    fn set_qualifiers() {
        let all = cond(r#"{"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a", "b"]}}"#);
        assert!(holds(&all, Some(&["a"])));
        assert!(holds(&all, Some(&["a", "b"])));
        assert!(!holds(&all, Some(&["a", "c"])));
        assert!(holds(&all, None));
        let any = cond(r#"{"ForAnyValue:StringLike": {"s3:RequestObjectTagKeys": "x*"}}"#);
        assert!(holds(&any, Some(&["a", "xy"])));
        assert!(!holds(&any, Some(&["a"])));
        assert!(!holds(&any, None));
    }

    #[test]
    fn numbers_dates_addresses_and_booleans() {
        let max_keys = cond(r#"{"NumericLessThanEquals": {"s3:max-keys": "10"}}"#);
        assert!(holds(&max_keys, Some(&["10"])));
        assert!(!holds(&max_keys, Some(&["11"])));
        let before = cond(r#"{"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}"#);
        assert!(holds(&before, Some(&["2026-12-03T10:00:00Z"])));
        assert!(!holds(&before, Some(&["2027-01-01T00:00:00Z"])));
        assert!(holds(&before, Some(&["1796000000"])));
        let ip = cond(r#"{"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}}"#);
        assert!(holds(&ip, Some(&["192.0.2.77"])));
        assert!(holds(&ip, Some(&["2001:db8::1"])));
        assert!(holds(&ip, Some(&["::ffff:192.0.2.1"])));
        assert!(!holds(&ip, Some(&["192.0.3.1"])));
        let not_ip = cond(r#"{"NotIpAddress": {"aws:SourceIp": "127.0.0.1"}}"#);
        assert!(!holds(&not_ip, Some(&["127.0.0.1"])));
        assert!(holds(&not_ip, Some(&["127.0.0.2"])));
        let tls = cond(r#"{"Bool": {"aws:SecureTransport": "false"}}"#);
        assert!(holds(&tls, Some(&["false"])));
        assert!(!holds(&tls, Some(&["true"])));
        let arn = cond(
            r#"{"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/*"}}"#,
        );
        assert_eq!(arn.key, "aws:sourcearn");
        assert!(holds(
            &arn,
            Some(&["arn:aws:cloudfront::111122223333:distribution/E1"])
        ));
    }

    #[test]
    fn refused_blocks() {
        let parse = |j: &str| parse_block(&serde_json::from_str(j).unwrap());
        assert!(parse(r#"{"StringEqualz": {"a": "b"}}"#).is_err());
        assert!(parse(r#"{"NullIfExists": {"a": "true"}}"#).is_err());
        assert!(parse(r#"{"DateLessThan": {"aws:CurrentTime": "tomorrow"}}"#).is_err());
        assert!(parse(r#"{"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}}"#).is_err());
        assert!(parse(r#"{"StringEquals": {"a": []}}"#).is_err());
        assert!(parse(r#"{"StringEquals": {}}"#).is_err());
        assert!(parse(r#"{"StringEquals": {"a": {"b": 1}}}"#).is_err());
    }
}
