//! The S3 REST API: an `s3s::S3` implementation over `wharf-store`.
//!
//! Requests arrive at the [`endpoint`]: first [`http_layer`] (limits and the checks s3s leaves
//! to us or makes differently from S3), then s3s (routing, SigV2 and SigV4 header, presigned
//! and streaming-chunked verification, XML), with [`normalize`] putting right after the
//! signature check what s3s would refuse but S3 accepts; then the `impl S3` below, which only
//! delegates to one function per operation in [`ops`]. Errors become S3 error codes in
//! [`error`]; every response leaves through [`http_layer::finish`] (request ids). Who may do
//! what is decided in [`access`]: a bucket belongs to the user who created it, and its
//! [`bucket_policy`] may let others in (or keep anyone out).

pub mod access;
pub mod acl;
pub mod bucket_policy;
pub mod condition_keys;
pub mod convert;
pub mod cors;
pub mod endpoint;
pub mod error;
pub mod features;
pub mod host;
pub mod http_layer;
pub mod identity;
pub mod metrics;
pub mod normalize;
pub mod ops;
pub mod public_access;
pub mod request_body;
pub mod request_id;
pub mod website;

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};
use wharf_store::Store;

pub use crate::access::BucketAccess;
pub use crate::bucket_policy::BucketPolicies;
pub use crate::endpoint::{EndpointConfig, S3Endpoint};
pub use crate::identity::Identities;

/// The operations over one store (behind s3s; see [`endpoint`]).
#[derive(Clone)]
pub struct WharfS3 {
    pub(crate) store: Store,
    pub(crate) identities: Identities,
    pub(crate) policies: bucket_policy::BucketPolicies,
    /// The region buckets are created in unless a LocationConstraint says otherwise.
    pub(crate) region: String,
    /// The regions a LocationConstraint may name.
    pub(crate) regions: Vec<String>,
    /// How long a RestoreObject of an archived object takes.
    pub restore_delay: std::time::Duration,
}

impl WharfS3 {
    pub fn new(
        store: Store,
        identities: Identities,
        policies: bucket_policy::BucketPolicies,
        region: String,
        regions: Vec<String>,
    ) -> Self {
        Self {
            policies,
            store,
            identities,
            region,
            regions,
            restore_delay: std::time::Duration::from_secs(5),
        }
    }
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
    put_bucket_versioning: PutBucketVersioningInput => PutBucketVersioningOutput = ops::versioning::put_bucket_versioning;
    get_bucket_versioning: GetBucketVersioningInput => GetBucketVersioningOutput = ops::versioning::get_bucket_versioning;
    put_bucket_policy: PutBucketPolicyInput => PutBucketPolicyOutput = ops::bucket_policy::put_bucket_policy;
    get_bucket_policy: GetBucketPolicyInput => GetBucketPolicyOutput = ops::bucket_policy::get_bucket_policy;
    delete_bucket_policy: DeleteBucketPolicyInput => DeleteBucketPolicyOutput = ops::bucket_policy::delete_bucket_policy;
    get_bucket_policy_status: GetBucketPolicyStatusInput => GetBucketPolicyStatusOutput = ops::bucket_policy::get_bucket_policy_status;
    put_public_access_block: PutPublicAccessBlockInput => PutPublicAccessBlockOutput = ops::public_access::put_public_access_block;
    get_public_access_block: GetPublicAccessBlockInput => GetPublicAccessBlockOutput = ops::public_access::get_public_access_block;
    delete_public_access_block: DeletePublicAccessBlockInput => DeletePublicAccessBlockOutput = ops::public_access::delete_public_access_block;
    put_bucket_cors: PutBucketCorsInput => PutBucketCorsOutput = ops::cors::put_bucket_cors;
    get_bucket_cors: GetBucketCorsInput => GetBucketCorsOutput = ops::cors::get_bucket_cors;
    delete_bucket_cors: DeleteBucketCorsInput => DeleteBucketCorsOutput = ops::cors::delete_bucket_cors;
    get_bucket_acl: GetBucketAclInput => GetBucketAclOutput = ops::acl::get_bucket_acl;
    put_bucket_acl: PutBucketAclInput => PutBucketAclOutput = ops::acl::put_bucket_acl;
    get_object_acl: GetObjectAclInput => GetObjectAclOutput = ops::acl::get_object_acl;
    put_object_acl: PutObjectAclInput => PutObjectAclOutput = ops::acl::put_object_acl;
    put_bucket_ownership_controls: PutBucketOwnershipControlsInput => PutBucketOwnershipControlsOutput = ops::acl::put_bucket_ownership_controls;
    get_bucket_ownership_controls: GetBucketOwnershipControlsInput => GetBucketOwnershipControlsOutput = ops::acl::get_bucket_ownership_controls;
    delete_bucket_ownership_controls: DeleteBucketOwnershipControlsInput => DeleteBucketOwnershipControlsOutput = ops::acl::delete_bucket_ownership_controls;
    put_bucket_website: PutBucketWebsiteInput => PutBucketWebsiteOutput = ops::website::put_bucket_website;
    get_bucket_website: GetBucketWebsiteInput => GetBucketWebsiteOutput = ops::website::get_bucket_website;
    delete_bucket_website: DeleteBucketWebsiteInput => DeleteBucketWebsiteOutput = ops::website::delete_bucket_website;
    put_bucket_tagging: PutBucketTaggingInput => PutBucketTaggingOutput = ops::tagging::put_bucket_tagging;
    get_bucket_tagging: GetBucketTaggingInput => GetBucketTaggingOutput = ops::tagging::get_bucket_tagging;
    delete_bucket_tagging: DeleteBucketTaggingInput => DeleteBucketTaggingOutput = ops::tagging::delete_bucket_tagging;
    put_object_tagging: PutObjectTaggingInput => PutObjectTaggingOutput = ops::tagging::put_object_tagging;
    get_object_tagging: GetObjectTaggingInput => GetObjectTaggingOutput = ops::tagging::get_object_tagging;
    delete_object_tagging: DeleteObjectTaggingInput => DeleteObjectTaggingOutput = ops::tagging::delete_object_tagging;
    restore_object: RestoreObjectInput => RestoreObjectOutput = ops::restore::restore_object;
    put_object_lock_configuration: PutObjectLockConfigurationInput => PutObjectLockConfigurationOutput = ops::object_lock::put_object_lock_configuration;
    get_object_lock_configuration: GetObjectLockConfigurationInput => GetObjectLockConfigurationOutput = ops::object_lock::get_object_lock_configuration;
    put_object_retention: PutObjectRetentionInput => PutObjectRetentionOutput = ops::object_lock::put_object_retention;
    get_object_retention: GetObjectRetentionInput => GetObjectRetentionOutput = ops::object_lock::get_object_retention;
    put_object_legal_hold: PutObjectLegalHoldInput => PutObjectLegalHoldOutput = ops::object_lock::put_object_legal_hold;
    get_object_legal_hold: GetObjectLegalHoldInput => GetObjectLegalHoldOutput = ops::object_lock::get_object_legal_hold;
    put_object: PutObjectInput => PutObjectOutput = ops::object::put_object;
    get_object: GetObjectInput => GetObjectOutput = ops::object::get_object;
    head_object: HeadObjectInput => HeadObjectOutput = ops::object::head_object;
    delete_object: DeleteObjectInput => DeleteObjectOutput = ops::delete::delete_object;
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
