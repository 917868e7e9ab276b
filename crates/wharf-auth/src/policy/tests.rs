//! Policies from AWS's documentation, each checked allowing and denying, the grammar's
//! refusals, and the property that an added explicit `Deny` never grants more.

use super::*;

const ACCOUNT: &str = "111122223333";

fn user(name: &str) -> Caller {
    Caller::User {
        account: ACCOUNT.into(),
        name: name.into(),
        canonical_id: format!("{:0>64}", name.len()),
    }
}

fn ctx(caller: Caller, action: &str, resource: &str) -> RequestContext {
    RequestContext::new(caller, action, resource.into())
}

fn bucket_policy(json: &str) -> Policy {
    Policy::parse(json, PolicyKind::Bucket("amzn-s3-demo-bucket")).unwrap()
}

fn refused(json: &str) -> String {
    Policy::parse(json, PolicyKind::Bucket("amzn-s3-demo-bucket"))
        .unwrap_err()
        .0
}

#[test]
fn public_read() {
    let p = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow",
        "Principal":"*","Action":["s3:GetObject","s3:GetObjectVersion"],
        "Resource":["arn:aws:s3:::amzn-s3-demo-bucket/*"]}]}"#,
    );
    let read = ctx(
        Caller::Anonymous,
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/a/b",
    );
    assert_eq!(p.evaluate(&read), Some(Effect::Allow));
    let put = ctx(
        Caller::Anonymous,
        "s3:PutObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/a",
    );
    assert_eq!(p.evaluate(&put), None);
    let list = ctx(
        Caller::Anonymous,
        "s3:ListBucket",
        "arn:aws:s3:::amzn-s3-demo-bucket",
    );
    assert_eq!(p.evaluate(&list), None);
}

#[test]
fn ip_restriction() {
    let p = bucket_policy(
        r#"{"Version":"2012-10-17","Id":"S3PolicyId1","Statement":[{"Sid":"IPAllow",
        "Effect":"Deny","Principal":"*","Action":"s3:*",
        "Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],
        "Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}"#,
    );
    let mut inside = ctx(
        user("alice"),
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/k",
    );
    inside.set("aws:SourceIp", "192.0.2.10".into());
    assert_eq!(p.evaluate(&inside), None);
    let mut outside = inside.clone();
    outside.set("aws:SourceIp", "198.51.100.1".into());
    assert_eq!(p.evaluate(&outside), Some(Effect::Deny));
}

#[test]
fn deny_insecure_transport() {
    let p = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"RestrictToTLSRequestsOnly",
        "Action":"s3:*","Effect":"Deny",
        "Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],
        "Condition":{"Bool":{"aws:SecureTransport":"false"}},"Principal":"*"}]}"#,
    );
    let mut plain = ctx(
        user("bob"),
        "s3:PutObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/k",
    );
    plain.set("aws:SecureTransport", "false".into());
    assert_eq!(p.evaluate(&plain), Some(Effect::Deny));
    plain.set("aws:SecureTransport", "true".into());
    assert_eq!(p.evaluate(&plain), None);
}

#[test]
fn home_folder_per_user() {
    let p = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"AllowListingOfUserFolder","Action":["s3:ListBucket"],"Effect":"Allow",
         "Resource":["arn:aws:s3:::amzn-s3-demo-bucket"],
         "Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}},
        {"Sid":"AllowAllS3ActionsInUserFolder","Effect":"Allow","Action":["s3:*"],
         "Resource":["arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"]}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let own = ctx(
        user("alice"),
        "s3:PutObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/x",
    );
    assert_eq!(p.evaluate(&own), Some(Effect::Allow));
    let other = ctx(
        user("alice"),
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/home/bob/x",
    );
    assert_eq!(p.evaluate(&other), None);
    let mut list = ctx(
        user("alice"),
        "s3:ListBucket",
        "arn:aws:s3:::amzn-s3-demo-bucket",
    );
    list.set("s3:prefix", "home/alice/photos/".into());
    assert_eq!(p.evaluate(&list), Some(Effect::Allow));
    list.set("s3:prefix", "home/bob/".into());
    assert_eq!(p.evaluate(&list), None);
    // Root has no aws:username: the variable matches nothing.
    let root = Caller::Root {
        account: ACCOUNT.into(),
        canonical_id: "c".repeat(64),
    };
    let r = ctx(
        root,
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/home//x",
    );
    assert_eq!(p.evaluate(&r), None);
}

