//! IAM policy documents (bucket and identity policies) as a user writes them: parsed, checked,
//! then evaluated against a few requests, and asked whether they are public: refused with a
//! `MalformedPolicy` reason or decided, never a panic (wildcards are matched in linear time per
//! `*`, so no document makes evaluation blow up).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_auth::policy::{Caller, Policy, PolicyKind, RequestContext, decide};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Policy::parse(text, PolicyKind::Identity);
    let Ok(policy) = Policy::parse(text, PolicyKind::Bucket("fuzz-bucket")) else { return };
    let _ = policy.is_public();
    let callers = [
        Caller::Anonymous,
        Caller::User {
            account: "111122223333".into(),
            name: "alice".into(),
            canonical_id: "a".repeat(64),
        },
        Caller::Service("cloudfront.amazonaws.com".into()),
    ];
    for caller in callers {
        for (action, resource) in [
            ("s3:GetObject", "arn:aws:s3:::fuzz-bucket/home/alice/x"),
            ("s3:ListBucket", "arn:aws:s3:::fuzz-bucket"),
        ] {
            let mut ctx = RequestContext::new(caller.clone(), action, resource.into());
            ctx.set("aws:SourceIp", "192.0.2.1".into());
            ctx.set("aws:CurrentTime", "2026-12-03T10:00:00Z".into());
            ctx.set("s3:prefix", "home/".into());
            ctx.set("s3:max-keys", "10".into());
            let _ = decide([policy.evaluate(&ctx)]);
        }
    }
});
