"""Settings: embedded defaults, overridden by a TOML file, overridden by command-line flags."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: Path = Path("var/hisgw.sqlite")
    host: str = "127.0.0.1"
    http_port: int = 8080
    dll_port: int = 8081
    hl7_port: int = 2575  # MLLP, HL7's registered port
    hl7_tls: bool = False  # MLLP over TLS with the HTTP listener's certificate
    hl7_dialect: str = ""  # with several hl7 dialects: the one for a message whose MSH-5 names none of them
    mappings_dir: Path = Path("mappings")
    policy_files: tuple[Path, ...] = ()  # empty: the demo county's policy shipped with the package
    log_format: str = "json"
    log_level: str = "INFO"
    credentials: Path | None = None  # None: nobody signs (the demo); a file: every call must (gateway/auth)
    tls_cert: Path | None = None  # both set: the HTTP listener speaks HTTPS only
    tls_key: Path | None = None
    journal_raw: str = "mask"  # mask | clear | encrypt: raw bodies with personal data (gateway/journal/protect.py)
    journal_key_file: Path | None = None  # encrypt: base64 of 32 random bytes (`hisgw journal key`)
    journal_retention_days: int = 365  # `hisgw journal prune` deletes older exchanges
    backup_folder: Path | None = None  # the monthly backup's folder; None: backups/ beside the database file
    backup_schedule: bool = True  # `serve` makes last month's archive from the 1st at backup_hour
    backup_hour: int = 1
    backup_retry_seconds: float = 1800.0
    account_overdraft: bool = False  # [account] overdraft: the special account (专户) may go below zero
    metrics_public: bool = False  # [metrics] public: GET /metrics without a county token when credentials are on

    export_agreements: Path | None = None  # de-identified export agreements (gateway/county/export.py)
    referral_partners: Path | None = None  # [referral] partners: partner gateways' ids, URLs, keys (gateway/referral)

    def backups(self) -> Path:
        return self.backup_folder or self.db_path.parent / "backups"
    # [limits]: what any peer can make the gateway hold (README: Limits on every listener; gateway/adapters/limits.py)
    max_connections: int = 1024  # per listener (HTTP counts connections); at most its share of RLIMIT_NOFILE
    header_timeout: float = 5.0  # s: HTTP: from opening/last answer to a complete request head (keep-alive idle
    #                               too); DLL: to a new connection's first frame length
    read_timeout: float = 30.0  # s: the rest of a message once it has started
    dll_idle_timeout: float = 120.0  # s: a DLL connection between frames
    hl7_idle_timeout: float = 600.0  # s: an MLLP connection between messages
    memory_budget_mb: int = 256  # bytes in flight across every listener: messages being read or answered
    budget_wait: float = 2.0  # s: a message waits this long for room in the budget, then is refused (HG9002)
    fd_reserve: int = 256  # descriptors kept free below RLIMIT_NOFILE for the store and the other listeners
    limits_log_interval: float = 10.0  # s: refused connections and failed accepts: one log line per interval
    journal_min_retention_days: int = 180  # the floor: prune never removes anything younger, whatever --days says

    @classmethod
    def from_file(cls, path: Path) -> Settings:
        with path.open("rb") as handle:
            doc = tomllib.load(handle)
        base = path.parent
        known = {"store": {"path"}, "http": {"host", "port", "tls_cert", "tls_key"}, "dll": {"port"},
                 "hl7": {"port", "dialect", "tls"}, "mappings": {"folder"}, "policy": {"files"},
                 "log": {"format", "level"}, "auth": {"credentials"},
                 "journal": {"raw", "key_file", "retention_days", "min_retention_days"},
                 "backup": {"folder", "schedule", "hour", "retry_seconds"}, "export": {"agreements"},
                 "metrics": {"public"}, "referral": {"partners"}, "account": {"overdraft"},
                 "limits": {"max_connections", "header_timeout", "read_timeout", "dll_idle_timeout",
                            "hl7_idle_timeout", "memory_budget_mb", "budget_wait", "fd_reserve", "log_interval"}}
        for section, values in doc.items():
            if section not in known or not isinstance(values, dict) or set(values) - known[section]:
                raise ValueError(f"{path}: unknown setting in [{section}]; known: {sorted(known.get(section, ()))}")
        store: dict[str, Any] = doc.get("store", {})
        http: dict[str, Any] = doc.get("http", {})
        policy: dict[str, Any] = doc.get("policy", {})
        log: dict[str, Any] = doc.get("log", {})
        dll: dict[str, Any] = doc.get("dll", {})
        hl7: dict[str, Any] = doc.get("hl7", {})
        mappings: dict[str, Any] = doc.get("mappings", {})
        auth: dict[str, Any] = doc.get("auth", {})
        journal: dict[str, Any] = doc.get("journal", {})
        backup: dict[str, Any] = doc.get("backup", {})
        export: dict[str, Any] = doc.get("export", {})
        settings = _limits(cls(), doc.get("limits", {}))
        return replace(
            settings,
            db_path=base / store["path"] if "path" in store else settings.db_path,
            host=str(http.get("host", settings.host)),
            http_port=int(http.get("port", settings.http_port)),
            dll_port=int(dll.get("port", settings.dll_port)),
            hl7_port=int(hl7.get("port", settings.hl7_port)),
            hl7_dialect=str(hl7.get("dialect", settings.hl7_dialect)),
            hl7_tls=bool(hl7.get("tls", settings.hl7_tls)),
            mappings_dir=base / mappings["folder"] if "folder" in mappings else settings.mappings_dir,
            policy_files=tuple(base / p for p in policy.get("files", ())),
            log_format=str(log.get("format", settings.log_format)),
            log_level=str(log.get("level", settings.log_level)).upper(),
            credentials=base / auth["credentials"] if "credentials" in auth else None,
            tls_cert=base / http["tls_cert"] if "tls_cert" in http else None,
            tls_key=base / http["tls_key"] if "tls_key" in http else None,
            journal_raw=str(journal.get("raw", settings.journal_raw)),
            journal_key_file=base / journal["key_file"] if "key_file" in journal else None,
            journal_retention_days=int(journal.get("retention_days", settings.journal_retention_days)),
            backup_folder=base / backup["folder"] if "folder" in backup else None,
            backup_schedule=bool(backup.get("schedule", settings.backup_schedule)),
            backup_hour=int(backup.get("hour", settings.backup_hour)),
            backup_retry_seconds=float(backup.get("retry_seconds", settings.backup_retry_seconds)),
            export_agreements=base / export["agreements"] if "agreements" in export else None,
            journal_min_retention_days=int(journal.get("min_retention_days", settings.journal_min_retention_days)),
            metrics_public=bool(doc.get("metrics", {}).get("public", settings.metrics_public)),
            account_overdraft=bool(doc.get("account", {}).get("overdraft", settings.account_overdraft)),
            referral_partners=base / doc["referral"]["partners"] if "partners" in doc.get("referral", {}) else None,
        )


def _limits(settings: Settings, limits: dict[str, Any]) -> Settings:
    """[limits]: each key is the Settings field of the same name (log_interval: limits_log_interval)."""
    values: dict[str, Any] = {}
    for key, value in limits.items():
        name = "limits_log_interval" if key == "log_interval" else key
        values[name] = type(getattr(settings, name))(value)
        if values[name] <= 0:
            raise ValueError(f"[limits] {key} must be above 0, not {value!r}")
    return replace(settings, **values)
