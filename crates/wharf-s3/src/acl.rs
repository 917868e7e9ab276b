//! ACLs, S3's older access model: grants of READ, WRITE, READ_ACP, WRITE_ACP or FULL_CONTROL to
//! a canonical user or to one of S3's groups (AllUsers, AuthenticatedUsers, LogDelivery), on a
//! bucket or an object version, beside the owner's own full control. They come from canned ACLs
//! (`x-amz-acl`), grant headers (`x-amz-grant-*`) or an `AccessControlPolicy` document, and
//! count only on buckets whose Object Ownership enables ACLs (not `BucketOwnerEnforced`);
//! Block Public Access's `IgnorePublicAcls` makes the groups' grants count for nothing.

use http::HeaderMap;
use s3s::dto;

/// S3's groups, by URI.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

const PERMISSIONS: [&str; 5] = ["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"];

/// One grant: `grantee` is `id=CANONICAL` or `uri=GROUP`, as stored.
pub type Grant = (String, String);

/// Why an ACL in a request cannot be taken: (code, message).
pub type AclError = (&'static str, String);

fn invalid(message: impl Into<String>) -> AclError {
    ("InvalidArgument", message.into())
}

/// What a canned ACL grants besides the owner's full control. `bucket_owner` is the bucket's
/// owner (for an object's `bucket-owner-*` ACLs).
pub fn canned(name: &str, bucket_owner: &str) -> Result<Vec<Grant>, AclError> {
    let g = |who: String, p: &str| (who, p.to_owned());
    Ok(match name {
        "private" => vec![],
        "public-read" => vec![g(format!("uri={ALL_USERS}"), "READ")],
        "public-read-write" => vec![
            g(format!("uri={ALL_USERS}"), "READ"),
            g(format!("uri={ALL_USERS}"), "WRITE"),
        ],
        "authenticated-read" => vec![g(format!("uri={AUTHENTICATED_USERS}"), "READ")],
        "bucket-owner-read" => vec![g(format!("id={bucket_owner}"), "READ")],
        "bucket-owner-full-control" => vec![g(format!("id={bucket_owner}"), "FULL_CONTROL")],
        "log-delivery-write" => vec![
            g(format!("uri={LOG_DELIVERY}"), "WRITE"),
            g(format!("uri={LOG_DELIVERY}"), "READ_ACP"),
        ],
        other => return Err(invalid(format!("Unknown canned ACL: {other}"))),
    })
}

/// A grantee as a grant header names it: `id="…"`, `uri="…"` or `emailAddress="…"`.
fn grantee(spec: &str) -> Result<String, AclError> {
    let (kind, value) = spec
        .split_once('=')
        .ok_or_else(|| invalid(format!("Invalid grantee: {spec}")))?;
    let value = value.trim().trim_matches('"');
    match kind.trim() {
        "id" if is_canonical(value) => Ok(format!("id={}", value.to_ascii_lowercase())),
        "id" => Err(invalid("Invalid id")),
        "uri" => group(value),
        "emailAddress" => Err((
            "UnresolvableGrantByEmailAddress",
            "The email address you provided does not match any account on record.".into(),
        )),
        _ => Err(invalid(format!("Invalid grantee: {spec}"))),
    }
}

fn is_canonical(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn group(uri: &str) -> Result<String, AclError> {
    if [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY].contains(&uri) {
        Ok(format!("uri={uri}"))
    } else {
        Err(invalid(format!("Invalid group uri: {uri}")))
    }
}

/// The ACL a request's headers ask for: `None` when they name none (the default, private).
pub fn from_headers(
    headers: &HeaderMap,
    bucket_owner: &str,
) -> Result<Option<Vec<Grant>>, AclError> {
    let text = |v: &http::HeaderValue| v.to_str().map(str::trim).unwrap_or("").to_owned();
    let canned_acl = headers.get("x-amz-acl").map(text);
    let mut grants = Vec::new();
    for (header, permission) in [
        ("x-amz-grant-read", "READ"),
        ("x-amz-grant-write", "WRITE"),
        ("x-amz-grant-read-acp", "READ_ACP"),
        ("x-amz-grant-write-acp", "WRITE_ACP"),
        ("x-amz-grant-full-control", "FULL_CONTROL"),
    ] {
        for value in headers.get_all(header) {
            for spec in text(value).split(',').filter(|s| !s.trim().is_empty()) {
                grants.push((grantee(spec)?, permission.to_owned()));
            }
        }
    }
    match (canned_acl, grants.is_empty()) {
        (Some(_), false) => Err((
            "InvalidRequest",
            "Specifying both Canned ACLs and Header Grants is not allowed".into(),
        )),
        (Some(c), true) => canned(&c, bucket_owner).map(Some),
        (None, false) => Ok(Some(grants)),
        (None, true) => Ok(None),
    }
}

/// The grants of an `AccessControlPolicy` document (the owner's own full control left out).
pub fn from_policy(policy: &dto::AccessControlPolicy, owner: &str) -> Result<Vec<Grant>, AclError> {
    let malformed = || -> AclError {
        (
            "MalformedACLError",
            "The XML you provided was not well-formed or did not validate against our published schema".into(),
        )
    };
    let mut grants = Vec::new();
    for g in policy.grants.iter().flatten() {
        let permission = g
            .permission
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .filter(|p| PERMISSIONS.contains(&p.as_str()))
            .ok_or_else(malformed)?;
        let e = g.grantee.as_ref().ok_or_else(malformed)?;
        let who = match (e.type_.as_str(), &e.id, &e.uri, &e.email_address) {
            ("CanonicalUser", Some(id), _, _) if is_canonical(id) => {
                format!("id={}", id.to_ascii_lowercase())
            }
            ("CanonicalUser", _, _, _) => return Err(invalid("Invalid id")),
            ("Group", _, Some(uri), _) => group(uri)?,
            ("AmazonCustomerByEmail", _, _, _) => {
                return Err((
                    "UnresolvableGrantByEmailAddress",
                    "The email address you provided does not match any account on record.".into(),
                ));
            }
            _ => return Err(invalid("Invalid grantee")),
        };
        if who == format!("id={owner}") && permission == "FULL_CONTROL" {
            continue;
        }
        grants.push((who, permission));
    }
    Ok(grants)
}

/// Whether grants give anything to the public (AllUsers or AuthenticatedUsers).
pub fn is_public(grants: &[Grant]) -> bool {
    grants.iter().any(|(g, _)| {
        g == &format!("uri={ALL_USERS}") || g == &format!("uri={AUTHENTICATED_USERS}")
    })
}

/// Whether an owner's ACL also grants `permission` (or FULL_CONTROL) to the caller:
/// `caller` is the canonical ID of a signed-in caller, `None` for an anonymous one; with
/// `ignore_public` the groups' grants count for nothing.
pub fn grants(acl: &[Grant], caller: Option<&str>, permission: &str, ignore_public: bool) -> bool {
    acl.iter().any(|(who, p)| {
        let holds = p == permission || p == "FULL_CONTROL";
        let is_caller = match who.split_once('=') {
            Some(("id", id)) => caller == Some(id),
            Some(("uri", ALL_USERS)) => !ignore_public,
            Some(("uri", AUTHENTICATED_USERS)) => !ignore_public && caller.is_some(),
            _ => false,
        };
        holds && is_caller
    })
}

/// The permission an ACL must grant for an action on a bucket (`object: false`) or an object.
pub fn permission_for(action: &str, object: bool) -> Option<&'static str> {
    Some(match (action, object) {
        ("s3:ListBucket" | "s3:ListBucketVersions" | "s3:ListBucketMultipartUploads", false) => {
            "READ"
        }
        ("s3:PutObject" | "s3:DeleteObject" | "s3:DeleteObjectVersion", false) => "WRITE",
        ("s3:GetBucketAcl", false) => "READ_ACP",
        ("s3:PutBucketAcl", false) => "WRITE_ACP",
        ("s3:GetObject" | "s3:GetObjectVersion", true) => "READ",
        ("s3:GetObjectAcl" | "s3:GetObjectVersionAcl", true) => "READ_ACP",
        ("s3:PutObjectAcl" | "s3:PutObjectVersionAcl", true) => "WRITE_ACP",
        _ => return None,
    })
}

/// The grants as S3 shows them, after the owner's full control.
pub fn to_dto(grants: &[Grant], owner: &dto::Owner) -> Vec<dto::Grant> {
    let owner_grant = dto::Grant {
        grantee: Some(dto::Grantee {
            type_: dto::Type::from_static(dto::Type::CANONICAL_USER),
            id: owner.id.clone(),
            display_name: owner.display_name.clone(),
            email_address: None,
            uri: None,
        }),
        permission: Some(dto::Permission::from_static(dto::Permission::FULL_CONTROL)),
    };
    std::iter::once(owner_grant)
        .chain(grants.iter().map(|(who, p)| {
            let (kind, value) = who.split_once('=').unwrap_or(("id", who));
            let grantee = if kind == "uri" {
                dto::Grantee {
                    type_: dto::Type::from_static(dto::Type::GROUP),
                    id: None,
                    display_name: None,
                    email_address: None,
                    uri: Some(value.to_owned()),
                }
            } else {
                dto::Grantee {
                    type_: dto::Type::from_static(dto::Type::CANONICAL_USER),
                    id: Some(value.to_owned()),
                    display_name: None,
                    email_address: None,
                    uri: None,
                }
            };
            dto::Grant {
                grantee: Some(grantee),
                permission: Some(dto::Permission::from(p.clone())),
            }
        }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OTHER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn canned_and_header_grants() {
        let public = canned("public-read", OWNER).unwrap();
        assert!(is_public(&public));
        assert!(grants(&public, None, "READ", false));
        assert!(!grants(&public, None, "READ", true));
        assert!(!grants(&public, None, "WRITE", false));
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-grant-read",
            format!("id=\"{OTHER}\", uri=\"{AUTHENTICATED_USERS}\"")
                .parse()
                .unwrap(),
        );
        let g = from_headers(&h, OWNER).unwrap().unwrap();
        assert_eq!(g.len(), 2);
        assert!(grants(&g, Some(OTHER), "READ", false));
        assert!(grants(&g, Some(OWNER), "READ", false));
        assert!(!grants(&g, None, "READ", false));
        h.insert("x-amz-acl", "private".parse().unwrap());
        assert_eq!(from_headers(&h, OWNER).unwrap_err().0, "InvalidRequest");
        let mut bad = HeaderMap::new();
        bad.insert(
            "x-amz-grant-read",
            "emailAddress=\"a@b.c\"".parse().unwrap(),
        );
        assert_eq!(
            from_headers(&bad, OWNER).unwrap_err().0,
            "UnresolvableGrantByEmailAddress"
        );
        bad.insert(
            "x-amz-grant-read",
            "uri=\"http://example.com/g\"".parse().unwrap(),
        );
        assert_eq!(from_headers(&bad, OWNER).unwrap_err().0, "InvalidArgument");
        assert!(canned("nonsense", OWNER).is_err());
        assert_eq!(from_headers(&HeaderMap::new(), OWNER).unwrap(), None);
    }
}
