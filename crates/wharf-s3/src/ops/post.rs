//! POST object: browser form uploads (HTML forms with a signed policy).
//!
//! s3s parses the form, checks the policy and hands the upload to PutObject
//! ([`super::object::put_object`]); this module adds
//! what S3 does beyond that: `${filename}` in the `key` field becomes the uploaded file's name
//! (s3s forgets the name, so [`FileNameSniffer`] notes it as the form streams in, with the
//! `tagging` field s3s does not read), and the
//! answer carries the ETag quoted, as S3 quotes it, in the `ETag` header, in the `etag` of a
//! `success_action_redirect` location and in the 201 body.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use s3s::S3Request;
use s3s::dto::*;

/// What a form upload carried that s3s does not keep, once seen: the name of its file, and
/// its `tagging` field (S3's form field for the tag set, an XML document).
#[derive(Debug, Clone, Default)]
pub struct PostForm(pub Arc<Mutex<FormSeen>>);

#[derive(Debug, Clone, Default)]
pub struct FormSeen {
    pub file_name: Option<String>,
    pub tagging: Option<String>,
}

/// Part headers longer than this are not looked into (browsers send a few hundred bytes).
const MAX_PART_HEADERS: usize = 16 * 1024;
/// A `tagging` field longer than this is not a tag set (ten tags are a few KiB).
const MAX_TAGGING_FIELD: usize = 64 * 1024;

/// Watches a multipart/form-data body go by and notes the `filename` of its `file` part and
/// the value of a `tagging` field before it.
pub struct FileNameSniffer<B> {
    inner: B,
    /// `--BOUNDARY`; `None` once the file's name is known or cannot be.
    delimiter: Option<Vec<u8>>,
    window: Vec<u8>,
    found: PostForm,
}

impl<B> FileNameSniffer<B> {
    /// The form boundary of a `multipart/form-data` content type.
    pub fn boundary(content_type: &str) -> Option<String> {
        let (mime, params) = content_type.split_once(';')?;
        if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
            return None;
        }
        params.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.eq_ignore_ascii_case("boundary")
                .then(|| v.trim_matches('"').to_owned())
        })
    }

    /// Wraps `body`, a form with `boundary`; returns it and the slot what it sees will be in.
    pub fn wrap(body: B, boundary: &str) -> (Self, PostForm) {
        let found = PostForm::default();
        (
            Self {
                inner: body,
                delimiter: Some(format!("--{boundary}").into_bytes()),
                window: Vec::new(),
                found: found.clone(),
            },
            found,
        )
    }

    /// Feeds bytes to the scanner as if they had streamed by (for the fuzz target).
    pub fn scan_for_test(&mut self, chunk: &[u8]) {
        self.scan(chunk);
    }

    fn scan(&mut self, chunk: &[u8]) {
        let Some(delim) = self.delimiter.clone() else {
            return;
        };
        self.window.extend_from_slice(chunk);
        loop {
            let Some(at) = find(&self.window, &delim) else {
                // Keep what could be the start of a delimiter split across chunks.
                let keep = delim.len() + 2;
                if self.window.len() > keep {
                    self.window.drain(..self.window.len() - keep);
                }
                return;
            };
            let headers_start = at + delim.len();
            let Some(end) = find(&self.window[headers_start..], b"\r\n\r\n") else {
                if self.window.len() - at > MAX_PART_HEADERS {
                    self.delimiter = None;
                    self.window = Vec::new();
                } else {
                    self.window.drain(..at);
                }
                return;
            };
            let headers = &self.window[headers_start..headers_start + end];
            let value_start = headers_start + end + 4;
            match part_disposition(headers) {
                Some((name, file_name)) if name == "file" => {
                    if let Ok(mut seen) = self.found.0.lock() {
                        seen.file_name = Some(file_name.unwrap_or_default());
                    }
                    self.delimiter = None;
                    self.window = Vec::new();
                    return;
                }
                Some((name, _)) if name == "tagging" => {
                    // Its value runs to the next delimiter (less the CRLF before it).
                    let Some(len) = find(&self.window[value_start..], &delim) else {
                        if self.window.len() - at > MAX_PART_HEADERS + MAX_TAGGING_FIELD {
                            self.delimiter = None;
                            self.window = Vec::new();
                        } else {
                            self.window.drain(..at);
                        }
                        return;
                    };
                    let value = &self.window[value_start..value_start + len];
                    let value = value.strip_suffix(b"\r\n").unwrap_or(value);
                    if let Ok(mut seen) = self.found.0.lock() {
                        seen.tagging = Some(String::from_utf8_lossy(value).into_owned());
                    }
                    self.window.drain(..value_start + len);
                }
                _ => {
                    self.window.drain(..value_start);
                }
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `name` and `filename` of a part, from its `Content-Disposition`.
fn part_disposition(headers: &[u8]) -> Option<(String, Option<String>)> {
    let text = std::str::from_utf8(headers).ok()?;
    let disposition = text.split("\r\n").find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(v)
    })?;
    let param = |name: &str| {
        disposition.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
        })
    };
    Some((param("name")?, param("filename")))
}

impl<B> HttpBody for FileNameSniffer<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            let data = data.clone();
            this.scan(&data);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// For PutObject reached from a POST form (s3s's POST object calls PutObject): the key with
/// `${filename}` replaced by the uploaded file's name. `None` for a plain PutObject.
pub fn form_key<T>(req: &S3Request<T>, key: &str) -> Option<String> {
    let form = req.extensions.get::<PostForm>()?;
    let file = form
        .0
        .lock()
        .ok()
        .and_then(|f| f.file_name.clone())
        .unwrap_or_default();
    Some(key.replace("${filename}", &file))
}

/// A form upload's `tagging` field, if it had one.
pub fn form_tagging<T>(req: &S3Request<T>) -> Option<String> {
    req.extensions
        .get::<PostForm>()?
        .0
        .lock()
        .ok()
        .and_then(|f| f.tagging.clone())
}

/// A POST form's answer carries the ETag quoted, as S3 sends it: s3s writes this value as it
/// is into the redirect's `etag` and the 201 body, and the header is set here too.
pub fn quote_form_etag(out: &mut PutObjectOutput, headers: &mut http::HeaderMap) {
    if let Some(etag) = out.e_tag.take() {
        let quoted = format!("\"{}\"", etag.value());
        if let Ok(v) = http::HeaderValue::from_str(&quoted) {
            headers.insert(http::header::ETAG, v);
        }
        out.e_tag = Some(ETag::Strong(quoted));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_part_name_is_found_across_chunks() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"tagging\"\r\n\r\n<Tagging>x</Tagging>\r\n--XyZ\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\nabc --XyZ-not-a-delimiter\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo 1.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEGDATA\r\n--XyZ--\r\n";
        for split in [1, 3, 7, 50, body.len()] {
            let boundary = FileNameSniffer::<()>::boundary("multipart/form-data; boundary=XyZ");
            let (mut s, found) = FileNameSniffer::wrap((), &boundary.unwrap());
            for chunk in body.as_bytes().chunks(split) {
                s.scan(chunk);
            }
            let seen = found.0.lock().unwrap().clone();
            assert_eq!(
                seen.file_name.as_deref(),
                Some("photo 1.jpg"),
                "split {split}"
            );
            assert_eq!(seen.tagging.as_deref(), Some("<Tagging>x</Tagging>"));
        }
        assert!(FileNameSniffer::<()>::boundary("application/xml").is_none());
    }
}
