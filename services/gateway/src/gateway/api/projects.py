"""Projects: create, list (newest activity first), get, rename/describe, delete; and the
threads of one project (create inside it, list it)."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, Response

from contracts.commands import CreateProject, DeleteProject, UpdateProject
from contracts.queries import GetProject, ListProjects
from contracts.views import AckView, ProjectListView, ProjectView, ThreadPageView, ThreadView
from gateway.api.responses import not_found
from gateway.api.threads import BAD_CURSOR, Window, create_thread, list_threads
from gateway.deps import BusDep, Meta, Send
from gateway.schemas import ProjectIn, ProjectPatch, ThreadIn

router = APIRouter(tags=["projects"])
NOT_FOUND = not_found("project")


@router.post("/api/projects", status_code=201, response_model=ProjectView)
async def post_project(body: ProjectIn, send: Send) -> ProjectView:
    return await send(
        CreateProject,
        project_id=uuid4(),
        name=body.name,
        description=body.description,
        instructions=body.instructions,
    )


@router.get("/api/projects", response_model=ProjectListView)
async def get_projects(bus: BusDep, meta: Meta) -> ProjectListView:
    return await bus.call(ListProjects(meta=meta))


@router.get("/api/projects/{project_id}", response_model=ProjectView, responses=NOT_FOUND)
async def get_project(project_id: UUID, bus: BusDep, meta: Meta) -> ProjectView:
    query = GetProject(meta=meta, project_id=project_id)
    return await bus.call(query)


@router.patch("/api/projects/{project_id}", response_model=ProjectView, responses=NOT_FOUND)
async def patch_project(project_id: UUID, body: ProjectPatch, send: Send) -> ProjectView:
    return await send(
        UpdateProject,
        project_id=project_id,
        name=body.name,
        description=body.description,
        description_set="description" in body.model_fields_set,
        instructions=body.instructions,
        instructions_set="instructions" in body.model_fields_set,
    )


@router.delete("/api/projects/{project_id}", response_model=AckView, responses=NOT_FOUND)
async def delete_project(project_id: UUID, send: Send) -> AckView:
    """Its threads stay (now without a project); its documents are deleted."""
    return await send(DeleteProject, project_id=project_id)


@router.post(
    "/api/projects/{project_id}/threads",
    status_code=201,
    response_model=ThreadView,
    responses=NOT_FOUND,
    tags=["threads"],
)
async def post_project_thread(project_id: UUID, body: ThreadIn, send: Send) -> ThreadView:
    """A thread inside the project (a `project_id` in the body is ignored: the path wins)."""
    return await create_thread(body, project_id, send)


@router.get(
    "/api/projects/{project_id}/threads",
    response_model=ThreadPageView,
    responses={**NOT_FOUND, **BAD_CURSOR},
    tags=["threads"],
)
async def get_project_threads(
    project_id: UUID, bus: BusDep, meta: Meta, window: Window
) -> Response:
    return await list_threads(bus, meta, window, project_id)
