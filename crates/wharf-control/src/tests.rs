//! The API end to end in process: signed requests through [`Control::handle`], the state on
//! disk, the change feed and what the edge is told.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use wharf_auth::policy::{self, Policy, PolicyKind};
use wharf_auth::sigv4;

use super::*;

const ACCOUNT: &str = "123456789012";
const ROOT_KEY: &str = "AKIAROOT";
const USER_KEY: &str = "AKIAUSER";

struct Keys;

#[async_trait::async_trait]
impl Identities for Keys {
    async fn identity(&self, access_key: &str) -> Result<Option<Identity>, String> {
        Ok(match access_key {
            ROOT_KEY => Some(Identity {
                secret_access_key: "rootsecret".into(),
                caller: policy::Caller::Root {
                    account: ACCOUNT.into(),
                    canonical_id: "c0".into(),
                },
                policies: Vec::new().into(),
            }),
            USER_KEY => Some(Identity {
                secret_access_key: "usersecret".into(),
                caller: policy::Caller::User {
                    account: ACCOUNT.into(),
                    name: "reader".into(),
                    canonical_id: "c1".into(),
                },
                policies: vec![Policy::parse(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudfront:Get*","cloudfront:List*"],"Resource":"*"}]}"#,
                    PolicyKind::Identity,
                )
                .unwrap()]
                .into(),
            }),
            _ => None,
        })
    }
}

struct Api {
    control: Arc<Control>,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    etag: Option<String>,
    body: String,
}

impl Api {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let control =
            Control::open(&dir.path().join("control.db"), ACCOUNT, Arc::new(Keys)).unwrap();
        control.set_settle(std::time::Duration::ZERO);
        Self { control, _dir: dir }
    }

    async fn call_as(
        &self,
        key: &str,
        secret: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let amz_date = sigv4::amz_date(std::time::SystemTime::now());
        let mut hs: Vec<(String, String)> = vec![
            ("host".into(), "localhost".into()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        for (n, v) in headers {
            hs.push(((*n).to_owned(), (*v).to_owned()));
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let payload = sigv4::sha256_hex(body.as_bytes());
        let auth = sigv4::authorization(
            &sigv4::Canonical {
                method,
                path,
                query,
                headers: &hs,
                payload_sha256: &payload,
            },
            key,
            secret,
            &amz_date,
            "us-east-1",
            "cloudfront",
        );
        let mut b = Request::builder().method(method).uri(target);
        for (n, v) in &hs {
            b = b.header(n.as_str(), v.as_str());
        }
        let req = b
            .header("authorization", auth)
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        assert!(is_control(&req));
        let resp = self.control.handle(req).await;
        let status = resp.status();
        let etag = resp
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            etag,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    async fn call(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        self.call_as(ROOT_KEY, "rootsecret", method, target, headers, body)
            .await
    }

    /// The edge applies everything the feed says.
    fn deploy(&self) {
        let seq = self.control.edge_view().seq;
        self.control.applied(seq).unwrap();
    }
}

fn config(caller_ref: &str, alias: &str, enabled: bool) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><CallerReference>{caller_ref}</CallerReference><Aliases><Quantity>1</Quantity><Items><CNAME>{alias}</CNAME></Items></Aliases><Origins><Quantity>1</Quantity><Items><Origin><Id>o1</Id><DomainName>site.s3.localhost</DomainName><S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins><DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId></DefaultCacheBehavior><Comment>c</Comment><Enabled>{enabled}</Enabled></DistributionConfig>"#
    )
}

fn element<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no {name} in {xml}"))
        + open.len();
    let end = xml[start..].find(&format!("</{name}>")).unwrap() + start;
    &xml[start..end]
}

