"""docker-compose.yml, the production file (issue #21, part 3), checked without a container engine: YAML following
the compose specification; references only to services and volumes it defines; FlyO's services get only variables
FlyO reads (core.config.Settings) and no secret values (.env has them); MongoDB is the replica set rs0 FlyO's URI
names; every service restarts and has a health check, its data on named volumes; deploy/Caddyfile sends
/webhooks/telegram, /webhooks/stripe and /app/ to every FlyO replica on its port (and Caddy itself validates it, if
installed). Each check returns the problems it found; broken copies fed to the same checks show they catch them.

tests/ops/compose-spec.json is the compose specification's JSON schema, unmodified: schema/compose-spec.json of
github.com/compose-spec/compose-spec at commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6 (2026-06-23; the file last
changed in a08f8d51631b7127ddac3d2c65537db429d0f1d0, 2025-10-28). To update it, replace the file and SCHEMA_SHA256.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator
from pydantic import SecretStr

from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
SCHEMA = Path(__file__).with_name("compose-spec.json")
SCHEMA_SHA256 = "1f91e091f16b2dd50ab8860e02bb391d22df553d91c145eacedb1b6eff9c3f0e"

FIELDS = frozenset(Settings.model_fields)
SECRET_FIELDS = frozenset(n for n, f in Settings.model_fields.items() if SecretStr in (get_args(f.annotation) or
                                                                                       (f.annotation,)))
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD", re.IGNORECASE)
# Stripe keys and signing secrets, SendGrid keys, Telegram bot tokens: never in this file, whatever the key.
SECRET_VALUE = re.compile(r"\b[sr]k_(?:live|test)_\w+|\bwhsec_\w+|\bSG\.[\w-]{10,}|\b\d{6,}:[\w-]{30,}")
VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)|\$([A-Za-z_]\w*)")
NAMED = re.compile(r"[^./~$]")  # a volume source that is a name, not a path
PUBLIC_PATHS = ("/webhooks/telegram", "/webhooks/stripe", "/app/", "/app/api/seats")


# ---- the compose file ---------------------------------------------------------------------------------------
def services(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return doc.get("services") or {}


def flyo_services(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """FlyO's own services: built from this repository (build: .) or running its image (flyo:…)."""
    def context(s: dict[str, Any]) -> str:
        build = s.get("build")
        return str(build.get("context", ".") if isinstance(build, dict) else build or "").rstrip("/")
    return {n: s for n, s in services(doc).items() if context(s) == "." or str(s.get("image")).startswith("flyo:")}


