"""The settings of the assistant (docs/chat-api.md, README "The assistant") and of the
MCP endpoint (README "Agents from outside: MCP"): traits ``ReactiveNotebook`` inherits,
configured as ``c.ReactiveNotebook.<trait>``. Declarations only; app.py builds from them."""

from __future__ import annotations

from traitlets import Enum, Float, HasTraits, Int, Unicode


class AssistantSettings(HasTraits):
    """The chat's model, its limits, its history and audit log; what previews show."""

    llm_provider = Enum(
        ["", "anthropic", "openai"],
        default_value="",
        config=True,
        help="""The language model of the notebook chat: "anthropic" (Anthropic's
        Messages API) or "openai" (OpenAI, or any OpenAI-compatible server with
        llm_base_url: Ollama, vLLM, llama.cpp, a LiteLLM proxy). Empty: no chat (the chat
        and GET .../capabilities say what to set).""",
    )
    llm_model = Unicode(
        "",
        config=True,
        help="""The model's name as the provider knows it (default: claude-sonnet-4-5 for
        anthropic, gpt-4.1 for openai).""",
    )
    llm_base_url = Unicode(
        "",
        config=True,
        help="""The provider's URL, e.g. http://127.0.0.1:11434/v1 for a local Ollama.
        Empty: the SDK's variable (ANTHROPIC_BASE_URL, OPENAI_BASE_URL), else the
        provider's own API.""",
    )
    llm_api_key_env = Unicode(
        "",
        config=True,
        help="""The name of the environment variable holding the API key (never the key
        itself). Empty: ANTHROPIC_API_KEY or OPENAI_API_KEY. The variable is kept from
        kernels, and its value never reaches a model or a log.""",
    )
    llm_max_tokens = Int(4096, config=True, help="Most tokens one answer of the model may have.")
    llm_timeout = Float(
        120.0, config=True, help="Seconds one request to the model may take before it fails."
    )
    llm_max_retries = Int(
        2,
        config=True,
        help="""Retries of a request the model's server refused as busy or failed (429,
        5xx), with the SDK's backoff, before the chat reports the error.""",
    )
    chat_max_tool_turns = Int(
        10,
        config=True,
        help="""Most times the model may call tools while answering one message; past
        it the turn stops and says so.""",
    )
    chat_messages_per_minute = Int(
        20,
        config=True,
        help="""Chat messages one user may send per minute (429 with Retry-After past
        it); 0: no limit.""",
    )
    chat_history_dir = Unicode(
        "",
        config=True,
        help="""Where conversations are kept (one JSON file per user and notebook, not
        in the .ipynb). Empty: reactive_notebook/chats in Jupyter's data folder.""",
    )
    chat_audit_log = Unicode(
        "",
        config=True,
        help="""The audit log of the assistant's and MCP clients' tool calls (JSON
        lines: time, user, notebook, provider and model or "via": "mcp" and the client,
        tool, input, outcome, duration; secrets masked). Empty:
        reactive_notebook/chat-audit.jsonl in Jupyter's data folder; "off" disables it.""",
    )
    chat_resume_grace = Float(
        10.0,
        config=True,
        help="""Seconds a chat turn goes on after its client's connection dropped,
        waiting for the client to resume it; then it is cancelled.""",
    )
    chat_keep_alive = Float(
        15.0,
        config=True,
        help="Seconds of silence after which a chat stream sends a keep-alive comment.",
    )
    preview_text_bytes = Int(
        2000,
        config=True,
        help="""Bytes of one output's text the assistant sees in a preview (its head and
        tail; the size of what is left out is said). get_cell_output pages the rest.""",
    )
    preview_answer_bytes = Int(
        8000,
        config=True,
        help="Bytes of output previews of one cell in one tool answer.",
    )


class McpSettings(HasTraits):
    """The MCP endpoint's sessions and runs."""

    mcp_session_idle_timeout = Float(
        1800.0,
        config=True,
        help="""Seconds after which a legacy MCP session (clients of protocol versions
        before 2026-07-28, which open a session with initialize) that sent no request is
        closed; the client then opens a new one. Clients of 2026-07-28 have no session.""",
    )
    mcp_run_ttl = Float(
        600.0,
        config=True,
        help="""Seconds a run an MCP client started (run_cell answered a run_id) is kept
        once finished, for wait_for_run to report; then it is forgotten (the notebook
        keeps its outputs).""",
    )
