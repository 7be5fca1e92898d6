"""The jobs step lists the batch inference jobs and provisioned throughput of the exposure window, each with its
command (and the throughput's commitment); what began before the window is not listed; a refused listing is said."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from responder.actions.bedrock_jobs import ListWindowJobs, WindowJobsParams
from responder.sandbox.bedrock_jobs import seed_invocation_job, seed_provisioned_throughput
from responder.sandbox.seed import SANDBOX_REGION, Seeded
from tests.factories import ACCOUNT, Requests, action_context


def _listed(requests: Requests | None = None) -> tuple[dict[str, list[dict[str, object]]], list[str]]:
    ctx = action_context(requests=requests)
    action = ListWindowJobs()
    params = WindowJobsParams(regions=[SANDBOX_REGION], since=datetime.now(timezone.utc) - timedelta(hours=2))
    plan = action.plan(ctx, params, action.snapshot(ctx, params))
    return plan.outputs, plan.notes


def test_batch_jobs_and_throughput_of_the_window_are_listed_with_their_commands(account: Seeded) -> None:
    now = datetime.now(timezone.utc)
    batch = seed_invocation_job(ACCOUNT, SANDBOX_REGION, "exfil-batch", now - timedelta(hours=1))
    seed_invocation_job(ACCOUNT, SANDBOX_REGION, "done-batch", now - timedelta(hours=1), status="Completed")
    seed_invocation_job(ACCOUNT, SANDBOX_REGION, "team-batch", now - timedelta(days=3))
    pt = seed_provisioned_throughput(ACCOUNT, SANDBOX_REGION, "exfil-pt", now - timedelta(minutes=30), units=4)
    seed_provisioned_throughput(ACCOUNT, SANDBOX_REGION, "team-pt", now - timedelta(days=40))

    outputs, notes = _listed()
    assert [job["arn"] for job in outputs["batch_jobs"]] == [batch]
    (found,) = outputs["throughputs"]
    assert (found["arn"], found["commitment"], found["model_units"], found["status"]) == (
        pt,
        "SixMonths",
        4,
        "InService",
    )
    assert outputs["unlisted"] == []
    text = "\n".join(notes)
    assert f"aws bedrock stop-model-invocation-job --region {SANDBOX_REGION} --job-identifier {batch}" in text
    assert (
        f"aws bedrock delete-provisioned-model-throughput --region {SANDBOX_REGION} --provisioned-model-id {pt}" in text
    )
    assert "commitment SixMonths until" in text and "AWS refuses to delete it before its commitment term ends" in text
    assert "the key's principal is unknown: not changed" in text  # no principal named: nothing is "mine"
    assert "team-" not in text and "done-batch" not in text


def test_a_refused_listing_is_said_with_its_permission_never_none(account: Seeded) -> None:
    requests = Requests()
    requests.fail("ListProvisionedModelThroughputs", "AccessDeniedException")
    outputs, notes = _listed(requests)
    (refused,) = outputs["unlisted"]
    assert refused["permission"] == "bedrock:ListProvisionedModelThroughputs"
    assert any(
        n.startswith(f"provisioned throughput in {SANDBOX_REGION} could not be listed")
        and "bedrock:ListProvisionedModelThroughputs" in n
        for n in notes
    )
    assert not any(n.startswith("no provisioned throughput") for n in notes)
    assert any(n.startswith("no batch inference job") for n in notes)  # the other listing still answered
