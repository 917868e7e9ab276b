//! One file per S3 operation family. Each function takes the s3s request and returns the s3s
//! response; the `impl S3` in lib.rs only delegates here.

pub mod acl;
pub mod attributes;
pub mod bucket;
pub mod bucket_policy;
pub mod conditional;
pub mod copy;
pub mod cors;
pub mod delete;
pub mod list;
pub mod mfa;
pub mod multipart;
pub mod object;
pub mod object_lock;
pub mod post;
pub mod public_access;
pub mod restore;
pub mod tagging;
pub mod versioning;
pub mod versions;
pub mod website;
