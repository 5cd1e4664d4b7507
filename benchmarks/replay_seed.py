"""A varied event log for `bench_replay` (and for the replay tests at small scale).

Simulates users working: projects created, renamed, deleted; threads created in and out of
projects, renamed, moved, deleted; messages posted and deleted; chats whose answers complete,
fail or are cancelled (some finishing a little later, some deleted while they stream), titles
generated; documents of both scopes; provider settings and task routes; thread instructions,
context settings, summaries and share links; imports; personal API keys and logouts; roles,
quotas and disabled accounts. Threads are trees: chats below the active leaf or on a new
branch, regenerated answers, edited questions, branch switches, forks and subtree deletions;
some threads start in the shape stored before the tree (schema_version 1, read as a chain)
and go on in the new one. Only what the handlers would accept is appended (no message in a
deleted thread, no move to the same project...).

Every event is a `contracts.events` model dumped the way `event_store.append` dumps it, with the
same metadata keys; the events of one command share their `recorded_at`, as one transaction's
`now()` does, and now and then it is earlier than the previous command's (a transaction that
began first and appended later); stream versions count up per stream.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from contracts.base import DomainEvent
from contracts.events import (
    ActiveLeafSet,
    ApiKeyCreated,
    ApiKeyDeleted,
    AssistantMessageCancelled,
    AssistantMessageCompleted,
    AssistantMessageFailed,
    AssistantMessageRequested,
    ConversationImported,
    DocumentAdded,
    DocumentDeleted,
    GenerationCancelled,
    ImportBatchRecorded,
    ImportedItem,
    ImportStarted,
    MessageDeleted,
    MessagePosted,
    ModelPriceSet,
    ProjectCreated,
    ProjectDeleted,
    ProjectUpdated,
    ProviderConfigured,
    ProviderRemoved,
    ShareRevoked,
    TaskRoute,
    TaskRoutesSet,
    ThreadContextConfigured,
    ThreadCreated,
    ThreadDeleted,
    ThreadInstructionsSet,
    ThreadMoved,
    ThreadRenamed,
    ThreadShared,
    ThreadSummarized,
    TokenRevoked,
    UserDisabled,
    UserEnabled,
    UserMessagePosted,
    UserQuotaSet,
    UserRegistered,
    UserRoleSet,
)
from contracts.views import ForkedFrom, SharedMessage
from threads.domain import branches, imports
from threads.domain.thread import ThreadState
from threads.domain.tree import Node, Tree

EVENT_COLUMNS = (
    "stream_id",
    "stream_version",
    "event_id",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
)
Row = tuple[str, int, uuid.UUID, str, int, str, str, datetime]
WORDS = [
    "alpha",
    "budget",
    "canyon",
    "delta",
    "ember",
    "forest",
    "galaxy",
    "harbor",
    "island",
    "jungle",
    "kernel",
    "lantern",
    "meadow",
    "nebula",
    "orchard",
    "prairie",
    "quartz",
    "river",
    "summit",
    "tundra",
    "report",
    "review",
    "plan",
    "draft",
]
PROVIDERS = ("openai", "google", "anthropic", "deepseek")


# What an event stored before the conversation tree did not have (schema_version 1).
LEGACY_FIELDS = {
    "MessagePosted": {"parent_id", "chained", "provider", "model", "usage", "status"},
    "UserMessagePosted": {"parent_id", "chained"},
    "MessageDeleted": {"below", "active_leaf_moved", "active_leaf_id", "chained"},
    # and before the usage ledger: an outcome read `unkeyed`, a title without its usage
    "AssistantMessageCompleted": {"user_id", "provider", "model", "project_id", "unkeyed"},
    "AssistantMessageFailed": {"user_id", "provider", "model", "project_id", "unkeyed", "usage"},
    "AssistantMessageCancelled": {"user_id", "provider", "model", "project_id", "unkeyed", "usage"},
    "ThreadRenamed": {"provider", "model", "usage", "user_id", "project_id"},
}


@dataclass
class Thread:
    id: uuid.UUID
    project: uuid.UUID | None
    title: str
    messages: list[uuid.UUID] = field(default_factory=list)  # creation order
    parents: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    roles: dict[uuid.UUID, str] = field(default_factory=dict)
    leaf: uuid.UUID | None = None
    legacy: bool = False  # its events are written as before the tree, until a tree action
    shares: list[str] = field(default_factory=list)  # live share links

    def add(self, mid: uuid.UUID, parent: uuid.UUID | None, role: str) -> None:
        self.messages.append(mid)
        self.parents[mid] = parent
        self.roles[mid] = role
        self.leaf = mid

    def tree(self) -> Tree:
        nodes = tuple(Node(m, self.parents[m], self.roles[m], "x") for m in self.messages)
        return Tree(nodes, self.leaf)

    def state(self, user: uuid.UUID) -> ThreadState:
        return ThreadState(self.id, user, self.project, self.title, "echo", "echo")


@dataclass
class User:
    id: uuid.UUID
    projects: list[uuid.UUID] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    documents: list[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]] = field(
        default_factory=list
    )  # (document, project, thread)
    providers: set[str] = field(default_factory=set)
    routes: list[TaskRoute] = field(default_factory=list)
    keys: list[uuid.UUID] = field(default_factory=list)  # live personal API keys
    disabled: bool = False


class Log:
    """Appends commands' events as rows, the way the event store would."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.clock = start
        self.versions: dict[str, int] = {}
        self.rows: list[Row] = []

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def append(
        self,
        stream: str,
        user: uuid.UUID | None,
        *events: DomainEvent,
        late: bool = False,
        legacy: bool = False,
    ) -> None:
        """`late`: the transaction began (its `now()`) before the previous command's;
        `legacy`: message events in their shape from before the tree."""
        previous = self.clock
        self.clock += timedelta(milliseconds=self.rng.expovariate(1 / 2500))
        at = self.clock
        if late or self.rng.random() < 0.1:
            at = previous - timedelta(milliseconds=self.rng.uniform(1, 2000))
        metadata = json.dumps(
            {
                "user_id": str(user) if user else None,
                "correlation_id": str(self.new_id()),
                "causation_id": str(self.new_id()),
                "command_id": str(self.new_id()),
            }
        )
        for event in events:
            version = self.versions[stream] = self.versions.get(stream, 0) + 1
            schema, left_out = event.schema_version, {"schema_version"}
            if legacy and event.type_name() in LEGACY_FIELDS:
                schema, left_out = 1, left_out | LEGACY_FIELDS[event.type_name()]
            self.rows.append(
                (
                    stream,
                    version,
                    self.new_id(),
                    event.type_name(),
                    schema,
                    event.model_dump_json(exclude=left_out),
                    metadata,
                    at,
                )
            )


