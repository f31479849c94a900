"""JSON Schemas of what clients send and what they get back.

One source of truth: request bodies and WebSocket messages are validated against these
schemas, and the OpenAPI document (``openapi.py``) is assembled from them, so the
document cannot drift from what the handlers accept.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

#: Limits a request body field may not exceed (far beyond any real use).
MAX_ID_LENGTH = 128
MAX_CODE_LENGTH = 5_000_000
MAX_NAME_LENGTH = 200
MAX_CONNECTION_LENGTH = 4096
MAX_PATH_LENGTH = 4096

ID: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}
CELL_TYPE: Schema = {"type": "string", "enum": ["python", "sql"]}
EXPECTED_REVISION: Schema = {
    "type": "integer",
    "minimum": 0,
    "description": "The revision this change is based on; a stale one gets 409.",
}
CODE: Schema = {"type": "string", "maxLength": MAX_CODE_LENGTH}
OUTPUT_VARIABLE: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_ID_LENGTH,
    "description": "The variable a SQL cell's result is bound to (SQL cells only).",
}


RUN_WAIT: Schema = {
    "type": "boolean",
    "description": "Answer 200 with the notebook once the run has finished.",
}
RUN_CODE: Schema = {
    **CODE,
    "description": (
        "The cell's source as the client's editor shows it. The run waits (at most "
        "`ReactiveNotebook.run_code_timeout`, 2 s by default) until the notebook's live "
        "document holds exactly this code (an editor's last keystrokes travel over the "
        "collaboration room's WebSocket and may arrive after the run), then runs it; "
        'if it never does, nothing runs and the answer is 409 with `field: "code"`. '
        "Without it, the cell runs with the code the server has."
    ),
}
RUN_CODES: Schema = {
    "type": "object",
    "propertyNames": ID,
    "additionalProperties": CODE,
    "description": (
        "Cell id -> the cell's source as the client's editor shows it: the run waits "
        'for each, as `code` does for one cell\'s run (409 with `field: "codes"` when '
        "one never arrives)."
    ),
}
RUN_CELL_IDS: Schema = {
    "type": "array",
    "items": ID,
    "maxItems": 100_000,
    "description": (
        "Run these cells (and what depends on them) instead of every cell: one request "
        "for a selection, as `POST .../cells/<id>/run` is for one cell. Unknown ids: 404."
    ),
}


def _body(properties: Schema, required: tuple[str, ...] = ()) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


REQUEST_BODIES: dict[str, Schema] = {
    "NotebookCreate": _body(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
            "folder": {
                "type": "string",
                "maxLength": MAX_PATH_LENGTH,
                "description": (
                    "Where to create the file: a folder's path relative to the contents "
                    "root (e.g. the file browser's current folder). It must exist and be "
                    "in the user's notebooks folder; default: that folder."
                ),
            },
        }
    ),
    "NotebookRename": _body(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
            "expected_revision": EXPECTED_REVISION,
        },
        ("name",),
    ),
    "DbConnection": _body(
        {
            "connection_string": {"type": "string", "maxLength": MAX_CONNECTION_LENGTH},
            "expected_revision": EXPECTED_REVISION,
        },
        ("connection_string",),
    ),
    "CellCreate": _body(
        {
            "type": CELL_TYPE,
            "code": CODE,
            "after_cell_id": {
                **ID,
                "type": ["string", "null"],
                "description": "Insert after this cell; omitted: at the end; null: first.",
            },
            "output": OUTPUT_VARIABLE,
            "expected_revision": EXPECTED_REVISION,
        },
        ("type",),
    ),
    "CellUpdate": _body(
        {
            "code": CODE,
            "type": {**CELL_TYPE, "description": "Change the cell's type (Python <-> SQL)."},
            "output": OUTPUT_VARIABLE,
            "expected_revision": EXPECTED_REVISION,
        },
        ("code",),
    ),
    "CellMove": _body(
        {
            "after_cell_id": {
                **ID,
                "type": ["string", "null"],
                "description": "Move right after this cell; null: make it the first cell.",
            },
            "expected_revision": EXPECTED_REVISION,
        },
        ("after_cell_id",),
    ),
    "RunRequest": _body({"wait": RUN_WAIT, "codes": RUN_CODES, "cell_ids": RUN_CELL_IDS}),
    "CellRunRequest": _body({"wait": RUN_WAIT, "code": RUN_CODE}),
    "ChatMessage": _body(
        {
            "message": {
                "type": "string",
                "minLength": 1,
                "maxLength": 20_000,
                "description": "What the person asks the assistant (markdown).",
            }
        },
        ("message",),
    ),
    "ChatCancel": _body(
        {
            "interrupt": {
                "type": "boolean",
                "description": "Also interrupt a run the assistant started (default: it "
                "is left to finish).",
            }
        }
    ),
    "ChatRevert": _body({}),
}


def _message(type_: str, properties: Schema, required: tuple[str, ...] = ()) -> Schema:
    return _body(
        {
            "type": {"const": type_},
            "request_id": {
                "type": ["string", "integer"],
                "description": "Echoed in the `ack` or `error` answering this message.",
            },
            **properties,
        },
        ("type", *required),
    )


#: Client -> server WebSocket messages, by ``type``.
CLIENT_MESSAGES: dict[str, Schema] = {
    "run_cell": _message("run_cell", {"cell_id": ID, "code": RUN_CODE}, ("cell_id",)),
    "run_all": _message("run_all", {"codes": RUN_CODES, "cell_ids": RUN_CELL_IDS}),
    "cell_update": _message(
        "cell_update",
        {
            "cell_id": ID,
            "code": CODE,
            "cell_type": CELL_TYPE,
            "output": OUTPUT_VARIABLE,
            "expected_revision": EXPECTED_REVISION,
        },
        ("cell_id", "code"),
    ),
    "create_cell": _message(
        "create_cell",
        {
            "cell_type": CELL_TYPE,
            "code": CODE,
            "after_cell_id": {**ID, "type": ["string", "null"]},
            "output": OUTPUT_VARIABLE,
            "expected_revision": EXPECTED_REVISION,
        },
        ("cell_type",),
    ),
    "delete_cell": _message(
        "delete_cell", {"cell_id": ID, "expected_revision": EXPECTED_REVISION}, ("cell_id",)
    ),
    "move_cell": _message(
        "move_cell",
        {
            "cell_id": ID,
            "after_cell_id": {**ID, "type": ["string", "null"]},
            "expected_revision": EXPECTED_REVISION,
        },
        ("cell_id", "after_cell_id"),
    ),
    "update_db_connection": _message(
        "update_db_connection",
        {
            "connection_string": {"type": "string", "maxLength": MAX_CONNECTION_LENGTH},
            "expected_revision": EXPECTED_REVISION,
        },
        ("connection_string",),
    ),
    "rename_notebook": _message(
        "rename_notebook",
        {
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
            "expected_revision": EXPECTED_REVISION,
        },
        ("name",),
    ),
    "interrupt": _message("interrupt", {}),
    "sync": _message("sync", {}, ()),  # ask for a fresh snapshot (e.g. after a conflict notice)
}

OUTPUT: Schema = {
    "type": "object",
    "properties": {
        "mime_type": {"type": "string"},
        "data": {},
        "metadata": {"type": "object"},
    },
    "required": ["mime_type", "data", "metadata"],
}

CELL: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string", "enum": ["python", "sql", "markdown", "raw"]},
        "code": {"type": "string"},
        "status": {
            "type": "string",
            "enum": ["idle", "queued", "running", "success", "error", "blocked"],
        },
        "stale": {"type": "boolean"},
        "stdout": {"type": "string"},
        "stderr": {"type": "string"},
        "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/Output"}},
        "trusted": {
            "type": "boolean",
            "description": (
                "Whether the cell's outputs may be shown as they are (HTML and markdown "
                "unsanitized, script run), decided as the stock Jupyter notebook decides: "
                "they were made by a run on this server, or the notebook file carries a "
                "valid Jupyter signature. Untrusted outputs are listed as their best safe "
                "MIME type; show them sanitized, and never run their script."
            ),
        },
        "error": {"type": ["string", "null"]},
        "execution_count": {
            "type": ["integer", "null"],
            "description": (
                "The kernel's execution count of the cell's last run (its prompt number, "
                "as in Jupyter: every executed cell takes the next one, and they restart "
                "at 1 with the kernel); null for a cell that has not run."
            ),
        },
        "reads": {"type": "array", "items": {"type": "string"}},
        "writes": {"type": "array", "items": {"type": "string"}},
        "dynamic": {
            "type": ["string", "null"],
            "description": (
                "Why the cell counts as reading every name defined above it, or null: it "
                "reaches names by string (eval, exec, globals(), locals(), vars()) itself "
                'or through a function of the notebook, e.g. "reads names dynamically '
                '(eval in show)". Such a cell re-runs when any cell above it defines '
                "anew, so it is never silently stale."
            ),
        },
        "output": {"type": ["string", "null"]},
        "traceback": {
            "type": "object",
            "description": "The exception of the cell's last run, if it raised.",
            "properties": {
                "ename": {"type": "string"},
                "evalue": {"type": "string"},
                "traceback": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["ename", "evalue", "traceback"],
        },
    },
    "required": [
        "id",
        "type",
        "code",
        "status",
        "stale",
        "stdout",
        "stderr",
        "outputs",
        "trusted",
        "error",
        "reads",
        "writes",
        "dynamic",
    ],
}

RESPONSES: dict[str, Schema] = {
    "Health": {
        "type": "object",
        "properties": {"status": {"const": "ok"}, "version": {"type": "string"}},
        "required": ["status", "version"],
    },
    "NotebookList": {
        "type": "object",
        "properties": {
            "notebooks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "path": {
                            "type": "string",
                            "description": "The file's contents path (lookups by path).",
                        },
                    },
                    "required": ["id", "name"],
                },
            }
        },
        "required": ["notebooks"],
    },
    "NotebookCreated": {
        "type": "object",
        "properties": {
            "notebook_id": {"type": "string"},
            "name": {"type": "string"},
            "revision": {"type": "integer"},
            "path": {
                "type": "string",
                "description": (
                    "The notebook file's path relative to the contents root (as the "
                    "contents API and JupyterLab's `docmanager:open` take it); absent "
                    "when the store keeps notebooks in no file."
                ),
            },
        },
        "required": ["notebook_id"],
    },
    "Notebook": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "db_conn_string": {
                "type": "string",
                "description": "The connection string with its password masked.",
            },
            "revision": {"type": "integer"},
            "cells": {"type": "array", "items": {"$ref": "#/components/schemas/Cell"}},
        },
        "required": ["id", "name", "db_conn_string", "revision", "cells"],
    },
    "CellCreated": {
        "type": "object",
        "properties": {
            "cell_id": {"type": "string"},
            "index": {"type": "integer"},
            "revision": {"type": "integer"},
            "cell": {"$ref": "#/components/schemas/Cell"},
        },
        "required": ["cell_id"],
    },
    "CellMoved": {
        "type": "object",
        "properties": {"index": {"type": "integer"}, "revision": {"type": "integer"}},
        "required": ["index", "revision"],
    },
    "Renamed": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "revision": {"type": "integer"},
            "path": {
                "type": "string",
                "description": (
                    "The file's path after the rename, relative to the contents root "
                    "(the file is renamed after the notebook); absent when the store "
                    "keeps notebooks in no file."
                ),
            },
        },
        "required": ["name", "revision"],
    },
    "DbConnectionSet": {
        "type": "object",
        "properties": {
            "db_conn_string": {
                "type": "string",
                "description": "The connection string with its password masked.",
            },
            "revision": {"type": "integer"},
        },
        "required": ["db_conn_string", "revision"],
    },
    "CellWithRevision": {
        "allOf": [
            {"$ref": "#/components/schemas/Cell"},
            {
                "type": "object",
                "properties": {
                    "revision": {
                        "type": "integer",
                        "description": "The notebook's revision this cell belongs to.",
                    }
                },
                "required": ["revision"],
            },
        ]
    },
    "Interrupted": {
        "type": "object",
        "properties": {"status": {"const": "interrupted"}},
        "required": ["status"],
    },
    "RunAccepted": {
        "type": "object",
        "properties": {"status": {"const": "queued"}},
        "required": ["status"],
    },
    "Error": {
        "type": "object",
        "properties": {
            "message": {"type": "string", "description": "What went wrong, for a person."},
            "reason": {"type": ["string", "null"]},
            "field": {"type": "string", "description": "The body field at fault (400)."},
            "revision": {"type": "integer", "description": "The current revision (409)."},
            "limit": {
                "type": "integer",
                "description": "The limit reached (429): the server's kernels, or a quota.",
            },
            "quota": {
                "type": "string",
                "description": "The trait of the quota reached (429), e.g. "
                "`ReactiveNotebook.quota_notebooks`.",
            },
            "retry_after": {
                "type": "integer",
                "description": "Seconds to wait before trying again (429), as `Retry-After`.",
            },
        },
        "required": ["message"],
    },
    "Welcome": {
        "type": "object",
        "description": "What the caller's first visit decided (the same on every later call).",
        "properties": {
            "outcome": {
                "type": "string",
                "enum": [
                    "created",
                    "has_notebooks",
                    "name_taken",
                    "failed",
                    "unreadable_marker",
                    "off",
                ],
                "description": "`created`: their welcome notebook was made (on this call "
                "or an earlier one); `has_notebooks`: they had notebooks already, so none "
                "was made; `name_taken`: a file of its name was there (left untouched); "
                "`failed`: it could not be made (see the server log); `off`: the server "
                "makes none.",
            },
            "created": {"type": "boolean", "description": "Whether `outcome` is `created`."},
            "made_now": {
                "type": "boolean",
                "description": "Whether this very call made it (JupyterLab opens it then).",
            },
            "notebook_id": {"type": "string"},
            "path": {"type": "string", "description": "Its file's contents path, when made."},
        },
        "required": ["outcome", "created", "made_now"],
    },
    "Capabilities": {
        "type": "object",
        "properties": {
            "chat": {
                "type": "object",
                "description": "The notebook chat: available once an LLM provider is configured.",
                "properties": {
                    "available": {"type": "boolean"},
                    "message": {
                        "type": "string",
                        "description": "Why it is unavailable and what to set, for a "
                        "person (empty if available).",
                    },
                    "provider": {"type": ["string", "null"]},
                    "model": {"type": ["string", "null"]},
                },
                "required": ["available", "message"],
            }
        },
        "required": ["chat"],
    },
    "ChatHistory": {
        "type": "object",
        "description": "The conversation of the caller on this notebook (docs/chat-api.md).",
        "properties": {
            "messages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "role": {"enum": ["user", "assistant"]},
                        "turn_id": {"type": "string"},
                        "text": {"type": "string"},
                        "time": {"type": "string"},
                        "steps": {"type": "array", "items": {"type": "object"}},
                        "cells_changed": {"type": "array", "items": {"type": "string"}},
                        "usage": {"type": "object"},
                        "stop_reason": {"type": "string"},
                        "error": {"type": ["string", "null"]},
                        "revertible": {"type": "boolean"},
                    },
                    "required": ["role", "turn_id", "text"],
                },
            },
            "running": {"type": ["string", "null"], "description": "The running turn's id."},
            "provider": {"type": ["string", "null"]},
            "model": {"type": ["string", "null"]},
        },
        "required": ["messages", "running", "provider", "model"],
    },
    "ChatCancelled": {
        "type": "object",
        "properties": {"cancelled": {"type": "boolean", "description": "A turn was running."}},
        "required": ["cancelled"],
    },
    "ChatReverted": {
        "type": "object",
        "properties": {
            "turn_id": {"type": "string"},
            "reverted": {"type": "array", "items": {"type": "string"}},
            "skipped": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"cell_id": {"type": "string"}, "reason": {"type": "string"}},
                },
            },
            "rerun": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["turn_id", "reverted", "skipped", "rerun"],
    },
    "Cell": CELL,
    "Output": OUTPUT,
}


_TOKEN: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 16_384,
    "description": "A JWT the server's JWTIdentityProvider accepts (never logged).",
}

#: Client -> server WebSocket messages that (re)authenticate the connection, by ``type``:
#: ``auth`` as the first message of a socket opened without credentials (JWT provider
#: only), ``refresh_auth`` to replace a connection's JWT before it expires.
AUTH_MESSAGES: dict[str, Schema] = {
    "auth": _message("auth", {"token": _TOKEN}, ("token",)),
    "refresh_auth": _message("refresh_auth", {"token": _TOKEN}, ("token",)),
}
