"""`cred-export iam-policy`: the least-privilege policy, and narrowing it by model, region, account."""

from __future__ import annotations

import pytest
from harness.sandbox import Sandbox

INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


def policy(box: Sandbox, *args: str) -> dict:
    result = box.run("iam-policy", *args)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    return result.json


def statement(document: dict, sid: str) -> dict:
    (found,) = [s for s in document["Statement"] if s["Sid"] == sid]
    return found


def test_default_policy(sandbox: Sandbox) -> None:
    result = sandbox.run("iam-policy")
    assert result.code == 0
    assert result.stdout.startswith('{\n  "Version": "2012-10-17",\n')  # pretty-printed
    document = result.json
    assert document["Version"] == "2012-10-17"
    assert [s["Sid"] for s in document["Statement"]] == [
        "InvokeModels",
        "ReadInferenceProfiles",
        "ListInferenceProfiles",
        "SubscribeToModelsThroughBedrock",
    ]
    assert all(s["Effect"] == "Allow" for s in document["Statement"])
    invoke = statement(document, "InvokeModels")
    assert invoke["Action"] == INVOKE
    assert invoke["Resource"] == [  # Anthropic's models only, and the profiles that reach them
        "arn:aws:bedrock:*:*:inference-profile/*.anthropic.*",
        "arn:aws:bedrock:*:*:application-inference-profile/*",
        "arn:aws:bedrock:*::foundation-model/anthropic.*",
    ]
    read = statement(document, "ReadInferenceProfiles")
    assert read["Action"] == ["bedrock:GetInferenceProfile"]
    assert read["Resource"] == [
        "arn:aws:bedrock:*:*:inference-profile/*.anthropic.*",
        "arn:aws:bedrock:*:*:application-inference-profile/*",
    ]
    assert statement(document, "ListInferenceProfiles") == {
        "Sid": "ListInferenceProfiles",
        "Effect": "Allow",
        "Action": ["bedrock:ListInferenceProfiles"],
        "Resource": "*",
    }
    assert statement(document, "SubscribeToModelsThroughBedrock") == {
        "Sid": "SubscribeToModelsThroughBedrock",
        "Effect": "Allow",
        "Action": ["aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:CalledViaLast": "bedrock.amazonaws.com"}},
    }


def test_narrowed_by_model_and_region(sandbox: Sandbox) -> None:
    document = policy(
        sandbox,
        "--model",
        "us.anthropic.claude-haiku-4-5",
        "--region",
        "us-east-1",
        "--region",
        "us-west-2",
    )
    assert statement(document, "InvokeModels")["Resource"] == [
        "arn:aws:bedrock:us-east-1:*:inference-profile/us.anthropic.claude-haiku-4-5",
        "arn:aws:bedrock:us-west-2:*:inference-profile/us.anthropic.claude-haiku-4-5",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5",
    ]
    assert statement(document, "ReadInferenceProfiles")["Resource"] == [
        "arn:aws:bedrock:us-east-1:*:inference-profile/us.anthropic.claude-haiku-4-5",
        "arn:aws:bedrock:us-west-2:*:inference-profile/us.anthropic.claude-haiku-4-5",
    ]
    assert statement(document, "ListInferenceProfiles")["Resource"] == "*"


def test_cross_region_profile_allows_its_model_in_every_region(sandbox: Sandbox) -> None:
    document = policy(
        sandbox,
        "--model",
        "global.anthropic.claude-sonnet-4-6",
        "--model",
        "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
        "--region",
        "eu-central-1",
        "--account",
        "123456789012",
    )
    assert statement(document, "InvokeModels")["Resource"] == [
        "arn:aws:bedrock:eu-central-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-6",
        "arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
    ]


def test_model_without_region_means_any_region(sandbox: Sandbox) -> None:
    document = policy(sandbox, "--model", "global.anthropic.claude-sonnet-4-6")
    assert statement(document, "InvokeModels")["Resource"] == [
        "arn:aws:bedrock:*:*:inference-profile/global.anthropic.claude-sonnet-4-6",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6",
    ]