@dataclass
class Answer:
    user: User
    thread: Thread
    message: uuid.UUID


class World:
    """The simulation: picks an action, appends what the handler would."""

    def __init__(self, seed: int, start: datetime) -> None:
        self.rng = random.Random(seed)
        self.log = Log(self.rng, start)
        self.users: list[User] = []
        self.streaming: list[Answer] = []

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def register(self) -> None:
        user = User(self.log.new_id())
        self.users.append(user)
        self.log.append(
            f"user-{user.id}",
            user.id,
            UserRegistered(
                user_id=user.id,
                email=f"{user.id}@example.com",
                display_name=self.rng.choice((None, "Ada")),
                password_hash="$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
            ),
        )

    def create_project(self, u: User) -> None:
        pid = self.log.new_id()
        u.projects.append(pid)
        description = self.rng.choice((None, self.words(3, 8)))
        self.log.append(
            f"project-{pid}",
            u.id,
            ProjectCreated(
                project_id=pid, user_id=u.id, name=self.words(1, 3), description=description
            ),
        )

    def update_project(self, u: User) -> None:
        if u.projects:
            pid = self.rng.choice(u.projects)
            event = self.rng.choice(
                (
                    ProjectUpdated(project_id=pid, name=self.words(1, 3)),
                    ProjectUpdated(project_id=pid, description=None, description_set=True),
                    ProjectUpdated(project_id=pid, name="x", description="d", description_set=True),
                )
            )
            self.log.append(f"project-{pid}", u.id, event)

    def delete_project(self, u: User) -> None:
        if u.projects:
            pid = u.projects.pop(self.rng.randrange(len(u.projects)))
            for thread in u.threads:
                if thread.project == pid:
                    thread.project = None
            u.documents = [d for d in u.documents if d[1] != pid]
            self.log.append(f"project-{pid}", u.id, ProjectDeleted(project_id=pid))

    def create_thread(self, u: User) -> None:
        project = self.rng.choice(u.projects) if u.projects and self.rng.random() < 0.4 else None
        title = self.rng.choice(("New Chat", self.words(2, 5)))
        thread = Thread(self.log.new_id(), project, title, legacy=self.rng.random() < 0.3)
        u.threads.append(thread)
        self.log.append(
            f"thread-{thread.id}",
            u.id,
            ThreadCreated(
                thread_id=thread.id,
                user_id=u.id,
                project_id=project,
                title=title,
                provider="echo",
                model=self.rng.choice(("echo", "echo-slow")),
                thread_type=self.rng.choice(("ba_assistant", "assistant")),
                agent_type="chat",
            ),
        )

    def thread(self, u: User) -> Thread | None:
        return self.rng.choice(u.threads) if u.threads else None

    def rename_or_move(self, u: User) -> None:
        t = self.thread(u)
        if t is None:
            return
        if self.rng.random() < 0.5:
            t.title = self.words(2, 5)
            self.log.append(f"thread-{t.id}", u.id, ThreadRenamed(thread_id=t.id, title=t.title))
            return
        target = self.rng.choice([*u.projects, None])
        if target != t.project:
            move = ThreadMoved(thread_id=t.id, from_project_id=t.project, to_project_id=target)
            t.project = target
            self.log.append(f"thread-{t.id}", u.id, move)

    def delete_thread(self, u: User) -> None:
        t = self.thread(u)
        if t is not None:
            u.threads.remove(t)
            u.documents = [d for d in u.documents if d[2] != t.id]
            self.streaming = [a for a in self.streaming if a.thread is not t]
            self.log.append(f"thread-{t.id}", u.id, ThreadDeleted(thread_id=t.id))

    def post_message(self, u: User) -> None:
        t = self.thread(u)
        if t is None:
            return
        mid = self.log.new_id()
        parent = t.leaf if t.legacy or self.rng.random() < 0.8 else self.some_message(t)
        role = self.rng.choice(("user", "assistant"))
        t.add(mid, parent, role)
        extra = self.rng.random()
        self.log.append(
            f"thread-{t.id}",
            u.id,
            MessagePosted(
                message_id=mid,
                thread_id=t.id,
                role=role,  # type: ignore[arg-type]
                parent_id=parent,
                content=self.words(5, 30),
                artifact_data={"kind": "table", "rows": [[1, 2.5], [3, None]]}
                if extra < 0.05
                else None,
                metadata={"source": "import", "n": 7} if extra > 0.95 else None,
            ),
            legacy=t.legacy,
        )

    def some_message(self, t: Thread) -> uuid.UUID | None:
        return self.rng.choice(t.messages) if t.messages else None

    def streams(self, t: Thread) -> bool:
        return any(a.thread is t for a in self.streaming)

    def delete_message(self, u: User) -> None:
        t = self.thread(u)
        if t is None or not t.messages:
            return
        mid = self.rng.choice(t.messages)
        if t.legacy:  # one link out of the chain
            parent = t.parents.pop(mid)
            t.messages.remove(mid)
            for child, above in t.parents.items():
                if above == mid:
                    t.parents[child] = parent
            t.leaf = parent if t.leaf == mid else t.leaf
            event: DomainEvent = MessageDeleted(message_id=mid, thread_id=t.id)
        else:
            [event] = branches.decide_delete_message(
                t.state(u.id), mid, user_id=u.id, tree=t.tree()
            )
            assert isinstance(event, MessageDeleted)
            gone = {mid, *event.below}
            t.messages = [m for m in t.messages if m not in gone]
            if event.active_leaf_moved:
                t.leaf = event.active_leaf_id
        self.log.append(f"thread-{t.id}", u.id, event, legacy=t.legacy)

    def chat(self, u: User) -> None:
        t = self.thread(u)
        if t is None:
            return
        question, answer = self.log.new_id(), self.log.new_id()
        parent = t.leaf if t.legacy or self.rng.random() < 0.85 else self.some_message(t)
        t.add(question, parent, "user")
        t.add(answer, question, "assistant")
        self.log.append(
            f"thread-{t.id}",
            u.id,
            UserMessagePosted(
                message_id=question, thread_id=t.id, content=self.words(5, 25), parent_id=parent
            ),
            AssistantMessageRequested(
                message_id=answer,
                thread_id=t.id,
                user_id=u.id,
                user_message_id=question,
                provider="echo",
                model="echo",
            ),
            legacy=t.legacy,
        )
        self.streaming.append(Answer(u, t, answer))
        if t.title == "New Chat":
            t.title = self.words(2, 5)
            used = {"input_tokens": self.rng.randint(20, 90), "output_tokens": 6}
            renamed = ThreadRenamed(
                thread_id=t.id,
                title=t.title,
                generated=True,
                provider="anthropic",
                model="claude-sonnet-4-5",
                usage=used,
                user_id=u.id,
                project_id=t.project,
            )
            self.log.append(f"thread-{t.id}", None, renamed, legacy=t.legacy)

    def finish_answer(self) -> None:
        """The oldest streaming answer ends: mostly complete, some failed or cancelled; now and
        then its transaction began before a message another one posted to the thread."""
        a = self.streaming.pop(0)
        stream, tid, mid, roll = f"thread-{a.thread.id}", a.thread.id, a.message, self.rng.random()
        late = self.rng.random() < 0.2
        if late:
            posted, parent = self.log.new_id(), a.thread.leaf
            a.thread.add(posted, parent, "user")
            meanwhile = MessagePosted(
                message_id=posted, thread_id=tid, role="user", content="meanwhile", parent_id=parent
            )
            self.log.append(stream, a.user.id, meanwhile, legacy=a.thread.legacy)
        content = "Echo: " + self.words(10, 60)
        usage = {"input_tokens": self.rng.randint(5, 900), "output_tokens": 40}
        keys = {"user_id": a.user.id, "provider": "echo", "model": "echo"}
        keys["project_id"] = a.thread.project  # the usage ledger's, at the time
        legacy = a.thread.legacy
        if roll < 0.9:
            done = AssistantMessageCompleted(
                message_id=mid,
                thread_id=tid,
                content=content,
                finish_reason="stop",
                usage=usage,
                **keys,
            )
            self.log.append(stream, None, done, late=late, legacy=legacy)
        elif roll < 0.95:
            failed = AssistantMessageFailed(
                message_id=mid,
                thread_id=tid,
                code="provider_error",
                error="upstream 502",
                usage={"input_tokens": 12},
                **keys,
            )
            self.log.append(stream, None, failed, late=late, legacy=legacy)
        else:
            self.log.append(stream, a.user.id, GenerationCancelled(message_id=mid, thread_id=tid))
            cancelled = AssistantMessageCancelled(
                message_id=mid, thread_id=tid, content=content[:20], **keys
            )
            self.log.append(stream, None, cancelled, late=late, legacy=legacy)

    def tree_action(self, u: User, roll: float) -> None:
        """Regenerate, edit, switch branch or fork: a thread written before the tree goes on in
        the new shape from here."""
        t = self.thread(u)
        if t is None or not t.messages:
            return
        t.legacy = False
        stream, tree = f"thread-{t.id}", t.tree()
        if roll < 0.7:
            role = "assistant" if roll < 0.4 else "user"
            picks = [m for m in t.messages if t.roles[m] == role and t.parents[m] is not None]
            if not picks or self.streams(t):
                return
            mid = self.rng.choice(picks)
            question, answer = self.log.new_id(), self.log.new_id()
            if role == "assistant":
                question = t.parents[mid]  # type: ignore[assignment]
                events: list[DomainEvent] = []
            else:
                t.add(question, t.parents[mid], "user")
                events = [
                    UserMessagePosted(
                        message_id=question,
                        thread_id=t.id,
                        content=self.words(3, 9),
                        parent_id=t.parents[mid],
                    )
                ]
            t.add(answer, question, "assistant")
            events.append(
                AssistantMessageRequested(
                    message_id=answer,
                    thread_id=t.id,
                    user_id=u.id,
                    user_message_id=question,
                    provider="echo",
                    model=self.rng.choice(("echo", "echo-slow")),
                )
            )
            self.log.append(stream, u.id, *events)
            self.streaming.append(Answer(u, t, answer))
        elif roll < 0.85:
            leaf = tree.newest_leaf(self.rng.choice(t.messages))
            if leaf != t.leaf and leaf is not None:
                t.leaf = leaf
                self.log.append(stream, u.id, ActiveLeafSet(thread_id=t.id, message_id=leaf))
        else:
            self.fork(u, t, tree)

    def fork(self, u: User, t: Thread, tree: Tree) -> None:
        at = self.rng.choice(t.messages)
        path = [n.id for n in tree.path(at)]
        if any(a.message in path for a in self.streaming):
            return
        copy = Thread(self.log.new_id(), t.project, t.title)
        u.threads.append(copy)
        events: list[DomainEvent] = [
            ThreadCreated(
                thread_id=copy.id,
                user_id=u.id,
                project_id=t.project,
                title=t.title,
                provider="echo",
                model="echo",
                thread_type="assistant",
                agent_type="chat",
                forked_from=ForkedFrom(thread_id=t.id, message_id=at),
            )
        ]
        for mid in path:
            new = branches.copy_id(copy.id, mid)
            events.append(
                MessagePosted(
                    message_id=new,
                    thread_id=copy.id,
                    role=t.roles[mid],  # type: ignore[arg-type]
                    content=self.words(3, 12),
                    parent_id=copy.leaf,
                    provider="echo" if t.roles[mid] == "assistant" else None,
                    model="echo" if t.roles[mid] == "assistant" else None,
                    usage={"output_tokens": 3} if t.roles[mid] == "assistant" else None,
                )
            )
            copy.add(new, copy.leaf, t.roles[mid])
        self.log.append(f"thread-{copy.id}", u.id, *events)

    def add_document(self, u: User) -> None:
        t = self.thread(u)
        in_project = u.projects and (t is None or self.rng.random() < 0.5)
        if not in_project and t is None:
            return
        did = self.log.new_id()
        project = self.rng.choice(u.projects) if in_project else None
        thread = None if in_project or t is None else t.id
        u.documents.append((did, project, thread))
        content = self.words(100, 300)
        self.log.append(
            f"document-{did}",
            u.id,
            DocumentAdded(
                document_id=did,
                user_id=u.id,
                project_id=project,
                thread_id=thread,
                filename="notes.txt",
                content_type="text/plain",
                content=content,
                size=len(content.encode()),
            ),
        )

    def delete_document(self, u: User) -> None:
        if u.documents:
            did = u.documents.pop(self.rng.randrange(len(u.documents)))[0]
            self.log.append(f"document-{did}", u.id, DocumentDeleted(document_id=did))

    def providers(self, u: User) -> None:
        stream, roll = f"providers-{u.id}", self.rng.random()
        provider = self.rng.choice(PROVIDERS)
        if roll < 0.5:
            u.providers.add(provider)
            configured = ProviderConfigured(
                user_id=u.id,
                provider=provider,
                base_url=self.rng.choice((None, "http://127.0.0.1:9/v1")),
                enabled=self.rng.random() < 0.9,
                key_set=True,
                key_hint="cdef",
            )
            self.log.append(stream, u.id, configured)
        elif roll < 0.75 and u.providers:
            provider = self.rng.choice(sorted(u.providers))
            u.providers.discard(provider)
            kept = [r for r in u.routes if r.provider != provider]
            events: list[DomainEvent] = [ProviderRemoved(user_id=u.id, provider=provider)]
            if len(kept) != len(u.routes):
                u.routes = kept
                events.append(TaskRoutesSet(user_id=u.id, use_separate_models=True, routes=kept))
            self.log.append(stream, u.id, *events)
        else:
            u.routes = [
                TaskRoute(task="chat", provider=provider, model="m-1"),
                TaskRoute(task="title", provider="echo", model="echo"),
            ][: self.rng.randint(0, 2)]
            routes = TaskRoutesSet(user_id=u.id, use_separate_models=True, routes=u.routes)
            self.log.append(stream, u.id, routes)
            if self.rng.random() < 0.1:
                self.set_price()

    def set_price(self) -> None:
        """An admin prices a model (the threads CLI)."""
        price = ModelPriceSet(
            provider="echo",
            model="echo",
            input_usd_per_mtok=self.rng.choice((0.5, 1.0)),
            output_usd_per_mtok=2.0,
        )
        self.log.append(f"prices-{self.log.new_id()}", None, price)  # apart from other logs

    def thread_settings(self, u: User) -> None:
        """Instructions, context settings, a summary of the oldest turns, a share link made or
        revoked: what a thread gets besides messages."""
        t, roll = self.thread(u), self.rng.random()
        if t is None:
            return
        stream = f"thread-{t.id}"
        if roll < 0.2:
            text = self.rng.choice((None, self.words(4, 12)))
            self.log.append(stream, u.id, ThreadInstructionsSet(thread_id=t.id, instructions=text))
        elif roll < 0.4:
            configured = ThreadContextConfigured(
                thread_id=t.id,
                context_window=self.rng.choice((None, 8000)),
                context_policy=self.rng.choice(("truncate", "summarize")),
            )
            self.log.append(stream, u.id, configured)
        elif roll < 0.6 and t.messages:
            through = self.rng.choice(t.messages)
            keyed = self.rng.random() < 0.8  # the usage ledger counts only a keyed summary
            summary = ThreadSummarized(
                thread_id=t.id,
                through_message_id=through,
                text=self.words(10, 30),
                summarized_messages=t.messages.index(through) + 1,
                message_id=t.leaf,
                usage={"input_tokens": self.rng.randint(100, 900), "output_tokens": 50},
                provider="echo" if keyed else None,
                model="echo" if keyed else None,
                user_id=u.id if keyed else None,
                project_id=t.project if keyed else None,
            )
            self.log.append(stream, None, summary)
        elif roll < 0.75 or not any(s.shares for s in u.threads):
            share_id = f"{self.rng.getrandbits(128):032x}"
            t.shares.append(share_id)
            shown = [
                SharedMessage(role=t.roles[m], content=self.words(2, 8), created_at=self.log.clock)  # type: ignore[arg-type]
                for m in t.messages[-3:]
            ]
            shared = ThreadShared(
                thread_id=t.id, share_id=share_id, user_id=u.id, title=t.title, messages=shown
            )
            self.log.append(stream, u.id, shared)
        else:  # one of the user's links, whichever thread it shows
            t = self.rng.choice([s for s in u.threads if s.shares])
            share_id = t.shares.pop(self.rng.randrange(len(t.shares)))
            revoked = ShareRevoked(thread_id=t.id, share_id=share_id)
            self.log.append(f"thread-{t.id}", u.id, revoked)

    def api_keys(self, u: User) -> None:
        """A personal API key made (some expiring) or deleted, or a login token revoked."""
        roll = self.rng.random()
        if roll < 0.5 or (roll < 0.8 and not u.keys):
            kid = self.log.new_id()
            u.keys.append(kid)
            expires = self.log.clock + timedelta(days=30) if self.rng.random() < 0.5 else None
            created = ApiKeyCreated(
                key_id=kid,
                user_id=u.id,
                name=self.words(1, 2),
                prefix=f"sb-{kid.hex[:7]}",
                hash=f"{self.rng.getrandbits(256):064x}",
                expires_at=expires,
            )
            self.log.append(f"apikey-{kid}", u.id, created)
        elif roll < 0.8:
            kid = u.keys.pop(self.rng.randrange(len(u.keys)))
            self.log.append(f"apikey-{kid}", u.id, ApiKeyDeleted(key_id=kid, user_id=u.id))
        else:
            jti = f"{self.rng.getrandbits(128):032x}"
            expires = self.log.clock + timedelta(minutes=self.rng.randint(1, 60))
            revoked = TokenRevoked(jti=jti, user_id=u.id, expires_at=expires)
            self.log.append(f"session-{jti}", u.id, revoked)

    def import_conversations(self, u: User) -> None:
        """An import of one batch: each conversation a thread and its claim, one skipped now
        and then, and the batch's record on the import's stream."""
        iid, source = self.log.new_id(), self.rng.choice(("chatgpt", "switchboard"))
        total = self.rng.randint(1, 3)
        stream = imports.import_stream(iid)
        start = ImportStarted(import_id=iid, user_id=u.id, source=source, total=total)
        self.log.append(stream, u.id, start)
        items: list[ImportedItem] = []
        for seq in range(total):
            source_id = f"conv-{self.rng.getrandbits(64):x}"
            if self.rng.random() < 0.2:
                items.append(
                    ImportedItem(seq=seq, source_id=source_id, thread_id=None, reason="empty")
                )
                continue
            t = Thread(self.log.new_id(), None, self.words(2, 4))
            u.threads.append(t)
            made: list[DomainEvent] = [
                ThreadCreated(
                    thread_id=t.id,
                    user_id=u.id,
                    project_id=None,
                    title=t.title,
                    provider="echo",
                    model="echo",
                    thread_type="assistant",
                    agent_type="chat",
                )
            ]
            for role in ("user", "assistant"):
                mid = self.log.new_id()
                made.append(
                    MessagePosted(
                        message_id=mid,
                        thread_id=t.id,
                        role=role,  # type: ignore[arg-type]
                        content=self.words(3, 12),
                        parent_id=t.leaf,
                    )
                )
                t.add(mid, t.leaf, role)
            self.log.append(f"thread-{t.id}", u.id, *made)
            claim = ConversationImported(
                import_id=iid, user_id=u.id, source=source, source_id=source_id, thread_id=t.id
            )
            self.log.append(imports.source_stream(u.id, source, source_id), u.id, claim)
            items.append(ImportedItem(seq=seq, source_id=source_id, thread_id=t.id, title=t.title))
        self.log.append(stream, u.id, ImportBatchRecorded(import_id=iid, items=items))

    def administer(self, u: User) -> None:
        """An admin sets the user's role or quotas, or disables or enables the account."""
        roll, stream = self.rng.random(), f"user-{u.id}"
        if u.disabled or roll >= 0.6:  # a disabled account is enabled again first
            u.disabled = not u.disabled
            kind = UserDisabled if u.disabled else UserEnabled
            self.log.append(stream, None, kind(user_id=u.id))
        elif roll < 0.3:
            role = self.rng.choice(("admin", "user"))
            self.log.append(stream, None, UserRoleSet(user_id=u.id, role=role))  # type: ignore[arg-type]
        elif roll < 0.6:
            quota = UserQuotaSet(
                user_id=u.id,
                tokens_per_day=self.rng.choice((None, 10_000)),
                tokens_per_month=self.rng.choice((None, 200_000)),
            )
            self.log.append(stream, None, quota)

    def account(self, u: User) -> None:
        """The user's own settings (providers and routes, API keys and logouts, imports), or
        an admin's of the user."""
        roll = self.rng.random()
        if roll < 0.45:
            self.providers(u)
        elif roll < 0.7:
            self.api_keys(u)
        elif roll < 0.85:
            self.import_conversations(u)
        else:
            self.administer(u)

    def step(self) -> None:
        """One user action; now and then the oldest answer in flight ends."""
        if self.streaming and (len(self.streaming) > 20 or self.rng.random() < 0.3):
            self.finish_answer()
        roll = self.rng.random()
        if roll < 0.0005 or not self.users:
            self.register()
            return
        u = self.rng.choice(self.users)
        if not u.threads or 0.77 <= roll < 0.85:
            self.create_thread(u)
        elif roll < 0.41:
            self.post_message(u)
        elif roll < 0.44:
            self.thread_settings(u)
        elif roll < 0.52:
            self.tree_action(u, (roll - 0.44) / 0.08)
        elif roll < 0.77:
            self.chat(u)
        elif roll < 0.875:
            self.rename_or_move(u)
        elif roll < 0.895:
            self.delete_thread(u)
        elif roll < 0.92:
            self.delete_message(u)
        elif roll < 0.935:
            self.create_project(u)
        elif roll < 0.945:
            self.update_project(u)
        elif roll < 0.95:
            self.delete_project(u)
        elif roll < 0.96:
            self.add_document(u)
        elif roll < 0.965:
            self.delete_document(u)
        else:
            self.account(u)

    def expected(self) -> dict[str, int]:
        """Row counts the rebuilt read models must have (a sanity check for the benchmark)."""
        threads = [t for u in self.users for t in u.threads]
        return {
            "users": len(self.users),
            "projects": sum(len(u.projects) for u in self.users),
            "threads": len(threads),
            "messages": sum(len(t.messages) for t in threads),
            "documents": sum(len(u.documents) for u in self.users),
        }

    def batches(self, total: int, batch: int = 50_000) -> Iterator[list[Row]]:
        """About `total` event rows (a command's events are never split), in batches."""
        for _ in range(max(2, total // 2000)):
            self.register()
        self.set_price()
        made = 0
        while made < total:
            self.step()
            if len(self.log.rows) >= batch or made + len(self.log.rows) >= total:
                made += len(self.log.rows)
                yield self.log.rows
                self.log.rows = []


def event_rows(total: int, seed: int = 7) -> Iterator[list[Row]]:
    return World(seed, datetime.now(UTC) - timedelta(days=60)).batches(total)
