#!/usr/bin/env python3
"""The mock's answers, for every operation of both specs and every
documented status it produces, validate against the spec's response schemas
(and use the content types and headers the spec declares), so the mock cannot
drift from the spec."""
import json
import pathlib
import re
import base64
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from mock_process import ROOT, Mock, Results
from validate_specs import absolutise, deref

SPECS = {name: yaml.safe_load((ROOT / "openapi" / f"{name}.yaml").read_text()) for name in ("segmind", "ideogram")}


def operation(doc, method, path):
    """The spec's operation for a concrete path (templates matched)."""
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise KeyError(f"{method} {path} is not in the spec")


def conforms(spec, method, path, status, headers, body):
    """Returns a list of problems with an answer, per the spec."""
    doc = SPECS[spec]
    op = operation(doc, method, path)
    response = op["responses"].get(str(status))
    if response is None:
        return [f"status {status} is not documented for {method} {path}"]
    response = deref(doc, response)
    problems = []
    content_type = headers.get("content-type", "").split(";")[0].strip()
    content = response.get("content", {})
    if content and content_type not in content:
        return [f"content type {content_type!r} is not one of {sorted(content)}"]
    media = content.get(content_type, {})
    schema = media.get("schema", {})
    if content_type == "application/json":
        registry = Registry().with_resource("urn:spec", Resource(doc, DRAFT4))
        validator = OAS30Validator(absolutise(schema), registry=registry)
        problems += [f"body: {e.message}" for e in validator.iter_errors(json.loads(body))]
    for name, header in response.get("headers", {}).items():
        if name == "x-rate-limit-reset-at-utc" or status == 200 and spec == "segmind" and path.startswith("/v1/"):
            if name not in headers:
                problems.append(f"header {name} missing")
    return problems


