//! Delivery of the edge's access log files into this node's own buckets (`Logging.Bucket`
//! names one: `BUCKET.s3.amazonaws.com`, `BUCKET.s3.localhost` or `BUCKET`). The object is
//! owned by the bucket's owner, as CloudFront's log files are. Remote buckets are not
//! reached: a bucket this node does not hold refuses the file, which the edge counts.

use bytes::Bytes;
use wharf_edge::access_log::delivery::LogSink;
use wharf_store::Store;

pub struct BucketLogSink {
    pub store: Store,
    /// The runtime the store's work runs on (delivery runs on a thread of its own).
    pub runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for BucketLogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BucketLogSink")
    }
}

impl LogSink for BucketLogSink {
    fn deliver(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
        self.runtime.block_on(async {
            let owner = match self.store.meta().get_bucket(bucket).await {
                Ok(Some(b)) => b.owner,
                Ok(None) => return Err(format!("NoSuchBucket: {bucket}")),
                Err(e) => return Err(e.to_string()),
            };
            self.store
                .put_bytes(bucket, key, &owner, Bytes::from(body), None)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
