"""Wires casework together: HTTP API, the ReferralAdmitted consumer, the consumer that tells
timelines of stored facts, and the Temporal worker."""

from pathlib import Path

from fastapi import FastAPI
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from casework.adapters.case_store import CaseStore
from casework.adapters.gauges import watch_cases
from casework.adapters.timeline_signals import FACTS_CONSUMER, TimelineSignals, fact_subjects
from casework.arrest_reports import ARRESTS_CONSUMER, ArrestReports, arrest_subjects
from casework.commands import Casework
from casework.container import CaseworkContainer
from casework.domain.transitions import TransitionRefused
from casework.entrypoints import http_cases, http_commands, http_consent, http_roster
from casework.settings import CaseworkSettings
from casework.timeline.activities import CaseActivities
from casework.timeline.starter import TimelineStarter
from casework.timeline.workflow import CaseTimeline
from servicekit.http import create_service_app
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.patience import once_reachable
from servicekit.problems import translate_refusals
from servicekit.profiles import load_profiles
from servicekit.runtime import ServiceRuntime

# Cases open on ReferralAdmitted; the earlier consumer of EligibilityDecided was
# casework-eligibility-v1 (JetStream keeps a durable's old filter, so the name changed).
ADMITTED_CONSUMER = "casework-admitted-v1"


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "casework")


async def connect_temporal(settings: CaseworkSettings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        # Workflows and activities continue the trace of the event that started them.
        interceptors=[TracingInterceptor()],
    )


def timeline_worker(client: Client, task_queue: str, activities: CaseActivities) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseTimeline],
        activities=[
            activities.open_case,
            activities.assign_case_manager,
            activities.miss_intake_window,
            activities.mark_inactive,
            activities.report_progress,
        ],
    )


def create_app(settings: CaseworkSettings) -> FastAPI:
    # Refuse to start on a bad profile: every running case needs the version it started under.
    profiles = load_profiles(settings.profiles_dir)
    runtime = ServiceRuntime(settings, migrations())

    async def on_start(rt: ServiceRuntime) -> None:
        client = await once_reachable(
            "Temporal",
            settings.temporal_address,
            lambda: connect_temporal(settings),
            # The SDK says only "Failed client connect" when nothing answers at the address.
            also_unreachable=lambda error: "Failed client connect" in str(error),
        )
        cases = CaseStore(rt.store)
        signals = TimelineSignals(client)
        worker = timeline_worker(
            client, settings.temporal_task_queue, CaseActivities(rt.pool, cases)
        )
        rt.spawn("temporal-worker", worker.run)
        starter = TimelineStarter(client, settings.temporal_task_queue, profiles)
        consumer = rt.consumer(
            ADMITTED_CONSUMER,
            [f"{settings.subject_root}.*.intake.ReferralAdmitted"],
            starter.on_referral_admitted,
        )
        rt.spawn("admitted-consumer", consumer.run)
        facts = rt.consumer(
            FACTS_CONSUMER, fact_subjects(settings.subject_root), signals.on_fact_event
        )
        arrests = rt.consumer(
            ARRESTS_CONSUMER,
            arrest_subjects(settings.subject_root),
            ArrestReports(cases).on_arrest_reported,
        )
        rt.provide(
            CaseworkContainer(
                casework=Casework(rt.pool, cases, profiles, signals),
                consumer=consumer,
                facts_consumer=facts,
                arrests_consumer=arrests,
            )
        )
        watch_cases(rt.metrics)
        rt.spawn("facts-consumer", facts.run)
        rt.spawn("arrests-consumer", arrests.run)

    app = create_service_app(
        title="Offramp casework",
        description=(
            "Participants' cases: opening, assignment, the case timeline, the case "
            "manager's work, releases of information and disclosures."
        ),
        runtime=runtime,
        on_start=on_start,
    )
    translate_refusals(app, {TransitionRefused: http_cases.refusal_of_transition})
    app.include_router(http_cases.router)
    app.include_router(http_commands.router)
    app.include_router(http_roster.router)
    app.include_router(http_consent.router)
    return app
