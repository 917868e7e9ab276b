"""The CloudFront control API driven by the unmodified AWS CLI (`aws cloudfront …`) and boto3:
each resource's lifecycle (create → get → update with the right and a stale ETag → list with
pagination → delete), AWS's errors, changes served by the edge within a second, invalidations,
tags, IAM users' permissions, and distributions from files shown but not changeable."""

import datetime
import json
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import REGION, Wharf
from edge_helpers import CACHING_DISABLED, CACHING_OPTIMIZED, behavior, custom_origin, distribution, request
from origin import Origin, Route
from s3_helpers import make_user


@pytest.fixture(scope="module")
def origin():
    o = Origin()
    yield o
    o.stop()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    base = tmp_path_factory.mktemp("cfapi")
    dists = base / "distributions"
    dists.mkdir()
    conf = base / "wharf.toml"
    conf.write_text(f'[edge]\ndistributions_dir = "{dists}"\nmemory_cache_mb = 16\ndisk_cache_mb = 0\n')
    w = Wharf(base / "data").start("--config", str(conf))
    w.dists = dists
    yield w
    w.stop()


def cloudfront(node, access_key=None, secret_key=None):
    return boto3.client("cloudfront", endpoint_url=node.endpoint, region_name=REGION,
                        aws_access_key_id=access_key or node.access_key,
                        aws_secret_access_key=secret_key or node.secret_key,
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture()
def cf(node):
    return cloudfront(node)


def code(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def config(origin, **extra):
    c = distribution([custom_origin("o", origin.port)], behavior("o", CACHING_OPTIMIZED))
    c["CallerReference"] = uuid.uuid4().hex
    c.update(extra)
    return c


def served(node, host, path, deadline=1.0):
    """The edge's answer on `host` once it serves the distribution, waiting at most `deadline`."""
    end = time.time() + deadline
    while True:
        r = request(node.edge_port, path, host=host)
        if b"We can't connect to the server" not in r.body or time.time() > end:
            return r
        time.sleep(0.05)


def cli_json(node, *args, **kw):
    res = node.aws("cloudfront", *args, **kw)
    return json.loads(res.stdout) if res.stdout.strip() else None


def test_distribution_lifecycle_with_the_cli(node, origin, tmp_path):
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"from the origin", headers={"Cache-Control": "max-age=600"})
    cfg_file = tmp_path / "dist.json"
    cfg_file.write_text(json.dumps(config(origin, Comment="made by the cli")))
    made = cli_json(node, "create-distribution", "--distribution-config", f"file://{cfg_file}")
    dist = made["Distribution"]
    did = dist["Id"]
    assert made["ETag"] and made["Location"].endswith(f"/distribution/{did}")
    assert dist["ARN"].endswith(f":distribution/{did}")
    assert dist["DomainName"] == f"{did.lower()}.cloudfront.localhost"
    node.aws("cloudfront", "wait", "distribution-deployed", "--id", did)
    # Served on its DomainName at once.
    r = served(node, dist["DomainName"], p)
    assert r.status == 200 and r.body == b"from the origin"

    got = cli_json(node, "get-distribution-config", "--id", did)
    etag = got["ETag"]
    assert got["DistributionConfig"]["Comment"] == "made by the cli"
    # Update with a stale ETag, then with the right one.
    changed = got["DistributionConfig"]
    changed["Comment"] = "changed"
    changed["DefaultCacheBehavior"]["CachePolicyId"] = CACHING_DISABLED
    cfg_file.write_text(json.dumps(changed))
    stale = node.aws("cloudfront", "update-distribution", "--id", did, "--if-match", "E0STALE0000000",
                     "--distribution-config", f"file://{cfg_file}", check=False)
    assert stale.returncode != 0 and "PreconditionFailed" in stale.stderr
    missing = node.aws("cloudfront", "update-distribution", "--id", did,
                       "--distribution-config", f"file://{cfg_file}", check=False)
    assert "InvalidIfMatchVersion" in missing.stderr
    updated = cli_json(node, "update-distribution", "--id", did, "--if-match", etag,
                       "--distribution-config", f"file://{cfg_file}")
    assert updated["ETag"] != etag
    assert updated["Distribution"]["DistributionConfig"]["Comment"] == "changed"
    # The edge has the change within a second: the policy now caches nothing.
    origin.routes[p] = Route(b"second", headers={"Cache-Control": "max-age=600"})
    deadline = time.time() + 1
    while request(node.edge_port, p, host=dist["DomainName"]).body != b"second":
        assert time.time() < deadline, "the update did not reach the edge within a second"
        time.sleep(0.05)

    # Delete: refused while enabled, then disabled, deployed, deleted.
    etag = updated["ETag"]
    enabled = node.aws("cloudfront", "delete-distribution", "--id", did, "--if-match", etag, check=False)
    assert "DistributionNotDisabled" in enabled.stderr
    changed["Enabled"] = False
    cfg_file.write_text(json.dumps(changed))
    disabled = cli_json(node, "update-distribution", "--id", did, "--if-match", etag,
                        "--distribution-config", f"file://{cfg_file}")
    node.aws("cloudfront", "wait", "distribution-deployed", "--id", did)
    node.aws("cloudfront", "delete-distribution", "--id", did, "--if-match", disabled["ETag"])
    gone = node.aws("cloudfront", "get-distribution", "--id", did, check=False)
    assert gone.returncode != 0 and "NoSuchDistribution" in gone.stderr
    assert request(node.edge_port, p, host=dist["DomainName"]).status != 200


def test_errors_aws_documents(cf, origin):
    made = cf.create_distribution(DistributionConfig=config(origin, Aliases={"Quantity": 1, "Items": ["www.clash.test"]}))
    did = made["Distribution"]["Id"]
    # The same request again answers the same distribution; other content is refused.
    again = cf.create_distribution(DistributionConfig=made["Distribution"]["DistributionConfig"])
    assert again["Distribution"]["Id"] == did
    other = dict(made["Distribution"]["DistributionConfig"], Comment="other")
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=other)
    assert code(e) == ("DistributionAlreadyExists", 409)
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=config(origin, Aliases={"Quantity": 1, "Items": ["WWW.clash.test"]}))
    assert code(e) == ("CNAMEAlreadyExists", 409)
    bad = config(origin)
    bad["DefaultCacheBehavior"]["TargetOriginId"] = "nowhere"
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=bad)
    assert code(e)[0] == "InvalidArgument"
    bad = config(origin)
    bad["DefaultCacheBehavior"]["CachePolicyId"] = str(uuid.uuid4())
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=bad)
    assert code(e) == ("NoSuchCachePolicy", 404)
    with pytest.raises(ClientError) as e:
        cf.get_distribution(Id="ENOSUCHDIST000")
    assert code(e) == ("NoSuchDistribution", 404)
    current = cf.get_distribution_config(Id=did)
    renamed = dict(current["DistributionConfig"], CallerReference="another")
    with pytest.raises(ClientError) as e:
        cf.update_distribution(Id=did, IfMatch=current["ETag"], DistributionConfig=renamed)
    assert code(e)[0] == "IllegalUpdate"
    with pytest.raises(ClientError) as e:
        cf.list_distributions(MaxItems="0")
    assert code(e)[0] == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        cf.list_cloud_front_origin_access_identities()
    assert code(e) == ("NotImplemented", 501)


