"""Drives `ideogram mcp --offline` with the official MCP client (the `mcp`
package from PyPI), as an agent's host would: initialize, list the tools
and check their schemas, generate and describe, read the saved image,
provoke a refusal that costs nothing, cancel a call once it was sent (it
is saved all the same and a log notification says where), and send
malformed `tools/call` params (-32602).

Usage: mcp_client.py IDEOGRAM_BINARY OUT_DIR (a step of .ci/run; it needs
the test venv, so it is not part of `cargo test`). Prints `N passed,
0 failed` at the end; a failed check exits non-zero.
"""
import asyncio
import hashlib
import json
import pathlib
import sys

import mcp.types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

BINARY, OUT = sys.argv[1], pathlib.Path(sys.argv[2])
# The offline mock keeps its queued jobs in a hidden folder of the run's,
# not in the user's cache folder.
OFFLINE_ENV = {
    "PATH": "/usr/bin:/bin",
    "NO_COLOR": "1",
    "IDEOGRAM_OFFLINE_JOBS": str(OUT / ".offline-jobs"),
}
PNG = b"\x89PNG\r\n\x1a\n"
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def resolve(schema, node):
    """A schema node with `$ref`s into `$defs` followed (and anyOf with
    null unwrapped), for reading enums the way a client does."""
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            node = next(n for n in node["anyOf"] if n.get("type") != "null")
        else:
            return node


def black_mask(image, path):
    """A black grayscale PNG of `image`'s size (repaint everything)."""
    import struct, zlib
    width, height = struct.unpack(">II", image.read_bytes()[16:24])
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def journal_lines():
    path = OUT / ".ideogram-mcp.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def files():
    return sorted(p.name for p in OUT.iterdir() if not p.name.startswith("."))


def refused(result, field):
    """A tool error that names `field` and cost nothing."""
    text = result.content[0].text if result.content else ""
    return (result.is_error and field in text
            and result.structured_content.get("billed") == "no")


async def schemas_and_checks_agree(session, tools):
    """Issue 23 item 5: every argument is checked against the schema
    tools/list publishes, both ways; integers sent as text are read only
    when exact."""
    upscale = tools["upscale"].input_schema["properties"]
    check("color_palette" not in upscale and "palette" not in upscale, upscale.keys())
    detail = upscale["detail"]
    check(detail.get("maximum") and detail.get("minimum"), detail)
    edit_count = tools["edit"].input_schema["properties"]["num_images"]
    check(edit_count.get("minimum") == 1 and edit_count.get("maximum"), edit_count)
    wait = tools["job_wait"].input_schema["properties"]["timeout_seconds"]
    image = "https://example.com/a.png"
    cases = [
        ("job_wait", {"request_id": "r", "timeout_seconds": 0}, "timeout_seconds"),
        ("job_wait", {"request_id": "r", "timeout_seconds": wait["maximum"] + 1}, "timeout_seconds"),
        ("models", {"colour": "red"}, "colour"),
        ("upscale", {"image": image, "color_palette": {"name": "EMBER"}}, "color_palette"),
        ("upscale", {"image": image, "detail": detail["maximum"] + 1}, "detail"),
        ("upscale", {"image": image, "resemblance": 1000}, "resemblance"),
        ("edit", {"image": image, "num_images": 0, "mask": image, "prompt": "x"}, "num_images"),
        ("edit", {"image": image, "num_images": edit_count["maximum"] + 1,
                  "mask": image, "prompt": "x"}, "num_images"),
        ("generate", {"prompt": "x", "seed": "42.0"}, "seed"),
        ("generate", {"prompt": "x", "seed": " 42"}, "seed"),
        ("generate", {"prompt": "x", "seed": "4e3"}, "seed"),
    ]
    before = journal_lines()
    for tool, arguments, field in cases:
        result = await session.call_tool(tool, arguments)
        check(refused(result, field), (tool, arguments, result))
    check(journal_lines() == before, "a refusal was journaled")
    # An integer as text, as some clients send them: read exactly.
    texted = await session.call_tool("generate", {"prompt": "a texted seed", "seed": "4242"})
    check(not texted.is_error, texted)
    check(texted.structured_content["images"][0]["seed"] == 4242, texted.structured_content)


