"""CloudFront KeyValueStore: the control plane through the AWS CLI, the data plane through
boto3's unmodified `cloudfront-keyvaluestore` client (SigV4A, signed by awscrt, on the host
`ACCOUNT.localhost` the SDK derives from the store's ARN), and functions reading a store at
the edge, seeing an update within a second.

This machine's resolver does not answer `*.localhost` (browsers, curl and systemd-resolved
do), so the test resolves those names to 127.0.0.1 in its own process; the SDK is unchanged."""

import json
import socket
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import REGION
from edge_helpers import CACHING_DISABLED, behavior, custom_origin, distribution, request
from origin import Route
from test_cloudfront_api import cloudfront, code, node, origin, served  # noqa: F401  (module fixtures)

_getaddrinfo = socket.getaddrinfo


@pytest.fixture(autouse=True, scope="module")
def localhost_names():
    def resolve(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return _getaddrinfo(host, *args, **kwargs)
    socket.getaddrinfo = resolve
    yield
    socket.getaddrinfo = _getaddrinfo


def data_plane(node, secret=None):  # noqa: F811
    return boto3.client("cloudfront-keyvaluestore", endpoint_url=f"http://localhost:{node.port}",
                        region_name=REGION, aws_access_key_id=node.access_key,
                        aws_secret_access_key=secret or node.secret_key,
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture()
def cf(node):  # noqa: F811
    return cloudfront(node)


def new_store(cf):
    return cf.create_key_value_store(Name=f"kvs-{uuid.uuid4().hex[:10]}", Comment="test")


def test_control_plane_with_the_cli(node):  # noqa: F811
    name = f"cli-{uuid.uuid4().hex[:8]}"
    made = json.loads(node.aws("cloudfront", "create-key-value-store", "--name", name, "--comment", "first").stdout)
    store = made["KeyValueStore"]
    assert store["Status"] == "READY" and store["ARN"].endswith(f":key-value-store/{store['Id']}")
    again = node.aws("cloudfront", "create-key-value-store", "--name", name, check=False)
    assert "EntityAlreadyExists" in again.stderr
    got = json.loads(node.aws("cloudfront", "describe-key-value-store", "--name", name).stdout)
    stale = node.aws("cloudfront", "update-key-value-store", "--name", name, "--comment", "x",
                     "--if-match", "E0STALE0000000", check=False)
    assert "PreconditionFailed" in stale.stderr
    updated = json.loads(node.aws("cloudfront", "update-key-value-store", "--name", name, "--comment", "second",
                                  "--if-match", got["ETag"]).stdout)
    assert updated["KeyValueStore"]["Comment"] == "second"
    listed = json.loads(node.aws("cloudfront", "list-key-value-stores").stdout)["KeyValueStoreList"]["Items"]
    assert name in [s["Name"] for s in listed]
    node.aws("cloudfront", "delete-key-value-store", "--name", name, "--if-match", updated["ETag"])
    gone = node.aws("cloudfront", "describe-key-value-store", "--name", name, check=False)
    assert "EntityNotFound" in gone.stderr


def test_data_plane_with_the_sdk(node, cf):  # noqa: F811
    arn = new_store(cf)["KeyValueStore"]["ARN"]
    kvs = data_plane(node)
    described = kvs.describe_key_value_store(KvsARN=arn)
    assert described["ItemCount"] == 0 and described["KvsARN"] == arn
    put = kvs.put_key(KvsARN=arn, Key="blog", Value="v1", IfMatch=described["ETag"])
    assert put["ItemCount"] == 1 and put["ETag"] != described["ETag"]
    assert kvs.get_key(KvsARN=arn, Key="blog")["Value"] == "v1"
    with pytest.raises(ClientError) as e:
        kvs.put_key(KvsARN=arn, Key="x", Value="y", IfMatch=described["ETag"])
    assert code(e) == ("ConflictException", 409)
    etag = kvs.update_keys(KvsARN=arn, IfMatch=put["ETag"],
                           Puts=[{"Key": f"k{i:02}", "Value": str(i)} for i in range(60)],
                           Deletes=[{"Key": "blog"}])["ETag"]
    keys = [i["Key"] for page in kvs.get_paginator("list_keys").paginate(KvsARN=arn) for i in page["Items"]]
    assert keys == [f"k{i:02}" for i in range(60)]
    with pytest.raises(ClientError) as e:
        kvs.get_key(KvsARN=arn, Key="blog")
    assert code(e) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        kvs.put_key(KvsARN=arn, Key="big", Value="x" * 2000, IfMatch=etag)
    assert code(e) == ("ValidationException", 400)
    deleted = kvs.delete_key(KvsARN=arn, Key="k00", IfMatch=etag)
    assert deleted["ItemCount"] == 59
    with pytest.raises(ClientError) as e:
        data_plane(node, secret="wrong-secret").describe_key_value_store(KvsARN=arn)
    assert code(e)[1] == 403
    with pytest.raises(ClientError) as e:
        kvs.describe_key_value_store(KvsARN=arn.rsplit("/", 1)[0] + "/" + str(uuid.uuid4()))
    assert code(e) == ("ResourceNotFoundException", 404)


# AWS's documented example: the first path segment is looked up in the store and replaced.
KVS_FUNCTION = """import cf from 'cloudfront';

const kvsHandle = cf.kvs();

async function handler(event) {
    const request = event.request;
    const pathSegments = request.uri.split('/');
    const key = pathSegments[1];
    try {
        pathSegments[1] = await kvsHandle.get(key);
        const newUri = pathSegments.join('/');
        console.log(`${request.uri} -> ${newUri}`);
        request.uri = newUri;
    } catch (err) {
        console.log(`${request.uri} | ${err}`);
    }
    return request;
}
"""


def test_a_function_reads_the_store_at_the_edge(node, cf, origin):  # noqa: F811
    store = new_store(cf)["KeyValueStore"]
    kvs = data_plane(node)
    etag = kvs.describe_key_value_store(KvsARN=store["ARN"])["ETag"]
    etag = kvs.put_key(KvsARN=store["ARN"], Key="latest", Value="v1", IfMatch=etag)["ETag"]
    name = f"kvs-fn-{uuid.uuid4().hex[:8]}"
    made = cf.create_function(Name=name, FunctionCode=KVS_FUNCTION.encode(), FunctionConfig={
        "Comment": "", "Runtime": "cloudfront-js-2.0",
        "KeyValueStoreAssociations": {"Quantity": 1, "Items": [{"KeyValueStoreARN": store["ARN"]}]}})
    event = {"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "1.2.3.4"},
             "request": {"method": "GET", "uri": "/latest/app.js", "querystring": {}, "headers": {}, "cookies": {}}}
    result = cf.test_function(Name=name, IfMatch=made["ETag"], EventObject=json.dumps(event).encode())["TestResult"]
    assert json.loads(result["FunctionOutput"])["request"]["uri"] == "/v1/app.js"
    assert result["FunctionExecutionLogs"] == ["/latest/app.js -> /v1/app.js"]
    cf.publish_function(Name=name, IfMatch=made["ETag"])
    arn = made["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    assoc = {"Quantity": 1, "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}]}
    cfg = distribution([custom_origin("o", origin.port)], behavior("o", CACHING_DISABLED, FunctionAssociations=assoc))
    cfg["CallerReference"] = uuid.uuid4().hex
    host = cf.create_distribution(DistributionConfig=cfg)["Distribution"]["DomainName"]
    origin.routes["/v1/app.js"] = Route(b"version 1")
    origin.routes["/v2/app.js"] = Route(b"version 2")
    assert served(node, host, "/latest/app.js").body == b"version 1"
    # A change to the store reaches the function within a second.
    kvs.put_key(KvsARN=store["ARN"], Key="latest", Value="v2", IfMatch=etag)
    deadline = time.time() + 1
    while request(node.edge_port, "/latest/app.js", host=host).body != b"version 2":
        assert time.time() < deadline, "the store's change did not reach the function within a second"
        time.sleep(0.05)
    # A store a function uses cannot be deleted.
    with pytest.raises(ClientError) as e:
        cf.delete_key_value_store(Name=store["Name"], IfMatch=cf.describe_key_value_store(Name=store["Name"])["ETag"])
    assert code(e)[0] == "CannotDeleteEntityWhileInUse"