def call(base, method, path, headers=None, body=None):
    request = urllib.request.Request(base + path, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def check(results, spec, mock, name, method, path, expected, headers=None, body=None, as_path=None):
    """Calls the mock and checks the answer against the spec's operation for
    `as_path` (default: the path called, gateway prefix removed)."""
    status, answer_headers, answer = call(mock.api, method, path, headers, body)
    problems = [] if status == expected else [f"status {status}, expected {expected}: {answer[:200]!r}"]
    if status == expected:
        spec_path = as_path or path.removeprefix("/ideogram")
        problems += conforms(spec, method, spec_path, status, answer_headers, answer)
    results.check(f"{spec}: {name}", not problems, "; ".join(problems))
    return answer


def segmind(results):
    slugs = ["ideogram-txt-2-img", "ideogram-turbo-txt-2-img", "ideogram-2a-txt-2-img",
             "ideogram-2a-img-2-img", "ideogram-img-2-img", "ideogram-turbo-img-2-img"]
    with Mock("--queued-ms", "50", "--processing-ms", "100") as mock:
        key = {"x-api-key": mock.key, "content-type": "application/json"}
        for slug in slugs:
            body = {"prompt": "a lighthouse", "seed": 4242}
            if "img-2-img" in slug and "txt" not in slug:
                body |= {"image_file": "https://example.com/in.png", "image_weight": 60}
            raw = json.dumps(body).encode()
            check(results, "segmind", mock, f"v1 {slug} 200", "POST", f"/v1/{slug}", 200, key, raw)
            submitted = json.loads(check(results, "segmind", mock, f"v2 {slug} 200", "POST", f"/v2/{slug}", 200, key, raw))
        for name, bad in [
            ("a field the model does not take", {"prompt": "x", "color_palette": {"name": "EMBER"}}),
            ("a seed out of range", {"prompt": "x", "seed": 5}),
            ("null where the schema has none", {"prompt": "x", "seed": None}),
            ("an empty prompt", {"prompt": ""}),
        ]:
            answer = check(results, "segmind", mock, f"400 for {name}", "POST", "/v1/ideogram-2a-txt-2-img", 400, key,
                           json.dumps(bad).encode())
            field = next(k for k in bad if k != "prompt" or bad[k] == "")
            results.check(f"segmind: the 400 for {name} names {field}", field.encode() in answer, answer)
        check(results, "segmind", mock, "400 bad JSON", "POST", "/v1/ideogram-txt-2-img", 400, key, b"{")
        check(results, "segmind", mock, "406 content type", "POST", "/v1/ideogram-txt-2-img", 406,
              {"x-api-key": mock.key, "content-type": "text/plain"}, b"prompt")
        check(results, "segmind", mock, "401 no key", "POST", "/v1/ideogram-txt-2-img", 401,
              {"content-type": "application/json"}, b'{"prompt": "x"}')
        check(results, "segmind", mock, "404 unknown slug", "POST", "/v1/ideogram-9-img", 404, key, b'{"prompt": "x"}',
              as_path="/v1/ideogram-txt-2-img")
        request_id = submitted["request_id"]
        get = {"x-api-key": mock.key}
        check(results, "segmind", mock, "status 200", "GET", f"/v2/requests/{request_id}/status", 200, get)
        wait_for_end(mock, request_id, get)
        check(results, "segmind", mock, "result 200", "GET", f"/v2/requests/{request_id}", 200, get)
        poll_url = submitted["poll_url"]
        check(results, "segmind", mock, "the advertised poll_url answers", "GET", poll_url[len(mock.api):], 200, get)
        ledger = json.loads(urllib.request.urlopen(mock.ledger).read())
        results.check("segmind: the ledger is served", len(ledger["entries"]) >= len(slugs) + 1
                      and "credits" in ledger, ledger)
        check(results, "segmind", mock, "status 404", "GET", "/v2/requests/nope/status", 404, get)
        check(results, "segmind", mock, "result 404", "GET", "/v2/requests/nope", 404, get)
        failing = json.loads(check(results, "segmind", mock, "v2 submit of a failing job", "POST",
                                   "/v2/ideogram-txt-2-img", 200, key, b'{"prompt": "mock:fail"}'))
        wait_for_end(mock, failing["request_id"], get)
        check(results, "segmind", mock, "FAILED status 422", "GET", f"/v2/requests/{failing['request_id']}/status", 422, get)
        check(results, "segmind", mock, "FAILED result 422", "GET", f"/v2/requests/{failing['request_id']}", 422, get)
    with Mock("--credits", "0") as mock:
        key = {"x-api-key": mock.key, "content-type": "application/json"}
        check(results, "segmind", mock, "406 credits", "POST", "/v1/ideogram-txt-2-img", 406, key, b'{"prompt": "x"}')
    with Mock("--per-minute", "1") as mock:
        key = {"x-api-key": mock.key, "content-type": "application/json"}
        check(results, "segmind", mock, "first call within the limit", "POST", "/v1/ideogram-txt-2-img", 200, key, b'{"prompt": "x"}')
        check(results, "segmind", mock, "429 with reset time", "POST", "/v1/ideogram-txt-2-img", 429, key, b'{"prompt": "x"}')


def jpeg_size(data):
    """(width, height) from a baseline JPEG's SOF0 segment."""
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    return None


def segmind_v3_family(results):
    """Ideogram 3.0 and 4.0, character and describe on Segmind: every slug's
    spec example on v1 and v2, and answers sized as asked."""
    schemas = SPECS["segmind"]["components"]["schemas"]
    slugs = {"ideogram-3": "Ideogram3Request", "ideogram-3-remix": "Ideogram3RemixRequest",
             "ideogram-3-reframe": "Ideogram3ReframeRequest",
             "ideogram-3-replace-background": "Ideogram3ReplaceBackgroundRequest",
             "ideogram-character": "IdeogramCharacterRequest",
             "ideogram-describe": "IdeogramDescribeRequest", "ideogram-4": "Ideogram4Request"}
    with Mock("--queued-ms", "10", "--processing-ms", "20") as mock:
        key = {"x-api-key": mock.key, "content-type": "application/json"}
        for slug, schema in slugs.items():
            raw = json.dumps(schemas[schema]["example"]).encode()
            answer = check(results, "segmind", mock, f"v1 {slug} 200", "POST", f"/v1/{slug}", 200, key, raw)
            check(results, "segmind", mock, f"v2 {slug} 200", "POST", f"/v2/{slug}", 200, key, raw)
            if slug == "ideogram-describe":
                results.check("segmind: describe answers descriptions",
                              json.loads(answer)["descriptions"][0]["text"], answer)
        sized = [
            ("ideogram-3-reframe", {"image": "https://example.com/in.png", "resolution": "1280x768"}, (1280, 768)),
            ("ideogram-4", {"prompt": "x", "image_size": "landscape_16_9"}, (1024, 576)),
            ("ideogram-character", {"prompt": "x", "character_reference_image": "https://example.com/f.png",
                                    "aspect_ratio": "1:1"}, (1024, 1024)),
            ("ideogram-3-replace-background",
             {"prompt": "x", "image": base64.b64encode(png(96, 64)).decode()}, (96, 64)),
        ]
        for slug, body, expected in sized:
            answer = check(results, "segmind", mock, f"v1 {slug} sized", "POST", f"/v1/{slug}", 200, key,
                           json.dumps(body).encode())
            results.check(f"segmind: {slug} answers {expected[0]}x{expected[1]}", jpeg_size(answer) == expected,
                          jpeg_size(answer))
        for name, slug, bad, field in [
            ("a 2.x resolution on 3.0", "ideogram-3", {"prompt": "x", "resolution": "RESOLUTION_1024_1024"},
             "resolution"),
            ("an upper-case style on character", "ideogram-character",
             {"prompt": "x", "character_reference_image": "https://e.com/f.png", "style_type": "REALISTIC"},
             "style_type"),
            ("nine images on 4.0", "ideogram-4", {"prompt": "x", "num_images": 9}, "num_images"),
            ("a resolution with an aspect ratio", "ideogram-3",
             {"prompt": "x", "resolution": "1024x1024", "aspect_ratio": "1x1"}, "resolution"),
            ("a prompt on reframe", "ideogram-3-reframe", {"image": "https://e.com/i.png", "prompt": "x"}, "prompt"),
        ]:
            answer = check(results, "segmind", mock, f"400 for {name}", "POST", f"/v1/{slug}", 400, key,
                           json.dumps(bad).encode())
            results.check(f"segmind: the 400 for {name} names {field}", field.encode() in answer, answer)


def wait_for_end(mock, request_id, headers, deadline=10.0):
    """Polls a queued request until it is COMPLETED or FAILED."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        status, _, body = call(mock.api, "GET", f"/v2/requests/{request_id}/status", headers, None)
        if status == 422 or json.loads(body).get("status") == "COMPLETED":
            return
        time.sleep(0.02)
    raise RuntimeError(f"{request_id} never ended")


def multipart(fields):
    """A multipart body: each field a part (content type, data, file name), or
    a list of them for a repeated part; a content type of None sends none."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, parts in fields.items():
        for content_type, data, filename in parts if isinstance(parts, list) else [parts]:
            disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            if content_type:
                head += f"Content-Type: {content_type}\r\n"
            out += (head + "\r\n").encode() + data + b"\r\n"
    return f"multipart/form-data; boundary={boundary}", out + f"--{boundary}--\r\n".encode()


def png(width, height, rgb=(128, 128, 128)):
    """A real PNG of one colour."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def text(value):
    return (None, str(value).encode(), None)


def v3_operations(results, mock):
    """Ideogram 3.0's multipart operations and describe: answers, sizes and
    the rules the schema cannot say."""
    auth = {"api-key": mock.key}
    photo, mask, red = png(96, 64), png(96, 64, (0, 0, 0)), png(32, 32, (255, 0, 0))

    def send(name, path, fields, expected=200):
        content_type, body = multipart(fields)
        return check(results, "ideogram", mock, name, "POST", path, expected, auth | {"content-type": content_type}, body)

    def size_of(answer, key="resolution"):
        return json.loads(answer)["data"][0][key]

    answer = send("v3 edit 200", "/v1/ideogram-v3/edit", {
        "image": ("image/png", photo, "in.png"), "mask": ("image/png", mask, "mask.png"),
        "prompt": text("a red door"), "num_images": text(2), "color_palette": ("application/json", b'{"name": "EMBER"}', None)})
    results.check("ideogram: edit keeps the input's size", size_of(answer) == "96x64", answer)
    send("v3 edit 400 mask of another size", "/v1/ideogram-v3/edit", {
        "image": ("image/png", photo, "in.png"), "mask": ("image/png", red, "m.png"), "prompt": text("x")}, 400)
    answer = send("v3 edit 400 mask in colour", "/v1/ideogram-v3/edit", {
        "image": ("image/png", photo, "in.png"), "mask": ("image/png", png(96, 64, (255, 0, 0)), "m.png"),
        "prompt": text("x")}, 400)
    results.check("ideogram: the colour mask's 400 names the mask", b"mask" in answer, answer)
    answer = send("v3 reframe 200", "/v1/ideogram-v3/reframe", {
        "image": ("image/png", red, "in.png"), "resolution": text("1280x800"), "rendering_speed": text("TURBO")})
    results.check("ideogram: reframe answers the resolution asked", size_of(answer) == "1280x800", answer)
    answer = send("v3 replace-background 200", "/v1/ideogram-v3/replace-background", {
        "image": ("image/png", photo, "in.png"), "prompt": text("a beach"),
        "style_reference_images": [("image/png", red, "s1.png"), ("image/png", red, "s2.png")]})
    results.check("ideogram: replace-background keeps the input's size", size_of(answer) == "96x64", answer)
    send("v3 remix 200", "/v1/ideogram-v3/remix", {
        "image": ("image/png", photo, "in.png"), "prompt": text("at night"), "image_weight": text(70),
        "style_codes": [text("AAFF5733"), text("0133FF57")], "aspect_ratio": text("16x9")})
    answer = send("v3 remix 400 style_codes with style_type", "/v1/ideogram-v3/remix", {
        "image": ("image/png", photo, "in.png"), "prompt": text("x"), "style_codes": text("AAFF5733"),
        "style_type": text("DESIGN")}, 400)
    results.check("ideogram: the 400 names style_type", b"style_type" in answer, answer)
    answer = send("v3 replace-background 400 style_codes with style reference files",
                  "/v1/ideogram-v3/replace-background", {
                      "image": ("image/png", photo, "in.png"), "prompt": text("x"),
                      "style_codes": text("AAFF5733"), "style_reference_images": ("image/png", red, "s.png")}, 400)
    results.check("ideogram: the 400 names style_reference_images", b"style_reference_images" in answer, answer)
    send("v3 generate multipart with a character 200", "/v1/ideogram-v3/generate", {
        "prompt": text("a knight"), "character_reference_images": ("image/png", photo, "c.png"),
        "character_reference_images_mask": ("image/png", mask, "cm.png")})
    answer = send("v3 generate 400 two characters", "/v1/ideogram-v3/generate", {
        "prompt": text("x"), "character_reference_images": [("image/png", photo, "a.png"), ("image/png", photo, "b.png")]}, 400)
    results.check("ideogram: the 400 names character_reference_images", b"character_reference_images" in answer, answer)
    send("v3 generate 400 a colour mask", "/v1/ideogram-v3/generate", {
        "prompt": text("x"), "character_reference_images": ("image/png", red, "c.png"),
        "character_reference_images_mask": ("image/png", red, "cm.png")}, 400)
    answer = send("v3 400 an unknown part", "/v1/ideogram-v3/reframe", {
        "image": ("image/png", red, "in.png"), "resolution": text("1024x1024"), "prompt": text("x")}, 400)
    results.check("ideogram: the 400 names the unknown part", b"prompt" in answer, answer)
    for name, fields in [
        ("json", None),
        ("multipart", {"prompt": text("a lantern"), "upscale_factor": text("X2"), "aspect_ratio": text("1x1")}),
    ]:
        if fields is None:
            answer = check(results, "ideogram", mock, "v3 transparent json 200", "POST", "/v1/ideogram-v3/generate-transparent",
                           200, auth | {"content-type": "application/json"},
                           json.dumps({"prompt": "a lantern", "upscale_factor": "X2", "aspect_ratio": "1x1"}).encode())
        else:
            answer = send(f"v3 transparent {name} 200", "/v1/ideogram-v3/generate-transparent", fields)
        image = json.loads(answer)["data"][0]
        results.check(f"ideogram: transparent ({name}) reports the upscaled size",
                      image["upscaled_resolution"] == "2048x2048" and image["resolution"] == "1024x1024", image)
        served = urllib.request.urlopen(image["url"]).read()
        results.check(f"ideogram: transparent ({name}) serves a PNG with alpha", served[25] == 6, served[:32])
    answer = send("describe 200", "/describe", {"image_file": ("image/png", photo, "in.png"),
                                                "describe_model_version": text("V_3")})
    results.check("ideogram: describe answers text", "96x64" in json.loads(answer)["descriptions"][0]["text"], answer)
    send("describe 400 not an image", "/describe", {"image_file": ("image/gif", b"GIF89a", "in.gif")}, 400)
    answer = json.loads(send("v2 describe 4.0 200", "/v2/image/describe/ideogram-4", {
        "image": ("image/png", photo, "in.png"), "include_tags": text("true")}))
    results.check("ideogram: v2 describe on 4.0 answers a json_prompt",
                  isinstance(answer.get("json_prompt"), dict) and "descriptions" not in answer, answer)
    answer = json.loads(send("v2 describe 3.0 200", "/v2/image/describe/ideogram-3", {
        "image": ("image/png", photo, "in.png")}))
    results.check("ideogram: v2 describe on 3.0 answers text", "96x64" in answer["descriptions"][0]["text"], answer)
    send("v2 describe 3.0 400 a 4.0 field", "/v2/image/describe/ideogram-3", {
        "image": ("image/png", photo, "in.png"), "include_tags": text("true")}, 400)
    answer = json.loads(send("v2 layerize 200", "/v2/design/layerize/ideogram-3", {
        "image": ("image/png", photo, "in.png")}))
    layered = answer["data"][0]
    results.check("ideogram: v2 layerize answers a layerized image with its base and blocks",
                  layered["object_type"] == "layerized_image" and layered["base_image_url"]
                  and layered["text_blocks"][0]["text"], answer)
    answer = json.loads(send("v2 layerize async 200", "/v2/design/layerize/ideogram-3", {
        "image": ("image/png", photo, "in.png"), "async": text("true")}))
    results.check("ideogram: an async v2 layerize answers its generation id alone",
                  answer["generation_id"] and not answer.get("data"), answer)
    v2_variants(results, mock, send)
    answer = send("upscale 200", "/upscale", {
        "image_request": ("application/json", b'{"resemblance": 70, "detail": 30, "num_images": 2}', None),
        "image_file": ("image/png", photo, "in.png")})
    results.check("ideogram: upscale answers a larger image", size_of(answer) == "192x128"
                  and len(json.loads(answer)["data"]) == 2, answer)
    send("upscale 400 resemblance past 100", "/upscale", {
        "image_request": ("application/json", b'{"resemblance": 101}', None),
        "image_file": ("image/png", photo, "in.png")}, 400)
    v4 = "/v1/ideogram-v4/generate"
    json_auth = auth | {"content-type": "application/json"}
    for name, body in [("prompt", {"prompt": "a lighthouse", "seed": None}),
                       ("text_prompt", {"text_prompt": "a lighthouse", "resolution": "1280x800"})]:
        answer = check(results, "ideogram", mock, f"v4 json {name} 200", "POST", v4, 200, json_auth, json.dumps(body).encode())
    results.check("ideogram: v4 answers the resolution asked", size_of(answer) == "1280x800", answer)
    send("v4 multipart json_prompt 200", v4, {
        "json_prompt": ("application/json", b'{"subject": "a lighthouse", "style": "poster"}', None),
        "rendering_speed": text("QUALITY")})
    for name, body in [("two prompts", {"prompt": "x", "text_prompt": "x"}),
                       ("FLASH", {"prompt": "x", "rendering_speed": "FLASH"})]:
        check(results, "ideogram", mock, f"v4 400 {name}", "POST", v4, 400, json_auth, json.dumps(body).encode())
    answer = json.loads(send("layerize-text 200", "/v1/ideogram-v3/layerize-text", {
        "image": ("image/png", photo, "in.png"), "seed": text(5)}))
    base = urllib.request.urlopen(answer["base_image_url"]).read()
    results.check("ideogram: layerize-text serves the base image at the input's size",
                  struct.unpack(">II", base[16:24]) == (96, 64) and answer["text_blocks"], answer)


def v2_variants(results, mock, send):
    """v2's custom-model, transparent and character variants, and asset
    identifiers sent as JSON parts in place of files."""
    photo, mask = png(96, 64), png(96, 64, (0, 0, 0))
    json_auth = {"api-key": mock.key, "content-type": "application/json"}

    def send_json(name, path, body, expected=200):
        return check(results, "ideogram", mock, name, "POST", path, expected, json_auth, json.dumps(body).encode())

    model = "model/fox-painter/version/3"
    send_json("v2 generate 4.0 custom model 200", "/v2/image/generate/ideogram-4-custom-model", {
        "prompt": "a fox", "custom_model_uri": model,
        "stacked_custom_models": [{"custom_model_uri": "model/ink/version/1", "weight": 0.5}]})
    answer = send_json("v2 generate 4.0 custom model 400 a bad uri", "/v2/image/generate/ideogram-4-custom-model", {
        "prompt": "a fox", "custom_model_uri": "fox-painter:3"}, 400)
    results.check("ideogram: the 400 names custom_model_uri", b"custom_model_uri" in answer, answer)
    send_json("v2 generate 4.0 custom model 400 a weight of 0", "/v2/image/generate/ideogram-4-custom-model", {
        "prompt": "a fox", "custom_model_uri": model,
        "stacked_custom_models": [{"custom_model_uri": model, "weight": 0}]}, 400)
    for path in ("/v2/image/generate/ideogram-4-transparent", "/v2/image/generate/ideogram-3-transparent"):
        body = {"prompt": "a lantern", "aspect_ratio": "1x1"}
        if "ideogram-4" in path:
            body["output_resolution"] = "2k"
        image = json.loads(send_json(f"v2 transparent {path} 200", path, body))["data"][0]
        served = urllib.request.urlopen(image["url"]).read()
        results.check(f"ideogram: {path} serves a PNG with alpha", served[25] == 6, served[:32])
    send_json("v2 generate 4.0 transparent 400 a resolution", "/v2/image/generate/ideogram-4-transparent", {
        "prompt": "a lantern", "resolution": "1024x1024"}, 400)
    send("v2 generate 3.0 custom model multipart 200", "/v2/image/generate/ideogram-3-custom-model", {
        "prompt": text("a fox"), "custom_model_uri": text(model),
        "style_reference_images": ("image/png", photo, "s.png")})
    edited = {"image": ("image/png", photo, "in.png"), "mask": ("image/png", mask, "m.png"), "prompt": text("a hat")}
    send("v2 inpaint 3.0 character 200", "/v2/image/inpaint/ideogram-3-character",
         edited | {"character_reference_images": ("image/png", photo, "c.png")})
    send("v2 inpaint 3.0 custom model 200", "/v2/image/inpaint/ideogram-3-custom-model",
         edited | {"custom_model_uri": text(model)})
    answer = send("v2 inpaint 3.0 custom model 400 a webhook_url", "/v2/image/inpaint/ideogram-3-custom-model",
                  edited | {"custom_model_uri": text(model), "webhook_url": text("https://example.com/hook")}, 400)
    results.check("ideogram: the 400 names webhook_url", b"webhook_url" in answer, answer)
    remixed = {"image": ("image/png", photo, "in.png"), "prompt": text("at night")}
    send("v2 remix 3.0 character 200", "/v2/image/remix/ideogram-3-character",
         remixed | {"character_reference_images": ("image/png", photo, "c.png")})
    send("v2 remix 3.0 custom model 200", "/v2/image/remix/ideogram-3-custom-model",
         remixed | {"custom_model_uri": text(model)})
    asset = {"asset_type": "RESPONSE", "asset_id": "b2ZmaWNpYWw"}

    def part(value):
        return ("application/json", json.dumps(value).encode(), None)

    # An identifier stands in for its file (`x-in-place-of`): one of the two.
    unfiled = {"prompt": text("a hat")}
    send("v2 inpaint with asset identifiers as JSON parts in place of both files 200", "/v2/image/inpaint/ideogram-3",
         unfiled | {"image_asset_identifier": part(asset), "mask_asset_identifier": part(asset),
                    "style_reference_asset_identifiers": [part(asset)] * 2})
    send("v2 inpaint of an asset with a mask file 200", "/v2/image/inpaint/ideogram-3",
         unfiled | {"image_asset_identifier": part(asset), "mask": ("image/png", mask, "m.png")})
    for path, body in [("/v2/image/remix/ideogram-3", {"prompt": text("at night")}),
                       ("/v2/image/describe/ideogram-4", {}), ("/v2/image/describe/ideogram-3", {})]:
        send(f"v2 {path} of an asset 200", path, body | {"image_asset_identifier": part(asset)})
    answer = send("v2 inpaint 400 neither the image nor its identifier", "/v2/image/inpaint/ideogram-3",
                  unfiled | {"mask": ("image/png", mask, "m.png")}, 400)
    results.check("ideogram: the 400 for no image names image and image_asset_identifier",
                  b"image" in answer and b"image_asset_identifier" in answer, answer)
    answer = send("v2 inpaint 400 both the image and its identifier", "/v2/image/inpaint/ideogram-3",
                  edited | {"image_asset_identifier": part(asset)}, 400)
    results.check("ideogram: the 400 for both names image_asset_identifier and image",
                  b"image_asset_identifier: cannot be given with image" in answer, answer)
    for name, bad in [("an unknown asset type", asset | {"asset_type": "PHOTO"}),
                      ("a short collection id", asset | {"collection_id": "short"}),
                      ("no asset id", {"asset_type": "RESPONSE"})]:
        answer = send(f"v2 inpaint 400 {name}", "/v2/image/inpaint/ideogram-3", unfiled | {
            "mask": ("image/png", mask, "m.png"), "image_asset_identifier": part(bad)}, 400)
        results.check(f"ideogram: the 400 for {name} names image_asset_identifier",
                      b"image_asset_identifier" in answer, answer)


def ideogram(results):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    with Mock() as mock:
        key = {"api-key": mock.key, "content-type": "application/json"}
        for prefix, auth in (("", key), ("/ideogram", {"authorization": f"Bearer {mock.key}", "content-type": "application/json"})):
            check(results, "ideogram", mock, f"{prefix}/generate 200", "POST", f"{prefix}/generate", 200, auth,
                  json.dumps({"image_request": {"prompt": "beach", "num_images": 2, "aspect_ratio": "ASPECT_16_9"}}).encode())
        check(results, "ideogram", mock, "v3 200", "POST", "/v1/ideogram-v3/generate", 200, key,
              json.dumps({"prompt": "cat", "resolution": "800x1280", "rendering_speed": "TURBO"}).encode())
        content_type, body = multipart({
            "image_request": ("application/json", json.dumps({"prompt": "remix", "image_weight": 40}).encode(), None),
            "image_file": ("image/png", png, "in.png"),
        })
        check(results, "ideogram", mock, "remix 200", "POST", "/remix", 200, {"api-key": mock.key, "content-type": content_type}, body)
        check(results, "ideogram", mock, "withheld image", "POST", "/generate", 200, key,
              json.dumps({"image_request": {"prompt": "mock:withheld"}}).encode())
        check(results, "ideogram", mock, "400 invalid", "POST", "/generate", 400, key,
              json.dumps({"image_request": {"prompt": "x", "resolution": "RESOLUTION_1_1"}}).encode())
        for name, bad, field in [
            ("a seed below the range", {"prompt": "x", "seed": -1}, b"seed"),
            ("null where the schema has none", {"prompt": "x", "num_images": None}, b"num_images"),
            ("nine palette colours", {"prompt": "x", "color_palette": {"members": [{"color_hex": "#123"}] * 9}},
             b"color_palette"),
            ("a colour weight past 1", {"prompt": "x", "color_palette": {"members": [
                {"color_hex": "#123", "color_weight": 1.5}]}}, b"color_palette"),
        ]:
            answer = check(results, "ideogram", mock, f"400 for {name}", "POST", "/generate", 400, key,
                           json.dumps({"image_request": bad}).encode())
            results.check(f"ideogram: the 400 for {name} names {field.decode()}", field in answer, answer)
        check(results, "ideogram", mock, "401", "POST", "/generate", 401, {"content-type": "application/json"}, b"{}")
        check(results, "ideogram", mock, "422 safety", "POST", "/generate", 422, key,
              json.dumps({"image_request": {"prompt": "mock:unsafe"}}).encode())
        content_type, body = multipart({
            "image_request": ("application/json", b'{"prompt": "x"}', None),
            "image_file": ("image/gif", b"GIF89a", "in.gif"),
        })
        answer = check(results, "ideogram", mock, "remix 400 wrong image type", "POST", "/remix", 400,
                       {"api-key": mock.key, "content-type": content_type}, body)
        results.check("ideogram: the 400 names the part", b"image_file" in answer, answer)
        v3_operations(results, mock)
        webhook_keys(results, mock)
    with Mock("--credits", "0") as mock:
        key = {"api-key": mock.key, "content-type": "application/json"}
        check(results, "ideogram", mock, "402 funds", "POST", "/generate", 402, key, b'{"image_request": {"prompt": "x"}}')
    with Mock("--inflight-limit", "1") as mock:
        key = {"api-key": mock.key, "content-type": "application/json"}
        check(results, "ideogram", mock, "429 in flight", "POST", "/generate", 429, key,
              b'{"image_request": {"prompt": "x", "num_images": 2}}')


def webhook_keys(results, mock):
    """The webhook signing keys: the spec's JWKS, Ed25519 keys of 32 bytes."""
    answer = check(results, "ideogram", mock, "webhook keys 200", "GET", "/v1/.well-known/jwks.json", 200)
    keys = json.loads(answer)["keys"]
    results.check("ideogram: the JWKS holds an Ed25519 key of 32 bytes",
                  keys and all(k["kty"] == "OKP" and k["crv"] == "Ed25519"
                               and len(base64.urlsafe_b64decode(k["x"] + "=")) == 32 for k in keys), answer)


def main():
    results = Results()
    segmind(results)
    segmind_v3_family(results)
    ideogram(results)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