async def tool_list_is_light_and_speaks_to_agents(session):
    """Issue 23 item 12: tools/list under 17 KB (15 KB before v2's operations, 16 KB before
    remove_background and remove_object, 16.5 KB before quote; v2's custom-model and
    transparent variants fitted by shorter first sentences in the specs), no Rust names, no CLI
    commands; a layerize_text tool; an outputSchema for every tool."""
    listed = await session.list_tools()
    wire = json.dumps(listed.model_dump(mode="json", by_alias=True, exclude_none=True),
                      separators=(",", ":"))
    check(len(wire) < 17_000, f"tools/list is {len(wire)} bytes")
    for rust in ["::", "limits", "uint32", "ColorPalette"]:
        check(rust not in wire, f"{rust} in tools/list")
    for cli in ["ideogram models", "--overwrite", "--wait"]:
        check(cli not in wire, f"{cli} in tools/list")
    names = {tool.name for tool in listed.tools}
    check("layerize_text" in names, names)
    check(all(tool.output_schema for tool in listed.tools),
          [t.name for t in listed.tools if not t.output_schema])
    # Errors say what to pass, not which command to run.
    taken = await session.call_tool("generate", {"prompt": "a fox", "model": "V_2A",
                                                 "color_palette": {"name": "EMBER"}})
    check(taken.is_error and "ideogram models" not in taken.content[0].text, taken)


async def images_an_agent_can_see(session, tools):
    """Issue 23 item 7: each saved image also as an inline thumbnail (at
    most 512 px long, under 1 MiB a result), readable as a resource, past
    ones listed; structuredContent valid against each tool's outputSchema."""
    import base64, io, struct
    import jsonschema
    made = await session.call_tool("generate", {"prompt": "a visible fox", "num_images": 2,
                                                "provider": "ideogram", "resolution": "1536x640"})
    check(not made.is_error, made)
    jsonschema.validate(made.structured_content, tools["generate"].output_schema)
    thumbs = [c for c in made.content if c.type == "image"]
    check(len(thumbs) == 2, [c.type for c in made.content])
    total = sum(len(t.data) for t in thumbs)
    check(total < 1 << 20, total)
    for thumb in thumbs:
        data = base64.b64decode(thumb.data)
        check(thumb.mime_type == "image/jpeg" and data[:2] == b"\xff\xd8", thumb.mime_type)
        # The JPEG's size, from its SOF0/SOF2 segment.
        i = 2
        while data[i + 1] not in (0xC0, 0xC2):
            i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
        height, width = struct.unpack(">HH", data[i + 5:i + 9])
        check(max(width, height) <= 512 and width > height, (width, height))
    # The saved file, through resources/read; and listed.
    link = next(c for c in made.content if c.type == "resource_link")
    path = pathlib.Path(made.structured_content["images"][0]["path"])
    read = await session.read_resource(link.uri)
    check(base64.b64decode(read.contents[0].blob) == path.read_bytes(), "resource differs")
    listed = await session.list_resources()
    check(str(link.uri) in [str(r.uri) for r in listed.resources], listed)
    # Nothing else on the machine is a resource.
    for uri in ["file:///etc/passwd", (OUT / ".ideogram-mcp.jsonl").as_uri()]:
        try:
            await session.read_resource(uri)
            check(False, f"{uri} was read")
        except Exception as err:  # an MCP error answer
            check("not an image this server saved" in str(err), err)
    # Every tool's output schema holds its results.
    for name, arguments in [("models", {}), ("describe", {"image": str(path)}),
                            ("job_status", {"request_id": "x"})]:
        result = await session.call_tool(name, arguments)
        if not result.is_error:
            jsonschema.validate(result.structured_content, tools[name].output_schema)