def one_service(doc: dict[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    found = [(n, s) for n, s in services(doc).items() if str(s.get("image")).startswith(prefix)]
    assert len(found) == 1, f"expected one service with image {prefix}…, found {[n for n, _ in found]}"
    return found[0]


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return {k: (v if sep else None) for k, sep, v in (str(e).partition("=") for e in env)}
    return {k: None if v is None else str(v) for k, v in env.items()}


def env_files(service: dict[str, Any]) -> list[str]:
    raw = service.get("env_file") or []
    return [str(i["path"] if isinstance(i, dict) else i).removeprefix("./") for i in (raw if isinstance(raw, list)
                                                                                       else [raw])]


def mount(entry: Any) -> tuple[str, str]:
    """(source, target) of a volumes entry, short or long syntax; the source is '' for tmpfs and the like."""
    if isinstance(entry, dict):
        return str(entry.get("source", "")), str(entry.get("target", ""))
    source, _, rest = str(entry).partition(":")
    return (source, rest.partition(":")[0]) if rest else ("", source)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(doc)]


def reference_problems(doc: dict[str, Any]) -> list[str]:
    names, volumes = set(services(doc)), set(doc.get("volumes") or {})
    networks = set(doc.get("networks") or {}) | {"default"}
    problems, used = [], set()
    for name, svc in services(doc).items():
        problems += [f"{name}: depends_on {d!r}, not a service" for d in svc.get("depends_on") or [] if d not in names]
        problems += [f"{name}: network {n!r} is not defined" for n in svc.get("networks") or [] if n not in networks]
        extends = svc.get("extends")
        base = extends if isinstance(extends, str) else None if not extends or "file" in extends else extends["service"]
        if base is not None and base not in names:
            problems.append(f"{name}: extends {base!r}, not a service here")
        for other in svc.get("volumes_from") or []:
            if not str(other).startswith("container:") and str(other).partition(":")[0] not in names:
                problems.append(f"{name}: volumes_from {other!r}, not a service here")
        for source, _ in map(mount, svc.get("volumes") or []):
            if NAMED.match(source):
                used.add(source)
                if source not in volumes:
                    problems.append(f"{name}: volume {source!r} is not declared under volumes:")
    return problems + [f"volume {v!r} is declared but no service mounts it" for v in sorted(volumes - used)]


def env_problems(doc: dict[str, Any]) -> list[str]:
    flyo = flyo_services(doc)
    problems = [] if len(flyo) >= 2 else [f"expected two FlyO replicas or more, found {sorted(flyo)}"]
    for name, svc in flyo.items():
        env = environment(svc)
        problems += [f"{name}: {k} is not a FlyO setting (core.config.Settings)" for k in sorted(set(env) - FIELDS)]
        used = {a or b for v in env.values() if v for a, b in VARIABLE.findall(v.replace("$$", ""))}
        problems += [f"{name}: ${{{v}}} is not a FlyO setting (core.config.Settings)" for v in sorted(used - FIELDS)]
    return problems


def secret_problems(doc: dict[str, Any], text: str) -> list[str]:
    flyo, problems = flyo_services(doc), []
    for name, svc in services(doc).items():
        for key, value in environment(svc).items():
            secret = key in SECRET_FIELDS or SECRET_NAME.search(key)
            # A literal: not only ${VAR} or ${VAR:?message} (a default, ${VAR:-x}, is one). MONGODB_URI is a
            # SecretStr for the credentials it may carry; a URI without any is not a secret.
            literal = re.fullmatch(r"\$\{\w+(?::?\?[^}]*)?\}", value or "") is None
            uri = urlsplit(value or "")
            if secret and value and literal and not (uri.scheme and uri.netloc and "@" not in uri.netloc):
                problems.append(f"{name}: {key} is given a value in the file; secrets belong in .env")
        if name in flyo and ".env" not in env_files(svc):
            problems.append(f"{name}: no env_file .env, so FlyO gets none of its secrets")
        if name not in flyo and ".env" in env_files(svc):
            problems.append(f"{name} is not FlyO but reads .env, every secret in it")
    return problems + [f"a secret in the file: {m[:8]}…" for m in SECRET_VALUE.findall(text)]


def replica_set_problems(doc: dict[str, Any]) -> list[str]:
    name, mongo = one_service(doc, "mongo:")
    command = mongo.get("command") or []
    args = " ".join(shlex.split(command) if isinstance(command, str) else map(str, command)).replace("=", " ")
    problems = [] if re.search(r"--replSet rs0(\s|$)", args) else [f"{name} does not run with --replSet rs0: {args}"]
    init = json.dumps([mongo.get("healthcheck"), *(s.get("command") for s in services(doc).values())])
    if not re.search(rf"rs\.initiate\(\{{_id: 'rs0', members: \[\{{_id: 0, host: '{name}:27017'}}", init):
        problems.append(f"nothing initiates the replica set rs0 with member {name}:27017")
    for flyo, svc in flyo_services(doc).items():
        uri = urlsplit(environment(svc).get("MONGODB_URI") or "")
        if parse_qs(uri.query).get("replicaSet") != ["rs0"] or uri.hostname != name:
            problems.append(f"{flyo}: MONGODB_URI does not name replicaSet=rs0 on {name}: {uri.geturl()!r}")
        depends = svc.get("depends_on")
        if not isinstance(depends, dict) or (depends.get(name) or {}).get("condition") != "service_healthy":
            problems.append(f"{flyo} does not wait for {name} to be healthy (the replica set initiated)")
    return problems


def robustness_problems(doc: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in services(doc).items():
        if not re.fullmatch(r"always|unless-stopped|on-failure(:\d+)?", str(svc.get("restart", ""))):
            problems.append(f"{name} has no restart policy")
        check = svc.get("healthcheck") or {}
        if not check.get("test") or check.get("disable") or check.get("test") == ["NONE"]:
            problems.append(f"{name} has no healthcheck")
    data = {}
    for name, svc in flyo_services(doc).items():
        if "/healthz" not in json.dumps(svc.get("healthcheck")) or not svc.get("stop_grace_period"):
            problems.append(f"{name}: its healthcheck does not ask /healthz, or it has no stop_grace_period")
        data[name] = {t: s for s, t in map(mount, svc.get("volumes") or [])}.get("/data", "")
    if not all(map(NAMED.match, data.values())) or len(set(data.values())) != len(data):
        problems.append(f"every FlyO replica needs a named volume of its own at /data: {data}")
    for prefix, target in (("mongo:", "/data/db"), ("caddy:", "/data")):
        name, svc = one_service(doc, prefix)
        if not any(t == target and NAMED.match(s) for s, t in map(mount, svc.get("volumes") or [])):
            problems.append(f"{name} keeps {target} on no named volume")
    return problems


# ---- the Caddyfile ------------------------------------------------------------------------------------------
@dataclass
class Node:
    tokens: list[str]
    block: list[Node] = field(default_factory=list)


def parse_caddyfile(text: str) -> list[Node]:
    """Lines of tokens nested by { … } blocks: enough of the Caddyfile syntax for the site block below."""
    stack = [Node([])]
    for number, line in enumerate(text.splitlines(), 1):
        tokens = shlex.split(re.sub(r"(^|\s)#.*", "", line))
        if tokens == ["}"]:
            if len(stack) == 1:
                raise ValueError(f"line {number}: '}}' closes nothing")
            stack.pop()
        elif tokens:
            node = Node(tokens[:-1] if tokens[-1] == "{" else tokens)
            stack[-1].block.append(node)
            if tokens[-1] == "{":
                stack.append(node)
    if len(stack) != 1:
        raise ValueError(f"{len(stack) - 1} block(s) not closed")
    return stack[0].block


# Caddy's directive order (https://caddyserver.com/docs/caddyfile/directives#directive-order), those that answer a
# request or change its path; a matching one earlier in the order wins.
ORDER = ("redir", "rewrite", "uri", "try_files", "basic_auth", "basicauth", "forward_auth", "handle", "handle_path",
         "route", "abort", "error", "respond", "metrics", "reverse_proxy", "php_fastcgi", "file_server", "acme_server")


def matcher(node: Node) -> str | None:
    first = node.tokens[1] if len(node.tokens) > 1 else ""
    return first if first.startswith(("/", "@")) or first == "*" else None


def matches(node: Node, path: str) -> bool:
    pattern = matcher(node)
    if pattern is None or pattern == "*":
        return True
    if pattern.startswith("@"):  # a named matcher is not evaluated: assume the worst for the paths
        return node.tokens[0] != "reverse_proxy"
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), path, re.IGNORECASE) is not None


