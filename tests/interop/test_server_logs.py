"""What `wharf serve` writes to stderr with the default log filter: a client's mistakes and
features not built yet are not errors, and a log that is not a terminal has no colour codes."""
import pytest
from botocore.exceptions import ClientError

from conftest import Wharf


@pytest.fixture()
def quiet_wharf(tmp_path):
    w = Wharf(tmp_path / "data")
    default_env = w.env

    def env():
        e = default_env()
        e.pop("WHARF_LOG")  # the default filter, as a user runs it
        return e

    w.env = env
    w.start()
    yield w
    w.stop()


def test_client_errors_and_501s_are_not_logged_as_errors(quiet_wharf):
    s3 = quiet_wharf.client()
    s3.create_bucket(Bucket="logs-quiet")
    answers = []
    for call in (
        lambda: s3.get_object(Bucket="logs-quiet", Key="absent"),  # 404
        lambda: s3.get_object(Bucket="no-such-bucket-here", Key="k"),  # 404
        lambda: quiet_wharf.client(secret_key="wrong").list_objects_v2(Bucket="logs-quiet"),  # 403
        lambda: s3.get_bucket_replication(Bucket="logs-quiet"),  # 501
        lambda: s3.create_bucket(Bucket="x"),  # 400
    ):
        with pytest.raises(ClientError) as e:
            call()
        answers.append(e.value.response["ResponseMetadata"]["HTTPStatusCode"])
    assert sorted(answers) == [400, 403, 404, 404, 501]
    quiet_wharf.stop()
    log = open(quiet_wharf.log.name).read()
    assert "ERROR" not in log, log
    assert "\x1b[" not in log, repr(log[:500])
    # Something was logged at start-up, so the absence above means something.
    assert "INFO" in log or "WARN" in log, log
