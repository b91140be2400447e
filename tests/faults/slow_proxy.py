"""A real slow server for the fault tests: forwards every request to a target after
the current delay (`PUT /__delay__?seconds=N` sets it, `GET /__delay__` reads it).

    python -m tests.faults.slow_proxy --port 8123 --target http://127.0.0.1:5102
"""
import argparse
import asyncio

from aiohttp import ClientSession, ClientTimeout, web

HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection"}


def create_app(target: str) -> web.Application:
    app = web.Application()
    state = {"delay": 0.0}

    async def delay(request: web.Request) -> web.Response:
        if request.method == "PUT":
            state["delay"] = float(request.query["seconds"])
        return web.json_response(state)

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()

        async def slowly() -> web.Response:
            await asyncio.sleep(state["delay"])
            async with ClientSession(timeout=ClientTimeout(total=60)) as session:
                async with session.request(request.method, target + request.path_qs,
                                           headers=headers, data=body) as answer:
                    return web.Response(status=answer.status, body=await answer.read(),
                                        content_type=answer.content_type)

        # Like a slow server, it finishes the work even when the client gave up waiting.
        return await asyncio.shield(asyncio.ensure_future(slowly()))

    app.router.add_route("*", "/__delay__", delay)
    app.router.add_route("*", "/{path:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args()
    web.run_app(create_app(args.target.rstrip("/")), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
