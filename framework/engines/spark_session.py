"""The one Spark session of a process, made on first use, for ``--engine spark``.

A JVM and its SparkContext take seconds to start and a process can hold only one, so
every query of a run shares the session made by the first: ``local[*]`` for the command
line (all cores of this machine), ``local[2]`` in the tests, a cluster URL
(``spark://``, ``yarn``, ``k8s://``) given by ``--spark-master``, or a Spark Connect
server (``sc://host:port``, ``dac.engines.spark_connect``), which needs no local JVM at all.

Settings, and why:

- ANSI mode on: an integer overflow then fails the query, as it does in Kusto
  (https://learn.microsoft.com/kusto/concepts/overflow), instead of wrapping around
  silently; the compiler spells out with ``try_`` functions the places where Kusto
  gives null (a failed conversion) rather than failing.
- Session time zone UTC: Kusto datetimes are UTC instants, and datetimes are
  ``TIMESTAMP_NTZ`` anyway (``dac.engines.physical``), so no local zone may creep in
  through a cast or a reader.
- Case-sensitive names: KQL columns ``a`` and ``A`` are two columns; Spark would
  resolve them as one.
- For local masters: the web UI and the console progress bar off, the driver bound to
  127.0.0.1 (no network beyond the machine), shuffle partitions as many as the cores
  (the default 200 costs more in scheduling than the data of a back-test on one machine).
- The JVM's own output (start-up warnings, log lines at level ERROR) goes to a log file,
  named in the error when the JVM cannot start, not to the user's terminal; pyspark's
  Python loggers that print every failed query's stack are silenced, since the failure
  reaches the user as a DacError.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from dac.errors import DacError, Location

LOCAL_MASTER = "local[*]"
"""The command line's default: every core of this machine."""

_LOCAL = re.compile(r"local(?:\[(\d+|\*)(?:,\d+)?\])?")
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')
_MINIMUM_JAVA = 17  # Spark 4 runs on Java 17 or 21
_QUIET_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")

_session: Any = None
_master: str | None = None
_log: Path | None = None


def spark_session(master: str | None = None) -> Any:
    """The process's Spark session, started on ``master`` the first time (``local[*]`` when None).

    A later call with another master is an error: one process cannot hold two
    SparkContexts, and silently answering from the first would run the query elsewhere
    than asked.
    """
    global _session, _master
    wanted = master or _master or LOCAL_MASTER
    if _session is not None:
        if wanted != _master:
            raise DacError(f"a Spark session on {_master} is already running in this process; "
                           f"it cannot also run on {wanted}", Location("--spark-master"))
        return _session
    _import_pyspark()
    if wanted.startswith("sc://"):
        from dac.engines.spark_connect import connect

        _session = connect(wanted, _configure_sql)
    else:
        _session = _start(wanted)
    _master = wanted
    _quiet_python_loggers()
    return _session


def log_file() -> Path | None:
    """Where the local JVM writes its output (None before a local session was started)."""
    return _log


def stop() -> None:
    """Stop the session and remove its JVM log (at exit, so the JVM goes with Python and leaves nothing)."""
    global _session, _master, _log
    if _session is not None and str(_master).startswith("sc://"):
        from dac.engines.spark_connect import close

        close(_session)
    elif _session is not None:
        _session.stop()
    if _log is not None:
        _log.unlink(missing_ok=True)
        _log = None
    _session = None
    _master = None


atexit.register(stop)


def _import_pyspark() -> None:
    try:
        import pyspark  # noqa: F401 - only whether it is there
    except ImportError:
        raise DacError("the spark engine needs pyspark: pip install 'dac-framework[spark]'",
                       Location("--engine spark")) from None


def _start(master: str) -> Any:
    """A classic session: a JVM started here, driving ``master`` (local threads or a cluster)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    global _log
    java = _java()
    local = _LOCAL.fullmatch(master)
    conf = SparkConf().setMaster(master).setAppName("dac")
    conf.set("spark.ui.showConsoleProgress", "false")
    conf.set("spark.sql.warehouse.dir", str(Path(tempfile.gettempdir()) / "dac-spark-warehouse"))  # never written: temp views only
    if local:
        cores = local.group(1)
        threads = 1 if cores is None else (os.cpu_count() or 1) if cores == "*" else int(cores)
        conf.set("spark.ui.enabled", "false")
        conf.set("spark.driver.host", "127.0.0.1")
        conf.set("spark.driver.bindAddress", "127.0.0.1")
        conf.set("spark.sql.shuffle.partitions", str(threads))
        conf.set("spark.default.parallelism", str(threads))
    descriptor, name = tempfile.mkstemp(prefix="dac-spark-", suffix=".log")
    _log = Path(name)
    environment = dict(os.environ, JAVA_HOME=str(Path(java).resolve().parents[1]))
    if local:
        environment["SPARK_LOCAL_IP"] = "127.0.0.1"
    try:
        with os.fdopen(descriptor, "wb") as output:
            gateway = _launch(launch_gateway, conf, output, environment)
        context = SparkContext(conf=conf, gateway=gateway)
    except DacError:
        raise
    except Exception as exc:  # noqa: BLE001 - py4j and pyspark raise several kinds for a JVM that died
        raise DacError(f"Spark did not start on {master}: {_first_line(exc)} (the JVM's output is in {_log})",
                       Location("--spark-master")) from None
    context.setLogLevel("ERROR")
    session = SparkSession(context)
    _configure_sql(session)
    return session


def _launch(launch_gateway: Any, conf: Any, output: Any, environment: dict[str, str]) -> Any:
    """Start the JVM with its output going to ``output`` and JAVA_HOME pointing at the checked Java.

    ``launch_gateway`` copies ``os.environ`` for the JVM, so the environment is set for the
    time of the launch and put back after.
    """
    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        return launch_gateway(conf, popen_kwargs={"stdout": output, "stderr": output})
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _configure_sql(session: Any) -> None:
    for key, value in (("spark.sql.session.timeZone", "UTC"), ("spark.sql.ansi.enabled", "true"),
                       ("spark.sql.caseSensitive", "true")):
        session.conf.set(key, value)


def _java() -> str:
    """The ``java`` Spark's launcher will run (JAVA_HOME's, else the PATH's), checked to be 17 or later."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH"
        raise DacError(f"the spark engine needs a Java runtime, JDK {_MINIMUM_JAVA} or later ({where}): install "
                       f"one (e.g. apt-get install openjdk-{_MINIMUM_JAVA}-jre-headless) or set JAVA_HOME",
                       Location("--engine spark"))
    try:
        answer = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DacError(f"cannot run {java} -version: {exc}", Location("--engine spark")) from None
    match = _JAVA_VERSION.search(answer.stderr + answer.stdout)
    major = 0 if match is None else int(match.group(1))
    major = int(match.group(2) or 0) if major == 1 and match else major  # "1.8.0" is Java 8
    if major < _MINIMUM_JAVA:
        found = f"Java {major}" if major else "an unknown Java version"
        raise DacError(f"the spark engine needs a Java runtime, JDK {_MINIMUM_JAVA} or later; {java} is {found}: "
                       f"install openjdk-{_MINIMUM_JAVA}-jre-headless or point JAVA_HOME at a newer one",
                       Location("--engine spark"))
    return java


def _quiet_python_loggers() -> None:
    from pyspark.logger import PySparkLogger

    for name in _QUIET_LOGGERS:
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL + 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