def test_a_store_imported_from_s3(node, tmp_path):  # noqa: F811
    """CreateKeyValueStore's ImportSource reads CloudFront's import format from a bucket of
    the node; a missing object or one that does not parse refuses the Create."""
    bucket = f"kvs-import-{uuid.uuid4().hex[:8]}"
    node.aws("s3api", "create-bucket", "--bucket", bucket)
    src = tmp_path / "import.json"
    src.write_text(json.dumps({"data": [{"key": "blog", "value": "v2"}, {"key": "shop", "value": "v1"}]}))
    node.aws("s3api", "put-object", "--bucket", bucket, "--key", "stores/import.json", "--body", str(src))
    name = f"imported-{uuid.uuid4().hex[:8]}"
    made = json.loads(node.aws("cloudfront", "create-key-value-store", "--name", name, "--import-source",
                               f"SourceType=S3,SourceARN=arn:aws:s3:::{bucket}/stores/import.json").stdout)
    arn = made["KeyValueStore"]["ARN"]
    kvs = data_plane(node)
    assert kvs.describe_key_value_store(KvsARN=arn)["ItemCount"] == 2
    assert kvs.get_key(KvsARN=arn, Key="blog")["Value"] == "v2"
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"key": "only-a-key"}]}')
    node.aws("s3api", "put-object", "--bucket", bucket, "--key", "bad.json", "--body", str(bad))
    for key, why in (("bad.json", "not {"), ("missing.json", "does not exist")):
        refused = node.aws("cloudfront", "create-key-value-store", "--name", f"no-{uuid.uuid4().hex[:8]}",
                           "--import-source", f"SourceType=S3,SourceARN=arn:aws:s3:::{bucket}/{key}", check=False)
        assert "InvalidArgument" in refused.stderr and why in refused.stderr, refused.stderr
    refused = node.aws("cloudfront", "create-key-value-store", "--name", f"no-{uuid.uuid4().hex[:8]}",
                       "--import-source", "SourceType=S3,SourceARN=not-an-arn", check=False)
    assert "InvalidArgument" in refused.stderr
