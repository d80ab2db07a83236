"""The fake's admin API: every ``/_fake/`` route, made from the table of controls
(``_controls.CONTROLS``), so a fake in another process (started by ``aio-classify fake-server``)
can be driven from any language or from ``curl``.

Every route works the same way: read and check its arguments in order (a bad one is a 422
naming the field; a field no argument reads is refused), answer 404 for an unknown ``{job_id}``,
then do the control's work and answer JSON.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from ._admin_args import Fields
from ._controls import CONTROLS, PREFIX, Control, Controls

#: How aiohttp declares a route of each verb (``get`` also answers HEAD).
ROUTE_OF_VERB = {"GET": web.get, "POST": web.post}


def _job_not_found() -> web.Response:
    """The 404 the admin job routes answer for an unknown id, worded as the service does."""
    return web.json_response({"detail": "Job not found"}, status=404)


def _handler(control: Control, server: Controls) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        fields = await Fields.of(request)
        args = {arg.name: arg.read(fields) for arg in control.args}
        fields.finish()
        if "job_id" in request.match_info:
            args["job_id"] = request.match_info["job_id"]
            if server.job(args["job_id"]) is None:
                return _job_not_found()
        try:
            return web.json_response(control.run(server, args))
        except ValueError as exc:
            if control.refusal is None:
                raise  # the app's generic 422 for a bad admin request
            return control.refusal(exc)

    return handle


def routes(server: Controls) -> list[web.RouteDef]:
    """Every admin route, bound to ``server``."""
    return [
        ROUTE_OF_VERB[control.verb](PREFIX + control.path, _handler(control, server))
        for control in CONTROLS
    ]
