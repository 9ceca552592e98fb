"""Register the three sqis deployments on the process work pool ``sqis-process``.

Run by ``make deploy`` (through ``deployments/deploy.sh``) against ``PREFECT_API_URL``:

- ``annual-cycle/yearly`` (``flows/annual_cycle.py``): 15 August 06:00
  (``SQIS_ANNUAL_CRON``), the results of the school year that just ended, which decide
  the school year starting (the service year);
- ``community-checkpoint/quarterly`` (``flows/checkpoint.py``): the methodology's four
  checkpoint dates, 07:00, checkpoints of the service year;
- ``oversight-report/twice-yearly`` (``flows/oversight.py``): the methodology's
  Oversight Panel dates (1 November, 1 May), 07:00, meetings of the service year;

all in the methodology's time zone (``communities.timezone``: America/Los_Angeles), the
one the flows read the run's date in.

Checkpoint and Oversight dates are read from the methodology that applies to the
current school year, so the calendar follows the methodology file, never this script.
Deployments run the code in this repository (the worker's working directory); their
settings (``SQIS_DATABASE_URL``, ``SQIS_STORE_ROOT``, the pseudonym key …) come from
the worker's environment, never from deployment parameters.

Environment read here: ``SQIS_DATA_ROOT`` (default data root parameter, default
``./data``), ``SQIS_OUT_ROOT``, ``SQIS_ANNUAL_CRON`` (default ``0 6 15 8 *``),
``SQIS_WORK_POOL`` (default ``sqis-process``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORK_POOL = os.environ.get("SQIS_WORK_POOL", "sqis-process")
ANNUAL_CRON = os.environ.get("SQIS_ANNUAL_CRON", "0 6 15 8 *")
REPORT_HOUR = 7  # checkpoints and Oversight reports run at 07:00 local time


def methodology_now():
    """The methodology of today's school year, today as the flows see it (``resolve`` in
    ``flows/``: the local date in the latest methodology's time zone)."""
    from sqis import school_calendar
    from sqis.methodology import for_year, latest
    from sqis.settings import get_settings

    newest = latest(get_settings().methodology_dir)
    return for_year(school_calendar.school_year_of(newest.today(), newest))


def checkpoint_crons(m) -> list[str]:
    """One cron per checkpoint date of the methodology (e.g. ``0 7 15 10 *``)."""
    return [f"0 {REPORT_HOUR} {c.day} {c.month} *" for c in m.communities.checkpoints]


def oversight_crons(m) -> list[str]:
    return [f"0 {REPORT_HOUR} {t.day} {t.month} *" for _, t in sorted(m.oversight.terms.items())]


def deploy() -> list[str]:
    from prefect import flow
    from prefect.schedules import Cron

    m = methodology_now()
    timezone = m.communities.timezone  # the calendar's and the flows' local time
    data_root = os.environ.get("SQIS_DATA_ROOT", "./data")
    out_root = os.environ.get("SQIS_OUT_ROOT") or ""
    # one run of each deployment at a time: a second yearly run waits for the first (the
    # year's lock would refuse it anyway); runs time out by the flows' own settings
    common = dict(
        work_pool_name=WORK_POOL,
        build=False,
        push=False,
        print_next_steps=False,
        concurrency_limit=1,
    )
    src = str(REPO)
    ids = []

    annual = flow.from_source(src, "flows/annual_cycle.py:annual_cycle")
    ids.append(
        annual.deploy(
            name="yearly",
            schedules=[Cron(ANNUAL_CRON, timezone=timezone)],
            parameters={"params": {"data_root": data_root, "out_root": out_root}},
            description=(
                "The results of the school year that just ended, deciding the service year "
                "that starts (designations, communities, plans, partnerships, calendars)."
            ),
            tags=["sqis", "annual-cycle"],
            **common,
        )
    )
    checkpoint = flow.from_source(src, "flows/checkpoint.py:community_checkpoint")
    ids.append(
        checkpoint.deploy(
            name="quarterly",
            schedules=[Cron(c, timezone=timezone) for c in checkpoint_crons(m)],
            parameters={"params": {"data_root": data_root, "out_root": out_root}},
            description="The community checkpoint of the service year due on the run date.",
            tags=["sqis", "checkpoint"],
            **common,
        )
    )
    oversight = flow.from_source(src, "flows/oversight.py:oversight_report")
    ids.append(
        oversight.deploy(
            name="twice-yearly",
            schedules=[Cron(c, timezone=timezone) for c in oversight_crons(m)],
            parameters={"params": {"out_root": out_root}},
            description="The Oversight Panel meeting of the service year due on the run date.",
            tags=["sqis", "oversight"],
            **common,
        )
    )
    ids = [str(i) for i in ids]
    alerts(ids)
    return ids


