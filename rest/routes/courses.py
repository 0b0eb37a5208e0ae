"""Courses and their members.

Who may do what is decided in `storage.courses`: a course the caller cannot see is 404, a
course they can see but not manage is 403. Learners are refused staff-only routes by role
before any lookup, so a learner learns nothing about which ids exist from them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.courses import (
    CourseCreateIn,
    CourseListQuery,
    CourseOut,
    CourseUpdateIn,
    EnrolmentOut,
    MemberIn,
    MemberListQuery,
    MemberOut,
)
from storage import audit, courses, users
from storage.access import Principal
from storage.courses import Seen
from storage.errors import Conflict, InvalidInput
from storage.models import CourseStatus, EnrolmentRole, Role

router = Router("courses")

STAFF = (Role.TUTOR, Role.ADMIN)
COURSE = "/v1/courses/{course_id:uuid}"


def _course_out(view: Seen) -> CourseOut:
    out = CourseOut.model_validate(view.course)
    return out.model_copy(update={"enrolled": view.my_role is not None, "my_role": view.my_role})


@router.route(
    "POST",
    "/v1/courses",
    summary="Create a course (tutor or admin; a tutor becomes its first tutor)",
    body=CourseCreateIn,
    response=CourseOut,
    status=201,
)
async def create_course(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    data = await deps.body(request, CourseCreateIn)
    async with deps.state(request).sessions.begin() as db:
        view = await courses.create(db, who, **data.model_dump())
    return deps.respond(_course_out(view), 201)


@router.route(
    "GET",
    "/v1/courses",
    summary="Courses the caller can see: published ones, their own, or all for admins",
    query=CourseListQuery,
    response=list[CourseOut],
)
async def list_courses(request: Request) -> Response:
    who = await deps.principal(request)
    q = deps.query(request, CourseListQuery)
    async with deps.state(request).sessions() as db:
        found = await courses.listing(
            db, who, status=q.status, enrolled=q.enrolled, limit=q.limit, offset=q.offset
        )
    return deps.respond([_course_out(view) for view in found])


@router.route("GET", COURSE, summary="One course", response=CourseOut, errors=(404,))
async def get_course(request: Request) -> Response:
    who = await deps.principal(request)
    async with deps.state(request).sessions() as db:
        view = await courses.seen(db, who, deps.path_id(request, "course_id"))
    return deps.respond(_course_out(view))


@router.route(
    "PATCH",
    COURSE,
    summary="Edit a course (a tutor of it or an admin)",
    body=CourseUpdateIn,
    response=CourseOut,
    errors=(404,),
)
async def update_course(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    data = await deps.body(request, CourseUpdateIn)
    async with deps.state(request).sessions.begin() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        was_archived = view.course.status == CourseStatus.ARCHIVED.value
        for field, value in data.model_dump(mode="json", exclude_unset=True).items():
            setattr(view.course, field, value)
        # A patch may archive too, or bring a course back: the trail has both either way.
        if was_archived != (view.course.status == CourseStatus.ARCHIVED.value):
            action: audit.Action = "course.unarchived" if was_archived else "course.archived"
            audit.record(db, who, action, "course", view.course.id, request_id=deps.request_id())
    return deps.respond(_course_out(view))


@router.route(
    "POST",
    f"{COURSE}/archive",
    summary="Archive a course (a tutor of it or an admin)",
    response=CourseOut,
    errors=(404,),
)
async def archive_course(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    async with deps.state(request).sessions.begin() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        if view.course.status != CourseStatus.ARCHIVED.value:
            view.course.status = CourseStatus.ARCHIVED.value
            audit.record(
                db, who, "course.archived", "course", view.course.id, request_id=deps.request_id()
            )
    return deps.respond(_course_out(view))


@router.route(
    "POST",
    f"{COURSE}/enrol",
    summary="Enrol yourself in a published course (learner; idempotent)",
    response=EnrolmentOut,
    errors=(404, 409),
)
async def enrol(request: Request) -> Response:
    who = await deps.principal(request, Role.LEARNER)
    async with deps.state(request).sessions.begin() as db:
        view = await courses.seen(db, who, deps.path_id(request, "course_id"))
        # An existing enrolment is returned as it is, even if the course has closed since.
        if view.my_role is None and view.course.status != CourseStatus.PUBLISHED.value:
            raise Conflict("course is not open for enrolment", code="course_not_open")
        enrolment = await courses.enrol(db, view.course.id, who.user_id, EnrolmentRole.LEARNER)
    return deps.respond(EnrolmentOut.model_validate(enrolment))


@router.route(
    "DELETE",
    f"{COURSE}/enrol",
    summary="Leave a course (idempotent)",
    status=204,
    errors=(404,),
)
async def leave(request: Request) -> Response:
    who = await deps.principal(request)
    async with deps.state(request).sessions.begin() as db:
        view = await courses.seen(db, who, deps.path_id(request, "course_id"))
        await courses.leave(db, view.course.id, who.user_id)
    return Response(status_code=204)


def _sees_emails(request: Request, who: Principal) -> bool:
    return who.is_admin or deps.state(request).settings.auth.tutors_see_emails


async def _add_member(request: Request, role: EnrolmentRole) -> Response:
    who = await deps.principal(request, *STAFF)
    data = await deps.body(request, MemberIn)
    async with deps.state(request).sessions.begin() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        user = await users.get(db, data.user_id)
        if user.role != role.value:
            raise InvalidInput(f"user is not a {role.value}", code=f"not_a_{role.value}")
        if role is EnrolmentRole.LEARNER and view.course.status == CourseStatus.ARCHIVED.value:
            raise Conflict("course is archived", code="course_archived")
        enrolment = await courses.enrol(db, view.course.id, user.id, role)
    out = MemberOut(
        user_id=user.id,
        display_name=user.display_name,
        email=user.email if _sees_emails(request, who) else None,
        role=role,
        enrolled_at=enrolment.created_at,
    )
    return deps.respond(out)


@router.route(
    "POST",
    f"{COURSE}/tutors",
    summary="Attach a tutor to a course (a tutor of it or an admin; idempotent)",
    body=MemberIn,
    response=MemberOut,
    errors=(404, 409),
)
async def add_tutor(request: Request) -> Response:
    return await _add_member(request, EnrolmentRole.TUTOR)


@router.route(
    "POST",
    f"{COURSE}/learners",
    summary="Enrol a learner in a course (a tutor of it or an admin; idempotent)",
    body=MemberIn,
    response=MemberOut,
    errors=(404, 409),
)
async def add_learner(request: Request) -> Response:
    return await _add_member(request, EnrolmentRole.LEARNER)


@router.route(
    "GET",
    f"{COURSE}/members",
    summary="Tutors and learners of a course (a tutor of it or an admin)",
    query=MemberListQuery,
    response=list[MemberOut],
    errors=(404,),
)
async def list_members(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    q = deps.query(request, MemberListQuery)
    async with deps.state(request).sessions() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        rows = await courses.members(
            db, view.course.id, role=q.role, limit=q.limit, offset=q.offset
        )
    shown = _sees_emails(request, who)
    out = [
        MemberOut(
            user_id=user.id,
            display_name=user.display_name,
            email=user.email if shown else None,
            role=EnrolmentRole(enrolment.role),
            enrolled_at=enrolment.created_at,
        )
        for enrolment, user in rows
    ]
    return deps.respond(out)
