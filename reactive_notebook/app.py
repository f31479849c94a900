"""The ``reactive_notebook`` server extension: configuration and wiring, nothing else.

Every part is built once in ``initialize_settings`` from the server's own managers
(contents, kernels) and handed to the handlers; ``stop_extension`` shuts the notebooks'
kernels down. Every trait is configurable: ``--ReactiveNotebook.<trait>=`` or
``c.ReactiveNotebook.<trait>`` in ``jupyter_server_config.py``.
"""

from __future__ import annotations

import os
import posixpath
import time
from datetime import UTC, datetime
from typing import Any, NoReturn

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_path_join
from traitlets import Enum, Float, Int, List, TraitError, Unicode
from traitlets.config import Config

from . import __version__
from .agent.audit import AuditLog
from .agent.chat import ChatService
from .agent.chat_history import ChatHistory
from .agent.llm import Provider
from .agent.llm_config import LlmSettings, NotConfigured, build_provider
from .agent.previews import PreviewLimits
from .agent.rate_limit import RateLimiter
from .assistant_settings import AssistantSettings, McpSettings
from .auth.identity import PER_USER_NEEDS_NAMED_USERS, names_users
from .capabilities import Capabilities, chat_capability
from .contents.file_ids import file_id_problem
from .contents.store import NotebookStore
from .handlers import ApiContext, retry_after, routes
from .handlers.mcp import ENDPOINT_SETTING
from .kernels.account_setup import KernelAccountSetup
from .kernels.accounts import OWNER_VARIABLE
from .kernels.environment import (
    SECRET_PATTERNS,
    filter_session_kernel_environment,
    kernel_environment,
)
from .kernels.kernel_side.host_policy import normalize_host
from .kernels.session import KernelSession
from .mcp.contexts import ToolContexts
from .mcp.endpoint import McpEndpoint
from .mcp.server import NotebookMcp
from .models import Notebook
from .multi_user_settings import KernelAccountSettings, MultiUserSettings
from .notebooks.cell_analysis import CellAnalyser
from .notebooks.documents import ServerDocuments
from .notebooks.events import Event, EventHub
from .notebooks.quotas import QuotaPolicy
from .notebooks.reclaim import ReclaimPolicy
from .notebooks.service import NotebookService
from .notebooks.sql_cells import SqlOptions
from .notebooks.welcome import WelcomeNotebooks
from .sql_hosts import HostList

#: The web-app setting the server reads for its ``/api/status`` last activity (and so
#: JupyterHub's idle culler): any setting whose name ends in ``_last_activity``.
ACTIVITY_SETTING = "reactive_notebook_last_activity"

#: What the extension sets on the server unless the server's own configuration (its
#: config files, its command line) says otherwise: atomic saves. It has to come through
#: the extension's config, which the server reads back when it links the extension,
#: before it builds its contents manager: a ``jupyter_server_config.d`` file only
#: enables extensions.
SERVER_DEFAULTS = {
    "ServerApp": {
        "contents_manager_class": "reactive_notebook.contents.atomic.AtomicFileContentsManager",
    },
}