def test_foundation_model_is_allowed_in_the_named_regions_only(sandbox: Sandbox) -> None:
    document = policy(sandbox, "--model", "anthropic.claude-sonnet-4-6", "--region", "us-east-1")
    assert statement(document, "InvokeModels")["Resource"] == [
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6"
    ]
    assert "ReadInferenceProfiles" not in [s["Sid"] for s in document["Statement"]]


def test_application_inference_profile_arn(sandbox: Sandbox) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
    document = policy(sandbox, "--model", arn, "--region", "us-east-1")
    assert statement(document, "InvokeModels")["Resource"] == [
        arn,
        "arn:aws:bedrock:*::foundation-model/anthropic.*",
    ]
    assert statement(document, "ReadInferenceProfiles")["Resource"] == [arn]


def test_inference_profile_and_foundation_model_arns(sandbox: Sandbox) -> None:
    profile = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-6"
    model = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5"
    document = policy(sandbox, "--model", profile, "--model", model)
    assert statement(document, "InvokeModels")["Resource"] == [
        profile,
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6",
        model,
    ]


def test_region_and_account_alone_narrow_the_profiles(sandbox: Sandbox) -> None:
    document = policy(sandbox, "--region", "us-east-1", "--account", "123456789012")
    assert statement(document, "InvokeModels")["Resource"] == [
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/*.anthropic.*",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/*",
        "arn:aws:bedrock:*::foundation-model/anthropic.*",
    ]


def test_all_providers_widens_the_default_to_every_model(sandbox: Sandbox) -> None:
    document = policy(sandbox, "--all-providers")
    assert statement(document, "InvokeModels")["Resource"] == [
        "arn:aws:bedrock:*:*:inference-profile/*",
        "arn:aws:bedrock:*:*:application-inference-profile/*",
        "arn:aws:bedrock:*::foundation-model/*",
    ]
    assert statement(document, "ReadInferenceProfiles")["Resource"] == [
        "arn:aws:bedrock:*:*:inference-profile/*",
        "arn:aws:bedrock:*:*:application-inference-profile/*",
    ]


def test_govcloud_regions_use_their_partition(sandbox: Sandbox) -> None:
    document = policy(sandbox, "--model", "us-gov.anthropic.claude-sonnet-4-5", "--region", "us-gov-west-1")
    assert statement(document, "InvokeModels")["Resource"] == [
        "arn:aws-us-gov:bedrock:us-gov-west-1:*:inference-profile/us-gov.anthropic.claude-sonnet-4-5",
        "arn:aws-us-gov:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5",
    ]


def test_duplicates_are_dropped(sandbox: Sandbox) -> None:
    model = "us.anthropic.claude-haiku-4-5"
    document = policy(
        sandbox, "--model", model, "--model", model, "--region", "us-east-1", "--region", "us-east-1"
    )
    assert len(statement(document, "InvokeModels")["Resource"]) == 2


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("--model", "sonnet"), "'sonnet' is not a Bedrock model id"),
        (("--model", "claude-sonnet-4-6"), "not a Bedrock model id"),
        (("--model", "global.sonnet"), "not a Bedrock model id"),
        (("--model", "Anthropic.Claude"), "not a Bedrock model id"),
        (("--model", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"), "ARN"),
        (("--model", "arn:aws:bedrock:us-east-1::inference-profile/us.anthropic.claude-x"), "ARN"),
        (("--model", "arn:aws:s3:::bucket"), "ARN"),
        (("--region", "us-east"), "not an AWS region"),
        (("--account", "12345"), "12-digit"),
        (("--region", "us-east-1", "--region", "us-gov-west-1"), "partitions"),
        (("--all-providers", "--model", "us.anthropic.claude-haiku-4-5"), "one or the other"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(sandbox: Sandbox, args: tuple[str, ...], complaint: str) -> None:
    result = sandbox.run("iam-policy", *args)
    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and complaint in lines[0], result.stderr
    assert "Traceback" not in result.stderr