def test_listing_pages_with_the_paginator(cf, origin):
    ids = {cf.create_distribution(DistributionConfig=config(origin))["Distribution"]["Id"] for _ in range(5)}
    seen = []
    pages = 0
    for page in cf.get_paginator("list_distributions").paginate(PaginationConfig={"PageSize": 2}):
        pages += 1
        seen += [d["Id"] for d in page["DistributionList"].get("Items", [])]
    assert ids <= set(seen) and len(seen) == len(set(seen))
    assert pages >= 3
    summary = next(d for d in cf.list_distributions()["DistributionList"]["Items"] if d["Id"] in ids)
    assert summary["Status"] == "Deployed" and summary["Enabled"] is True


def test_invalidations_with_the_cli(node, cf, origin):
    dist = cf.create_distribution(DistributionConfig=config(origin))["Distribution"]
    did, host = dist["Id"], dist["DomainName"]
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"v1", headers={"Cache-Control": "max-age=600"})
    assert served(node, host, p).body == b"v1"
    origin.routes[p] = Route(b"v2", headers={"Cache-Control": "max-age=600"})
    assert request(node.edge_port, p, host=host).body == b"v1"
    made = cli_json(node, "create-invalidation", "--distribution-id", did, "--paths", p, "/img/*")
    inv = made["Invalidation"]
    assert inv["InvalidationBatch"]["Paths"]["Items"] == [p, "/img/*"]
    node.aws("cloudfront", "wait", "invalidation-completed", "--distribution-id", did, "--id", inv["Id"])
    assert request(node.edge_port, p, host=host).body == b"v2"
    got = cli_json(node, "get-invalidation", "--distribution-id", did, "--id", inv["Id"])
    assert got["Invalidation"]["Status"] == "Completed"
    listed = cli_json(node, "list-invalidations", "--distribution-id", did)
    assert [i["Id"] for i in listed["InvalidationList"]["Items"]] == [inv["Id"]]
    bad = node.aws("cloudfront", "create-invalidation", "--distribution-id", did, "--paths", "no-slash", check=False)
    assert "InvalidArgument" in bad.stderr
    nowhere = node.aws("cloudfront", "create-invalidation", "--distribution-id", "ENOSUCHDIST000", "--paths", "/a", check=False)
    assert "NoSuchDistribution" in nowhere.stderr
    with pytest.raises(ClientError) as e:
        cf.get_invalidation(DistributionId=did, Id="INOSUCHINVAL00")
    assert code(e) == ("NoSuchInvalidation", 404)