AUTOMATION = "sqis: a scheduled run failed"
FAILED_EVENTS = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut")


def notification_block() -> Any:
    """The id of the notification block named by ``SQIS_NOTIFY_BLOCK`` (default
    ``sqis-alerts``).

    Any block of that name whose type can notify serves: a webhook, or an email block
    (Prefect's ``SendGrid Email``), Slack, Microsoft Teams … created in the UI
    (docs/operations.md "Monitoring and alerts"). When none exists and
    ``SQIS_NOTIFY_WEBHOOK_URL`` is set, a webhook block of that name is created
    (``SQIS_NOTIFY_ALLOW_PRIVATE_URLS=true`` lets it reach an address on a private network,
    as an on-premises alerting endpoint is). None: no block and no URL.
    """
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from sqis.settings import get_settings

    s = get_settings()
    with get_client(sync_client=True) as client:
        # the block types that can notify (only those can be an automation's action)
        slugs = sorted(
            {
                b.block_type.slug
                for b in client.read_block_schemas()
                if b.block_type is not None and "notify" in b.capabilities
            }
        )
        for slug in ["custom-webhook", *(x for x in slugs if x != "custom-webhook")]:
            try:
                return client.read_block_document_by_name(
                    s.notify_block, slug, include_secrets=False
                ).id
            except ObjectNotFound:
                continue
    if not s.notify_webhook_url:
        return None
    block = CustomWebhookNotificationBlock(
        name=s.notify_block,
        url=s.notify_webhook_url,
        json_data={"subject": "{{subject}}", "text": "{{body}}"},
        allow_private_urls=os.environ.get("SQIS_NOTIFY_ALLOW_PRIVATE_URLS", "") == "true",
    )
    return block.save(s.notify_block, overwrite=True)


def alerts(deployment_ids: list[str]) -> str | None:
    """An automation that notifies on Failed, Crashed or TimedOut runs of the deployments
    (replacing one made by an earlier ``make deploy``); returns its id, or None with a
    warning when no notification block can be had."""
    from prefect.automations import Automation, EventTrigger, SendNotification

    block_id = notification_block()
    if block_id is None:
        print(
            "deploy: no notification block 'SQIS_NOTIFY_BLOCK' and no SQIS_NOTIFY_WEBHOOK_URL: "
            "failed runs will notify nobody (docs/operations.md, Monitoring and alerts)",
            file=sys.stderr,
        )
        return None
    with contextlib.suppress(ValueError):
        Automation.read(name=AUTOMATION).delete()
    automation = Automation(
        name=AUTOMATION,
        description="A scheduled sqis run failed, crashed or timed out: look at it in the UI.",
        trigger=EventTrigger(
            expect=set(FAILED_EVENTS),
            match_related={
                "prefect.resource.role": "deployment",
                "prefect.resource.id": [f"prefect.deployment.{i}" for i in deployment_ids],
            },
            posture="Reactive",
            threshold=1,
            within=0,
        ),
        actions=[
            SendNotification(
                block_document_id=block_id,
                subject="sqis: {{ flow_run.name }} is {{ flow_run.state.name }}",
                body=(
                    "Flow run {{ flow_run.name }} of deployment {{ deployment.name }} ended "
                    "{{ flow_run.state.name }}: {{ flow_run.state.message }}\n"
                    # the run's page (logs, progress, artifacts) from the server's
                    # PREFECT_UI_URL (or PREFECT_API_URL); without either, the run's id
                    "{{ flow_run|ui_url or ('flow run id ' ~ flow_run.id) }}"
                ),
            )
        ],
    ).create()
    return str(automation.id)


if __name__ == "__main__":
    for i in deploy():
        print(f"deployment {i}")
