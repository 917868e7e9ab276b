//! Viewer `Range` requests (RFC 9110 §14): one `bytes=` range is served from the cache as a
//! 206; anything else (several ranges, other units, garbage) is ignored and the whole
//! representation is sent, as RFC 9110 §14.2 allows. An unsatisfiable range gets 416.

/// A resolved byte range: `[start, end)` of a body of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// The range cannot be satisfied for this body (416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// `bytes=a-b` or `bytes=a-`.
    From(u64, Option<u64>),
    /// `bytes=-n`.
    Suffix(u64),
}

/// Parses a single-range `Range` header; `None` means "ignore it".
pub fn parse(value: &str) -> Option<RangeSpec> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (a.is_empty(), b.is_empty()) {
        (true, false) => Some(RangeSpec::Suffix(num(b)?)),
        (false, true) => Some(RangeSpec::From(num(a)?, None)),
        (false, false) => {
            let (x, y) = (num(a)?, num(b)?);
            (y >= x).then_some(RangeSpec::From(x, Some(y)))
        }
        (true, true) => None,
    }
}

impl RangeSpec {
    /// The range within a body of `size` bytes; never empty (callers write its last byte as
    /// `end - 1`), so an empty body satisfies no range.
    pub fn resolve(self, size: u64) -> Result<ByteRange, Unsatisfiable> {
        match self {
            Self::From(a, _) if a >= size => Err(Unsatisfiable),
            Self::From(a, b) => Ok(ByteRange {
                start: a,
                end: b.map_or(size, |b| b.saturating_add(1).min(size)),
            }),
            // RFC 9110 §14.1.3: a suffix of an empty representation is unsatisfiable.
            Self::Suffix(n) if n == 0 || size == 0 => Err(Unsatisfiable),
            Self::Suffix(n) => Ok(ByteRange {
                start: size.saturating_sub(n),
                end: size,
            }),
        }
    }

    /// First byte, when it does not depend on the size.
    pub fn start_hint(self) -> Option<u64> {
        match self {
            Self::From(a, _) => Some(a),
            Self::Suffix(_) => None,
        }
    }

    /// The whole `chunk`-sized chunks around the range, as `[start, end)` (`None`: to the
    /// end), when its start does not depend on the size: what a miss asks the origin for.
    pub fn aligned(self, chunk: u64) -> Option<(u64, Option<u64>)> {
        let start = self.start_hint()? / chunk * chunk;
        let end = self
            .end_hint()
            .and_then(|e| e.div_ceil(chunk).checked_mul(chunk));
        Some((start, end))
    }

    /// Last byte + 1, when it does not depend on the size (a last byte of 2^64 − 1 is the
    /// end of any body: no hint).
    pub fn end_hint(self) -> Option<u64> {
        match self {
            Self::From(_, Some(b)) => b.checked_add(1),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let r = |s: &str, size| parse(s).map(|x| x.resolve(size));
        assert_eq!(
            r("bytes=0-9", 100),
            Some(Ok(ByteRange { start: 0, end: 10 }))
        );
        assert_eq!(
            r("bytes=90-", 100),
            Some(Ok(ByteRange {
                start: 90,
                end: 100
            }))
        );
        assert_eq!(
            r("bytes=-10", 100),
            Some(Ok(ByteRange {
                start: 90,
                end: 100
            }))
        );
        assert_eq!(
            r("bytes=-500", 100),
            Some(Ok(ByteRange { start: 0, end: 100 }))
        );
        assert_eq!(
            r("bytes=50-5000", 100),
            Some(Ok(ByteRange {
                start: 50,
                end: 100
            }))
        );
        assert_eq!(r("bytes=100-", 100), Some(Err(Unsatisfiable)));
        assert_eq!(r("bytes=-0", 100), Some(Err(Unsatisfiable)));
        // An empty body has no byte to send (found by the edge_parsers fuzz target).
        assert_eq!(r("bytes=-737", 0), Some(Err(Unsatisfiable)));
        assert_eq!(r("bytes=0-", 0), Some(Err(Unsatisfiable)));
        assert_eq!(r("bytes=0-1,5-6", 100), None);
        assert_eq!(r("bytes=5-1", 100), None);
        assert_eq!(r("items=0-1", 100), None);
        assert_eq!(r("bytes=a-b", 100), None);
        // The largest last byte a client can send is the end of any body.
        assert_eq!(
            r("bytes=0-18446744073709551615", 100),
            Some(Ok(ByteRange { start: 0, end: 100 }))
        );
        assert_eq!(r("bytes=0-18446744073709551616", 100), None);
    }

    #[test]
    fn aligned_chunks_never_overflow() {
        let spec = |s: &str| parse(s).unwrap();
        assert_eq!(spec("bytes=5-9").aligned(4), Some((4, Some(12))));
        assert_eq!(spec("bytes=5-").aligned(4), Some((4, None)));
        assert_eq!(spec("bytes=-5").aligned(4), None);
        let max = u64::MAX;
        assert_eq!(
            spec(&format!("bytes=0-{max}")).aligned(1 << 20),
            Some((0, None))
        );
        assert_eq!(
            spec(&format!("bytes=0-{}", max - 1)).aligned(1 << 20),
            Some((0, None))
        );
        assert_eq!(
            spec(&format!("bytes={max}-{max}")).aligned(1 << 20),
            Some((max / (1 << 20) * (1 << 20), None))
        );
    }
}
