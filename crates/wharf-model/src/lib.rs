//! Shared types that mirror AWS shapes, used by every other Wharf crate.
//!
//! This crate is the leaf of the workspace: it depends on nothing of ours and holds no I/O.
//! Names that must not be mixed up are newtypes with validating constructors (`BucketName`,
//! `ObjectKey`), so a value that reaches the store has already passed S3's rules.

mod identity;
mod names;
mod version_id;

pub use identity::{AccessKey, IdentityError, ROOT_USER, User, validate_user_name};
pub use names::{BucketName, MAX_KEY_LEN, NameError, ObjectKey};
pub use version_id::{NULL_VERSION, VersionId};

pub mod cloudfront;
