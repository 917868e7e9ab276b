//! PutObject, GetObject, HeadObject, DeleteObject.

use std::ops::Range;

use futures::TryStreamExt;
use http::HeaderMap;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, TrailingHeaders, s3_error};
use wharf_model::ObjectKey;
use wharf_store::{
    BodyLimits, BucketRecord, ChecksumAlgorithm, DeleteMarker, MAX_OBJECT_SIZE, Missing,
    ObjectRecord, PartSummary, StagedBody,
};

use super::conditional::{EtagHeaders, read_error};
use super::post;
use crate::access::{Access, BucketRole, Caller, Verdict};
use crate::convert::{
    ChecksumFields, etag, header_checksum, metadata_map, parse_algorithm, storage_class, timestamp,
};
use crate::error::{StoreResultExt, name_error};
use crate::features::{put_object_fields, refuse_customer_key_on_read, refuse_unbuilt};
use crate::normalize::trailers_of;
use crate::{WharfS3, set_checksums};

/// S3: part numbers run from 1 to 10,000.
pub const MAX_PART_NUMBER: i32 = 10_000;

pub fn validate_key(key: &str) -> S3Result<()> {
    ObjectKey::new(key).map(|_| ()).map_err(name_error)
}

/// How a request's body is checked: which algorithm to compute and the value to expect.
pub struct ChecksumPlan {
    pub algorithm: Option<ChecksumAlgorithm>,
    /// A value from a header; a value from a trailer is read after the body.
    pub expected: Option<String>,
    /// The client declared a trailer carrying the value.
    pub trailer: bool,
}

impl ChecksumPlan {
    /// From `x-amz-checksum-*` headers, `x-amz-sdk-checksum-algorithm` and `x-amz-trailer`.
    /// `default` applies when the client asked for nothing (S3 adds CRC64NVME to new objects).
    pub fn of(
        headers: &HeaderMap,
        given: Option<(ChecksumAlgorithm, String)>,
        sdk_algorithm: Option<&s3s::dto::ChecksumAlgorithm>,
        default: Option<ChecksumAlgorithm>,
    ) -> S3Result<Self> {
        let trailer_alg = headers
            .get("x-amz-trailer")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| {
                ChecksumAlgorithm::ALL
                    .into_iter()
                    .find(|a| t.trim().eq_ignore_ascii_case(a.header_name()))
            });
        let sdk = sdk_algorithm.map(parse_algorithm).transpose()?;
        Ok(match given {
            Some((alg, value)) => Self {
                algorithm: Some(alg),
                expected: Some(value),
                trailer: false,
            },
            None => Self {
                algorithm: trailer_alg.or(sdk).or(default),
                expected: None,
                trailer: trailer_alg.is_some(),
            },
        })
    }

    /// Checks the computed checksum against the header value or the trailer's.
    pub fn verify(
        &self,
        computed: Option<&wharf_store::Checksum>,
        trailers: Option<&TrailingHeaders>,
    ) -> S3Result<()> {
        let expected = match (&self.expected, self.trailer, self.algorithm) {
            (Some(v), _, _) => Some(v.clone()),
            (None, true, Some(alg)) => trailers
                .and_then(|t| {
                    t.read(|h| {
                        h.get(alg.header_name())
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    })
                })
                .flatten(),
            _ => None,
        };
        if let (Some(want), Some(alg)) = (expected, self.algorithm) {
            let have = computed.map(|c| c.value.as_str()).unwrap_or_default();
            if want != have {
                return Err(s3_error!(
                    BadDigest,
                    "The {} you specified did not match the calculated checksum.",
                    alg.as_str()
                ));
            }
        }
        Ok(())
    }
}

