"""Every metric the gateway exposes on GET /metrics (Prometheus text format, prometheus-client), in one place.

Each Gateway owns a Metrics, and each Metrics its own CollectorRegistry: several gateways in one process (the
tests, the benchmark) never share or double-register a counter, and the process-wide default registry is not
used. The other modules call one method per event (an exchange answered, a batch committed, a connection
opened…); nothing here reads the store or blocks.

Which thread: `exchange`, `refused` and the listener events run on the event loop; `batch_committed` and
`commit_failed` on the store thread. prometheus-client's metrics are thread-safe; the money collector is
written on the loop only and read by the scrape, also on the loop.

Money is summed in Decimal and exposed as a float only when scraped, so a counter of yuan stays exact to the
fen however many settlements it adds up (a float sum would drift). Counters never go down: reversals have
counters of their own (positive amounts), net paid = paid − reversed.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, ProcessCollector
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from gateway.canonical.answers import CorrectionAnswer, ReversalAnswer, SettlementAnswer
from gateway.engine.types import ChainResult

if TYPE_CHECKING:
    from gateway.errors import GatewayError
    from gateway.journal.model import Exchange
    from gateway.mapping.compile import MappingError
    from gateway.runtime import Outcome

# An exchange takes from well under a millisecond (a query) to a second or more (a big fee upload, a queue).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COMMIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)  # gateway/runtime.py MAX_BATCH is 64
LISTENERS = ("http", "dll", "hl7")
M = TypeVar("M", bound=MetricWrapperBase)


@dataclass
class ReloadState:
    """The last load of the mappings folder, for /health (the metrics carry the same)."""

    at: datetime | None = None
    ok: bool = True
    dialects: int = 0
    problems: list[dict[str, object]] = field(default_factory=list)  # file, line, problem of each refused file


class _Money(Collector):
    """hisgw_fund_paid_yuan_total and hisgw_fund_reversed_yuan_total, by fund_pay_type, summed in Decimal."""

    def __init__(self) -> None:
        self.paid: dict[str, Decimal] = {}
        self.reversed: dict[str, Decimal] = {}

    def add(self, into: dict[str, Decimal], figures: ChainResult) -> None:
        for payment in figures.payments:
            if payment.fund_payamt > 0:  # the setldetail rows an answer carries
                into[payment.fund_pay_type] = into.get(payment.fund_pay_type, Decimal(0)) + payment.fund_payamt

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, text, sums in (
            ("hisgw_fund_paid_yuan", "Yuan paid by each fund in 2304 settlements (setldetail fund_payamt)", self.paid),
            ("hisgw_fund_reversed_yuan", "Yuan given back by each fund in 2305 reversals (positive)", self.reversed),
        ):
            family = CounterMetricFamily(name, text, labels=["fund_pay_type"])
            for code, amount in sorted(sums.items()):
                family.add_metric([code], float(amount))
            yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "hisgw_requests", "Exchanges answered, by dialect, transport, national infno and outcome "
            "(ok | error | replayed)", ["dialect", "transport", "infno", "outcome"], registry=registry)
        self.errors = Counter("hisgw_errors", "Error answers by the gateway's code (HG…)", ["dialect", "infno", "code"],
                              registry=registry)
        self.latency = Histogram(
            "hisgw_request_duration_seconds", "From the message read to its answer ready (journal and commit "
            "included)", ["dialect", "infno"], buckets=LATENCY_BUCKETS, registry=registry)
        self.settlements = Counter("hisgw_settlements", "2304 settlements made (retries answered from the store and "
                                   "2303 trials not counted)", ["dialect"], registry=registry)
        self.reversals = Counter("hisgw_settlement_reversals", "2305 reversals made", ["dialect"], registry=registry)
        self.corrections = Counter("hisgw_corrections", "2601 冲正 that undid a call, by the undone infno",
                                   ["oinfno"], registry=registry)
        self._money = _Money()
        registry.register(self._money)
        self.journal_rows = Counter("hisgw_journal_rows", "Journal rows committed with their outcome "
                                    "(ok | error | replayed | unknown)", ["outcome"], registry=registry)
        self.commit_seconds = Histogram("hisgw_store_commit_seconds", "Duration of a batch's commit",
                                        ["fsync"], buckets=COMMIT_BUCKETS, registry=registry)
        self.batch_calls = Histogram("hisgw_store_batch_calls", "Calls in a committed batch (group commit)",
                                     buckets=BATCH_BUCKETS, registry=registry)
        self.commit_failures = Counter("hisgw_store_commit_failures", "Batches whose commit failed (nothing of "
                                       "them durable; every call answered HG9001)", registry=registry)
        self.connections = Counter("hisgw_listener_connections", "Connections accepted (http: requests admitted "
                                   "to a dialect endpoint)", ["listener"], registry=registry)
        self.open_connections = Gauge("hisgw_listener_open_connections", "Connections open now (http: dialect "
                                      "requests in flight)", ["listener"], registry=registry)
        self.refusals = Counter("hisgw_listener_refusals", "Connections refused over the listener's cap "
                                "(answered busy, HG9002)", ["listener"], registry=registry)
        # Present from the start, at 0, so rate() and alerts see them; bound once, used on every connection.
        self._listeners = {listener: (self.connections.labels(listener), self.open_connections.labels(listener),
                                      self.refusals.labels(listener)) for listener in LISTENERS}
        self.reloads = Counter("hisgw_mapping_reloads", "Loads of the mappings folder (the one at start included), "
                               "by result (ok | refused: the previous set kept serving)", ["result"],
                               registry=registry)
        self.reload_time = Gauge("hisgw_mapping_last_reload_timestamp_seconds", "When the mappings folder was last "
                                 "loaded (Unix time)", registry=registry)
        self.reload_ok = Gauge("hisgw_mapping_last_reload_ok", "1 when the last load swapped in the new set, 0 when "
                               "a file was refused", registry=registry)
        self.dialects = Gauge("hisgw_mapping_dialects", "Dialects in service", registry=registry)
        self.reload_error = Info("hisgw_mapping_last_reload_error", "The first refused file of the last load "
                                 "(empty values when it was good)", registry=registry)
        ProcessCollector(registry=registry)  # process_cpu_seconds_total, process_resident_memory_bytes…
        self.reload_state = ReloadState()
        self._children: dict[tuple[object, ...], MetricWrapperBase] = {}
        self._exchanges: dict[tuple[str, str, str, str], tuple[Counter, Histogram]] = {}

    def _child(self, metric: M, *labels: str) -> M:
        """metric.labels(...) memoised: on the settlement path a dict lookup instead of prometheus' own."""
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return cast(M, child)

    # --- exchanges (event loop) -------------------------------------------------------------------

    def exchange(self, exchange: Exchange, outcome: Outcome, seconds: float) -> None:
        """One exchange answered down the one road (gateway/adapters/dialect_call.py)."""
        error = outcome.error
        result = "error" if error is not None else "replayed" if outcome.replayed else "ok"
        dialect, infno = exchange.dialect, exchange.infno
        key = (dialect, exchange.transport, infno, result)
        series = self._exchanges.get(key)
        if series is None:
            series = self._exchanges[key] = (self.requests.labels(*key), self.latency.labels(dialect, infno))
        series[0].inc()
        series[1].observe(seconds)
        if error is not None:
            self._child(self.errors, dialect, infno, error.code).inc()
            return
        answer = outcome.answer
        if isinstance(answer, SettlementAnswer) and infno == "2304":
            self._child(self.settlements, dialect).inc()
            self._money.add(self._money.paid, answer.figures)
        elif isinstance(answer, ReversalAnswer) and infno != "5203":  # 5203 reads a reversal, makes none
            self._child(self.reversals, dialect).inc()
            self._money.add(self._money.reversed, answer.figures)
        elif isinstance(answer, CorrectionAnswer):
            self.corrections.labels(answer.oinfno).inc()

    def refused(self, dialect: str, transport: str, error: GatewayError) -> None:
        """A request its listener answered with an error before it became an exchange (a failed signature, an
        unreadable body): counted as an error with an empty infno, never journalled."""
        self._child(self.requests, dialect, transport, "", "error").inc()
        self._child(self.errors, dialect, "", error.code).inc()

    # --- the store (store thread) -----------------------------------------------------------------

    def batch_committed(self, calls: int, fsync: bool, seconds: float, journal_outcomes: Iterable[str]) -> None:
        self._child(self.commit_seconds, "true" if fsync else "false").observe(seconds)
        self.batch_calls.observe(calls)
        for outcome, rows in collections.Counter(journal_outcomes).items():
            self._child(self.journal_rows, outcome).inc(rows)

    def commit_failed(self) -> None:
        self.commit_failures.inc()

    # --- listeners (event loop) -------------------------------------------------------------------

    def opened(self, listener: str) -> None:
        accepted, open_now, _ = self._listeners[listener]
        accepted.inc()
        open_now.inc()

    def closed(self, listener: str) -> None:
        self._listeners[listener][1].dec()

    def busy(self, listener: str) -> None:
        self._listeners[listener][2].inc()

    # --- mappings ---------------------------------------------------------------------------------

    def mappings_loaded(self, problems: Sequence[MappingError], dialects: int) -> None:
        now = time.time()
        ok = not problems
        self.reloads.labels("ok" if ok else "refused").inc()
        self.reload_time.set(now)
        self.reload_ok.set(1 if ok else 0)
        self.dialects.set(dialects)
        first = problems[0] if problems else None
        self.reload_error.info({"file": str(first.path) if first else "", "line": str(first.line) if first else "",
                                "problem": first.problem if first else ""})
        self.reload_state = ReloadState(
            at=datetime.fromtimestamp(now).astimezone(), ok=ok, dialects=dialects,
            problems=[{"file": str(p.path), "line": p.line, "problem": p.problem} for p in problems])
