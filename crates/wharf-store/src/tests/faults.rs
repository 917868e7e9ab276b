//! Failures at commit time lose nothing; one server per data directory; a full disk refuses
//! writes and serves deletes.

use std::time::Duration;

use super::*;
use crate::StoreError;
use crate::capacity::Capacity;

/// Makes every new version row fail to insert, as a failing commit would.
fn inject_commit_failure(dir: &Path, on: bool) {
    let c = rusqlite::Connection::open(dir.join("meta.sqlite3")).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    if on {
        c.execute_batch(
            "CREATE TRIGGER injected_failure BEFORE INSERT ON versions \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    } else {
        c.execute_batch("DROP TRIGGER injected_failure").unwrap();
    }
}

#[tokio::test]
async fn a_copy_onto_itself_that_fails_to_commit_leaves_the_object_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(dir.path()).await;
    for size in [100, BLOB_SIZE] {
        let data = body(8, size);
        let v = put(&store, "k", &data).await;
        let attrs = ObjectAttrs {
            content_type: Some("text/plain".into()),
            ..Default::default()
        };
        inject_commit_failure(dir.path(), true);
        let err = store
            .copy_object(
                &v,
                "b",
                "k",
                OWNER,
                attrs.clone(),
                None,
                WriteCondition::default(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Db(_)), "{err}");
        inject_commit_failure(dir.path(), false);
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(store.collect_garbage(Duration::ZERO).await.unwrap(), 0);
        let now = store.get_object("b", "k").await.unwrap().unwrap();
        assert_eq!(now, v);
        assert_eq!(read_all(&store, &now).await, data);
        // And once it can commit, the copy changes the metadata and copies no bytes.
        let files = blob_files(dir.path());
        let copied = store
            .copy_object(&v, "b", "k", OWNER, attrs, None, WriteCondition::default())
            .await
            .unwrap();
        assert_eq!(copied.attrs.content_type.as_deref(), Some("text/plain"));
        assert_eq!(copied.body, v.body);
        assert_eq!(blob_files(dir.path()), files);
        assert_eq!(read_all(&store, &copied).await, data);
    }
}

#[tokio::test]
async fn a_copy_whose_source_was_overwritten_meanwhile_is_refused_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(dir.path()).await;
    let same = body(9, BLOB_SIZE);
    let read = put(&store, "k", &same).await;
    // An overwrite with the very same bytes (same ETag) lands between the read and the copy.
    let newer = put(&store, "k", &same).await;
    assert_eq!(read.etag, newer.etag);
    let err = store
        .copy_object(
            &read,
            "b",
            "k2",
            OWNER,
            ObjectAttrs::default(),
            None,
            WriteCondition::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SourceChanged), "{err}");
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.collect_garbage(Duration::ZERO).await.unwrap();
    let current = store.get_object("b", "k").await.unwrap().unwrap();
    assert_eq!(read_all(&store, &current).await, same);
    // A copy of the current version shares its blob; deleting the source keeps the copy whole.
    let copy = store
        .copy_object(
            &current,
            "b",
            "k2",
            OWNER,
            ObjectAttrs::default(),
            None,
            WriteCondition::default(),
        )
        .await
        .unwrap();
    assert_eq!(copy.body, current.body);
    store
        .delete_object("b", "k", "owner", WriteCondition::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.collect_garbage(Duration::ZERO).await.unwrap();
    assert_eq!(read_all(&store, &copy).await, same);
}

#[tokio::test]
async fn a_second_store_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(dir.path()).await;
    std::fs::write(dir.path().join("tmp/inflight"), b"a body being received").unwrap();
    let err = Store::open(dir.path()).await.err().unwrap();
    assert!(matches!(err, StoreError::DataDirInUse(_)), "{err}");
    // The first server's staging file is untouched.
    assert!(dir.path().join("tmp/inflight").exists());
    drop(store);
}

#[tokio::test]
async fn in_full_mode_writes_are_refused_and_deletes_served() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(dir.path()).await;
    let v = put(&store, "k", &body(1, BLOB_SIZE)).await;
    store.capacity.on_full();
    assert!(store.storage_full());
    let staged = store
        .stage(
            futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"x"))]),
            None,
            BodyLimits {
                expected_len: Some(1),
                max_len: 1,
                force_file: false,
            },
        )
        .await;
    assert!(matches!(staged, Err(StoreError::StorageFull)));
    assert_eq!(read_all(&store, &v).await, body(1, BLOB_SIZE));
    assert!(
        store
            .delete_object("b", "k", "owner", WriteCondition::default())
            .await
            .unwrap()
            .removed
            .is_some()
    );
    let _: Option<Capacity> = None;
}

#[tokio::test]
async fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = store_with_bucket(&data).await;
    put(&store, "k", &body(1, BLOB_SIZE)).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let mut stack = vec![data.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
                stack.push(p);
            } else {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
            }
        }
    }
}
