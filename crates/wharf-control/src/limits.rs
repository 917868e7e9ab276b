//! CloudFront's quotas, as its default quotas set them (the ones AWS raises on request are
//! set higher here, where a self-hosted node has no reason to refuse), answered with the
//! API's `TooMany…` errors.

use wharf_model::cloudfront::DistributionConfig;

use crate::error::{ControlError, ControlResult};
use crate::state::{Kind, State};

/// Distributions per account (AWS's default quota is 500, raised on request).
pub const DISTRIBUTIONS: usize = 10_000;
pub const CNAMES_PER_DISTRIBUTION: usize = 100;
pub const ORIGINS_PER_DISTRIBUTION: usize = 100;
pub const ORIGIN_GROUPS_PER_DISTRIBUTION: usize = 10;
pub const CACHE_BEHAVIORS_PER_DISTRIBUTION: usize = 75;
pub const CUSTOM_HEADERS_PER_ORIGIN: usize = 10;
pub const KEY_GROUPS_PER_DISTRIBUTION: usize = 4;

fn too_many(code: &str, what: &str, limit: usize) -> ControlError {
    ControlError::new(code, format!("{what}: the limit is {limit}."))
}

/// A distribution's configuration within the per-distribution quotas.
pub fn check_distribution(config: &DistributionConfig) -> ControlResult<()> {
    if config.aliases.items.len() > CNAMES_PER_DISTRIBUTION {
        return Err(too_many(
            "TooManyDistributionCNAMEs",
            "Too many alternate domain names",
            CNAMES_PER_DISTRIBUTION,
        ));
    }
    if config.origins.items.len() > ORIGINS_PER_DISTRIBUTION {
        return Err(too_many(
            "TooManyOrigins",
            "Too many origins",
            ORIGINS_PER_DISTRIBUTION,
        ));
    }
    if config.origin_groups.items.len() > ORIGIN_GROUPS_PER_DISTRIBUTION {
        return Err(too_many(
            "TooManyOriginGroupsPerDistribution",
            "Too many origin groups",
            ORIGIN_GROUPS_PER_DISTRIBUTION,
        ));
    }
    if config.cache_behaviors.items.len() > CACHE_BEHAVIORS_PER_DISTRIBUTION {
        return Err(too_many(
            "TooManyCacheBehaviors",
            "Too many cache behaviors",
            CACHE_BEHAVIORS_PER_DISTRIBUTION,
        ));
    }
    if config
        .origins
        .items
        .iter()
        .any(|o| o.custom_headers.items.len() > CUSTOM_HEADERS_PER_ORIGIN)
    {
        return Err(too_many(
            "TooManyOriginCustomHeaders",
            "Too many custom headers on an origin",
            CUSTOM_HEADERS_PER_ORIGIN,
        ));
    }
    let mut groups: Vec<&String> = std::iter::once(&config.default_cache_behavior)
        .chain(&config.cache_behaviors.items)
        .filter_map(|b| b.trusted_key_groups.as_ref())
        .flat_map(|g| &g.items)
        .collect();
    groups.sort();
    groups.dedup();
    if groups.len() > KEY_GROUPS_PER_DISTRIBUTION {
        return Err(too_many(
            "TooManyKeyGroupsAssociatedToDistribution",
            "Too many key groups",
            KEY_GROUPS_PER_DISTRIBUTION,
        ));
    }
    Ok(())
}

/// Resources of `kind` an account may have, and the error past it.
pub fn per_account(kind: Kind) -> (usize, &'static str) {
    match kind {
        Kind::Distribution => (DISTRIBUTIONS, "TooManyDistributions"),
        Kind::CachePolicy => (20, "TooManyCachePolicies"),
        Kind::OriginRequestPolicy => (20, "TooManyOriginRequestPolicies"),
        Kind::ResponseHeadersPolicy => (20, "TooManyResponseHeadersPolicies"),
        Kind::OriginAccessControl => (100, "TooManyOriginAccessControls"),
        Kind::PublicKey => (10, "TooManyPublicKeys"),
        Kind::KeyGroup => (10, "TooManyKeyGroups"),
        Kind::Function => (100, "TooManyFunctions"),
        Kind::KeyValueStore => (50, "EntityLimitExceeded"),
    }
}

/// One more resource of `kind` fits in the account's quota.
pub fn check_count(s: &State, kind: Kind) -> ControlResult<()> {
    let (limit, code) = per_account(kind);
    if s.of_kind(kind).count() >= limit {
        return Err(too_many(
            code,
            &format!("Too many resources of kind {}", kind.arn_type()),
            limit,
        ));
    }
    Ok(())
}
