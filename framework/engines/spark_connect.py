"""A Spark Connect session (``--spark-master sc://host:port``): the server runs the queries, no local JVM.

The Connect client retries a server it cannot reach for about ten minutes by default
(pyspark's ``DefaultPolicy``), which rides out a server restart in the middle of a long
run but makes a mistyped URL look like a hang. So the first exchange with the server
(setting the session's SQL options) gets fewer retries and a deadline, and an
unreachable URL is a one-line error naming it; once the server has answered, the
client's own retry policy is put back for the queries.

Files are read by the server (``dac.engines.spark_files``), so a path must be one the
server can see: its own disk, or a URL such as ``abfss://`` or ``s3a://``.
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import Any, Callable

from dac.errors import DacError, Location

REACH_SECONDS = 30.0
"""How long the first answer of the server may take before its URL is reported unreachable."""

# Five retries with backoff 50 ms x4 up to 4 s: a refused connection is reported after ~9 s,
# time enough for a server that is still starting to open its port.
_FIRST_RETRIES = {"max_retries": 5, "max_backoff": 4000}
_GRPC_DETAILS = re.compile(r'details = "([^"]*)"')


def connect(url: str, configure: Callable[[Any], None]) -> Any:
    """A session on the Spark Connect server at ``url``, set up by ``configure`` (its first exchange)."""
    from pyspark.sql import SparkSession

    try:
        import grpc  # noqa: F401 - Spark Connect's client needs grpcio, pandas and pyarrow
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise DacError(f"Spark Connect ({url}) needs pyspark's connect client, missing {exc.name}: "
                       "pip install 'dac-framework[spark]'", Location("--spark-master")) from None
    # the client warns "[RETRIES_EXCEEDED]" before it raises; the error reaches the user as a DacError
    warnings.filterwarnings("ignore", message=r"\[RETRIES_EXCEEDED\]", category=UserWarning)
    try:
        session = SparkSession.builder.remote(url).create()  # never an earlier session of another URL
    except Exception as exc:  # noqa: BLE001 - pyspark raises several kinds for a URL it cannot parse
        raise DacError(f"{url} is not a Spark Connect URL (sc://host:port): {_first_line(exc)}",
                       Location("--spark-master")) from None
    failure = _first_exchange(session, configure)
    if failure is not None:
        _abandon(session)
        raise DacError(f"cannot reach the Spark Connect server {url}: {failure}", Location("--spark-master"))
    return session


def _first_exchange(session: Any, configure: Callable[[Any], None]) -> str | None:
    """Run ``configure(session)`` with bounded retries and within ``REACH_SECONDS``; why it failed, or None.

    The call runs in a daemon thread so that a server that accepts the connection but never
    answers cannot hold the process past the deadline (nor at exit).
    """
    from pyspark.sql.connect.client.retries import DefaultPolicy

    client = session.client
    policies = client.get_retry_policies()
    client.set_retry_policies([DefaultPolicy(**_FIRST_RETRIES)])
    outcome: list[BaseException | None] = []

    def exchange() -> None:
        try:
            configure(session)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported to the waiting thread, which raises a DacError
            outcome.append(exc)

    worker = threading.Thread(target=exchange, name="dac-spark-connect", daemon=True)
    worker.start()
    worker.join(REACH_SECONDS)
    client.set_retry_policies(policies)  # a call in flight keeps the policies it started with
    if not outcome:
        return f"no answer within {REACH_SECONDS:g} s"
    return None if outcome[0] is None else _reason(outcome[0])


def close(session: Any) -> None:
    """Stop a Connect session, with the first exchange's bounded retries: a server gone mid-run
    must not hold the process for the client's ten minutes at exit."""
    from pyspark.sql.connect.client.retries import DefaultPolicy

    session.client.set_retry_policies([DefaultPolicy(**_FIRST_RETRIES)])
    session.stop()


def _abandon(session: Any) -> None:
    """Close a session whose server never answered, without the retried goodbye ``stop()`` would send."""
    session.release_session_on_close = False
    try:
        session.stop()
    except Exception:  # noqa: BLE001, S110 - best effort: the user gets the reason it was not reached
        pass


def _reason(exc: BaseException) -> str:
    """gRPC's own one-line reason (``Connection refused``, ``DNS resolution failed``), else the error's first line."""
    import grpc

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, grpc.RpcError) and callable(getattr(seen, "details", None)) and seen.details():
            return str(seen.details())
        seen = seen.__cause__ or seen.__context__
    found = _GRPC_DETAILS.search(str(exc))
    return found.group(1) if found else _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
