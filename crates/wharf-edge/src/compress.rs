//! On-the-fly compression, as CloudFront does it: when the behavior has `Compress`, its cache
//! policy keys on `Accept-Encoding`, the viewer accepts `br` or `gzip`, and the origin sent an
//! uncompressed response of a compressible type with a `Content-Length` between 1,000 and
//! 10,000,000 bytes. The compressed body is what the fill stores, so each encoding is cached
//! under its own key (the normalised `Accept-Encoding` is part of it).

use bytes::Bytes;
use futures::stream::BoxStream;
use http::header::{self, HeaderValue};
use http::{HeaderMap, StatusCode};

/// CloudFront compresses objects of at least 1,000 bytes...
pub const MIN_COMPRESS_SIZE: u64 = 1_000;
/// ...and at most 10,000,000 bytes.
pub const MAX_COMPRESS_SIZE: u64 = 10_000_000;
/// Brotli quality: fast enough to run on a fill (11, the maximum, is ~50× slower).
pub const BROTLI_QUALITY: i32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Br,
    Gzip,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Br => "br",
            Self::Gzip => "gzip",
        }
    }

    /// The encoding to use for a normalised `Accept-Encoding` (`br` first, as CloudFront).
    pub fn choose(normalized: &str) -> Option<Self> {
        if normalized.split(',').any(|e| e == "br") {
            Some(Self::Br)
        } else if normalized.split(',').any(|e| e == "gzip") {
            Some(Self::Gzip)
        } else {
            None
        }
    }
}

/// The content types CloudFront compresses (its documented list, by prefix for `text/`).
pub fn compressible(content_type: &str) -> bool {
    let t = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    t.starts_with("text/")
        || matches!(
            t.as_str(),
            "application/dash+xml"
                | "application/eot"
                | "application/font"
                | "application/font-sfnt"
                | "application/javascript"
                | "application/json"
                | "application/opentype"
                | "application/otf"
                | "application/pdf"
                | "application/pkcs7-mime"
                | "application/protobuf"
                | "application/rss+xml"
                | "application/truetype"
                | "application/ttf"
                | "application/vnd.apple.mpegurl"
                | "application/vnd.mapbox-vector-tile"
                | "application/vnd.ms-fontobject"
                | "application/wasm"
                | "application/xhtml+xml"
                | "application/xml"
                | "application/x-font-opentype"
                | "application/x-font-truetype"
                | "application/x-font-ttf"
                | "application/x-httpd-cgi"
                | "application/x-javascript"
                | "application/x-mpegurl"
                | "application/x-opentype"
                | "application/x-otf"
                | "application/x-perl"
                | "application/x-ttf"
                | "font/eot"
                | "font/otf"
                | "font/ttf"
                | "image/svg+xml"
                | "image/vnd.microsoft.icon"
                | "image/x-icon"
                | "multipart/bag"
                | "multipart/mixed"
        )
}

/// Whether this response should be compressed with `enc`.
pub fn applies(status: StatusCode, headers: &HeaderMap) -> bool {
    let len = crate::cache::content_length(headers);
    status == StatusCode::OK
        && !headers.contains_key(header::CONTENT_ENCODING)
        && len.is_some_and(|l| (MIN_COMPRESS_SIZE..=MAX_COMPRESS_SIZE).contains(&l))
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(compressible)
        && !crate::freshness::directives(headers).no_transform
}

/// Rewrites the head for the compressed body: `Content-Encoding` set, the length unknown, a
/// strong ETag made weak (the bytes differ), `Vary: Accept-Encoding` added.
pub fn head(headers: &mut HeaderMap, enc: Encoding) {
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(enc.as_str()),
    );
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::ACCEPT_RANGES);
    if let Some(etag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok())
        && !etag.starts_with("W/")
        && let Ok(v) = HeaderValue::from_str(&format!("W/{etag}"))
    {
        headers.insert(header::ETAG, v);
    }
    let varies = headers.get_all(header::VARY).iter().any(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .split(',')
            .any(|n| n.trim().eq_ignore_ascii_case("accept-encoding") || n.trim() == "*")
    });
    if !varies {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
}

/// The body, compressed as it streams.
pub fn body(
    body: BoxStream<'static, std::io::Result<Bytes>>,
    enc: Encoding,
) -> BoxStream<'static, std::io::Result<Bytes>> {
    use async_compression::Level;
    use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder};
    let reader = tokio_util::io::StreamReader::new(body);
    match enc {
        Encoding::Gzip => Box::pin(tokio_util::io::ReaderStream::new(GzipEncoder::new(reader))),
        Encoding::Br => Box::pin(tokio_util::io::ReaderStream::new(
            BrotliEncoder::with_quality(reader, Level::Precise(BROTLI_QUALITY)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    #[test]
    fn choices_and_types() {
        assert_eq!(Encoding::choose("br,gzip"), Some(Encoding::Br));
        assert_eq!(Encoding::choose("gzip"), Some(Encoding::Gzip));
        assert_eq!(Encoding::choose(""), None);
        assert!(compressible("text/html; charset=utf-8"));
        assert!(compressible("application/json"));
        assert!(!compressible("image/png"));
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css"));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5000"));
        assert!(applies(StatusCode::OK, &h));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        assert!(!applies(StatusCode::OK, &h));
    }

    #[tokio::test]
    async fn gzip_round_trip() {
        let data = Bytes::from("hello ".repeat(1000));
        let src: BoxStream<'static, std::io::Result<Bytes>> =
            Box::pin(futures::stream::iter(vec![Ok(data.clone())]));
        let out: Vec<Bytes> = body(src, Encoding::Gzip).try_collect().await.unwrap();
        let gz: Vec<u8> = out.concat();
        assert!(gz.len() < data.len() / 10);
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    }
}
