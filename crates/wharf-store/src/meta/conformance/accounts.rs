//! Users and access keys, settings, buckets, MFA devices.

use wharf_model::{AccessKey, User};

use super::*;
use crate::error::StoreError;

pub(super) async fn users_and_keys(m: &dyn MetaStore) {
    let alice = User {
        name: "alice".into(),
        canonical_id: OWNER.into(),
        display_name: "alice".into(),
    };
    let key = AccessKey::given("alice", "AKIAALICE0001", "secret-secret").unwrap();
    m.create_user(alice.clone(), key.clone()).await.unwrap();
    assert!(matches!(
        m.create_user(alice.clone(), key.clone()).await,
        Err(StoreError::UserAlreadyExists(_))
    ));
    assert!(matches!(
        m.add_access_key(key.clone()).await,
        Err(StoreError::AccessKeyAlreadyExists)
    ));
    let orphan = AccessKey::given("nobody", "AKIANOBODY01", "secret-secret").unwrap();
    assert!(matches!(
        m.add_access_key(orphan).await,
        Err(StoreError::NoSuchUser(_))
    ));
    let second = AccessKey::given("alice", "AKIAALICE0002", "secret-secret-2").unwrap();
    m.add_access_key(second).await.unwrap();
    assert_eq!(m.get_user("alice").await.unwrap(), Some(alice.clone()));
    let (k, u) = m.lookup_access_key("AKIAALICE0002").await.unwrap().unwrap();
    assert_eq!(
        (k.secret_access_key.as_str(), u),
        ("secret-secret-2", alice.clone())
    );
    let listed = m.list_users().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1, vec!["AKIAALICE0001", "AKIAALICE0002"]);
    // Identity policies: set, replaced by name, listed by name, removed; gone with the user.
    m.put_user_policy("alice", "read", "{\"a\":1}".into())
        .await
        .unwrap();
    m.put_user_policy("alice", "admin", "{}".into())
        .await
        .unwrap();
    m.put_user_policy("alice", "read", "{\"a\":2}".into())
        .await
        .unwrap();
    assert_eq!(
        m.user_policies("alice").await.unwrap(),
        vec![
            ("admin".to_owned(), "{}".to_owned()),
            ("read".to_owned(), "{\"a\":2}".to_owned())
        ]
    );
    assert!(m.delete_user_policy("alice", "admin").await.unwrap());
    assert!(!m.delete_user_policy("alice", "admin").await.unwrap());
    assert!(matches!(
        m.put_user_policy("nobody", "p", "{}".into()).await,
        Err(StoreError::NoSuchUser(_))
    ));
    m.delete_user("alice").await.unwrap();
    assert!(m.user_policies("alice").await.unwrap().is_empty());
    assert!(
        m.lookup_access_key("AKIAALICE0001")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        m.delete_user("alice").await,
        Err(StoreError::NoSuchUser(_))
    ));
}

pub(super) async fn settings(m: &dyn MetaStore) {
    assert_eq!(m.setting("account_id").await.unwrap(), None);
    assert_eq!(m.init_setting("account_id", "111").await.unwrap(), "111");
    assert_eq!(
        m.setting("account_id").await.unwrap().as_deref(),
        Some("111")
    );
    // The first value stays.
    assert_eq!(m.init_setting("account_id", "222").await.unwrap(), "111");
    assert_eq!(m.init_setting("other", "x").await.unwrap(), "x");
    // Settings an operator changes.
    m.set_setting("other", Some("y".into())).await.unwrap();
    assert_eq!(m.setting("other").await.unwrap().as_deref(), Some("y"));
    m.set_setting("other", None).await.unwrap();
    assert_eq!(m.setting("other").await.unwrap(), None);
}

