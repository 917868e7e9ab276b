//! DistributionConfig and policy JSON from a user's file: refused with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_model::cloudfront::{
    CachePolicyConfig, DistributionConfig, OriginRequestPolicyConfig, ResponseHeadersPolicyConfig,
};
use wharf_edge::response_headers::ResponseHeadersPolicy;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = DistributionConfig::from_json(s);
    let _ = CachePolicyConfig::from_json(s);
    let _ = OriginRequestPolicyConfig::from_json(s);
    if let Ok(p) = ResponseHeadersPolicyConfig::from_json(s) {
        let _ = ResponseHeadersPolicy::from_config(&p);
    }
    let _ = wharf_edge::registry::parse_distribution_config(s);
});
