use super::*;

/// The shape `aws cloudfront create-distribution --generate-cli-skeleton` documents, trimmed to
/// what a static-site distribution sets, plus the fields Wharf accepts and ignores.
const SITE: &str = r#"{
  "CallerReference": "site-2026",
  "Aliases": {"Quantity": 1, "Items": ["www.example.com"]},
  "DefaultRootObject": "index.html",
  "Origins": {"Quantity": 2, "Items": [
    {"Id": "bucket", "DomainName": "site.s3.localhost", "OriginPath": "",
     "CustomHeaders": {"Quantity": 0},
     "S3OriginConfig": {"OriginAccessIdentity": ""},
     "ConnectionAttempts": 3, "ConnectionTimeout": 10, "OriginAccessControlId": ""},
    {"Id": "api", "DomainName": "api.example.com", "OriginPath": "/v1",
     "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Secret", "HeaderValue": "s"}]},
     "CustomOriginConfig": {"HTTPPort": 8081, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
        "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
        "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5}}
  ]},
  "OriginGroups": {"Quantity": 1, "Items": [
    {"Id": "group", "FailoverCriteria": {"StatusCodes": {"Quantity": 2, "Items": [500, 503]}},
     "Members": {"Quantity": 2, "Items": [{"OriginId": "api"}, {"OriginId": "bucket"}]}}
  ]},
  "DefaultCacheBehavior": {
    "TargetOriginId": "bucket", "ViewerProtocolPolicy": "redirect-to-https",
    "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
       "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
    "Compress": true, "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"
  },
  "CacheBehaviors": {"Quantity": 1, "Items": [
    {"PathPattern": "/api/*", "TargetOriginId": "group", "ViewerProtocolPolicy": "allow-all",
     "ForwardedValues": {"QueryString": true, "Cookies": {"Forward": "none"},
        "Headers": {"Quantity": 0}},
     "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 300}
  ]},
  "CustomErrorResponses": {"Quantity": 1, "Items": [
    {"ErrorCode": 404, "ResponsePagePath": "/404.html", "ResponseCode": "404", "ErrorCachingMinTTL": 10}
  ]},
  "Comment": "static site",
  "Logging": {"Enabled": false, "IncludeCookies": false, "Bucket": "", "Prefix": ""},
  "PriceClass": "PriceClass_All",
  "Enabled": true,
  "ViewerCertificate": {"CloudFrontDefaultCertificate": true},
  "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
  "WebACLId": "", "HttpVersion": "http2", "IsIPV6Enabled": true
}"#;

#[test]
fn cli_shaped_distribution_parses() {
    let d = DistributionConfig::from_json(SITE).unwrap();
    assert_eq!(d.aliases.items, vec!["www.example.com"]);
    assert_eq!(d.origins.items[1].origin_path, "/v1");
    let custom = d.origins.items[1].custom_origin_config.as_ref().unwrap();
    assert_eq!(custom.http_port, 8081);
    assert_eq!(
        d.origin_groups.items[0]
            .failover_criteria
            .status_codes
            .items,
        vec![500, 503]
    );
    assert_eq!(d.cache_behaviors.items[0].default_ttl, Some(60));
    assert_eq!(d.custom_error_responses.items[0].response_code, "404");
    assert_eq!(
        d.custom_error_responses.items[0].error_caching_min_ttl,
        Some(10)
    );
    assert!(d.default_cache_behavior.compress);
}