def test_cache_policies_managed_and_custom(cf, node, origin):
    managed = cf.list_cache_policies(Type="managed")["CachePolicyList"]["Items"]
    names = {p["CachePolicy"]["CachePolicyConfig"]["Name"] for p in managed}
    assert "Managed-CachingOptimized" in names and all(p["Type"] == "managed" for p in managed)
    policy = {"Name": f"short-{uuid.uuid4().hex[:8]}", "Comment": "", "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 120,
              "ParametersInCacheKeyAndForwardedToOrigin": {
                  "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": False,
                  "HeadersConfig": {"HeaderBehavior": "none"}, "CookiesConfig": {"CookieBehavior": "none"},
                  "QueryStringsConfig": {"QueryStringBehavior": "all"}}}
    made = cf.create_cache_policy(CachePolicyConfig=policy)
    pid = made["CachePolicy"]["Id"]
    with pytest.raises(ClientError) as e:
        cf.create_cache_policy(CachePolicyConfig=policy)
    assert code(e) == ("CachePolicyAlreadyExists", 409)
    got = cf.get_cache_policy_config(Id=pid)
    assert got["CachePolicyConfig"]["DefaultTTL"] == 60
    custom = cf.list_cache_policies(Type="custom")["CachePolicyList"]["Items"]
    assert [p["CachePolicy"]["Id"] for p in custom] == [pid] and custom[0]["Type"] == "custom"
    with pytest.raises(ClientError) as e:
        cf.update_cache_policy(Id=pid, IfMatch="E0STALE0000000", CachePolicyConfig=dict(policy, DefaultTTL=30))
    assert code(e) == ("PreconditionFailed", 412)
    updated = cf.update_cache_policy(Id=pid, IfMatch=got["ETag"], CachePolicyConfig=dict(policy, DefaultTTL=30))
    # A distribution that uses it: the policy's query-string key applies at the edge.
    dist = cf.create_distribution(DistributionConfig=config(
        origin, DefaultCacheBehavior=behavior("o", pid)))["Distribution"]
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"q")
    assert served(node, dist["DomainName"], p + "?a=1").status == 200
    assert request(node.edge_port, p + "?a=1", host=dist["DomainName"]).x_cache == "Hit from cloudfront"
    assert request(node.edge_port, p + "?a=2", host=dist["DomainName"]).x_cache == "Miss from cloudfront"
    with pytest.raises(ClientError) as e:
        cf.delete_cache_policy(Id=pid, IfMatch=updated["ETag"])
    assert code(e) == ("CachePolicyInUse", 409)
    with pytest.raises(ClientError) as e:
        cf.delete_cache_policy(Id=managed[0]["CachePolicy"]["Id"], IfMatch="x")
    assert code(e)[0] == "IllegalDelete"
    # Once the distribution is gone, so can the policy be.
    cfg = cf.get_distribution_config(Id=dist["Id"])
    off = cf.update_distribution(Id=dist["Id"], IfMatch=cfg["ETag"], DistributionConfig=dict(cfg["DistributionConfig"], Enabled=False))
    cf.delete_distribution(Id=dist["Id"], IfMatch=off["ETag"])
    cf.delete_cache_policy(Id=pid, IfMatch=updated["ETag"])
    with pytest.raises(ClientError) as e:
        cf.get_cache_policy(Id=pid)
    assert code(e) == ("NoSuchCachePolicy", 404)