def handler(block: list[Node], path: str) -> Node | None:
    """The directive that answers a request for `path` in a site, handle or route block."""
    ordered = sorted((n for n in block if n.tokens[0] in ORDER),
                     key=lambda n: (ORDER.index(n.tokens[0]), matcher(n) is None, -len(matcher(n) or "")))
    for node in ordered:
        if matches(node, path):
            return handler(node.block, path) if node.tokens[0] in ("handle", "route") else node
    return None


def upstreams(node: Node) -> set[str]:
    to = [t for c in node.block if c.tokens[0] == "to" for t in c.tokens[1:]]
    return {re.sub(r"^https?://", "", u) for u in node.tokens[2 if matcher(node) else 1:] + to}


def caddy_problems(doc: dict[str, Any], text: str) -> list[str]:
    name, caddy = one_service(doc, "caddy:")
    mounts = [(s.removeprefix("./"), t) for s, t in map(mount, caddy.get("volumes") or [])]
    problems = [] if ("deploy/Caddyfile", "/etc/caddy/Caddyfile") in mounts else [f"{name}: no deploy/Caddyfile"]
    try:
        site = next((s for s in parse_caddyfile(text) if s.tokens == ["{$PUBLIC_URL}"]), None)
    except ValueError as error:
        return [*problems, f"Caddyfile: {error}"]
    if site is None or "PUBLIC_URL" not in environment(caddy):
        return [*problems, f"no Caddy site for PUBLIC_URL, or {name} is not given PUBLIC_URL"]
    port = Settings.model_fields["HTTP_PORT"].default
    wanted = {f"{n}:{environment(s).get('HTTP_PORT') or port}" for n, s in flyo_services(doc).items()}
    proxies: list[Node] = []
    for path in PUBLIC_PATHS:
        node = handler(site.block, path)
        if node is None or node.tokens[0] != "reverse_proxy":
            problems.append(f"{path} does not reach FlyO: {' '.join(node.tokens) if node else 'nothing'} answers it")
        elif upstreams(node) != wanted:
            problems.append(f"{path} goes to {sorted(upstreams(node))}; FlyO's services listen on {sorted(wanted)}")
        elif node not in proxies:
            proxies.append(node)
    for node in proxies:
        options = {c.tokens[0]: c.tokens[1:] for c in node.block}
        if options.get("health_uri") != ["/healthz"] or options.get("lb_policy") != ["round_robin"]:
            problems.append("reverse_proxy: no health_uri /healthz, or its lb_policy is not round_robin")
        if int((options.get("lb_retries") or ["0"])[0]) < 1:
            problems.append("reverse_proxy: lb_retries < 1, a replica that refuses a connection fails the request")
    if (metrics := handler(site.block, "/metrics")) is not None and metrics.tokens[0] == "reverse_proxy":
        problems.append("/metrics is served on the public site")
    return problems


