"""The baseline for a cache miss: one STS AssumeRole with plain boto3, nothing else.

Reads everything from the environment, the way a hand-written script would:
AWS_ENDPOINT_URL_STS, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ROLE_ARN (optional) and
BARE_CLIENT=boto3|botocore (optional, default boto3). Prints the credentials as JSON.
"""

from __future__ import annotations

import json
import os
import time

ROLE_ARN = os.environ.get("ROLE_ARN", "arn:aws:iam::123456789012:role/role1")


def client():  # type: ignore[no-untyped-def]
    options = {
        "region_name": "us-east-1",
        "endpoint_url": os.environ["AWS_ENDPOINT_URL_STS"],
        "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
    }
    if os.environ.get("BARE_CLIENT", "boto3") == "botocore":
        import botocore.session

        return botocore.session.get_session().create_client("sts", **options)
    import boto3

    return boto3.client("sts", **options)


def main() -> None:
    response = client().assume_role(RoleArn=ROLE_ARN, RoleSessionName=f"bare-{int(time.time())}")
    print(json.dumps({"Credentials": response["Credentials"]}, default=str))


if __name__ == "__main__":
    main()