#[test]
fn origin_access_control() {
    let p = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":{"Sid":"AllowCloudFrontServicePrincipalReadOnly",
        "Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},
        "Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
        "Condition":{"StringEquals":{"AWS:SourceArn":
            "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"}}}}"#,
    );
    let cf = Caller::Service("cloudfront.amazonaws.com".into());
    let mut ours = ctx(
        cf,
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/index.html",
    );
    ours.set(
        "aws:SourceArn",
        "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE".into(),
    );
    assert_eq!(p.evaluate(&ours), Some(Effect::Allow));
    let mut theirs = ours.clone();
    theirs.set(
        "aws:SourceArn",
        "arn:aws:cloudfront::111122223333:distribution/EOTHER".into(),
    );
    assert_eq!(p.evaluate(&theirs), None);
    let anon = ctx(
        Caller::Anonymous,
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/index.html",
    );
    assert_eq!(p.evaluate(&anon), None);
}

#[test]
fn deny_unencrypted_uploads() {
    let p = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyUnencrypted","Effect":"Deny",
        "Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
        "Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}},
        {"Sid":"DenyWrongEncryption","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
        "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
        "Condition":{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}"#,
    );
    let put = ctx(
        user("a"),
        "s3:PutObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/k",
    );
    assert_eq!(p.evaluate(&put), Some(Effect::Deny));
    let mut aes = put.clone();
    aes.set("s3:x-amz-server-side-encryption", "AES256".into());
    assert_eq!(p.evaluate(&aes), Some(Effect::Deny));
    let mut kms = put.clone();
    kms.set("s3:x-amz-server-side-encryption", "aws:kms".into());
    assert_eq!(p.evaluate(&kms), None);
}

#[test]
fn principals() {
    let p = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"AWS":["arn:aws:iam::111122223333:user/alice","444455556666"]},
        "Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
    );
    let r = "arn:aws:s3:::amzn-s3-demo-bucket/k";
    assert_eq!(
        p.evaluate(&ctx(user("alice"), "s3:GetObject", r)),
        Some(Effect::Allow)
    );
    assert_eq!(p.evaluate(&ctx(user("bob"), "s3:GetObject", r)), None);
    let other_root = Caller::Root {
        account: "444455556666".into(),
        canonical_id: "d".repeat(64),
    };
    assert_eq!(
        p.evaluate(&ctx(other_root, "s3:GetObject", r)),
        Some(Effect::Allow)
    );
    // Everyone but alice is denied.
    let not = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny",
        "NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},
        "Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
    );
    assert_eq!(not.evaluate(&ctx(user("alice"), "s3:GetObject", r)), None);
    assert_eq!(
        not.evaluate(&ctx(user("bob"), "s3:GetObject", r)),
        Some(Effect::Deny)
    );
    assert_eq!(
        not.evaluate(&ctx(Caller::Anonymous, "s3:GetObject", r)),
        Some(Effect::Deny)
    );
    // An account as principal denies its users too, but allows only its root.
    let account = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny",
        "Principal":{"AWS":"arn:aws:iam::111122223333:root"},
        "Action":"s3:DeleteObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
    );
    assert_eq!(
        account.evaluate(&ctx(user("bob"), "s3:DeleteObject", r)),
        Some(Effect::Deny)
    );
    let canonical = bucket_policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"CanonicalUser":"{:0>64}"}},
        "Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}}]}}"#,
        5
    ));
    assert_eq!(
        canonical.evaluate(&ctx(user("alice"), "s3:GetObject", r)),
        Some(Effect::Allow)
    );
    assert_eq!(
        canonical.evaluate(&ctx(user("bob"), "s3:GetObject", r)),
        None
    );
}

#[test]
fn not_action_and_not_resource() {
    let p = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
        "NotAction":["s3:Get*","s3:List*"],
        "NotResource":"arn:aws:s3:::amzn-s3-demo-bucket/uploads/*"}]}"#,
    );
    let r = |k: &str| format!("arn:aws:s3:::amzn-s3-demo-bucket/{k}");
    assert_eq!(p.evaluate(&ctx(user("a"), "s3:GetObject", &r("x"))), None);
    assert_eq!(
        p.evaluate(&ctx(user("a"), "s3:PutObject", &r("x"))),
        Some(Effect::Deny)
    );
    assert_eq!(
        p.evaluate(&ctx(user("a"), "s3:PutObject", &r("uploads/x"))),
        None
    );
}

#[test]
fn version_2008_keeps_variables_literal() {
    let p = Policy::parse(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
        "Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    assert_eq!(
        p.evaluate(&ctx(
            user("alice"),
            "s3:GetObject",
            "arn:aws:s3:::b/alice/x"
        )),
        None
    );
    assert_eq!(
        p.evaluate(&ctx(
            user("alice"),
            "s3:GetObject",
            "arn:aws:s3:::b/${aws:username}/x"
        )),
        Some(Effect::Allow)
    );
}