class ReactiveNotebook(
    MultiUserSettings, KernelAccountSettings, AssistantSettings, McpSettings, ExtensionApp
):
    """Reactive notebooks: cells re-run when what they read changes."""

    name = "reactive_notebook"
    description = __doc__
    load_other_extensions = True

    notebooks_dir = Unicode(
        "",
        config=True,
        help="""Folder, relative to the server's root_dir, where notebooks created
        through the API are kept and listed ("" is the root itself). Any .ipynb under it
        opens as a reactive notebook.""",
    )
    kernel_name = Unicode(
        "python3",
        config=True,
        help="Kernel spec the notebooks' kernels are started with.",
    )
    kernel_env_allow = List(
        Unicode(),
        default_value=[],
        config=True,
        help="""Environment variables passed to kernels even though they look like
        secrets (their name matches kernel_env_deny, or their value carries a
        credential). Wins over kernel_env_deny.""",
    )
    kernel_env_deny = List(
        Unicode(),
        default_value=list(SECRET_PATTERNS),
        config=True,
        help="""Shell-style patterns (any case) of the server's environment variables
        kernels do not get: cloud credentials, keys, tokens, passwords (AWS_*, *_KEY,
        *TOKEN*, *PASSWORD*, *_PWD, *_PAT, *_DSN, *CREDENTIAL*, ...). A variable whose
        value carries a credential (a URL with a password, a key=value string with a
        secret parameter, e.g. DATABASE_URL) is dropped whatever its name. Replacing
        the list drops these defaults; extend it in a config file with
        c.ReactiveNotebook.kernel_env_deny.extend([...]). This keeps secrets out of
        the kernel's os.environ only: a kernel runs as the server's OS user unless
        kernel_accounts is on.""",
    )
    notebook_idle_timeout = Float(
        3600.0,
        config=True,
        help="""Seconds after which a notebook nobody uses (no browser tab or WebSocket
        client, no run, no request) is closed: saved, its kernel shut down. Opening it
        again re-runs what a run needs, as after a kernel restart. 0 keeps notebooks
        open until they are deleted or the server stops.""",
    )
    max_kernels = Int(
        20,
        config=True,
        help="""Most notebook kernels this server runs at once. A notebook that needs
        a kernel beyond it takes the kernel of the least recently used notebook nobody
        uses (which is closed); when every one is in use, the run is refused with 429.
        0: no limit.""",
    )
    kernel_startup_timeout = Float(
        60.0, config=True, help="Seconds a kernel may take to start before a run fails."
    )
    run_code_timeout = Float(
        2.0,
        config=True,
        help="""Seconds a run request that carries the cell's code as the client's editor
        shows it ("code", or "codes" when running all) waits for that code to reach the
        notebook's live document. A JupyterLab tab sends its last keystrokes over the
        collaboration room's WebSocket and its run over HTTP, so the run may arrive
        first; it waits for them (woken by the document's changes, not by polling). When
        the code has not arrived in time, nothing runs and the client gets 409 saying
        its editor's changes have not reached the server.""",
    )
    max_output_bytes = Int(
        50_000_000,
        config=True,
        help="""Most output one cell keeps, shows and stores, in bytes (as saved in the
        .ipynb), all its outputs together: large enough for several big figures (a
        matplotlib figure at dpi 200 is 0.1-6 MB, a plotly scatter of 100k points
        2-4 MB, its standalone HTML with plotly.js 8 MB), and a bound on a runaway loop
        of displays. Outputs are kept in order up to 84% of it; past that, further
        displays are dropped with a note saying how many and how large, each stream
        keeps only its tail (see max_stream_bytes), and an error is kept cut to a
        thirty-second. The kernel's values are untouched.""",
    )
    max_display_bytes = Int(
        20_000_000,
        config=True,
        help="""Most bytes one display (a figure, a chart, a table, an HTML page) keeps
        (at most max_output_bytes): every figure stock JupyterLab shows of ordinary size
        passes whole, with a wide margin. A larger one is replaced by a note naming its
        size, its MIME types and this limit.""",
    )
    max_stream_bytes = Int(
        2_000_000,
        config=True,
        help="""Most printed text (stdout and stderr together) one cell keeps, in bytes
        (at most max_output_bytes). A loop printing millions of lines is cut: the text
        is kept up to 84% of this, then a note saying how much was cut, then each
        stream's last sixteenth of it once the cell ends. Displays after the cut are
        still kept within max_output_bytes.""",
    )
    max_table_rows = Int(
        1000,
        config=True,
        help="Rows of a DataFrame or SQL result shown in a table output (all are kept).",
    )
    max_body_bytes = Int(
        10 * 1024 * 1024,
        config=True,
        help="""Largest request body the API accepts, in bytes; larger ones get 413.
        (Tornado's own limit, ServerApp.max_body_size, is 512 MiB.)""",
    )
    max_cell_bytes = Int(
        2_000_000,
        config=True,
        help="""Largest cell, in bytes of code, whose reads and writes are analysed. A
        larger cell is kept but shows an error and does not run: what it depends on
        cannot be known. Cells over 20 kB are analysed in a separate process.""",
    )
    analysis_timeout = Float(
        10.0,
        config=True,
        help="""Seconds the analysis of one large cell may take; a slower one is stopped
        and the cell shows an error (it does not run), so no edit can stall the server.""",
    )
    save_delay = Float(
        0.5,
        config=True,
        help="""Seconds a change waits before the notebook is written, so a burst of
        changes costs one atomic write. Runs never wait for a save.""",
    )
    event_history = Int(
        1000,
        config=True,
        help="""Events kept per notebook so a reconnecting WebSocket client gets what it
        missed; a client further behind gets a fresh snapshot.""",
    )
    event_history_bytes = Int(
        8 * 1024 * 1024,
        config=True,
        help="""Bytes of events kept per notebook for reconnecting clients (see
        event_history; whichever bound is reached first applies).""",
    )
    websocket_max_pending_bytes = Int(
        8 * 1024 * 1024,
        config=True,
        help="""Bytes of events one WebSocket client may be behind. Past this many bytes
        written to it and not yet received, the server stops writing to it; past this
        many bytes of events waiting for it, they are dropped, and the client gets a
        fresh snapshot once it has caught up. A client that stops reading then holds
        at most about twice this much of the server's memory.""",
    )

    sql_allowed_hosts = HostList(
        config=True,
        help="""Hosts SQL cells may connect to: --ReactiveNotebook.sql_allowed_hosts=
        db.internal (repeat the option or separate hosts with commas; [] allows none),
        or a list in a config file. None, the default, allows any. Every way a driver
        takes a host is checked (PostgreSQL's host, hostaddr, host lists, PGHOST and
        PGHOSTADDR; service files are refused; other dialects than PostgreSQL, SQLite
        and DuckDB are refused), and DuckDB loses extensions and files outside the
        notebook's folder. A value that cannot be read stops the server. It restricts
        SQL cells, not Python code in the kernel: pair it with network policy.""",
    )
    sql_result_type = Enum(
        ["pandas", "polars"],
        default_value="pandas",
        config=True,
        help="The DataFrame type a SQL cell's result variable holds.",
    )

    service: NotebookService | None = None
    chat: ChatService | None = None
    accounts: KernelAccountSetup | None = None
    audit: AuditLog | None = None
    mcp: McpEndpoint | None = None

    @property
    def server(self) -> ServerApp:
        """The server this extension is linked to (always set once initialized)."""
        assert self.serverapp is not None, "the extension is not linked to a server"
        return self.serverapp

    # -- wiring ----------------------------------------------------------------------

    def _link_jupyter_server_extension(self, serverapp: ServerApp) -> None:
        """Link, or stop the server when our configuration cannot be read: an extension
        that failed to link would be skipped with a warning, and the server would run
        without it (or with a trait meaning something else than what was written)."""
        try:
            super()._link_jupyter_server_extension(serverapp)
        except TraitError as error:
            self._refuse_to_start(f"bad configuration: {error}", serverapp)
        if self.kernel_accounts:
            # Before the server builds its kernel manager, whose kernels' provisioners
            # take their configuration from it.
            serverapp.update_config(
                Config(
                    KernelAccountProvisioner={
                        "account_prefix": self.kernel_account_prefix,
                        "kernels_dir": self.kernel_accounts_dir,
                    }
                )
            )

    def load_config_file(self, *args: Any, **kwargs: Any) -> None:
        """Our config files over ``SERVER_DEFAULTS``. When the extension is linked, the
        server's configuration is merged over the result (so it wins) and the result
        is handed back to the server."""
        self.update_config(Config(SERVER_DEFAULTS))
        super().load_config_file(*args, **kwargs)

    def initialize_settings(self) -> None:
        self._check_identity()
        # jupyter_server_fileid loads before us (extensions load in name order).
        problem = file_id_problem(
            self.server.contents_manager, self.server.web_app.settings.get("file_id_manager")
        )
        if problem:
            self.log.warning(problem)
        self._set_up_kernel_accounts()
        self._filter_session_kernel_environment()
        self.store = self._build_store()
        # Sequence numbers from the clock (µs): a restarted server's are beyond the old
        # ones, so a client resuming from before the restart gets a fresh snapshot.
        self.hub = EventHub(
            history=self.event_history,
            history_bytes=self.event_history_bytes,
            limit_bytes=self.websocket_max_pending_bytes,
            first_seq=time.time_ns() // 1000,
        )
        self.hub.add_listener(self._record_activity)
        self.service = NotebookService(
            self.store,
            self._kernel_for,
            hub=self.hub,
            save_delay=self.save_delay,
            max_output_bytes=self.max_output_bytes,
            max_display_bytes=self.max_display_bytes,
            max_stream_bytes=self.max_stream_bytes,
            analyser=CellAnalyser(max_bytes=self.max_cell_bytes, timeout=self.analysis_timeout),
            reclaim=ReclaimPolicy(
                idle_timeout=self.notebook_idle_timeout, max_kernels=self.max_kernels
            ),
            sql=SqlOptions(allowed_hosts=self._allowed_hosts(), frame=self.sql_result_type),
            documents=ServerDocuments(self.server),
            run_code_timeout=self.run_code_timeout,
            quotas=QuotaPolicy(
                self.quota_notebooks, self.quota_kernels, self.quota_concurrent_runs
            ),
        )
        model = build_provider(self._llm_settings(), os.environ)
        self.audit = self._build_audit()
        self.chat = self._build_chat(self.service, model)
        self.context = ApiContext(
            service=self.service,
            max_body_bytes=self.max_body_bytes,
            per_user=self.per_user_notebooks,
            capabilities=Capabilities(chat=chat_capability(model)),
            websocket_max_pending_bytes=self.websocket_max_pending_bytes,
            chat=self.chat,
            chat_keep_alive=self.chat_keep_alive,
            welcome=self._build_welcome(self.service),
        )
        self.mcp = self._build_mcp(self.service)
        self.settings.update(
            {"reactive_notebook_service": self.service, ENDPOINT_SETTING: self.mcp}
        )
        self.log.info(
            "reactive_notebook %s: notebooks in %r, API at %s",
            __version__,
            self.notebooks_dir or "/",
            url_path_join(self.server.base_url, "reactive/api/v1"),
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(routes(self.context))
        # A busy storage's 503 through /api/contents carries Retry-After.
        retry_after.install(self.server.web_app)

    async def stop_extension(self) -> None:
        if self.mcp is not None:
            await self.mcp.stop()
        if self.chat is not None:
            await self.chat.shutdown()
        if self.service is not None:
            await self.service.shutdown()
        if self.accounts is not None:
            self.accounts.stop()

    # -- the parts -------------------------------------------------------------------

    def _check_identity(self) -> None:
        """Per-user notebooks need users with names: refuse to start without them."""
        provider = self.server.identity_provider
        if self.per_user_notebooks and not names_users(provider):
            self._refuse_to_start(
                PER_USER_NEEDS_NAMED_USERS.format(provider=type(provider).__name__), self.server
            )

    def _set_up_kernel_accounts(self) -> None:
        """With kernel_accounts: the machine checked, the notebook store closed to the
        accounts, our provisioner made the default (refuses to start on a problem)."""
        if not self.kernel_accounts:
            return
        if self.server.gateway_config.gateway_enabled:
            self._refuse_to_start(
                "kernel_accounts: kernels run in the gateway (--gateway-url), not in this "
                "server, so it cannot start them as accounts; the gateway isolates them "
                "(docs/kernel-isolation.md). Turn kernel_accounts off.",
                self.server,
            )
        specs = self.server.kernel_spec_manager
        assert specs is not None, "the server has no kernel spec manager"
        spec = specs.get_kernel_spec(self.kernel_name)
        self.accounts = KernelAccountSetup(
            kernels_dir=self.kernel_accounts_dir,
            root_dir=self.server.root_dir,
            kernel_argv=spec.argv,
            kernel_env=spec.env,
            log=self.log,
        )
        problem = self.accounts.start()
        if problem:
            self._refuse_to_start(f"kernel_accounts: {problem}", self.server)

    def _refuse_to_start(self, message: str, serverapp: ServerApp) -> NoReturn:
        """Stop the server (exit status 1) saying why: a configuration that would be
        unsafe or mean something else than what was written must not run half-applied
        (jupyter_server only logs an extension that fails, and runs on without it)."""
        serverapp.log.critical("reactive_notebook: %s", message)
        self.exit(1)
        raise SystemExit(1)  # exit() does not return; this tells the type checker so

    def _build_store(self) -> NotebookStore:
        return NotebookStore(
            self.server.contents_manager,
            folder=self.notebooks_dir,
            per_user=self.per_user_notebooks,
            log=self.log,
        )

    def _allowed_hosts(self) -> tuple[str, ...] | None:
        """What SQL cells may reach (None: anything), said once in the log."""
        if self.sql_allowed_hosts is None:
            self.log.info("reactive_notebook: SQL cells may connect to any host")
            return None
        hosts = tuple(dict.fromkeys(normalize_host(host) for host in self.sql_allowed_hosts))
        self.log.info(
            "reactive_notebook: SQL cells may connect to %s",
            ", ".join(hosts) if hosts else "no host (DuckDB only)",
        )
        return hosts

    def _llm_settings(self) -> LlmSettings:
        return LlmSettings(
            provider=self.llm_provider,
            model=self.llm_model,
            base_url=self.llm_base_url,
            api_key_env=self.llm_api_key_env,
            max_tokens=self.llm_max_tokens,
            timeout=self.llm_timeout,
            max_retries=self.llm_max_retries,
        )

    def _build_chat(self, service: NotebookService, model: Provider | NotConfigured) -> ChatService:
        """The chat, with the model or the sentence saying what to set (said once in
        the log too), its history folder and its audit log."""
        if isinstance(model, NotConfigured):
            self.log.info("reactive_notebook: %s", model.message)
        else:
            self.log.info("reactive_notebook: the chat uses %s model %s", model.name, model.model)
        data = os.path.join(jupyter_data_dir(), "reactive_notebook")
        return ChatService(
            service,
            model,
            ChatHistory(self.chat_history_dir or os.path.join(data, "chats")),
            rate_limiter=RateLimiter(self.chat_messages_per_minute),
            audit=self.audit,
            max_tool_turns=self.chat_max_tool_turns,
            resume_grace=self.chat_resume_grace,
            limits=self._preview_limits(),
        )

    def _build_audit(self) -> AuditLog | None:
        """The audit log of the assistant's and the MCP clients' tool calls."""
        data = os.path.join(jupyter_data_dir(), "reactive_notebook")
        path = self.chat_audit_log or os.path.join(data, "chat-audit.jsonl")
        return None if path == "off" else AuditLog(path)

    def _build_welcome(self, service: NotebookService) -> WelcomeNotebooks | None:
        """Each new user's welcome notebook, unless ``welcome_notebook`` is off."""
        if not self.welcome_notebook:
            return None
        data = os.path.join(jupyter_data_dir(), "reactive_notebook")
        return WelcomeNotebooks(
            service,
            self.store,
            self.welcome_state_dir or os.path.join(data, "welcome"),
            name=self.welcome_notebook_name,
            log=self.log,
        )

    def _build_mcp(self, service: NotebookService) -> McpEndpoint:
        """The MCP endpoint: the assistant's tools for outside agents (its session
        manager starts with the first request)."""
        self.log.info(
            "reactive_notebook: MCP endpoint at %s",
            url_path_join(self.server.base_url, "reactive/mcp"),
        )
        contexts = ToolContexts(service, limits=self._preview_limits(), run_ttl=self.mcp_run_ttl)
        return McpEndpoint(
            NotebookMcp(service, contexts, audit=self.audit),
            max_body_bytes=self.max_body_bytes,
            session_idle_timeout=self.mcp_session_idle_timeout,
            log=self.log,
        )

    def _preview_limits(self) -> PreviewLimits:
        return PreviewLimits(
            text_bytes=self.preview_text_bytes, answer_bytes=self.preview_answer_bytes
        )

    def _kernel_env_deny(self) -> list[str]:
        """What kernels never get: ``kernel_env_deny``, and the chat's key variable."""
        extra = [self.llm_api_key_env] if self.llm_api_key_env else []
        return [*self.kernel_env_deny, *extra]

    def _kernel_for(self, notebook: Notebook) -> KernelSession:
        """A kernel for ``notebook``: the kernel of its Jupyter session (the one a
        JupyterLab tab on the file uses; created when there is none), started through
        the server's kernel manager (so it shows in JupyterLab, gets culled, and works
        through a gateway) in the notebook's folder, without the server's secrets.

        With kernel_accounts the kernel is always our own, started as the owner's
        account, never the kernel of a Jupyter session: a JupyterLab tab's kernel (an
        operator's, from the launcher) runs as the server's user, and the owner's code
        must not run in it."""
        path = self.store.known_path(notebook.id)
        env = kernel_environment(
            os.environ, allow=self.kernel_env_allow, patterns=self._kernel_env_deny()
        )
        sessions = self.server.session_manager
        if self.kernel_accounts:  # the provisioner starts it as the owner's account
            env[OWNER_VARIABLE] = notebook.owner
            sessions = None
        return KernelSession(
            self.server.kernel_manager,
            kernel_name=self.kernel_name,
            env=env,
            path=posixpath.dirname(path) if path else None,
            startup_timeout=self.kernel_startup_timeout,
            max_table_rows=self.max_table_rows,
            session_manager=sessions,
            notebook_path=path,
        )

    def _filter_session_kernel_environment(self) -> None:
        """Kernels of notebook sessions (a tab's) get the environment ours get."""
        filter_session_kernel_environment(
            getattr(self.server, "session_manager", None),
            allow=self.kernel_env_allow,
            patterns=self._kernel_env_deny(),
        )

    def _record_activity(self, notebook_id: str, event: Event) -> None:
        self.server.web_app.settings[ACTIVITY_SETTING] = datetime.now(UTC)


main = launch_new_instance = ReactiveNotebook.launch_instance