def test_origin_access_control_to_a_private_local_bucket(node, cf):
    s3 = node.client()
    bucket = f"oac-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"private page")
    oac = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": f"oac-{uuid.uuid4().hex[:8]}", "Description": "", "SigningProtocol": "sigv4",
        "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"})
    oac_id = oac["OriginAccessControl"]["Id"]
    listed = cf.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert oac_id in [o["Id"] for o in listed]
    origin_cfg = {"Id": "s3", "DomainName": f"{bucket}.s3.localhost", "OriginAccessControlId": oac_id,
                  "S3OriginConfig": {"OriginAccessIdentity": ""}}
    cfg = distribution([origin_cfg], behavior("s3", CACHING_DISABLED))
    cfg["CallerReference"] = uuid.uuid4().hex
    dist = cf.create_distribution(DistributionConfig=cfg)["Distribution"]
    host = dist["DomainName"]
    # The bucket is private: CloudFront is refused until the bucket policy names this
    # distribution, as AWS's OAC policy does.
    assert served(node, host, "/index.html").status == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}}]}))
    deadline = time.time() + 5
    while (r := request(node.edge_port, "/index.html", host=host)).status != 200 and time.time() < deadline:
        time.sleep(0.2)
    assert r.status == 200 and r.body == b"private page"
    etag = cf.get_origin_access_control(Id=oac_id)["ETag"]
    with pytest.raises(ClientError) as e:
        cf.delete_origin_access_control(Id=oac_id, IfMatch=etag)
    assert code(e) == ("OriginAccessControlInUse", 409)


def test_key_groups_and_signed_urls(node, cf, origin):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    made = cf.create_public_key(PublicKeyConfig={"CallerReference": uuid.uuid4().hex, "Name": f"k-{uuid.uuid4().hex[:8]}",
                                                 "EncodedKey": pem, "Comment": "test"})
    kid = made["PublicKey"]["Id"]
    assert kid.startswith("K")
    with pytest.raises(ClientError) as e:
        cf.create_public_key(PublicKeyConfig={"CallerReference": uuid.uuid4().hex, "Name": "bad", "EncodedKey": "not a key"})
    assert code(e)[0] == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        cf.create_key_group(KeyGroupConfig={"Name": "g", "Items": ["KNOSUCHKEY0000"]})
    assert code(e)[0] == "NoSuchPublicKey"
    group = cf.create_key_group(KeyGroupConfig={"Name": f"g-{uuid.uuid4().hex[:8]}", "Items": [kid]})
    gid = group["KeyGroup"]["Id"]
    assert gid in [g["KeyGroup"]["Id"] for g in cf.list_key_groups()["KeyGroupList"]["Items"]]
    trusted = {"Enabled": True, "Quantity": 1, "Items": [gid]}
    dist = cf.create_distribution(DistributionConfig=config(
        origin, DefaultCacheBehavior=behavior("o", CACHING_DISABLED, TrustedKeyGroups=trusted)))["Distribution"]
    assert dist["ActiveTrustedKeyGroups"]["Enabled"] is True
    p = f"/{uuid.uuid4().hex}"
    origin.routes[p] = Route(b"signed only")
    host = dist["DomainName"]
    assert served(node, host, p).status == 403
    signer = CloudFrontSigner(kid, lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
    url = signer.generate_presigned_url(f"http://{host}{p}", date_less_than=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5))
    r = request(node.edge_port, url[len(f"http://{host}"):], host=host)
    assert r.status == 200 and r.body == b"signed only"
    with pytest.raises(ClientError) as e:
        cf.delete_key_group(Id=gid, IfMatch=group["ETag"])
    assert code(e) == ("ResourceInUse", 409)
    with pytest.raises(ClientError) as e:
        cf.delete_public_key(Id=kid, IfMatch=made["ETag"])
    assert code(e) == ("PublicKeyInUse", 409)


