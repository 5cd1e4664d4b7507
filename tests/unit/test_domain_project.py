"""The project aggregate's decisions, as pure functions."""

from __future__ import annotations

import uuid

import pytest

from contracts.commands import CreateProject, DeleteProject, UpdateProject
from contracts.events import ProjectCreated, ProjectDeleted, ProjectUpdated
from threads.domain import project
from threads.domain.errors import DomainError

OWNER = uuid.uuid4()


def created(name: str = "Name", description: str | None = "d") -> project.ProjectState:
    pid = uuid.uuid4()
    events = project.decide_create(
        None, CreateProject(project_id=pid, name=name, description=description), user_id=OWNER
    )
    state = project.fold(list(events))
    assert state is not None
    return state


def test_create_trims_the_name_and_refuses_blank_or_existing() -> None:
    pid = uuid.uuid4()
    [event] = project.decide_create(
        None, CreateProject(project_id=pid, name="  Research  "), user_id=OWNER
    )
    assert event == ProjectCreated(project_id=pid, user_id=OWNER, name="Research", description=None)
    with pytest.raises(DomainError) as err:
        project.decide_create(None, CreateProject(project_id=pid, name="   "), user_id=OWNER)
    assert err.value.code == "invalid"
    with pytest.raises(DomainError) as err:
        project.decide_create(created(), CreateProject(project_id=pid, name="x"), user_id=OWNER)
    assert err.value.code == "conflict"


def test_update_records_only_what_changes() -> None:
    state = created("Name", "d")
    cmd = UpdateProject(project_id=state.project_id, name="Name")
    assert project.decide_update(state, cmd, user_id=OWNER) == []
    cmd = UpdateProject(project_id=state.project_id, name="New")
    assert project.decide_update(state, cmd, user_id=OWNER) == [
        ProjectUpdated(project_id=state.project_id, name="New")
    ]
    clear = UpdateProject(project_id=state.project_id, description=None, description_set=True)
    [event] = project.decide_update(state, clear, user_id=OWNER)
    assert event.description_set and event.description is None and event.name is None
    after = project.evolve(state, event)
    assert after is not None and after.description is None and after.name == "Name"
    # description left out (description_set False) keeps it
    assert (
        project.decide_update(state, UpdateProject(project_id=state.project_id), user_id=OWNER)
        == []
    )


def test_another_users_or_deleted_project_is_not_found() -> None:
    state = created()
    for user in (uuid.uuid4(), None):
        with pytest.raises(DomainError) as err:
            project.decide_delete(state, DeleteProject(project_id=state.project_id), user_id=user)
        assert err.value.code == "not_found" and err.value.detail == "Project not found"
    [event] = project.decide_delete(
        state, DeleteProject(project_id=state.project_id), user_id=OWNER
    )
    assert event == ProjectDeleted(project_id=state.project_id)
    gone = project.evolve(state, event)
    with pytest.raises(DomainError):
        project.decide_update(
            gone, UpdateProject(project_id=state.project_id, name="x"), user_id=OWNER
        )


def test_nul_characters_are_refused() -> None:
    with pytest.raises(DomainError) as err:
        project.decide_create(
            None, CreateProject(project_id=uuid.uuid4(), name="a\x00b"), user_id=OWNER
        )
    assert err.value.code == "invalid"
