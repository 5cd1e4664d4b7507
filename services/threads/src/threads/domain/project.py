"""The project aggregate (stream `project-<id>`): a named folder of threads and documents."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import reduce
from uuid import UUID

from contracts.base import DomainEvent
from contracts.commands import CreateProject, DeleteProject, UpdateProject
from contracts.events import ProjectCreated, ProjectDeleted, ProjectUpdated
from threads.domain.errors import conflict, invalid, not_found
from threads.domain.text import require_instructions, require_text

NAME_MAX = 255
DESCRIPTION_MAX = 10_000


def stream_id(project_id: object) -> str:
    return f"project-{project_id}"


@dataclass(frozen=True)
class ProjectState:
    project_id: UUID
    user_id: UUID
    name: str
    description: str | None
    deleted: bool = False
    instructions: str | None = None


def evolve(state: ProjectState | None, event: DomainEvent) -> ProjectState | None:
    match event:
        case ProjectCreated():
            return ProjectState(
                event.project_id,
                event.user_id,
                event.name,
                event.description,
                instructions=event.instructions,
            )
        case ProjectUpdated() if state is not None:
            return replace(
                state,
                name=event.name if event.name is not None else state.name,
                description=event.description if event.description_set else state.description,
                instructions=event.instructions if event.instructions_set else state.instructions,
            )
        case ProjectDeleted() if state is not None:
            return replace(state, deleted=True)
    return state


def fold(events: list[DomainEvent]) -> ProjectState | None:
    return reduce(evolve, events, None)


def require_owned(state: ProjectState | None, user_id: UUID | None) -> ProjectState:
    """Another user's project is indistinguishable from a missing one."""
    if state is None or state.deleted or state.user_id != user_id:
        raise not_found("Project")
    return state


def _name(raw: str) -> str:
    name = require_text(raw, "name").strip()
    if not name:
        raise invalid("Project name must not be empty")
    if len(name) > NAME_MAX:
        raise invalid(f"Project name is longer than {NAME_MAX} characters")
    return name


def _description(raw: str | None) -> str | None:
    if raw is None:
        return None
    if len(require_text(raw, "description")) > DESCRIPTION_MAX:
        raise invalid(f"Description is longer than {DESCRIPTION_MAX} characters")
    return raw


def decide_create(
    state: ProjectState | None, cmd: CreateProject, *, user_id: UUID
) -> list[ProjectCreated]:
    if state is not None:
        raise conflict("Project already exists")
    return [
        ProjectCreated(
            project_id=cmd.project_id,
            user_id=user_id,
            name=_name(cmd.name),
            description=_description(cmd.description),
            instructions=require_instructions(cmd.instructions),
        )
    ]


def decide_update(
    state: ProjectState | None, cmd: UpdateProject, *, user_id: UUID | None
) -> list[ProjectUpdated]:
    """Only what changes is recorded; a PATCH that changes nothing appends nothing."""
    current = require_owned(state, user_id)
    name = _name(cmd.name) if cmd.name is not None else None
    if name == current.name:
        name = None
    describe = cmd.description_set and _description(cmd.description) != current.description
    instructions = require_instructions(cmd.instructions) if cmd.instructions_set else None
    instruct = cmd.instructions_set and instructions != current.instructions
    if name is None and not describe and not instruct:
        return []
    return [
        ProjectUpdated(
            project_id=current.project_id,
            name=name,
            description=cmd.description if describe else None,
            description_set=describe,
            instructions=instructions if instruct else None,
            instructions_set=instruct,
        )
    ]


def decide_delete(
    state: ProjectState | None, cmd: DeleteProject, *, user_id: UUID | None
) -> list[ProjectDeleted]:
    current = require_owned(state, user_id)
    return [ProjectDeleted(project_id=current.project_id)]