def test_tags(cf, origin):
    made = cf.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": config(origin), "Tags": {"Items": [{"Key": "env", "Value": "prod"}]}})
    arn = made["Distribution"]["ARN"]
    assert cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [{"Key": "env", "Value": "prod"}]
    cf.tag_resource(Resource=arn, Tags={"Items": [{"Key": "team", "Value": "web"}]})
    cf.untag_resource(Resource=arn, TagKeys={"Items": ["env"]})
    assert cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [{"Key": "team", "Value": "web"}]
    with pytest.raises(ClientError) as e:
        cf.tag_resource(Resource=arn, Tags={"Items": [{"Key": "bad<key>", "Value": "x"}]})
    assert code(e)[0] == "InvalidTagging"
    with pytest.raises(ClientError) as e:
        cf.list_tags_for_resource(Resource=arn.rsplit("/", 1)[0] + "/ENOSUCHDIST000")
    assert code(e) == ("NoSuchResource", 404)


def test_users_need_cloudfront_permissions(node, origin):
    name, _, s3 = make_user(node, "cf")
    creds = s3._request_signer._credentials
    user_cf = cloudfront(node, creds.access_key, creds.secret_key)
    with pytest.raises(ClientError) as e:
        user_cf.list_distributions()
    assert code(e) == ("AccessDenied", 403)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["cloudfront:Get*", "cloudfront:List*"], "Resource": "*"}]}
    pfile = node.data_dir.parent / f"policy-{uuid.uuid4().hex}.json"
    pfile.write_text(json.dumps(policy))
    node.wharf_cmd("user", "policy", "put", name, "readonly", str(pfile))
    deadline = time.time() + 5
    while True:
        try:
            user_cf.list_distributions()
            break
        except ClientError:
            assert time.time() < deadline
            time.sleep(0.3)
    with pytest.raises(ClientError) as e:
        user_cf.create_distribution(DistributionConfig=config(origin))
    assert code(e) == ("AccessDenied", 403)
    assert "cloudfront:CreateDistribution" in e.value.response["Error"]["Message"]


def test_file_distributions_are_shown_and_not_changed(node, cf, origin):
    did = "EFILE" + uuid.uuid4().hex[:9].upper()
    (node.dists / f"{did}.json").write_text(json.dumps(config(origin, Comment="from a file")))
    deadline = time.time() + 5
    while True:
        try:
            got = cf.get_distribution(Id=did)
            break
        except ClientError:
            assert time.time() < deadline
            time.sleep(0.2)
    assert got["Distribution"]["DistributionConfig"]["Comment"] == "from a file"
    assert got["Distribution"]["Status"] == "Deployed"
    assert did in [d["Id"] for page in cf.get_paginator("list_distributions").paginate()
                   for d in page["DistributionList"].get("Items", [])]
    with pytest.raises(ClientError) as e:
        cf.update_distribution(Id=did, IfMatch=got["ETag"], DistributionConfig=got["Distribution"]["DistributionConfig"])
    assert code(e)[0] == "IllegalUpdate"
    # Invalidations work on it as on any distribution.
    inv = cf.create_invalidation(DistributionId=did, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": uuid.uuid4().hex})
    assert inv["Invalidation"]["Status"] == "Completed"


def test_cache_tags_invalidated_by_tag(node, cf, origin):
    cfg = config(origin, CacheTagConfig={"HeaderName": "Edge-Cache-Tag"})
    dist = cf.create_distribution(DistributionConfig=cfg)["Distribution"]
    assert dist["DistributionConfig"]["CacheTagConfig"] == {"HeaderName": "Edge-Cache-Tag"}
    host, did = dist["DomainName"], dist["Id"]
    base = f"/{uuid.uuid4().hex}"
    tagged = {f"{base}/tv.html": "product:tv, brand:example", f"{base}/radio.html": "product:radio, brand:example",
              f"{base}/untagged.html": None}
    for p, tags in tagged.items():
        headers = {"Cache-Control": "max-age=600"}
        if tags:
            headers["Edge-Cache-Tag"] = tags
        origin.routes[p] = Route(b"v1", headers=headers)
        served(node, host, p)
        assert request(node.edge_port, p, host=host).x_cache == "Hit from cloudfront"
    inv = cli_json(node, "create-invalidation", "--distribution-id", did, "--paths", "#product:tv")
    assert inv["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["#product:tv"]
    node.aws("cloudfront", "wait", "invalidation-completed", "--distribution-id", did, "--id", inv["Invalidation"]["Id"])
    assert request(node.edge_port, f"{base}/tv.html", host=host).x_cache == "Miss from cloudfront"
    assert request(node.edge_port, f"{base}/radio.html", host=host).x_cache == "Hit from cloudfront"
    # A tag both carry.
    cf.create_invalidation(DistributionId=did, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["#brand:example"]}, "CallerReference": uuid.uuid4().hex})
    assert request(node.edge_port, f"{base}/radio.html", host=host).x_cache == "Miss from cloudfront"
    assert request(node.edge_port, f"{base}/untagged.html", host=host).x_cache == "Hit from cloudfront"
    bad = node.aws("cloudfront", "create-invalidation", "--distribution-id", did, "--paths", "#bad*tag", check=False)
    assert "InvalidArgument" in bad.stderr


