"""The roles of one Cadenza process: each built, and wired to the roles it calls."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from cadenza.api.auditing import Audit
from cadenza.api.authorization import Authorization
from cadenza.api.rate_limiting import RateLimiting
from cadenza.api.rpc_activities import ActivityRpcs
from cadenza.api.rpc_activity_ops import ActivityOpsRpcs
from cadenza.api.rpc_batches import BatchRpcs
from cadenza.api.rpc_deployments import DeploymentRpcs
from cadenza.api.rpc_execution_options import ExecutionOptionsRpcs
from cadenza.api.rpc_legacy_versioning import LegacyVersioningRpcs
from cadenza.api.rpc_namespaces import NamespaceRpcs
from cadenza.api.rpc_nexus import NexusRpcs
from cadenza.api.rpc_schedules import ScheduleRpcs
from cadenza.api.rpc_standalone_activities import StandaloneActivityRpcs
from cadenza.api.rpc_standalone_nexus import StandaloneNexusRpcs
from cadenza.api.rpc_task_queue_config import TaskQueueConfigRpcs
from cadenza.api.rpc_tasks import TaskRpcs
from cadenza.api.rpc_visibility import VisibilityRpcs
from cadenza.api.rpc_workers import WorkerRpcs
from cadenza.api.rpc_workflow_pause import WorkflowPauseRpcs
from cadenza.api.rpc_workflows import WorkflowRpcs
from cadenza.api.workflow_service import WorkflowService
from cadenza.auth.api_keys import ApiKeyAuthenticator
from cadenza.auth.authenticators import Authenticator
from cadenza.batches.service import BatchService
from cadenza.clock import Clock, SystemClock
from cadenza.concurrency import ConcurrencyLimits
from cadenza.concurrency.holders import holder_check, unseen_commits
from cadenza.concurrency.starts import StartSlots
from cadenza.config import ServerConfig
from cadenza.deployments.drainage_checks import DrainageChecks
from cadenza.deployments.registry import WorkerDeployments
from cadenza.history.machine.change import Change
from cadenza.history.service import Dispatch, HistoryService
from cadenza.history.service.queries import Queries
from cadenza.history.service.reads import HistoryReader
from cadenza.history.service.transfers import Transfers
from cadenza.matching import MatchingService
from cadenza.matching.queue_configs import QueueConfigs
from cadenza.matching.version_set_book import VersionSetBook
from cadenza.matching.version_sets import SetLimits
from cadenza.metrics.service import Metrics
from cadenza.namespaces import NamespaceRegistry
from cadenza.nexus.endpoints import NexusEndpoints
from cadenza.nexus.invocations import NexusInvocations
from cadenza.nexus.standalone_operations import StandaloneNexusOperations
from cadenza.nexus.standalone_store import OperationRows
from cadenza.peers import Peers
from cadenza.persistence.backends import open_store
from cadenza.persistence.records import TimerRecord
from cadenza.persistence.store import Store
from cadenza.quotas.dynamic_file import DynamicConfigFile
from cadenza.quotas.limiter import Quotas
from cadenza.schedules import service as schedules
from cadenza.schedules.actions import Actions
from cadenza.standalone.activities import StandaloneActivities
from cadenza.standalone.service import StandaloneRuns
from cadenza.timers.dispatch import TimerDispatch
from cadenza.timers.kinds import TimerOwner
from cadenza.timers.queue import TimerQueue
from cadenza.tls import TlsFiles
from cadenza.visibility.retention import RetentionSweeper
from cadenza.visibility.service import Visibility

if TYPE_CHECKING:
    from cadenza.auth.certificates import CertificateRule

logger = logging.getLogger(__name__)


class Assembly:
    """Every role of one Cadenza process, built from the config and wired together; the
    ``Server`` starts, serves and stops them."""

    def __init__(self, config: ServerConfig, clock: Clock | None = None) -> None:
        self.config = config
        self._check_security(config)
        self._clock = clock or SystemClock()
        self.metrics = Metrics(enabled=config.metrics, label_limit=config.metrics_label_limit)
        """This server's own metrics: ``metrics.render()`` is the ``/metrics`` page."""
        self._store: Store = self.metrics.instrument_store(open_store(config.db))
        self._deployments = WorkerDeployments(self._store, shared=self._store.replicas() is not None)
        self._matching = MatchingService(self.metrics.task_observer, router=self._deployments.route)
        self._deployments.on_routing_changed = self._matching.reroute
        self._timers = TimerQueue(self._clock, self._fire_timer)
        self._timers.on_fired = self.metrics.on_timer_fired
        self._history = HistoryService(
            self._store,
            self._clock,
            config.limits,
            Dispatch(
                self._matching.add_task,
                self._matching.withdraw,
                self._timers.add,
                self._timers.discard,
                self._matching.sticky_reachable,
                self._matching.control.push,
                self._deployments,
            ),
        )
        self._namespaces = NamespaceRegistry(self._store)
        self.quotas = Quotas(config.quotas, self._namespaces.is_cached)
        """The rate limits and long-poll quotas every WorkflowService call is held to."""
        self._rate_limiting = RateLimiting(self.quotas)
        self._dynamic_config_file = (
            DynamicConfigFile(
                config.dynamic_config_file, config.dynamic_config_poll_seconds, self.quotas.apply_file
            )
            if config.dynamic_config_file
            else None
        )
        self._transfers = Transfers(self._history, self._namespaces, self._store)
        self._reader = HistoryReader(self._history, config.history_long_poll_seconds)
        self._schedules = schedules.ScheduleService(
            self._store,
            Actions(self._store, self._history, self._reader, self._namespaces),
            self._clock,
            self._timers.add,
        )
        self._history.on_run_closed = self._schedules.run_closed
        self._history.on_committed = self._committed
        self.metrics.watch(
            self._matching.backlogs,
            self._history.cache,
            self._namespaces.cached_name,
            self._namespaces.is_cached,
            self._matching.backlog_shapes,
        )
        self.retention = RetentionSweeper(
            self._store,
            self._namespaces,
            self._clock,
            self._history.cache.drop,
            config.retention_sweep_seconds,
        )
        self.audit = Audit(
            self._store,
            self._clock,
            config.audit_on,
            config.audit_retention_seconds,
            config.retention_sweep_seconds,
        )
        link = self._store.replicas()
        self._queue_configs = QueueConfigs(
            self._store,
            self._matching.rate_limits,
            shared=link is not None,
            on_weights=self._matching.set_fairness_weight_overrides,
        )
        if link is not None:
            self._matching.nexus_tasks.share(link)
            self._matching.shared = True
        self.concurrency = self._concurrency_limits(shared=link is not None)
        """The concurrency limits on activity queues and workflow starts, and their slots."""
        self._queries = Queries(self._history, self._matching.add_task, self._matching.sticky_alive, link)
        self._peers = (
            Peers(link, self._matching, self._timers.add, self._history.cache, self._recover, self._queries)
            if link is not None
            else None
        )
        self._standalone = StandaloneActivities(
            StandaloneRuns(
                self._store,
                self._clock,
                self._matching.add_task,
                self._timers.add,
                self._timers.discard,
                shared=link is not None,
            )
        )
        self.nexus_endpoints = NexusEndpoints(self._store, self._namespaces, self._clock)
        self._nexus = NexusInvocations(
            self._history,
            self._namespaces,
            self.nexus_endpoints,
            self._matching.nexus_tasks,
            self._store,
            self._start_slots,  # a system operation's start counts as any start
        )
        self._standalone_nexus = StandaloneNexusOperations(
            OperationRows(
                self._store, self._clock, self._timers.add, self._timers.discard, shared=link is not None
            ),
            self._nexus,
            self._namespaces,
        )
        self._batches = BatchService.of(self._store, self._history, self._namespaces, self._clock, config)
        self._timer_dispatch = TimerDispatch(
            {
                TimerOwner.HISTORY: self._history.fire_timer,
                TimerOwner.TRANSFERS: self._transfers.run,
                TimerOwner.SCHEDULES: self._schedules.fire,
                TimerOwner.STANDALONE_ACTIVITIES: self._standalone.fire,
                TimerOwner.NEXUS: self._nexus.run,
                TimerOwner.STANDALONE_NEXUS: self._standalone_nexus.fire,
            },
            self._drop_timer,
        )
        self._api_keys = ApiKeyAuthenticator(self._store, self._clock)
        self._authorization = Authorization(self._authenticators())

    def _check_security(self, config: ServerConfig) -> None:
        """TLS files and JWT keys are read first, so a bad one stops the start before anything opens."""
        self._tls, self._certificate_rules = _checked_tls(config)
        self._jwt = _jwt_authenticator(config)
        """JWT bearer tokens, when keys are configured."""
        if self._jwt is not None and not config.auth:
            logger.warning("JWT keys are configured but auth is off, so no call is checked: add --auth")

    def _concurrency_limits(self, shared: bool) -> ConcurrencyLimits:
        """The concurrency limits, wired to matching, the engine and the metrics."""
        limits = ConcurrencyLimits(self._store, self._clock, shared)
        limits.holder_alive = holder_check(self._history)
        limits.unseen_commits = unseen_commits(self._history)
        self._start_slots = StartSlots(limits)
        """The slots every workflow start takes, whoever starts it."""
        self._transfers.start_slots = self._start_slots  # children and scheduled runs count as any start
        self._schedules.limit_starts(self._start_slots)
        self._matching.gate = limits
        self._history.may_dispatch_eagerly = limits.may_dispatch_eagerly
        self.metrics.watch_concurrency(limits.figures)
        return limits

    def _version_set_book(self) -> VersionSetBook | None:
        """The task queues' version sets, when the version-set data API is enabled."""
        limits = self.config.limits
        if not limits.worker_versioning_data_apis:
            return None
        return VersionSetBook(
            self._store, SetLimits(limits.version_sets_per_queue, limits.build_ids_per_queue)
        )

    def _committed(self, change: Change) -> None:
        """A change was committed: metrics count it, and the slots its holders left are freed."""
        counted = self.metrics.on_committed
        if counted is not None:
            counted(change)
        self.concurrency.committed(change)

    async def _fire_timer(self, timer: TimerRecord) -> None:
        # The queue is built before the roles that handle its timers, so it calls through here.
        await self._timer_dispatch.fire(timer)

    async def _drop_timer(self, timer: TimerRecord) -> None:
        await self._store.remove_stale([], [timer.timer_id])

    @functools.cached_property
    def _drainage(self) -> DrainageChecks:
        limits = self.config.limits
        return DrainageChecks(
            self._deployments,
            self._count_runs,
            self._clock,
            grace=limits.version_drainage_grace_seconds,
            refresh=limits.version_drainage_refresh_seconds,
        )

    async def _count_runs(self, namespace_id: str, query: str) -> int:
        """The runs ``query`` matches in a namespace, by its ID (none in a namespace gone)."""
        known = {n.id: n for n in await self._namespaces.list_all()}
        if namespace_id not in known:
            return 0
        total, _ = await Visibility(self._store).count(known[namespace_id], query)
        return total

    def _authenticators(self) -> list[Authenticator]:
        """Each way a caller may prove who it is, asked in this order (see ``cadenza.auth``): API
        keys first (known by their ``cdz_`` prefix, so asking costs nothing), the client
        certificate last, as a bearer token names the caller more precisely than its
        connection does."""
        authenticators: list[Authenticator] = [self._api_keys]
        if self._jwt is not None:
            authenticators.append(self._jwt)
        if self._tls is not None and self._tls.mutual:
            from cadenza.auth.certificates import CertificateAuthenticator  # see _jwt_authenticator

            authenticators.append(CertificateAuthenticator(self._certificate_rules))
        return authenticators

    def _workflow_service(self) -> WorkflowService:
        """The frontend API, each group of RPCs given the roles it calls and no others."""
        config, namespaces, history = self.config, self._namespaces, self._history
        return WorkflowService(
            namespaces=NamespaceRpcs(config=config, namespaces=namespaces),
            workflows=WorkflowRpcs(
                config=config,
                namespaces=namespaces,
                history=history,
                reader=self._reader,
                queries=self._queries,
                start_slots=self._start_slots,
            ),
            tasks=TaskRpcs(
                config=config,
                namespaces=namespaces,
                history=history,
                matching=self._matching,
                queries=self._queries,
                queue_configs=self._queue_configs,
                endpoints=self.nexus_endpoints,
                deployments=self._deployments,
            ),
            activities=ActivityRpcs(
                config=config,
                namespaces=namespaces,
                history=history,
                matching=self._matching,
                standalone=self._standalone,
                deployments=self._deployments,
            ),
            activity_ops=ActivityOpsRpcs(namespaces=namespaces, history=history),
            nexus=NexusRpcs(
                config=config,
                namespaces=namespaces,
                control=self._matching.control,
                nexus_tasks=self._matching.nexus_tasks,
                workers=self._matching.workers,
            ),
            workers=WorkerRpcs(namespaces=namespaces, workers=self._matching.workers),
            visibility=VisibilityRpcs(
                config=config, namespaces=namespaces, visibility=Visibility(self._store)
            ),
            schedules=ScheduleRpcs(config=config, namespaces=namespaces, schedules=self._schedules),
            task_queue_configs=TaskQueueConfigRpcs(
                namespaces=namespaces, queue_configs=self._queue_configs, clock=self._clock
            ),
            batches=BatchRpcs(namespaces=namespaces, batches=self._batches),
            legacy_versioning=LegacyVersioningRpcs(namespaces=namespaces, book=self._version_set_book()),
            workflow_pause=WorkflowPauseRpcs(
                namespaces=namespaces, history=history, enabled=config.limits.workflow_pause_enabled
            ),
            standalone_activities=StandaloneActivityRpcs(
                config=config, namespaces=namespaces, activities=self._standalone
            ),
            deployments=DeploymentRpcs(
                namespaces=namespaces,
                deployments=self._deployments,
                matching=self._matching,
                clock=self._clock,
            ),
            execution_options=ExecutionOptionsRpcs(namespaces=namespaces, history=history),
            standalone_nexus=StandaloneNexusRpcs(
                config=config,
                namespaces=namespaces,
                endpoints=self.nexus_endpoints,
                operations=self._standalone_nexus,
            ),
        )

    async def _recover(self) -> None:
        """Hand every stored task and timer back to matching and the timer queue."""
        tasks = await self._store.list_tasks()
        for task in tasks:
            self._matching.add_task(task)
        timers = await self._store.list_timers()
        for timer in timers:
            self._timers.add(timer)
        if tasks or timers:
            logger.info("recovered %d tasks and %d timers", len(tasks), len(timers))


def _checked_tls(config: ServerConfig) -> tuple[TlsFiles | None, list[CertificateRule]]:
    """The TLS files and client certificate rules, each read and checked whole: a server with an
    unusable one does not start (``ConfigError`` naming it)."""
    files = TlsFiles.of(config)
    if files is not None:
        files.check()
    if not config.tls_client_roles:
        return files, []
    from cadenza.auth.certificates import load_rules  # see _jwt_authenticator

    return files, load_rules(config.tls_client_roles)


def _jwt_authenticator(config: ServerConfig) -> Authenticator | None:
    """The JWT authenticator, when the configuration names keys or claims to check.

    PyJWT and cryptography are imported only then: together they hold about 15 MB a server
    that takes no JWTs and no client certificates would carry for nothing."""
    if not (config.jwt_jwks_url or config.jwt_key_file or config.jwt_issuer or config.jwt_audience):
        return None
    from cadenza.auth.jwt_tokens import jwt_authenticator

    return jwt_authenticator(config)
