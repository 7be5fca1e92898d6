"""As a team would: identify the key, export the playbook, deploy it to the sandbox with the AWS CLI, run it."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import boto3

from tests.test_sandbox_e2e import RESPONDER, serve

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def test_export_deploy_and_contain_with_the_aws_cli(tmp_path: Path) -> None:
    with serve(tmp_path) as sandbox:
        key_file = sandbox.key_files["leaked-long-term-key"]
        identified = json.loads(sandbox.responder("identify", str(key_file), "-o", "json").stdout)
        given = identified["execution_input"]
        key = key_file.read_text().strip()
        assert given == {"user_name": sandbox.seeded["leaked-long-term-key"]["user_name"]}

        out = tmp_path / "sfn"
        written = json.loads(
            sandbox.responder(
                "export", "stepfunctions", "leaked-long-term-key", "--output-dir", str(out), "-o", "json"
            ).stdout
        )
        assert [Path(p).name for p in written["files"]] == [
            "leaked-long-term-key.asl.json",
            "leaked-long-term-key.rollback.asl.json",
            "leaked-long-term-key.template.yaml",
            "leaked-long-term-key.md",
        ]
        role = sandbox.aws(
            "iam", "create-role", "--role-name", "responder-states", "--assume-role-policy-document", TRUST
        )
        sandbox.aws("s3api", "create-bucket", "--bucket", "journal")
        machine = sandbox.aws(
            "stepfunctions",
            "create-state-machine",
            "--name",
            "responder-leaked-long-term-key",
            "--definition",
            f"file://{out / 'leaked-long-term-key.asl.json'}",
            "--role-arn",
            role["Role"]["Arn"],
        )
        started = sandbox.aws(
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            machine["stateMachineArn"],
            "--name",
            "incident-1234",
            "--input",
            json.dumps({**given, "journal_bucket": "journal"}),
        )
        sfn = boto3.client("stepfunctions", endpoint_url=sandbox.endpoint, region_name="us-east-1")
        deadline = time.monotonic() + 60  # polled with boto3: the AWS CLI takes a second to start
        while (done := sfn.describe_execution(executionArn=started["executionArn"]))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the execution still runs after 60 s"
            time.sleep(0.1)

        assert done["status"] == "SUCCEEDED", done
        assert sandbox.status() == ["Inactive"]
        history = json.dumps(sfn.get_execution_history(executionArn=started["executionArn"])["events"], default=str)
        assert key not in history and key[4:30] not in history

        # Back to the ticket: the execution, rendered as a local run's report.
        user = given["user_name"]
        report = json.loads(sandbox.responder("report", "--execution", started["executionArn"], "-o", "json").stdout)
        assert report["status"] == "completed" and report["playbook"] == "leaked-long-term-key"
        steps = {s["id"]: s for s in report["steps"]}
        assert steps["deactivate"]["status"] == "verified"
        assert steps["deactivate"]["changes"][0]["before"] == "Active"
        assert steps["deactivate"]["changes"][0]["after"] == "Inactive"
        assert steps["deny-bearer-tokens"]["changes"][0]["call"] == "iam:PutUserPolicy"
        assert steps["deny-bearer-tokens"]["changes"][0]["before"] is None  # no policy of that name before
        assert report["containment"]["key_inactive_after_s"] is not None
        assert steps["delete"]["status"] == "skipped"
        # the CloudTrail read did not run there: skipped, and the opening agrees (never "done" beside "not run")
        investigate = [s for s in report["steps"] if s["action"] == "cloudtrail.investigate-key-activity"]
        assert investigate and all(s["status"] == "skipped" for s in investigate), investigate
        assert report["claims"]["contained"]["holds"]
        markdown = sandbox.responder("report", "--execution", started["executionArn"]).stdout
        assert started["executionArn"] in markdown and f"user {user}" in markdown
        assert "rollback machine" in markdown and key not in markdown


def test_a_playbook_that_cannot_run_there_is_refused_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*RESPONDER, "export", "stepfunctions", "bedrock-key-guardrails", "--output-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot run on Step Functions" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_output_dir_that_cannot_be_written_is_one_line_and_no_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = subprocess.run(
        [*RESPONDER, "export", "stepfunctions", "leaked-long-term-key", "--output-dir", str(blocker / "sfn")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "cannot write there" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
