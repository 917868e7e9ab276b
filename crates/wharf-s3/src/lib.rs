//! The S3 REST API: an `s3s::S3` implementation over `wharf-store`.
//!
//! Requests arrive through [`http_layer`] (limits and the checks s3s leaves to us: SigV2
//! refusal, presigned-URL expiry cap, Range normalisation), then s3s (routing, SigV4 header,
//! presigned and streaming-chunked verification, XML), then the `impl S3` below, which only
//! delegates to one function per operation in [`ops`]. Errors become S3 error codes in
//! [`error`]. Access decisions are ownership for now: a bucket belongs to the user who created
//! it and every other user is denied (bucket policies and ACLs come later).

pub mod convert;
pub mod error;
pub mod host;
pub mod http_layer;
pub mod identity;
pub mod ops;

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use wharf_auth::User;
use wharf_store::{BucketRecord, Store};

use crate::error::StoreResultExt;
pub use crate::identity::Identities;

/// The S3 API over one store.
pub struct WharfS3 {
    pub(crate) store: Store,
    pub(crate) identities: Identities,
    /// The region buckets are created in unless a LocationConstraint says otherwise.
    pub(crate) region: String,
}

impl WharfS3 {
    pub fn new(store: Store, identities: Identities, region: String) -> Self {
        Self {
            store,
            identities,
            region,
        }
    }

    /// The bucket, if it exists and `user` owns it.
    pub(crate) async fn owned_bucket(&self, user: &User, bucket: &str) -> S3Result<BucketRecord> {
        match self.store.meta().get_bucket(bucket).await.s3()? {
            None => Err(ops::bucket::no_such_bucket()),
            Some(b) if b.owner != user.canonical_id => {
                Err(s3_error!(AccessDenied, "Access Denied"))
            }
            Some(b) => Ok(b),
        }
    }
}

/// Builds the s3s service: our `S3`, SigV4 auth from the user table, virtual hosts.
pub fn service(store: Store, region: String, domains: Vec<String>) -> s3s::service::S3Service {
    let identities = Identities::new(store.clone());
    let mut b =
        s3s::service::S3ServiceBuilder::new(WharfS3::new(store, identities.clone(), region));
    b.set_auth(identities);
    b.set_host(host::VirtualHosts::new(domains));
    b.build()
}

macro_rules! delegate {
    ($($name:ident: $input:ident => $output:ident = $path:path;)*) => {
        #[async_trait::async_trait]
        impl S3 for WharfS3 {
            $(
                async fn $name(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    $path(self, req).await
                }
            )*
        }
    };
}

delegate! {
    list_buckets: ListBucketsInput => ListBucketsOutput = ops::bucket::list_buckets;
    create_bucket: CreateBucketInput => CreateBucketOutput = ops::bucket::create_bucket;
    head_bucket: HeadBucketInput => HeadBucketOutput = ops::bucket::head_bucket;
    delete_bucket: DeleteBucketInput => DeleteBucketOutput = ops::bucket::delete_bucket;
    get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput = ops::bucket::get_bucket_location;
    put_object: PutObjectInput => PutObjectOutput = ops::object::put_object;
    get_object: GetObjectInput => GetObjectOutput = ops::object::get_object;
    head_object: HeadObjectInput => HeadObjectOutput = ops::object::head_object;
    delete_object: DeleteObjectInput => DeleteObjectOutput = ops::object::delete_object;
    delete_objects: DeleteObjectsInput => DeleteObjectsOutput = ops::delete::delete_objects;
    copy_object: CopyObjectInput => CopyObjectOutput = ops::copy::copy_object;
    get_object_attributes: GetObjectAttributesInput => GetObjectAttributesOutput = ops::attributes::get_object_attributes;
    list_objects: ListObjectsInput => ListObjectsOutput = ops::list::list_objects;
    list_objects_v2: ListObjectsV2Input => ListObjectsV2Output = ops::list::list_objects_v2;
    list_object_versions: ListObjectVersionsInput => ListObjectVersionsOutput = ops::versions::list_object_versions;
    create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput = ops::multipart::create_multipart_upload;
    upload_part: UploadPartInput => UploadPartOutput = ops::multipart::upload_part;
    upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput = ops::multipart::upload_part_copy;
    complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput = ops::multipart::complete_multipart_upload;
    abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput = ops::multipart::abort_multipart_upload;
    list_parts: ListPartsInput => ListPartsOutput = ops::multipart::list_parts;
    list_multipart_uploads: ListMultipartUploadsInput => ListMultipartUploadsOutput = ops::multipart::list_multipart_uploads;
}
