"""``GET /reactive/api/v1/capabilities``: what the server offers beyond the notebook
API. With no LLM provider configured (none exists yet, design.md section 6) the chat is
unavailable, with a sentence a person can act on."""

from __future__ import annotations

from .conftest import Api
from .contract import conforms


async def test_without_an_llm_provider_the_chat_is_unavailable_and_says_why(api: Api) -> None:
    response = await api("GET", "capabilities")
    assert response.code == 200
    chat = conforms(response)["chat"]
    assert chat["available"] is False
    assert "No LLM provider is configured" in chat["message"]


async def test_capabilities_need_credentials(api: Api) -> None:
    response = await api("GET", "capabilities", headers={"Authorization": ""})
    assert response.code == 403
    assert conforms(response)["message"]


async def test_capabilities_take_no_other_method(api: Api) -> None:
    response = await api("POST", "capabilities", body={})
    assert response.code == 405