#[tokio::test]
async fn distribution_lifecycle_with_etags_and_deployment() {
    let api = Api::new();
    let feed = api.control.subscribe();
    let created = api
        .call(
            "POST",
            "/2020-05-31/distribution",
            &[],
            &config("r1", "www.example.com", true),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = element(&created.body, "Id").to_owned();
    assert_eq!(element(&created.body, "Status"), "InProgress");
    assert_eq!(
        element(&created.body, "DomainName"),
        format!("{}.cloudfront.localhost", id.to_ascii_lowercase())
    );
    let etag1 = created.etag.clone().unwrap();
    // The feed moved and the edge sees the distribution.
    assert!(feed.has_changed().unwrap());
    let view = api.control.edge_view();
    assert_eq!(view.distributions.len(), 1);
    assert_eq!(view.distributions[0].0, id);
    api.deploy();
    let got = api
        .call("GET", &format!("/2020-05-31/distribution/{id}"), &[], "")
        .await;
    assert_eq!(element(&got.body, "Status"), "Deployed");
    assert_eq!(got.etag.as_deref(), Some(etag1.as_str()));

    // The same request again is the same distribution; another config under the same
    // CallerReference is refused.
    let again = api
        .call(
            "POST",
            "/2020-05-31/distribution",
            &[],
            &config("r1", "www.example.com", true),
        )
        .await;
    assert_eq!(element(&again.body, "Id"), id);
    let clash = api
        .call(
            "POST",
            "/2020-05-31/distribution",
            &[],
            &config("r1", "other.example.com", true),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert!(
        clash
            .body
            .contains("<Code>DistributionAlreadyExists</Code>")
    );
    // The alias belongs to the first one.
    let cname = api
        .call(
            "POST",
            "/2020-05-31/distribution",
            &[],
            &config("r2", "WWW.example.com", true),
        )
        .await;
    assert_eq!(cname.status, StatusCode::CONFLICT);
    assert!(cname.body.contains("<Code>CNAMEAlreadyExists</Code>"));

    // Update: no If-Match, a stale one, the right one.
    let target = format!("/2020-05-31/distribution/{id}/config");
    let disabled = config("r1", "www.example.com", false);
    let none = api.call("PUT", &target, &[], &disabled).await;
    assert!(
        none.body.contains("<Code>InvalidIfMatchVersion</Code>"),
        "{}",
        none.body
    );
    let stale = api
        .call("PUT", &target, &[("if-match", "EWRONG")], &disabled)
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let renamed = config("r9", "www.example.com", false);
    let illegal = api
        .call("PUT", &target, &[("if-match", &etag1)], &renamed)
        .await;
    assert!(illegal.body.contains("<Code>IllegalUpdate</Code>"));
    let updated = api
        .call("PUT", &target, &[("if-match", &etag1)], &disabled)
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let etag2 = updated.etag.unwrap();
    assert_ne!(etag1, etag2);
    assert_eq!(element(&updated.body, "Status"), "InProgress");

    // Delete: not before the disabled config is deployed.
    let del = format!("/2020-05-31/distribution/{id}");
    let early = api.call("DELETE", &del, &[("if-match", &etag2)], "").await;
    assert!(early.body.contains("<Code>DistributionNotDisabled</Code>"));
    api.deploy();
    let stale = api.call("DELETE", &del, &[("if-match", &etag1)], "").await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let gone = api.call("DELETE", &del, &[("if-match", &etag2)], "").await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    let missing = api.call("GET", &del, &[], "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("<Code>NoSuchDistribution</Code>"));
    assert!(api.control.edge_view().distributions.is_empty());
}

#[tokio::test]
async fn listing_pages_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("control.db");
    let api = Api {
        control: Control::open(&path, ACCOUNT, Arc::new(Keys)).unwrap(),
        _dir: tempfile::tempdir().unwrap(),
    };
    api.control.set_settle(std::time::Duration::ZERO);
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = api
            .call(
                "POST",
                "/2020-05-31/distribution",
                &[],
                &config(&format!("r{i}"), &format!("a{i}.example.com"), true),
            )
            .await;
        ids.push(element(&r.body, "Id").to_owned());
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut marker = String::new();
    loop {
        let r = api
            .call(
                "GET",
                &format!("/2020-05-31/distribution?Marker={marker}&MaxItems=2"),
                &[],
                "",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut rest = r.body.as_str();
        while let Some(i) = rest.find("<DistributionSummary><Id>") {
            rest = &rest[i + 25..];
            seen.push(rest[..14].to_owned());
        }
        if element(&r.body, "IsTruncated") == "false" {
            break;
        }
        marker = element(&r.body, "NextMarker").to_owned();
    }
    assert_eq!(seen, ids);
    let bad = api
        .call("GET", "/2020-05-31/distribution?MaxItems=x", &[], "")
        .await;
    assert!(bad.body.contains("<Code>InvalidArgument</Code>"));
    drop(api);
    let reopened = Control::open(&path, ACCOUNT, Arc::new(Keys)).unwrap();
    assert_eq!(reopened.edge_view().distributions.len(), 5);
}

#[tokio::test]
async fn invalidations_complete_once_the_edge_applied_them() {
    let api = Api::new();
    let r = api
        .call(
            "POST",
            "/2020-05-31/distribution",
            &[],
            &config("r1", "x.example.com", true),
        )
        .await;
    let id = element(&r.body, "Id").to_owned();
    api.deploy();
    let batch = |paths: &[&str], caller: &str| {
        let items: String = paths.iter().map(|p| format!("<Path>{p}</Path>")).collect();
        format!(
            r#"<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Paths><Quantity>{}</Quantity><Items>{items}</Items></Paths><CallerReference>{caller}</CallerReference></InvalidationBatch>"#,
            paths.len()
        )
    };
    let target = format!("/2020-05-31/distribution/{id}/invalidation");
    let made = api
        .call("POST", &target, &[], &batch(&["/a", "/img/*"], "c1"))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(element(&made.body, "Status"), "InProgress");
    let inv = element(&made.body, "Id").to_owned();
    let pending = api.control.pending_invalidations();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].paths, vec!["/a", "/img/*"]);
    api.deploy();
    assert!(api.control.pending_invalidations().is_empty());
    let got = api.call("GET", &format!("{target}/{inv}"), &[], "").await;
    assert_eq!(element(&got.body, "Status"), "Completed");
    // The same CallerReference is the same invalidation.
    let again = api
        .call("POST", &target, &[], &batch(&["/a", "/img/*"], "c1"))
        .await;
    assert_eq!(element(&again.body, "Id"), inv);
    let other = api.call("POST", &target, &[], &batch(&["/b"], "c1")).await;
    assert!(other.body.contains("InvalidationBatchAlreadyExists"));
    for bad in [batch(&["a"], "c2"), batch(&["/a*b"], "c3")] {
        let r = api.call("POST", &target, &[], &bad).await;
        assert!(
            r.body.contains("<Code>InvalidArgument</Code>"),
            "{}",
            r.body
        );
    }
    let inconsistent = batch(&["/a"], "c4").replace("<Quantity>1", "<Quantity>2");
    let r = api.call("POST", &target, &[], &inconsistent).await;
    assert!(r.body.contains("<Code>InconsistentQuantities</Code>"));
    let list = api.call("GET", &target, &[], "").await;
    assert_eq!(element(&list.body, "Quantity"), "1");
    let nowhere = api
        .call(
            "POST",
            "/2020-05-31/distribution/ENONE/invalidation",
            &[],
            &batch(&["/a"], "c5"),
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn signatures_permissions_and_unbuilt_operations() {
    let api = Api::new();
    let list = api
        .call_as(
            USER_KEY,
            "usersecret",
            "GET",
            "/2020-05-31/distribution",
            &[],
            "",
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let create = api
        .call_as(
            USER_KEY,
            "usersecret",
            "POST",
            "/2020-05-31/distribution",
            &[],
            &config("r", "y.example.com", true),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert!(
        create.body.contains("cloudfront:CreateDistribution"),
        "{}",
        create.body
    );
    let forged = api
        .call_as(
            USER_KEY,
            "wrong",
            "GET",
            "/2020-05-31/distribution",
            &[],
            "",
        )
        .await;
    assert!(forged.body.contains("<Code>SignatureDoesNotMatch</Code>"));
    let unknown = api
        .call_as(
            "AKIANOBODY",
            "x",
            "GET",
            "/2020-05-31/distribution",
            &[],
            "",
        )
        .await;
    assert!(unknown.body.contains("<Code>InvalidClientTokenId</Code>"));
    let unbuilt = api
        .call(
            "GET",
            "/2020-05-31/origin-access-identity/cloudfront",
            &[],
            "",
        )
        .await;
    assert_eq!(unbuilt.status, StatusCode::NOT_IMPLEMENTED);
    let malformed = api
        .call(
            "POST",
            "/2020-05-31/distribution",
            &[],
            "<DistributionConfig><Oops",
        )
        .await;
    assert!(
        malformed.body.contains("<Code>MalformedInput</Code>"),
        "{}",
        malformed.body
    );
}

#[tokio::test]
async fn tags_on_distributions() {
    let api = Api::new();
    let body = format!(
        r#"<DistributionConfigWithTags xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">{}<Tags><Items><Tag><Key>env</Key><Value>prod</Value></Tag></Items></Tags></DistributionConfigWithTags>"#,
        config("t1", "t.example.com", true)
            .replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "")
    );
    let r = api
        .call("POST", "/2020-05-31/distribution?WithTags", &[], &body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let arn = element(&r.body, "ARN").to_owned();
    assert_eq!(
        arn,
        format!(
            "arn:aws:cloudfront::{ACCOUNT}:distribution/{}",
            element(&r.body, "Id")
        )
    );
    let q = format!("Resource={}", sigv4::uri_encode(arn.as_bytes(), false));
    let tags = api
        .call("GET", &format!("/2020-05-31/tagging?{q}"), &[], "")
        .await;
    assert!(
        tags.body
            .contains("<Tag><Key>env</Key><Value>prod</Value></Tag>"),
        "{}",
        tags.body
    );
    let add = r#"<Tags xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Items><Tag><Key>team</Key><Value>web</Value></Tag></Items></Tags>"#;
    let r = api
        .call(
            "POST",
            &format!("/2020-05-31/tagging?Operation=Tag&{q}"),
            &[],
            add,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let remove = r#"<TagKeys xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Items><Key>env</Key></Items></TagKeys>"#;
    let r = api
        .call(
            "POST",
            &format!("/2020-05-31/tagging?Operation=Untag&{q}"),
            &[],
            remove,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let tags = api
        .call("GET", &format!("/2020-05-31/tagging?{q}"), &[], "")
        .await;
    assert!(tags.body.contains("<Key>team</Key>") && !tags.body.contains("<Key>env</Key>"));
    let none = api
        .call("GET", "/2020-05-31/tagging?Resource=arn%3Aaws%3Acloudfront%3A%3A123456789012%3Adistribution%2FENONE", &[], "")
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);
}

#[tokio::test]
async fn account_quotas_answer_too_many() {
    let api = Api::new();
    let policy = |i: usize| {
        format!(
            r#"<CachePolicyConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Comment></Comment><Name>p{i}</Name><DefaultTTL>1</DefaultTTL><MaxTTL>2</MaxTTL><MinTTL>0</MinTTL><ParametersInCacheKeyAndForwardedToOrigin><EnableAcceptEncodingGzip>false</EnableAcceptEncodingGzip><HeadersConfig><HeaderBehavior>none</HeaderBehavior></HeadersConfig><CookiesConfig><CookieBehavior>none</CookieBehavior></CookiesConfig><QueryStringsConfig><QueryStringBehavior>none</QueryStringBehavior></QueryStringsConfig></ParametersInCacheKeyAndForwardedToOrigin></CachePolicyConfig>"#
        )
    };
    let (limit, _) = crate::limits::per_account(crate::state::Kind::CachePolicy);
    for i in 0..limit {
        let r = api
            .call("POST", "/2020-05-31/cache-policy", &[], &policy(i))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = api
        .call("POST", "/2020-05-31/cache-policy", &[], &policy(limit))
        .await;
    assert!(
        r.body.contains("<Code>TooManyCachePolicies</Code>"),
        "{}",
        r.body
    );
    let dup = api
        .call("POST", "/2020-05-31/cache-policy", &[], &policy(0))
        .await;
    assert!(
        dup.body.contains("TooManyCachePolicies") || dup.body.contains("CachePolicyAlreadyExists")
    );
}