def _public_key_config():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return {"CallerReference": uuid.uuid4().hex, "Name": f"k-{uuid.uuid4().hex[:8]}", "EncodedKey": pem, "Comment": "one"}


# (boto3 stem, config member, a config, the change an update makes)
RESOURCES = {
    "origin_request_policy": ("OriginRequestPolicyConfig", lambda: {
        "Name": f"orp-{uuid.uuid4().hex[:8]}", "Comment": "one",
        "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["x-debug"]}},
        "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "all"}}),
    "response_headers_policy": ("ResponseHeadersPolicyConfig", lambda: {
        "Name": f"rhp-{uuid.uuid4().hex[:8]}", "Comment": "one",
        "CustomHeadersConfig": {"Quantity": 1, "Items": [{"Header": "x-served-by", "Value": "wharf", "Override": True}]}}),
    "origin_access_control": ("OriginAccessControlConfig", lambda: {
        "Name": f"oac-{uuid.uuid4().hex[:8]}", "Description": "one", "SigningProtocol": "sigv4",
        "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}),
    "public_key": ("PublicKeyConfig", _public_key_config),
}


@pytest.mark.parametrize("stem", sorted(RESOURCES))
def test_resource_lifecycle(cf, stem):
    member, make = RESOURCES[stem]
    kind = member[: -len("Config")]
    created = [getattr(cf, f"create_{stem}")(**{member: make()}) for _ in range(2)]
    rid = created[0][kind]["Id"]
    assert created[0]["Location"].endswith(rid)
    got = getattr(cf, f"get_{stem}")(Id=rid)
    assert got["ETag"] == created[0]["ETag"] and got[kind]["Id"] == rid
    config = getattr(cf, f"get_{stem}_config")(Id=rid)[member]
    changed = dict(config, Comment="two") if "Comment" in config else dict(config, Description="two")
    with pytest.raises(ClientError) as e:
        getattr(cf, f"update_{stem}")(Id=rid, IfMatch="E0STALE0000000", **{member: changed})
    assert code(e) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        getattr(cf, f"update_{stem}")(Id=rid, IfMatch="", **{member: changed})
    assert code(e)[0] == "InvalidIfMatchVersion"
    updated = getattr(cf, f"update_{stem}")(Id=rid, IfMatch=got["ETag"], **{member: changed})
    assert updated["ETag"] != got["ETag"]
    # Listed one page at a time.
    plural = stem.replace("policy", "policie") + "s"
    key = "".join(w.capitalize() for w in stem.split("_")) + "List"
    seen, marker = [], ""
    while True:
        page = getattr(cf, f"list_{plural}")(Marker=marker, MaxItems="1")[key]
        for item in page.get("Items", []):
            inner = item.get(kind, item)
            seen.append(inner["Id"])
        if not page.get("NextMarker"):
            break
        marker = page["NextMarker"]
    assert {c[kind]["Id"] for c in created} <= set(seen)
    getattr(cf, f"delete_{stem}")(Id=rid, IfMatch=updated["ETag"])
    with pytest.raises(ClientError) as e:
        getattr(cf, f"get_{stem}")(Id=rid)
    assert code(e)[1] == 404