pub(super) async fn buckets(m: &dyn MetaStore) {
    bucket(m, "b1").await;
    let again = BucketRecord {
        name: "b1".into(),
        owner: OWNER.into(),
        created_ms: 2,
        region: "us-east-1".into(),
        versioning: Default::default(),
    };
    assert!(matches!(
        m.create_bucket(again.clone()).await,
        Err(StoreError::BucketAlreadyOwnedByYou)
    ));
    let other = BucketRecord {
        owner: "other".into(),
        ..again
    };
    assert!(matches!(
        m.create_bucket(other).await,
        Err(StoreError::BucketAlreadyExists)
    ));
    bucket(m, "a0").await;
    let names: Vec<_> = m
        .list_buckets(OWNER)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, vec!["a0", "b1"]);
    m.put_object(inline("b1", "k", b"x"), WriteCondition::default())
        .await
        .unwrap();
    assert!(matches!(
        m.delete_bucket("b1").await,
        Err(StoreError::BucketNotEmpty)
    ));
    m.delete_object("b1", "k", OWNER, WriteCondition::default())
        .await
        .unwrap();
    m.delete_bucket("b1").await.unwrap();
    assert!(m.get_bucket("b1").await.unwrap().is_none());
    // A bucket made with its configurations has them from the start; a failed create (the
    // name is taken) writes none; deleting the bucket removes them.
    let configured = BucketRecord {
        name: "c1".into(),
        owner: OWNER.into(),
        created_ms: 3,
        region: "us-east-1".into(),
        versioning: Default::default(),
    };
    let configs = vec![("public-access-block".to_owned(), "{}".to_owned())];
    m.create_bucket_with(configured.clone(), configs.clone())
        .await
        .unwrap();
    assert_eq!(
        m.bucket_config("c1", "public-access-block")
            .await
            .unwrap()
            .as_deref(),
        Some("{}")
    );
    let taken = vec![("tagging".to_owned(), "[]".to_owned())];
    assert!(
        m.create_bucket_with(configured.clone(), taken)
            .await
            .is_err()
    );
    assert_eq!(m.bucket_config("c1", "tagging").await.unwrap(), None);
    m.delete_bucket("c1").await.unwrap();
    m.create_bucket(configured).await.unwrap();
    assert_eq!(
        m.bucket_config("c1", "public-access-block").await.unwrap(),
        None
    );
    m.delete_bucket("c1").await.unwrap();
    assert!(matches!(
        m.delete_bucket("b1").await,
        Err(StoreError::NoSuchBucket)
    ));
    assert!(matches!(
        m.put_object(inline("b1", "k", b"x"), WriteCondition::default())
            .await,
        Err(StoreError::NoSuchBucket)
    ));
}

pub(super) async fn mfa_devices(m: &dyn MetaStore) {
    let alice = User {
        name: "alice".into(),
        canonical_id: OWNER.into(),
        display_name: "alice".into(),
    };
    let key = AccessKey::given("alice", "AKIAALICE0001", "secret-secret").unwrap();
    m.create_user(alice, key).await.unwrap();
    let d = MfaDevice {
        serial: "arn:aws:iam::111:mfa/alice".into(),
        user: "alice".into(),
        secret: "GEZDGNBV".into(),
        last_step: 0,
    };
    m.create_mfa_device(d.clone()).await.unwrap();
    assert!(
        m.create_mfa_device(d.clone()).await.is_err(),
        "a serial is one device"
    );
    let nobody = MfaDevice {
        serial: "x".into(),
        user: "nobody".into(),
        ..d.clone()
    };
    assert!(matches!(
        m.create_mfa_device(nobody).await,
        Err(StoreError::NoSuchUser(_))
    ));
    assert_eq!(m.mfa_device(&d.serial).await.unwrap(), Some(d.clone()));
    assert_eq!(m.mfa_device("none").await.unwrap(), None);
    // Each step is used once, and never one before the last used.
    assert!(m.use_mfa_step(&d.serial, 100).await.unwrap());
    assert!(!m.use_mfa_step(&d.serial, 100).await.unwrap());
    assert!(!m.use_mfa_step(&d.serial, 99).await.unwrap());
    assert!(m.use_mfa_step(&d.serial, 101).await.unwrap());
    assert_eq!(
        m.mfa_device(&d.serial).await.unwrap().unwrap().last_step,
        101
    );
    // A deleted user's devices go with it.
    m.delete_user("alice").await.unwrap();
    assert_eq!(m.mfa_device(&d.serial).await.unwrap(), None);
}