#[test]
fn invalid_distributions_are_refused() {
    let cases: &[(&str, &str)] = &[
        (
            r#""Quantity": 1, "Items": ["www.example.com"]"#,
            r#""Quantity": 2, "Items": ["www.example.com"]"#,
        ),
        (
            r#""TargetOriginId": "bucket""#,
            r#""TargetOriginId": "nowhere""#,
        ),
        (r#""OriginPath": "/v1""#, r#""OriginPath": "v1/""#),
        (r#"{"OriginId": "bucket"}"#, r#"{"OriginId": "ghost"}"#),
    ];
    for (from, to) in cases {
        assert!(SITE.contains(from), "{from}");
        let bad = SITE.replacen(from, to, 1);
        assert!(
            matches!(
                DistributionConfig::from_json(&bad),
                Err(ModelError::Invalid(_))
            ),
            "{to} accepted"
        );
    }
    assert!(matches!(
        DistributionConfig::from_json("{\"Origins\": 3}"),
        Err(ModelError::Malformed(_))
    ));
}

#[test]
fn managed_policies_have_aws_ids_and_settings() {
    let opt = managed_cache_policy(CACHING_OPTIMIZED).unwrap();
    assert_eq!(
        (opt.min_ttl, opt.default_ttl, opt.max_ttl),
        (1, 86_400, ONE_YEAR)
    );
    let off = managed_cache_policy(CACHING_DISABLED).unwrap();
    assert_eq!((off.min_ttl, off.default_ttl, off.max_ttl), (0, 0, 0));
    let origin = managed_cache_policy(USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS).unwrap();
    let k = &origin.parameters_in_cache_key_and_forwarded_to_origin;
    assert_eq!(k.query_strings_config.query_string_behavior, "all");
    assert!(k.headers_config.headers.check("h").is_ok());
    assert!(managed_cache_policy("nope").is_none());
    assert!(managed_origin_request_policy(ALL_VIEWER).is_some());
}

#[test]
fn custom_cache_policy_parses_as_the_cli_takes_it() {
    let p = CachePolicyConfig::from_json(
        r#"{"Comment": "", "Name": "api", "DefaultTTL": 60, "MaxTTL": 600, "MinTTL": 5,
            "ParametersInCacheKeyAndForwardedToOrigin": {
              "EnableAcceptEncodingGzip": true, "EnableAcceptEncodingBrotli": false,
              "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["X-Tenant"]}},
              "CookiesConfig": {"CookieBehavior": "none"},
              "QueryStringsConfig": {"QueryStringBehavior": "allExcept", "QueryStrings": {"Quantity": 1, "Items": ["utm"]}}}}"#,
    )
    .unwrap();
    assert_eq!(p.min_ttl, 5);
    assert!(CachePolicyConfig::from_json(r#"{"Name": "x", "MinTTL": 10, "DefaultTTL": 5, "MaxTTL": 1, "ParametersInCacheKeyAndForwardedToOrigin": {"EnableAcceptEncodingGzip": false, "HeadersConfig": {"HeaderBehavior": "none"}, "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}}"#).is_err());
}

#[test]
fn alternate_domain_names() {
    for ok in [
        "www.example.com",
        "*.example.com",
        "a-b.c_d.example",
        "localhost",
    ] {
        assert!(valid_alias(ok), "{ok}");
    }
    for bad in [
        "",
        "*",
        "*.",
        "a.*.example.com",
        "www..example.com",
        "-a.example.com",
        "www.example.com/x",
        "exa mple.com",
        "**.example.com",
    ] {
        assert!(!valid_alias(bad), "{bad}");
    }
    assert!(!valid_alias(&format!("{}.com", "a.".repeat(130))));
}

#[test]
fn logging_names_a_bucket_as_cloudfront_does() {
    let d = DistributionConfig::from_json(SITE).unwrap();
    assert!(!d.logging.unwrap().enabled);
    let with = |logging: &str| {
        SITE.replace(
            r#""Logging": {"Enabled": false, "IncludeCookies": false, "Bucket": "", "Prefix": ""}"#,
            logging,
        )
    };
    let d = DistributionConfig::from_json(&with(
        r#""Logging": {"Enabled": true, "IncludeCookies": true, "Bucket": "cf-logs.s3.amazonaws.com", "Prefix": "site/"}"#,
    ))
    .unwrap();
    let l = d.logging.unwrap();
    assert!(l.include_cookies);
    assert_eq!((l.bucket_name(), l.prefix.as_str()), ("cf-logs", "site/"));
    for (bucket, name) in [
        ("logs.s3.us-west-2.amazonaws.com", "logs"),
        ("logs.s3-us-west-2.amazonaws.com", "logs"),
        ("logs.s3.localhost", "logs"),
        ("logs", "logs"),
    ] {
        let l = LoggingConfig {
            bucket: bucket.into(),
            ..LoggingConfig::default()
        };
        assert_eq!(l.bucket_name(), name);
    }
    for bad in ["", "Not_A_Bucket.s3.amazonaws.com", ".s3.amazonaws.com"] {
        let json = with(&format!(
            r#""Logging": {{"Enabled": true, "IncludeCookies": false, "Bucket": "{bad}", "Prefix": ""}}"#
        ));
        assert!(DistributionConfig::from_json(&json).is_err(), "{bad}");
    }
    // Disabled logging needs no bucket (the CLI's skeleton sends an empty one).
    assert!(
        DistributionConfig::from_json(&with(
            r#""Logging": {"Enabled": false, "IncludeCookies": false, "Bucket": "", "Prefix": "x/"}"#
        ))
        .is_ok()
    );
}
