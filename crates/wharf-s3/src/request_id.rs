//! The ids S3 gives every response: `x-amz-request-id` (16 uppercase hex characters) and
//! `x-amz-id-2` (an opaque base64 token), repeated as `<RequestId>` and `<HostId>` in error
//! bodies. Made without a system call: a counter, offset by a per-process random seed and
//! spread by SplitMix64's finaliser (the ids are opaque and unique, not secret).

use std::hash::{BuildHasher, RandomState};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

static SEED: LazyLock<u64> = LazyLock::new(|| RandomState::new().hash_one(0u64));
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn hash(n: u64, lane: u64) -> u64 {
    let mut z = SEED
        .wrapping_add(n.wrapping_mul(8).wrapping_add(lane))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The two ids of one request.
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub host_id: String,
}

impl RequestIds {
    pub fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut token = Vec::with_capacity(48);
        for lane in 1..=6 {
            token.extend_from_slice(&hash(n, lane).to_be_bytes());
        }
        Self {
            request_id: format!("{:016X}", hash(n, 0)),
            host_id: base64_simd::STANDARD.encode_to_string(&token),
        }
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_s3_shapes_and_differ() {
        let a = RequestIds::new();
        let b = RequestIds::new();
        assert_eq!(a.request_id.len(), 16);
        assert!(
            a.request_id
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_eq!(a.host_id.len(), 64);
        assert_ne!(a.request_id, b.request_id);
        assert_ne!(a.host_id, b.host_id);
    }
}