#[test]
fn documents_s3_refuses() {
    assert_eq!(
        refused("[]"),
        "Policies must be valid JSON and the first byte must be '{'"
    );
    assert_eq!(refused("{"), "Invalid policy syntax.");
    assert_eq!(
        refused(r#"{"Version":"2012-10-17"}"#),
        "Missing required field Statement"
    );
    let stmt = |s: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#);
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#
        )),
        "Missing required field Principal"
    );
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObjectt","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#
        )),
        "Policy has invalid action"
    );
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other-bucket/*"}"#
        )),
        "Policy has invalid resource"
    );
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket"}"#
        )),
        "Action does not apply to any resource(s) in statement"
    );
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#
        )),
        "Invalid principal in policy"
    );
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"StringEqualz":{"a":"b"}}}"#
        )),
        "Invalid Condition type : StringEqualz"
    );
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Extra":1}"#
        )),
        "Unknown field Extra"
    );
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#
        )),
        "Invalid effect: must be Allow or Deny"
    );
    assert_eq!(
        refused(&stmt(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}"#
        )),
        "Statement cannot have both Action and NotAction"
    );
    assert!(refused(&format!(r#"{{"Id":"{}"}}"#, "x".repeat(MAX_POLICY_BYTES))).contains("20 KB"));
    assert_eq!(
        Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}"#,
            PolicyKind::Identity
        )
        .unwrap_err()
        .0,
        "Policy document should not specify a principal."
    );
}

/// A tiny deterministic generator (xorshift), enough to build many random policies without a
/// property-testing crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn random_statement(rng: &mut Rng, effect: &str) -> String {
    let principal = rng.pick(&[
        r#""*""#,
        r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
        r#"{"AWS":"111122223333"}"#,
        r#"{"Service":"cloudfront.amazonaws.com"}"#,
    ]);
    let action = rng.pick(&[
        r#""s3:*""#,
        r#""s3:GetObject""#,
        r#"["s3:Put*","s3:List*"]"#,
    ]);
    let resource = rng.pick(&[
        r#""arn:aws:s3:::amzn-s3-demo-bucket/*""#,
        r#""arn:aws:s3:::amzn-s3-demo-bucket""#,
        r#""arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*""#,
        r#"["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"]"#,
    ]);
    let not = rng.pick(&["", "Not"]);
    let condition = rng.pick(&[
        "",
        r#","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#,
        r#","Condition":{"Bool":{"aws:SecureTransport":"false"}}"#,
        r#","Condition":{"StringNotLike":{"s3:prefix":"home/*"}}"#,
    ]);
    format!(
        r#"{{"Effect":"{effect}","Principal":{principal},"{not}Action":{action},"Resource":{resource}{condition}}}"#
    )
}

/// Adding a `Deny` statement to a policy never turns a denied request into an allowed one.
#[test]
fn an_added_deny_never_grants_more() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let callers = [
        Caller::Anonymous,
        user("alice"),
        user("bob"),
        Caller::Service("cloudfront.amazonaws.com".into()),
    ];
    let requests = [
        ("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/alice/x"),
        ("s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/k"),
        ("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket"),
    ];
    let mut checked = 0;
    for _ in 0..300 {
        let n = 1 + rng.next() % 4;
        let mut stmts: Vec<String> = (0..n)
            .map(|_| {
                let effect = rng.pick(&["Allow", "Deny"]);
                random_statement(&mut rng, effect)
            })
            .collect();
        let doc = |s: &[String]| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                s.join(",")
            )
        };
        let Ok(before) = Policy::parse(&doc(&stmts), PolicyKind::Bucket("amzn-s3-demo-bucket"))
        else {
            continue;
        };
        stmts.push(random_statement(&mut rng, "Deny"));
        let Ok(after) = Policy::parse(&doc(&stmts), PolicyKind::Bucket("amzn-s3-demo-bucket"))
        else {
            continue;
        };
        for caller in &callers {
            for (action, resource) in requests {
                for ip in ["192.0.2.1", "203.0.113.9"] {
                    let mut c = ctx(caller.clone(), action, resource);
                    c.set("aws:SourceIp", ip.into());
                    c.set("aws:SecureTransport", "false".into());
                    c.set("s3:prefix", "home/x".into());
                    let was = decide([before.evaluate(&c)]);
                    let is = decide([after.evaluate(&c)]);
                    assert!(
                        was || !is,
                        "a Deny granted {action} on {resource} to {caller:?}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 5_000, "only {checked} cases");
}

#[test]
fn what_a_policy_mentions() {
    let p = bucket_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
        "Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
        "Condition":{"StringEquals":{"s3:ExistingObjectTag/Class":"secret"}}}]}"#,
    );
    assert!(p.mentions_key("s3:existingobjecttag/"));
    assert!(!p.mentions_key("aws:sourceip"));
    let mut ctx = ctx(
        user("a"),
        "s3:GetObject",
        "arn:aws:s3:::amzn-s3-demo-bucket/k",
    );
    assert_eq!(p.evaluate(&ctx), None);
    ctx.set("s3:ExistingObjectTag/Class", "secret".into());
    assert_eq!(p.evaluate(&ctx), Some(Effect::Deny));
}