/// Decodes a `Content-MD5` header into its 16 bytes.
pub fn content_md5(v: Option<&str>) -> S3Result<Option<[u8; 16]>> {
    let Some(v) = v else { return Ok(None) };
    let raw = base64_simd::STANDARD
        .decode_to_vec(v)
        .map_err(|_| s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."))?;
    let arr: [u8; 16] = raw
        .try_into()
        .map_err(|_| s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."))?;
    Ok(Some(arr))
}

pub fn body_stream(body: Option<StreamingBlob>) -> StreamingBlob {
    body.unwrap_or_else(|| {
        StreamingBlob::wrap(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>())
    })
}

/// Receives a request body: streams it into the store's staging area under `limits`, then
/// checks Content-MD5 and the planned checksum (header or trailer). Nothing is visible yet.
pub async fn receive_body(
    s3: &WharfS3,
    body: Option<StreamingBlob>,
    plan: &ChecksumPlan,
    md5: Option<[u8; 16]>,
    trailers: Option<&TrailingHeaders>,
    limits: BodyLimits,
) -> S3Result<StagedBody> {
    // A body the listener cut for being idle or too slow is S3's RequestTimeout.
    let timed_out = std::sync::atomic::AtomicBool::new(false);
    let stream = body_stream(body).inspect_err(|e| {
        if crate::request_body::is_timeout(e.as_ref()) {
            timed_out.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let staged = match s3.store.stage(stream, plan.algorithm, limits).await {
        Err(_) if timed_out.load(std::sync::atomic::Ordering::Relaxed) => {
            return Err(s3_error!(
                RequestTimeout,
                "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."
            ));
        }
        other => other.s3()?,
    };
    if md5.is_some_and(|m| m != staged.digests.md5) {
        return Err(s3_error!(
            BadDigest,
            "The Content-MD5 you specified did not match what we received."
        ));
    }
    plan.verify(staged.digests.checksum.as_ref(), trailers)?;
    Ok(staged)
}

pub async fn put_object(
    s3: &WharfS3,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let caller = s3.caller(&req).await?;
    let etags = EtagHeaders::of(&req);
    let trailers = trailers_of(&req);
    let form_key = post::form_key(&req, &req.input.key);
    let form_tagging = post::form_tagging(&req);
    let headers = req.headers;
    let mut input = req.input;
    if let Some(key) = &form_key {
        input.key.clone_from(key);
    }
    let (user, bucket) = s3
        .authorize(
            &caller,
            &input.bucket,
            BucketRole::Target,
            Access::object("s3:PutObject", &input.key),
        )
        .await?;
    validate_key(&input.key)?;
    let fields = put_object_fields(&input);
    refuse_unbuilt(&headers)?;
    refuse_unbuilt(&fields)?;
    let owner = super::acl::new_object_owner(s3, &bucket, &user.canonical_id, &headers).await?;
    let acl = match super::acl::requested_acl(s3, &bucket, &headers, None, &owner).await? {
        Some(acl) => acl,
        // A browser form's `acl` and `x-amz-grant-*` fields.
        None => super::acl::requested_acl(s3, &bucket, &fields, None, &owner)
            .await?
            .unwrap_or_default(),
    };
    let cond = etags.write_condition();
    let md5 = content_md5(input.content_md5.as_deref())?;
    let given = header_checksum(
        &input.checksum_crc32,
        &input.checksum_crc32c,
        &input.checksum_crc64nvme,
        &input.checksum_sha1,
        &input.checksum_sha256,
    )?;
    let plan = ChecksumPlan::of(
        &headers,
        given,
        input.checksum_algorithm.as_ref(),
        Some(ChecksumAlgorithm::Crc64Nvme),
    )?;
    // A browser form brings its tag set as XML and its locks as form fields.
    let (tags, lock_headers) = match &form_key {
        Some(_) => (
            match form_tagging.as_deref() {
                Some(xml) => super::tagging::from_form(Some(xml))?,
                // s3s reads an `x-amz-tagging` field as it reads the header.
                None => super::tagging::from_header(input.tagging.as_deref())?,
            },
            super::object_lock::form_fields(&input),
        ),
        None => (
            super::tagging::from_header(input.tagging.as_deref())?,
            headers.clone(),
        ),
    };
    let mut attrs = crate::attr_input!(input).into_attrs()?;
    attrs.tags = tags;
    attrs.acl = acl;
    super::object_lock::new_version_lock(
        s3,
        &bucket,
        &lock_headers,
        &mut attrs,
        form_key.is_none(),
    )
    .await?;
    let expected_len = input.content_length.map(|n| u64::try_from(n).unwrap_or(0));
    let limits = BodyLimits {
        expected_len,
        max_len: MAX_OBJECT_SIZE,
        force_file: false,
    };
    let staged = receive_body(s3, input.body, &plan, md5, trailers.as_ref(), limits).await?;
    let checksum = staged.digests.checksum.clone();
    let record = s3
        .store
        .put_object(
            &input.bucket,
            &input.key,
            &owner,
            attrs,
            staged,
            checksum,
            cond,
        )
        .await
        .s3()?;
    let mut out = PutObjectOutput {
        e_tag: Some(etag(&record.etag)),
        size: i64::try_from(record.size).ok(),
        version_id: version_header(&bucket, &record),
        ..Default::default()
    };
    let fields = ChecksumFields::of(record.checksum.as_ref());
    out.checksum_type = fields.kind.clone();
    set_checksums!(out, fields);
    let mut headers = http::HeaderMap::new();
    if form_key.is_some() {
        post::quote_form_etag(&mut out, &mut headers);
    }
    let mut resp = S3Response::new(out);
    resp.headers = headers;
    Ok(resp)
}

/// Checks the form of a `versionId` (`null`, or an id this store issues): S3 answers 400
/// `InvalidArgument` to one it could never have issued.
pub fn valid_version_id(version_id: Option<&str>) -> S3Result<()> {
    match version_id {
        Some(v) if v != wharf_model::NULL_VERSION && wharf_model::VersionId::parse(v).is_none() => {
            Err(s3_error!(InvalidArgument, "Invalid version id specified"))
        }
        _ => Ok(()),
    }
}

/// The answer to a read that found a delete marker: 404 `NoSuchKey` when the marker is the
/// key's current version, 405 `MethodNotAllowed` when the request named it, both with
/// `x-amz-delete-marker: true` and the marker's version id (and, for 405, `Last-Modified`).
fn delete_marker_error(marker: &DeleteMarker, named: bool) -> s3s::S3Error {
    let mut e = if named {
        let mut e = s3_error!(
            MethodNotAllowed,
            "The specified method is not allowed against this resource."
        );
        e.set_status_code(http::StatusCode::METHOD_NOT_ALLOWED);
        e
    } else {
        s3_error!(NoSuchKey, "The specified key does not exist.")
    };
    let mut h = HeaderMap::new();
    h.insert(
        "x-amz-delete-marker",
        http::HeaderValue::from_static("true"),
    );
    if let Ok(v) = http::HeaderValue::from_str(marker.s3_version_id()) {
        h.insert("x-amz-version-id", v);
    }
    if named
        && let Ok(v) =
            http::HeaderValue::from_str(&crate::convert::http_date(marker.last_modified_ms))
    {
        h.insert(http::header::LAST_MODIFIED, v);
    }
    e.set_headers(h);
    e
}

/// `s3:GetObject`, or `s3:GetObjectVersion` when a version is named.
pub const READ: (&str, &str) = ("s3:GetObject", "s3:GetObjectVersion");

/// Loads the object (its current version, or the version `version_id` names) the requester may
/// act on with `actions` (the action, and its name when a version is named), with its bucket,
/// or the right error. As on S3, a key that does not exist is `NoSuchKey` only to a caller who
/// may list the bucket, and `AccessDenied` to others.
pub async fn readable_object(
    s3: &WharfS3,
    caller: &Caller,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    role: BucketRole,
    actions: (&'static str, &'static str),
) -> S3Result<(ObjectRecord, BucketRecord)> {
    let mut access = Access::version(actions.0, actions.1, key, version_id);
    let b = s3.bucket(caller, bucket, role).await?;
    // A policy that names the object's tags is given them: the version is read first.
    if s3.needs_existing_tags(caller, &b).await?
        && ObjectKey::new(key).is_ok()
        && let Ok(obj) = s3.store.find_object(bucket, key, version_id).await.s3()?
    {
        access.existing_tags = obj.attrs.tags.clone();
    }
    match s3.verdict(caller, &b, &access).await? {
        Verdict::Allow => {}
        Verdict::Denied => return Err(crate::access::access_denied()),
        // The version's own ACL may grant what the bucket's rules do not.
        Verdict::Undecided => {
            validate_key(key)?;
            return match s3.store.find_object(bucket, key, version_id).await.s3()? {
                Ok(obj)
                    if s3
                        .object_acl_allows(caller, &b, access.action, &obj.attrs.acl)
                        .await? =>
                {
                    Ok((obj, b))
                }
                _ => Err(crate::access::access_denied()),
            };
        }
    }
    validate_key(key)?;
    let found = s3.store.find_object(bucket, key, version_id).await.s3()?;
    if matches!(found, Err(Missing::NoSuchKey | Missing::NoSuchVersion))
        && !s3
            .allowed(caller, &b, &Access::bucket("s3:ListBucket"))
            .await?
    {
        return Err(crate::access::access_denied());
    }
    match found {
        Ok(obj) => Ok((obj, b)),
        Err(Missing::DeleteMarker { marker, named }) => Err(delete_marker_error(&marker, named)),
        Err(Missing::InvalidVersionId) => {
            Err(s3_error!(InvalidArgument, "Invalid version id specified"))
        }
        Err(Missing::NoSuchVersion) => Err(s3_error!(
            NoSuchVersion,
            "The specified version does not exist."
        )),
        Err(Missing::NoSuchKey) => Err(s3_error!(NoSuchKey, "The specified key does not exist.")),
        Err(Missing::NoSuchBucket) => Err(super::bucket::no_such_bucket()),
    }
}

fn invalid_part_number() -> s3s::S3Error {
    crate::error::custom_error(
        "InvalidPartNumber",
        "The requested partnumber is not satisfiable",
        http::StatusCode::RANGE_NOT_SATISFIABLE,
    )
}

/// What a GET or HEAD reads of an object: a byte range (by `partNumber` or `Range`), the
/// part it names, and the object's part count.
struct Selection {
    range: Option<Range<u64>>,
    part: Option<PartSummary>,
    parts_count: Option<i32>,
}

fn select_range(
    obj: &ObjectRecord,
    part_number: Option<i32>,
    range: Option<&s3s::dto::Range>,
) -> S3Result<Selection> {
    let parts_count =
        (!obj.parts.is_empty()).then(|| i32::try_from(obj.parts.len()).unwrap_or(i32::MAX));
    let selection = |range: Option<Range<u64>>, part: Option<PartSummary>| Selection {
        range,
        part,
        parts_count,
    };
    if let Some(n) = part_number {
        if range.is_some() {
            return Err(s3_error!(
                InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter"
            ));
        }
        if !(1..=MAX_PART_NUMBER).contains(&n) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            ));
        }
        if obj.parts.is_empty() {
            return if n == 1 {
                Ok(selection(Some(0..obj.size), None))
            } else {
                Err(invalid_part_number())
            };
        }
        let idx = usize::try_from(n - 1).unwrap_or(usize::MAX);
        let Some(part) = obj.parts.get(idx) else {
            return Err(invalid_part_number());
        };
        let start: u64 = obj.parts[..idx].iter().map(|p| p.size).sum();
        return Ok(selection(
            Some(start..start + part.size),
            Some(part.clone()),
        ));
    }
    match range {
        None => Ok(selection(None, None)),
        Some(r) => match r.check(obj.size) {
            Ok(r) => Ok(selection(Some(r), None)),
            Err(_) => Err(s3_error!(
                InvalidRange,
                "The requested range is not satisfiable"
            )),
        },
    }
}

/// The checksum a read returns with `x-amz-checksum-mode: ENABLED`: the object's for a read of
/// the whole object, a part's for a `partNumber` read (with the object's checksum type), and
/// none for other ranges, as S3 does.
fn read_checksum(obj: &ObjectRecord, sel: &Selection) -> ChecksumFields {
    let whole = sel
        .range
        .as_ref()
        .is_none_or(|r| r.start == 0 && r.end == obj.size);
    if whole && sel.part.is_none() {
        return ChecksumFields::of(obj.checksum.as_ref());
    }
    match (&sel.part, &obj.checksum) {
        (Some(part), Some(object)) => {
            let mut fields = ChecksumFields::of(part.checksum.as_ref());
            if fields.kind.is_some() {
                fields.kind = Some(s3s::dto::ChecksumType::from(
                    object.kind.as_str().to_owned(),
                ));
            }
            fields
        }
        (None, _) if whole => ChecksumFields::of(obj.checksum.as_ref()),
        _ => ChecksumFields::default(),
    }
}

/// The `response-*` query parameters of a signed GET or HEAD override the stored headers; S3
/// refuses them on anonymous requests.
macro_rules! response_overrides {
    ($out:ident, $input:expr, $caller:expr) => {{
        let input = &$input;
        let any = input.response_cache_control.is_some()
            || input.response_content_disposition.is_some()
            || input.response_content_encoding.is_some()
            || input.response_content_language.is_some()
            || input.response_content_type.is_some()
            || input.response_expires.is_some();
        if any && $caller.user.is_none() {
            return Err(s3_error!(
                InvalidRequest,
                "Request specific response headers cannot be used for anonymous GET requests."
            ));
        }
        if let Some(v) = &input.response_cache_control {
            $out.cache_control = Some(v.clone());
        }
        if let Some(v) = &input.response_content_disposition {
            $out.content_disposition = Some(v.clone());
        }
        if let Some(v) = &input.response_content_encoding {
            $out.content_encoding = Some(v.clone());
        }
        if let Some(v) = &input.response_content_language {
            $out.content_language = Some(v.clone());
        }
        if let Some(v) = &input.response_content_type {
            $out.content_type = Some(v.clone());
        }
        if let Some(v) = &input.response_expires {
            $out.expires = Some(v.clone());
        }
    }};
}

/// The headers GET and HEAD share, filled from the record.
macro_rules! object_headers {
    ($out:ident, $obj:expr, $checksum_mode:expr, $sel:expr) => {{
        let obj = $obj;
        let sel: &Selection = $sel;
        $out.e_tag = Some(etag(&obj.etag));
        $out.last_modified = Some(timestamp(obj.last_modified_ms));
        $out.content_type = obj
            .attrs
            .content_type
            .clone()
            .or_else(|| Some("binary/octet-stream".to_owned()));
        $out.content_encoding = obj.attrs.content_encoding.clone();
        $out.content_disposition = obj.attrs.content_disposition.clone();
        $out.content_language = obj.attrs.content_language.clone();
        $out.cache_control = obj.attrs.cache_control.clone();
        $out.expires = obj.attrs.expires_ms.map(timestamp);
        $out.website_redirect_location = obj.attrs.website_redirect_location.clone();
        $out.metadata = metadata_map(&obj.attrs);
        $out.accept_ranges = Some("bytes".to_owned());
        if obj.attrs.storage_class.is_some() {
            $out.storage_class = Some(StorageClass::from(storage_class(
                obj.attrs.storage_class.as_deref(),
            )));
        }
        if $checksum_mode
            .as_ref()
            .is_some_and(|m: &ChecksumMode| m.as_str() == ChecksumMode::ENABLED)
        {
            let fields = read_checksum(obj, sel);
            $out.checksum_type = fields.kind.clone();
            set_checksums!($out, fields);
        }
        if let Some(r) = &sel.range {
            $out.content_range = Some(format!(
                "bytes {}-{}/{}",
                r.start,
                r.end.saturating_sub(1),
                obj.size
            ));
        }
        $out.parts_count = sel.parts_count;
        $out.content_length = i64::try_from(
            sel.range
                .as_ref()
                .map_or(obj.size, |r: &Range<u64>| r.end - r.start),
        )
        .ok();
    }};
}

/// What GET and HEAD share, for `$Output` (GetObjectOutput or HeadObjectOutput): the caller
/// may read the object, its conditions hold, the part or range it selects, and the headers of
/// the answer. Evaluates to the object, the selection and the output.
macro_rules! read_object {
    ($s3:expr, $req:expr, $Output:ty) => {{
        let caller = $s3.caller(&$req).await?;
        let etags = EtagHeaders::of(&$req);
        refuse_customer_key_on_read(&$req.headers)?;
        let input = $req.input;
        let (obj, bucket) = readable_object(
            $s3,
            &caller,
            &input.bucket,
            &input.key,
            input.version_id.as_deref(),
            BucketRole::Target,
            READ,
        )
        .await?;
        let pre = etags.read(
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        );
        if let Some(e) = read_error(pre.evaluate(&obj.etag, obj.last_modified_ms), &obj.etag) {
            return Err(e);
        }
        let sel = select_range(&obj, input.part_number, input.range.as_ref())?;
        let mut out = <$Output>::default();
        object_headers!(out, &obj, input.checksum_mode, &sel);
        response_overrides!(out, input, caller);
        out.version_id = version_header(&bucket, &obj);
        out.restore = crate::convert::restore_header(&obj.attrs, wharf_store::now_ms());
        (
            out.object_lock_mode,
            out.object_lock_retain_until_date,
            out.object_lock_legal_hold_status,
        ) = super::object_lock::read_headers(&obj.attrs);
        (obj, sel, out)
    }};
}

/// Changes the attributes of the version `obj` is (its tags, a restore, its locks) in one
/// transaction: `change` decides from the attributes as committed, and its error, if it
/// returns one, is the answer with nothing written. A version removed since `obj` was read is
/// `NoSuchVersion` (`NoSuchKey` when the request named no version).
pub async fn change_attrs<T: Send + 'static>(
    s3: &WharfS3,
    obj: &ObjectRecord,
    named_version: bool,
    change: impl FnOnce(&mut wharf_store::ObjectAttrs) -> S3Result<T> + Send + 'static,
) -> S3Result<T> {
    let answer: std::sync::Arc<std::sync::Mutex<Option<S3Result<T>>>> = Default::default();
    let slot = answer.clone();
    let found = s3
        .store
        .update_attrs(
            &obj.bucket,
            &obj.key,
            &obj.version_id,
            Box::new(move |a| {
                let r = change(a);
                let write = r.is_ok();
                if let Ok(mut s) = slot.lock() {
                    *s = Some(r);
                }
                write
            }),
        )
        .await
        .s3()?;
    if !found {
        return Err(if named_version {
            s3_error!(NoSuchVersion, "The specified version does not exist.")
        } else {
            s3_error!(NoSuchKey, "The specified key does not exist.")
        });
    }
    answer
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .unwrap_or_else(|| Err(s3_error!(InternalError, "attributes not changed")))
}

/// A read of a GLACIER or DEEP_ARCHIVE object that is not restored.
pub fn archived() -> s3s::S3Error {
    s3_error!(
        InvalidObjectState,
        "The operation is not valid for the object's storage class"
    )
}

/// `x-amz-tagging-count`: the number of tags, when the object has any.
fn tag_count(obj: &ObjectRecord) -> Option<i32> {
    (!obj.attrs.tags.is_empty()).then(|| i32::try_from(obj.attrs.tags.len()).unwrap_or(0))
}

pub async fn get_object(
    s3: &WharfS3,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let (obj, sel, mut out) = read_object!(s3, req, GetObjectOutput);
    if !obj.attrs.readable_at(wharf_store::now_ms()) {
        return Err(archived());
    }
    out.tag_count = tag_count(&obj);
    // A partNumber read answers 206 with Content-Range, as S3 does.
    let byte_range = sel.range.clone().unwrap_or(0..obj.size);
    let stream = s3.store.read_body(&obj, byte_range).await.s3()?;
    out.body = Some(StreamingBlob::wrap(sync_wrapper::SyncStream::new(stream)));
    Ok(S3Response::new(out))
}

pub async fn head_object(
    s3: &WharfS3,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let (obj, _, out) = read_object!(s3, req, HeadObjectOutput);
    let mut resp = S3Response::new(out);
    // S3 sends it on HEAD too, though its API model only names it for GET.
    if let Some(n) = tag_count(&obj) {
        resp.headers
            .insert("x-amz-tagging-count", http::HeaderValue::from(n));
    }
    Ok(resp)
}

/// The `x-amz-version-id` of a response about `obj`: once the bucket has been versioned.
pub fn version_header(bucket: &BucketRecord, obj: &ObjectRecord) -> Option<String> {
    bucket
        .versioning
        .names_versions()
        .then(|| obj.s3_version_id().to_owned())
}