# ---- the tests ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # not a mapping: the schema test says so
    return loaded


def test_the_vendored_schema_is_the_compose_specification() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256, "compose-spec.json was changed"
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"].startswith("https://json-schema.org/draft-07/")
    Draft7Validator.check_schema(schema)


def test_the_file_is_yaml_that_follows_the_compose_specification(doc: dict[str, Any]) -> None:
    assert schema_errors(doc) == []


def test_it_refers_only_to_services_and_volumes_it_defines(doc: dict[str, Any]) -> None:
    assert reference_problems(doc) == []


def test_flyo_gets_only_variables_flyo_reads(doc: dict[str, Any]) -> None:
    assert sorted(flyo_services(doc)) == ["flyo-1", "flyo-2"]
    assert env_problems(doc) == []


def test_no_secret_is_written_in_the_file(doc: dict[str, Any]) -> None:
    assert secret_problems(doc, COMPOSE.read_text()) == []
    for ignore in (".gitignore", ".dockerignore"):  # .env is neither committed nor sent to a build
        assert ".env" in (ROOT / ignore).read_text().split(), ignore


def test_mongodb_is_the_replica_set_flyo_connects_to(doc: dict[str, Any]) -> None:
    assert replica_set_problems(doc) == []


def test_every_service_restarts_and_checks_its_health_with_data_on_named_volumes(doc: dict[str, Any]) -> None:
    assert robustness_problems(doc) == []


def test_caddy_sends_the_webhooks_and_the_mini_apps_to_every_replica(doc: dict[str, Any]) -> None:
    assert caddy_problems(doc, CADDYFILE.read_text()) == []


