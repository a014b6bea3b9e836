"""The hub's rules: conversations, messages, handoffs, agents and tokens.

Plain async functions with keyword arguments, usable in-process (CLI, demo seeding,
tests) as well as from the HTTP endpoints, called through this package
(``from warmline.hub import service``; ``service.create_handoff(tx, spec=...)``). Writers
take a ``Tx`` (``Database.write()``), readers an ``AsyncSession`` (``Database.read()``);
every state change queues its events on the same transaction.

- ``accounts``: ids, tokens, authentication, specialists and bots;
- ``conversations``: conversations and messages;
- ``handoffs``: handoffs, the queue, claim / release / resolve, the product AI's turn;
- ``views``: rows to wire models.
"""

from warmline.hub.service.accounts import (
    ALL_SKILLS,
    authenticate,
    check_skills,
    create_agent,
    create_bot,
    hash_token,
    issue_agent_token,
    issue_token,
    list_agents,
    new_id,
)
from warmline.hub.service.conversations import (
    PostedMessage,
    add_message,
    append_messages,
    create_conversation,
    get_conversation,
    insert_messages,
    post_message,
)
from warmline.hub.service.handoffs import (
    AI_AUTHOR,
    MAX_LIST_LIMIT,
    SYSTEM_AUTHOR,
    claim,
    claim_handoff,
    create_handoff,
    get_handoff,
    list_handoffs,
    parse_statuses,
    post_assistant_turn,
    release_handoff,
    resolve_handoff,
)
from warmline.hub.service.views import (
    agent_model,
    agent_ref,
    conversation_model,
    handoff_model,
    message_model,
    summary_data,
    summary_model,
)

__all__ = [
    "AI_AUTHOR",
    "ALL_SKILLS",
    "MAX_LIST_LIMIT",
    "SYSTEM_AUTHOR",
    "PostedMessage",
    "add_message",
    "agent_model",
    "agent_ref",
    "append_messages",
    "authenticate",
    "check_skills",
    "claim",
    "claim_handoff",
    "conversation_model",
    "create_agent",
    "create_bot",
    "create_conversation",
    "create_handoff",
    "get_conversation",
    "get_handoff",
    "handoff_model",
    "hash_token",
    "insert_messages",
    "issue_agent_token",
    "issue_token",
    "list_agents",
    "list_handoffs",
    "message_model",
    "new_id",
    "parse_statuses",
    "post_assistant_turn",
    "post_message",
    "release_handoff",
    "resolve_handoff",
    "summary_data",
    "summary_model",
]
