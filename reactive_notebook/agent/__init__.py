"""The assistant's side of a notebook: what an agent is shown of it (previews) and, with
issue 16, the tools it acts through."""
