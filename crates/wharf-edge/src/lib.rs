//! The CDN data plane with CloudFront's semantics.
//!
//! A viewer request enters [`pipeline::Edge::handle`], which runs the phases in order, each a
//! module of [`pipeline`]: distribution by `Host` ([`registry`]), behavior by path pattern
//! ([`distribution`], [`path_pattern`]), access checks, then the cache ([`cache`]: key,
//! freshness, chunks, fills, collapsing, invalidation) and the origin ([`origin`]: HTTP
//! origins, origin groups).
//!
//! This crate never imports the store: a local S3 bucket is an [`origin::Origin`] that the
//! `wharf` binary implements over it.

pub mod access_log;
pub mod cache;
pub mod cache_control;
pub mod cache_key;
pub mod compress;
pub mod distribution;
pub mod freshness;
pub mod headers;
pub mod metrics;
pub mod origin;
pub mod path_pattern;
pub mod pipeline;
pub mod policy;
pub mod range;
pub mod registry;
pub mod respond;
pub mod response_headers;
pub mod signed_request;
pub mod tls_fingerprint;
pub mod viewer;
pub mod viewer_certificate;
pub mod viewer_headers;

pub use pipeline::{Edge, EdgeConfig, ViewerHttps};
