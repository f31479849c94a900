"""The MCP endpoint (issue 17): the assistant's notebook tools for agents outside the
server, over MCP's streamable HTTP at ``<base_url>reactive/mcp``, behind jupyter_server's
own authentication (the handler is :mod:`reactive_notebook.handlers.mcp`)."""
