#!/usr/bin/env python3
"""Writes model/cloudfront-2020-05-31.json: the operations and shapes of AWS's CloudFront API
(2020-05-31) from botocore's service description, with its documentation left out.

The control API is driven by this table: routing (method and URI of each operation), how a
request's members are bound (URI labels, query strings, headers, the XML payload), the XML
element names, member types, enums and required members, and each error's HTTP status.

    .venv/bin/python crates/wharf-control/model/generate.py   # after tests/interop's venv exists
"""
import gzip
import json
import pathlib

import botocore

SERVICE = "cloudfront"
VERSION = "2020-05-31"
DROP = {"documentation", "deprecated", "deprecatedMessage", "documentationUrl", "box"}


def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in DROP}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def main():
    src = pathlib.Path(botocore.__file__).parent / "data" / SERVICE / VERSION / "service-2.json.gz"
    model = json.load(gzip.open(src))
    out = {
        "metadata": {k: model["metadata"][k] for k in ("apiVersion", "signingName", "protocol")},
        "operations": strip(model["operations"]),
        "shapes": strip(model["shapes"]),
    }
    dest = pathlib.Path(__file__).parent / f"{SERVICE}-{VERSION}.json"
    dest.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"{dest}: {len(out['operations'])} operations, {len(out['shapes'])} shapes "
          f"(botocore {botocore.__version__})")


if __name__ == "__main__":
    main()