def test_caddy_itself_accepts_the_caddyfile(tmp_path: Path) -> None:
    if shutil.which("caddy") is None:
        pytest.skip("no caddy binary here (apt-get install caddy): the Caddyfile was checked by the parser above only")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PUBLIC_URL": "https://flyo.example.com"}
    done = subprocess.run(["caddy", "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_flyo_runs_in_webhook_mode_behind_caddy_with_settings_it_accepts(doc: dict[str, Any]) -> None:
    for name, svc in flyo_services(doc).items():
        env = environment(svc)
        assert env["TELEGRAM_WEBHOOK_URL"] == "${PUBLIC_URL}/webhooks/telegram", name
        assert "ports" not in svc, f"{name} is published: only Caddy should face the internet"
        # What FlyO would make of it, with .env's PUBLIC_URL and webhook secret: no setting refused.
        values = {k: re.sub(r"\$\{PUBLIC_URL[^}]*\}", "https://flyo.example.com", v or "") for k, v in env.items()}
        settings = Settings(**{**values, "TELEGRAM_WEBHOOK_SECRET": "s3cr3t"})  # type: ignore[arg-type]
        assert settings.TELEGRAM_WEBHOOK_URL == "https://flyo.example.com/webhooks/telegram", name
    published = {n for n, s in services(doc).items() if s.get("ports")}
    assert published == {"caddy"} and {"80:80", "443:443"} <= set(services(doc)["caddy"]["ports"])


# ---- the checks catch what they are for ---------------------------------------------------------------------
Check = Callable[[dict[str, Any]], list[str]]
BREAKAGES: list[tuple[str, Callable[[dict[str, Any]], Any], Check, str]] = [
    ("depends_on an undefined service", lambda d: d["services"]["flyo-1"]["depends_on"].update(redis={}),
     reference_problems, "depends_on 'redis', not a service"),
    ("a volume not declared", lambda d: d["volumes"].pop("caddy-data"), reference_problems, "'caddy-data'"),
    ("an inline Stripe key", lambda d: d["services"]["flyo-2"]["environment"].update(STRIPE_SECRET_KEY="sk_live_1"),
     lambda d: secret_problems(d, yaml.safe_dump(d)), "STRIPE_SECRET_KEY is given a value"),
    ("a password in MONGODB_URI", lambda d: d["services"]["flyo-1"]["environment"].update(
        MONGODB_URI="mongodb://flyo:hunter2@mongo:27017/?replicaSet=rs0"),
     lambda d: secret_problems(d, ""), "MONGODB_URI is given a value"),
    ("Caddy reading .env", lambda d: d["services"]["caddy"].update(env_file=".env"),
     lambda d: secret_problems(d, ""), "caddy is not FlyO but reads .env"),
    ("a variable FlyO does not read", lambda d: d["services"]["flyo-1"]["environment"].update(MONGO_URL="x"),
     env_problems, "MONGO_URL is not a FlyO setting"),
    ("a standalone mongod", lambda d: d["services"]["mongo"].update(command=["--bind_ip_all"]),
     replica_set_problems, "does not run with --replSet rs0"),
    ("no healthcheck", lambda d: d["services"]["caddy"].pop("healthcheck"), robustness_problems,
     "caddy has no healthcheck"),
    ("a misspelt key", lambda d: d["services"]["mongo"].update(healthchek={}), schema_errors, "'healthchek'"),
    ("FlyO moved to another port", lambda d: d["services"]["flyo-1"]["environment"].update(HTTP_PORT="9090"),
     lambda d: caddy_problems(d, CADDYFILE.read_text()), "flyo-1:9090"),
]


@pytest.mark.parametrize(("mutate", "check", "expected"), [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_a_broken_compose_file_is_caught(doc: dict[str, Any], mutate: Callable[[dict[str, Any]], Any], check: Check,
                                         expected: str) -> None:
    mutate(broken := copy.deepcopy(doc))
    assert expected in "\n".join(problems := check(broken)), problems


CADDY_BREAKAGES = [
    ("a replica left out", " flyo-2:8080", "", "goes to ['flyo-1:8080']"),
    ("webhooks refused", "respond /metrics* 404", "respond /webhooks/* 403", "/webhooks/telegram does not reach"),
    ("the Mini Apps served elsewhere", "encode zstd gzip", "handle_path /app/* {\n\t\tfile_server\n\t}",
     "/app/ does not reach FlyO: handle_path"),
    ("every path refused", "encode zstd gzip", 'respond "down for maintenance" 503', "/webhooks/stripe does not"),
    ("no active health check", "health_uri /healthz", "", "no health_uri /healthz"),
    ("no retries", "lb_retries 2", "", "lb_retries < 1"),
    ("metrics public", "respond /metrics* 404", "", "/metrics is served"),
    ("an unbalanced brace", "max_size 1MB", "max_size 1MB {", "not closed"),
]


@pytest.mark.parametrize(("old", "new", "expected"), [b[1:] for b in CADDY_BREAKAGES],
                         ids=[b[0] for b in CADDY_BREAKAGES])
def test_a_broken_caddyfile_is_caught(doc: dict[str, Any], old: str, new: str, expected: str) -> None:
    text = CADDYFILE.read_text()
    assert old in text, f"the Caddyfile no longer has {old!r}: update this test"
    assert expected in "\n".join(problems := caddy_problems(doc, text.replace(old, new, 1))), problems
