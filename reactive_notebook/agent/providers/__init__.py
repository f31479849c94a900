"""The language-model providers: Anthropic's Messages API and any OpenAI-compatible
chat-completions endpoint, each through its official SDK."""