async def thumbnails_can_be_turned_off():
    """`--thumbnails none`: links and text only."""
    params = StdioServerParameters(
        command=BINARY,
        args=["mcp", "--offline", "--out", str(OUT / "plain"), "--thumbnails", "none"],
        env=OFFLINE_ENV,
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            made = await session.call_tool("generate", {"prompt": "a plain fox"})
            check(not made.is_error, made)
            types = [c.type for c in made.content]
            check("image" not in types and "resource_link" in types, types)


async def main():
    params = StdioServerParameters(
        command=BINARY,
        args=["mcp", "--offline", "--out", str(OUT)],
        # No key anywhere: offline needs none.
        env=OFFLINE_ENV,
    )
    logged = []
    said = asyncio.Event()

    async def on_log(params):
        logged.append(params)
        said.set()

    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, logging_callback=on_log) as session:
            init = await session.initialize()
            check(init.server_info.name == "ideogram", init)

            # The tools, and schemas taken from the library's request types.
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            for name in ["generate", "remix", "edit", "reframe", "replace_background",
                         "upscale", "remove_background", "remove_object", "describe",
                         "job_submit", "job_status", "job_wait", "models"]:
                check(name in tools, f"tool {name} missing: {sorted(tools)}")
            schema = tools["generate"].input_schema
            properties = schema["properties"]
            check(schema["required"] == ["prompt"], schema.get("required"))
            models = resolve(schema, properties["model"])["enum"]
            check("V_2A" in models and "V_3" in models, models)
            # The long tables are the `models` tool's, the schema a pattern.
            check("pattern" in properties["resolution"], properties["resolution"])
            tables = (await session.call_tool("models", {})).structured_content
            sizes = [r["resolution"] for r in tables["resolutions"]]
            check("1280x768" in sizes and "1000x1000" not in sizes, len(sizes))
            ratios = {r["aspect_ratio"] for r in tables["resolutions"]}
            check("16:9" in ratios, ratios)
            check(properties["prompt"]["maxLength"] > 0, properties["prompt"])
            check("seed" in properties and "idempotency_key" in properties, properties)
            check(properties["provider"]["enum"] == ["segmind", "ideogram"], properties["provider"])
            check("api_key" not in json.dumps(schema).lower(), "a key in a schema")
            # Each body field by its spec name, the operation's beside them.
            reframe = tools["reframe"].input_schema
            check("resolution" in reframe["required"], reframe)
            check("mask" not in reframe["properties"], reframe)
            check("negative_prompt" in properties and "style_type" in properties, properties)
            check("image" in tools["remix"].input_schema["required"], tools["remix"].input_schema)

            # Generate: a PNG on disk, its sidecar beside it, the metadata.
            progress = []

            async def on_progress(done, total, message):
                progress.append(message)

            result = await session.call_tool(
                "generate",
                {"prompt": "a lighthouse at dawn", "resolution": "1280x768", "seed": 4242},
                progress_callback=on_progress,
            )
            check(not result.is_error, result)
            data = result.structured_content
            check(data["billed"] == "yes", data)
            image = data["images"][0]
            first = pathlib.Path(image["path"])
            check(first.parent == OUT.resolve(), first)
            check(first.read_bytes()[:8] == PNG, "not a PNG")
            sidecar = json.loads(first.with_suffix(".json").read_text())
            check(sidecar["seed"] == 4242 and image["seed"] == 4242, sidecar)
            check(sidecar["resolution"] == "1280x768", sidecar)
            check(sidecar["status"] == "saved", sidecar)
            links = [c for c in result.content if c.type == "resource_link"]
            check(len(links) == 1 and str(links[0].uri) == first.as_uri(), links)
            check(progress, "no progress notification")
            entries = [e["event"] for e in journal_lines()]
            check(entries.index("generated") < entries.index("saved"), entries)
            first_bytes = hashlib.sha256(first.read_bytes()).hexdigest()

            # The same call again: a new file; the first is left as it was.
            again = await session.call_tool(
                "generate",
                {"prompt": "a lighthouse at dawn", "resolution": "1280x768", "seed": 4242},
            )
            check(not again.is_error, again)
            second = pathlib.Path(again.structured_content["images"][0]["path"])
            check(second != first and second.exists(), (first, second))
            check(hashlib.sha256(first.read_bytes()).hexdigest() == first_bytes, "overwritten")

            # Two calls at once with the same prompt: two files, both saved.
            twins = await asyncio.gather(
                session.call_tool("generate", {"prompt": "twin foxes"}),
                session.call_tool("generate", {"prompt": "twin foxes"}),
            )
            check(not any(t.is_error for t in twins), twins)
            paths = {t.structured_content["images"][0]["path"] for t in twins}
            check(len(paths) == 2 and all(pathlib.Path(p).exists() for p in paths), paths)

            # An idempotency key: the repeat answers from the journal.
            keyed = {"prompt": "a red fox", "idempotency_key": "fox-1"}
            once = await session.call_tool("generate", keyed)
            twice = await session.call_tool("generate", keyed)
            check(not once.is_error and not twice.is_error, (once, twice))
            check(twice.structured_content["billed"] == "earlier", twice.structured_content)
            check(once.structured_content["images"][0]["path"]
                  == twice.structured_content["images"][0]["path"], twice.structured_content)
            sent = [e for e in journal_lines() if e["event"] == "sending"]
            check(sum(e.get("key", "").startswith("fox-1#") for e in sent) == 1, sent)
            # The same key for another request is refused, unsent.
            other = await session.call_tool(
                "generate", {"prompt": "a grey wolf", "idempotency_key": "fox-1"})
            check(other.is_error and "another request" in other.content[0].text, other)
            check(other.structured_content["billed"] == "no", other.structured_content)

            # The operations on an image, each to its own new file.
            square = pathlib.Path(once.structured_content["images"][0]["path"])
            mask = black_mask(square, OUT / "mask.png")
            operations = [
                ("edit", {"image": str(square), "provider": "ideogram",
                          "mask": str(mask), "prompt": "a red door"}),
                ("remix", {"prompt": "the same fox as a woodcut", "image": str(square),
                           "image_weight": 60}),
                ("reframe", {"image": str(square), "provider": "ideogram",
                             "resolution": "1280x800"}),
                ("replace_background", {"image": str(square), "provider": "ideogram",
                                        "prompt": "a beach"}),
                ("upscale", {"image": str(square), "provider": "ideogram", "resemblance": 60}),
                ("remove_background", {"image": str(square), "provider": "ideogram"}),
                # Always asynchronous on the service: polled until done.
                ("remove_object", {"image": str(square), "provider": "ideogram",
                                   "mask": str(mask)}),
            ]
            made = set()
            for tool, arguments in operations:
                done = await session.call_tool(tool, arguments)
                check(not done.is_error, (tool, done))
                path = pathlib.Path(done.structured_content["images"][0]["path"])
                check(path.exists() and path.with_suffix(".json").exists(), (tool, path))
                made.add(path)
            check(len(made) == len(operations) and square not in made, made)
            mask.unlink()
            check(hashlib.sha256(first.read_bytes()).hexdigest() == first_bytes, "overwritten")

            # Segmind's queue: submit, status, wait (with progress).
            queued = await session.call_tool(
                "job_submit", {"prompt": "a queued fox", "model": "V_2A"})
            check(not queued.is_error, queued)
            job = queued.structured_content["request_id"]
            status = await session.call_tool("job_status", {"request_id": job})
            check(not status.is_error and status.structured_content["status"], status)
            polls = []

            async def on_poll(done, total, message):
                polls.append(message)

            waited = await session.call_tool(
                "job_wait", {"request_id": job}, progress_callback=on_poll)
            check(not waited.is_error, waited)
            check(pathlib.Path(waited.structured_content["images"][0]["path"]).exists(), waited)
            check(any(job in (m or "") for m in polls), polls)

            # Describe: text.
            described = await session.call_tool("describe", {"image": str(first)})
            check(not described.is_error, described)
            texts = [c.text for c in described.content if c.type == "text"]
            check(texts and all(texts), texts)

            # Refusals: tool errors naming the field and what it allows,
            # nothing sent (no new journal entry, no new file).
            before = (len(journal_lines()), files())
            bad = await session.call_tool(
                "generate", {"prompt": "a fox", "resolution": "1000x1000"})
            check(bad.is_error, bad)
            text = bad.content[0].text
            check("resolution" in text and "1024x1024" in text, text)
            check(bad.structured_content["billed"] == "no", bad.structured_content)
            palette = await session.call_tool(
                "generate", {"prompt": "a fox", "model": "V_2A", "color_palette": {"name": "EMBER"}})
            check(palette.is_error and "color_palette" in palette.content[0].text, palette)
            unknown = await session.call_tool("generate", {"prompt": "a fox", "colour": "red"})
            check(unknown.is_error and "colour" in unknown.content[0].text, unknown)
            check("prompt" in unknown.content[0].text, unknown.content[0].text)
            segmind_only = await session.call_tool(
                "edit", {"image": str(first), "mask": str(first), "prompt": "x",
                         "provider": "segmind"})
            check(segmind_only.is_error and "provider" in segmind_only.content[0].text,
                  segmind_only)
            # A file outside --out (and no --read): an agent cannot make the
            # server upload the user's other files.
            outside = OUT.parent / (OUT.name + "-outside.png")
            outside.write_bytes(first.read_bytes())
            private = await session.call_tool(
                "describe", {"image": str(outside)})
            check(private.is_error and "image" in private.content[0].text
                  and "URL" in private.content[0].text, private)
            check(private.structured_content["billed"] == "no", private.structured_content)
            linked = OUT / "link-out.png"
            linked.symlink_to(outside)
            through_link = await session.call_tool(
                "remix", {"prompt": "x", "image": str(linked)})
            check(through_link.is_error and "may read" in through_link.content[0].text,
                  through_link)
            linked.unlink()
            outside.unlink()
            check((len(journal_lines()), files()) == before, "a refusal sent or saved something")

            # A call cancelled once it was sent (the SDK sends
            # notifications/cancelled when the awaiting task is cancelled):
            # never abandoned, its image saved and journaled, a log
            # notification says where, and a repeat with its key returns
            # it without paying again.
            cancelled_args = {"prompt": "a cancelled fox", "idempotency_key": "cancel-1"}
            call = asyncio.create_task(session.call_tool("generate", cancelled_args))

            def sending():
                return any(e["event"] == "sending" and e.get("key", "").startswith("cancel-1#")
                           for e in journal_lines())

            async def until(condition, what):
                # The offline mock answers after 300 ms; a step that takes
                # 60 s is a hung server.
                async with asyncio.timeout(60):
                    while not condition():
                        await asyncio.sleep(0.01)
                check(True, what)

            await until(sending, "the call was never journaled as sending")
            call.cancel()
            try:
                await call
                check(False, "the cancelled call was answered")
            except asyncio.CancelledError:
                pass
            async with asyncio.timeout(60):
                await said.wait()
            note = logged[-1].data
            check(note["tool"] == "generate", note)
            saved = pathlib.Path(note["result"]["images"][0]["path"])
            check(saved.exists() and saved.read_bytes()[:8] == PNG, note)
            check(str(saved) in note["message"], note)
            repeat = await session.call_tool("generate", cancelled_args)
            check(repeat.structured_content["billed"] == "earlier", repeat.structured_content)
            check(repeat.structured_content["images"][0]["path"] == str(saved),
                  repeat.structured_content)
            sent = [e for e in journal_lines()
                    if e["event"] == "sending" and e.get("key", "").startswith("cancel-1#")]
            check(len(sent) == 1, sent)

            # tools/call params that do not fit: -32602 with the request's
            # id (the SDK raises it as the request's own error).
            for bad_params in [{"arguments": 7}, {"name": 7}, {"name": "generate", "arguments": []}]:
                try:
                    await session.send_request(
                        types.Request(method="tools/call", params=bad_params),
                        types.CallToolResult)
                    check(False, f"{bad_params} was answered")
                except MCPError as err:
                    check(err.error.code == -32602, (bad_params, err.error))

            await schemas_and_checks_agree(session, tools)
            await images_an_agent_can_see(session, tools)
            await tool_list_is_light_and_speaks_to_agents(session)

            # The tables.
            table = await session.call_tool("models", {})
            check(not table.is_error, table)
            rows = table.structured_content["models"]
            check(any(r["model"] == "V_3" for r in rows), rows)

            # A price, free: `arguments` checked as the tool's own.
            priced = await session.call_tool("quote", {
                "tool": "generate",
                "arguments": {"prompt": "a priced fox", "provider": "ideogram",
                              "model": "V_4_5", "num_images": 2}})
            check(not priced.is_error, priced)
            check(priced.structured_content["billed"] == "no", priced.structured_content)
            check(priced.structured_content["usd_micros"] > 0, priced.structured_content)
            quote_tool = tools["quote"]
            check(quote_tool.annotations.read_only_hint and quote_tool.annotations.idempotent_hint,
                  quote_tool.annotations)
            refused_quote = await session.call_tool("quote", {
                "tool": "generate", "arguments": {"prompt": "x", "num_images": 0}})
            check(refused(refused_quote, "arguments.num_images"), refused_quote)

    await thumbnails_can_be_turned_off()
    print(f"{checks} passed, 0 failed")


asyncio.run(main())
